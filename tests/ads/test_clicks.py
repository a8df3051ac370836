"""Ad clicks that cannot be forged: each attack of issue 14 on the demo shop, and exactly-once charging across
OS processes on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import multiprocessing as mp
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shopmind.ads.accounting import IpClickRate
from shopmind.ads.tokens import bound_token, new_token_id, token_dict, user_tag
from shopmind.api import create_app
from shopmind.store.schema import ad_impressions, ad_ledger

from .conftest import hash_encode

HISTORY = ["m50", "m181", "m172"]  # Star Wars, Return of the Jedi, Empire Strikes Back (demo products)
OPEN = {"min_relevance": -1.0, "pacing": {"enabled": False}}


def _click(ad, user: str, eid: str, ts: float, kind: str = "click", **ctx) -> dict:
    return {"id": eid, "type": kind, "user_id": user, "item_id": ad.item_id, "timestamp": ts,
            "context": {"placement": "home", "position": ad.position, "ad": ad.token, **ctx}}


def _serve(svc, user: str | None, now: float, **kw):
    ads = svc.select("home", user_id=user, user_history=HISTORY, k=1, now=now, **kw).ads
    assert len(ads) == 1
    return ads[0]


def _ledger(svc, kind: str | None = None) -> list[tuple]:
    q = select(ad_ledger.c.event_id, ad_ledger.c.kind, ad_ledger.c.cost).order_by(ad_ledger.c.event_id)
    if kind:
        q = q.where(ad_ledger.c.kind == kind)
    with svc.store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(q)]


def test_the_forgery_of_the_issue_over_http(shop, svc, campaign):
    """One token from one GET /ads, sent back in 20 click events under 20 made-up user ids: nothing charged;
    the user it was served to clicks: charged once; 20 more clicks of theirs: nothing more."""
    shop._ads = svc
    svc.create_campaign(campaign(products=["m1"], bid=0.5, daily_budget=100.0), "c1")
    admin = {"X-API-Key": "admin-key"}
    with TestClient(create_app(shop)) as client:
        r = client.get("/ads", params={"placement": "product", "item_id": "m50", "user_id": "u9"}, headers={"X-API-Key": "public-key"})
        ad = r.json()["ads"][0]
        assert ad["expires_at"] > time.time() + 1700
        forged = [{"id": f"f{i}", "type": "click", "user_id": f"made-up-{i}", "item_id": ad["item_id"], "context": {"ad": ad["token"]}}
                  for i in range(20)]
        assert client.post("/events/batch", json=forged, headers={"X-API-Key": "public-key"}).status_code == 202
        assert svc.spend("c1") == 0.0
        own = [{**e, "id": f"o{i}", "user_id": "u9"} for i, e in enumerate(forged)]
        assert client.post("/events/batch", json=own, headers={"X-API-Key": "public-key"}).status_code == 202
        total = next(row for row in client.get("/ads/report", headers=admin).json() if row["day"] == "total")
    assert svc.spend("c1") == ad["price"] == total["spend"]
    assert total["clicks"] == 1 and total["impressions"] == 0 and total["invalid_clicks"] == 39
    assert len(_ledger(svc, "invalid_click")) == 39  # 20 forged users + 19 replays of the real one, none charged


def test_a_click_farm_behind_one_address_over_http(shop, svc, campaign):
    """One client fetches 8 ads under 8 made-up user ids and clicks each as that user, claiming a different
    `context.ip` each time: the rate is per address the ads were served to (as the server saw it), so only
    `max_clicks_per_ip` of them are charged."""
    shop._ads = svc
    svc._ip_rate = IpClickRate(5, 300.0)
    svc.create_campaign(campaign(products=["m1"], bid=0.5, daily_budget=100.0), "c1")
    public = {"X-API-Key": "public-key"}
    with TestClient(create_app(shop)) as client:
        clicks = []
        for i in range(8):
            ad = client.get("/ads", params={"placement": "product", "item_id": "m50", "user_id": f"farm-{i}"}, headers=public).json()["ads"][0]
            clicks.append({"id": f"k{i}", "type": "click", "user_id": f"farm-{i}", "item_id": ad["item_id"],
                           "context": {"ad": ad["token"], "ip": f"192.0.2.{i}"}})
        assert client.post("/events/batch", json=clicks, headers=public).status_code == 202
    with svc.store.engine.connect() as conn:
        assert set(conn.execute(select(ad_impressions.c.ip)).scalars()) == {"testclient"}  # TestClient's peer address
    assert len(_ledger(svc, "click")) == 5 and len(_ledger(svc, "invalid_click")) == 3
    assert svc.spend("c1") == pytest.approx(5 * ad["price"])


def test_an_unbound_token_is_still_charged_once(svc, campaign):
    """An ad served to nobody in particular (no user, no session): 20 users clicking it are charged once."""
    svc.create_campaign(campaign(products=["m1"], bid=0.5), "c1")
    now = time.time()
    ad = _serve(svc, None, now)
    out = svc.ingest([_click(ad, f"made-up-{i}", f"e{i}", now) for i in range(20)], now=now + 5)
    assert out["clicks"] == 1 and out["refused"] == {"replayed": 19}
    assert svc.spend("c1") == ad.price


def test_session_binding(svc, campaign):
    """Served to a session (no user id): a click from that session counts, from another session not."""
    svc.create_campaign(campaign(products=["m1"], bid=0.5), "c1")
    now = time.time()
    ad = _serve(svc, None, now, session_id="s-1")
    stranger = {**_click(ad, "anon-2", "e1", now), "session_id": "s-2"}
    mine = {**_click(ad, "anon-1", "e2", now), "session_id": "s-1"}
    assert svc.ingest([stranger], now=now)["refused"] == {"user_mismatch": 1}
    assert svc.ingest([mine], now=now)["clicks"] == 1


def test_replayed_click_is_charged_once(svc, campaign):
    svc.create_campaign(campaign(products=["m1"], bid=0.5), "c1")
    now = time.time()
    ad = _serve(svc, "u1", now)
    first = svc.ingest([_click(ad, "u1", "c-1", now)], now=now + 2)
    same_id = svc.ingest([_click(ad, "u1", "c-1", now)], now=now + 3)
    new_ids = svc.ingest([_click(ad, "u1", f"c-{i}", now) for i in range(2, 12)], now=now + 4)
    assert (first["clicks"], first["spend"]) == (1, ad.price)
    assert same_id["duplicates"] == 1 and same_id["clicks"] == 0
    assert new_ids["clicks"] == 0 and new_ids["spend"] == 0 and new_ids["refused"] == {"replayed": 10}
    assert svc.spend("c1") == ad.price
    # the refusals are final: another process looking at the same events (its catch-up) finds them recorded
    again = svc.ingest([_click(ad, "u1", f"c-{i}", now) for i in range(1, 12)], now=now + 5)
    assert again["duplicates"] == 11 and svc.spend("c1") == ad.price


def test_expired_token_is_not_charged(svc, campaign):
    svc.create_campaign(campaign(products=["m1"], bid=0.5), "c1")
    now = time.time()
    late, in_time = _serve(svc, "u1", now), _serve(svc, "u2", now)
    ttl = svc.config.token_ttl_s
    assert ttl == 1800
    out = svc.ingest([_click(late, "u1", "late", now + ttl + 1)], now=now + ttl + 1)
    assert out["refused"] == {"expired": 1} and svc.spend("c1") == 0.0
    # the client's own timestamp cannot bring it back: expiry is judged by the server's clock
    out = svc.ingest([_click(late, "u1", "late-2", now + 10)], now=now + ttl + 2)
    assert out["refused"] == {"expired": 1} and svc.spend("c1") == 0.0
    assert svc.ingest([_click(in_time, "u2", "ok", now)], now=now + ttl)["clicks"] == 1  # the last chargeable second


def test_tampered_and_foreign_tokens_are_not_charged(svc, campaign):
    svc.create_campaign(campaign(products=["m1"], bid=0.5), "c1")
    now = time.time()
    ad = _serve(svc, "u1", now)
    raw = base64.urlsafe_b64decode(ad.token + "=" * (-len(ad.token) % 4))
    body, sig = raw[:-16], raw[-16:]
    price = token_dict(ad.token, svc.secret)["price"]
    richer = body.replace(price.encode(), b"9.000000")  # the click claims a higher price, old signature kept
    assert richer != body
    tampered = base64.urlsafe_b64encode(richer + sig).decode().rstrip("=")
    fields = token_dict(ad.token, svc.secret)
    foreign = bound_token(fields["token_id"], "c1", ad.item_id, "cpc", 0.5, "home", 0, fields["user_tag"], now, now + 60, b"another shop's key")
    evs = [{**_click(ad, "u1", "t1", now), "context": {"ad": tampered}}, {**_click(ad, "u1", "t2", now), "context": {"ad": foreign}},
           {**_click(ad, "u1", "t3", now), "context": {"ad": "%%%not base64"}}, {**_click(ad, "u1", "t4", now), "context": {"ad": ad.token[:40]}}]
    out = svc.ingest(evs, now=now + 1)
    assert out["refused"] == {"bad_token": 4} and out["invalid_tokens"] == 4 and svc.spend("c1") == 0.0
    assert svc.ingest([_click(ad, "u1", "genuine", now)], now=now + 1)["clicks"] == 1  # the real token still works


def test_signed_but_never_served_is_not_charged(svc, campaign):
    """A token made with the shop's own key for an impression that was never served (no row) is refused."""
    svc.create_campaign(campaign(products=["m1"], bid=0.5), "c1")
    now = time.time()
    tok = bound_token(new_token_id(now), "c1", "m1", "cpc", 0.5, "home", 0, user_tag("u1", svc.secret), now, now + 1800, svc.secret)
    ev = {"id": "x", "type": "click", "user_id": "u1", "item_id": "m1", "timestamp": now, "context": {"ad": tok}}
    out = svc.ingest([ev], now=now + 1)
    assert out["refused"] == {"not_served": 1} and svc.spend("c1") == 0.0
    assert _ledger(svc) == [("x", "invalid_click", 0.0)]


def test_a_flagged_bot_click_is_not_charged(shop, svc, demo_data, campaign):
    """A real demo user's history replayed at machine speed gets them flagged; their ad click is refused."""
    svc.create_campaign(campaign(products=["m1"], bid=0.5), "c1")
    now = time.time()
    raw = pq.read_table(demo_data / "events.parquet").to_pylist()
    (user, n), *_ = Counter(e["user_id"] for e in raw).most_common(1)
    theirs = [e for e in raw if e["user_id"] == user][:150]
    assert n >= 150 and len(theirs) == 150
    shop.events.track_many([{**e, "id": f"bot-{j}", "timestamp": now - 30 + j * 0.2} for j, e in enumerate(theirs)])
    assert user in shop.state.flagged_users()
    human = raw[-1]["user_id"]
    bot_ad, human_ad = _serve(svc, user, now), _serve(svc, human, now)
    out = svc.ingest([_click(bot_ad, user, "b1", now), _click(human_ad, human, "h1", now)], now=now + 1)
    assert out["refused"] == {"bot": 1} and out["clicks"] == 1 and svc.spend("c1") == human_ad.price


def test_an_address_over_its_click_rate_is_not_charged(svc, campaign):
    svc.config.max_clicks_per_ip, svc.config.click_ip_window_s = 3, 60.0
    svc._ip_rate = IpClickRate(3, 60.0)
    svc.create_campaign(campaign(products=["m1"], bid=0.5, daily_budget=100.0), "c1")
    now = time.time()
    ads = [_serve(svc, f"u{i}", now) for i in range(6)]
    farm = [_click(a, f"u{i}", f"e{i}", now, ip="203.0.113.7") for i, a in enumerate(ads[:5])]
    out = svc.ingest(farm, now=now + 1)
    assert out["clicks"] == 3 and out["refused"] == {"ip_rate": 2}
    other = svc.ingest([_click(ads[5], "u5", "e5", now, ip="198.51.100.1")], now=now + 2)
    assert other["clicks"] == 1  # another address is not held back
    assert svc.spend("c1") == pytest.approx(4 * ads[0].price)


def test_impressions_count_once_per_token_and_cpm_is_charged_once(svc, campaign):
    svc.create_campaign(campaign(products=["m1"], bid=2.0, bid_type="cpm", daily_budget=100.0), "cpm")
    now = time.time()
    ad = _serve(svc, "u1", now)
    out = svc.ingest([_click(ad, "u1", f"i{j}", now, kind="impression") for j in range(3)], now=now + 1)
    assert out["impressions"] == 1 and out["refused"] == {"replayed": 2}
    assert svc.spend("cpm") == pytest.approx(ad.price / 1000)
    with svc.store.engine.connect() as conn:
        seen = conn.execute(select(ad_impressions.c.seen_at, ad_impressions.c.clicked_at)).all()
    assert seen == [(now + 1, None)]


def test_deleting_a_user_clears_their_served_ads(shop, svc, campaign):
    """`shop.delete_user` reaches the served-ad rows: no user id and no address left in them."""
    shop._ads = svc
    svc.create_campaign(campaign(products=["m1"]), "c1")
    now = time.time()
    _serve(svc, "u1", now, client_ip="203.0.113.9")
    _serve(svc, "u2", now, client_ip="203.0.113.10")
    shop.delete_user("u1")
    with svc.store.engine.connect() as conn:
        rows = conn.execute(select(ad_impressions.c.user_id, ad_impressions.c.ip).order_by(ad_impressions.c.served_at)).all()
    assert sorted(rows, key=str) == sorted([(None, None), ("u2", "203.0.113.10")], key=str)


def test_expired_served_ads_are_pruned(svc, campaign):
    svc.create_campaign(campaign(products=["m1"]), "c1")
    now = time.time()
    old, fresh = _serve(svc, "u1", now - 7200), _serve(svc, "u2", now)
    assert svc.store.prune_impressions(now - svc.config.token_ttl_s) == 1
    left = svc.store.impressions([token_dict(a.token, svc.secret)["token_id"] for a in (old, fresh)])
    assert [r["user_id"] for r in left.values()] == ["u2"]


def test_pctr_training_reads_the_bound_tokens(svc, shop, demo_data, campaign):
    """The pCTR build labels each logged impression by the click on the same token (real demo users)."""
    import pyarrow as pa

    from shopmind.ads.model import AdsConfig, AdsModel
    from shopmind.store.sql import EVENT_SCHEMA

    svc.create_campaign(campaign(products=["m1", "m2", "m3"], bid=0.5), "c1")
    users = sorted(set(pq.read_table(demo_data / "events.parquet", columns=["user_id"]).column("user_id").to_pylist()))[:60]
    now = time.time()
    rows, clicks = [], 0
    for n, u in enumerate(users):
        ad = _serve(svc, u, now + n)
        rows.append((f"i{n}", "impression", u, None, ad.item_id, None, now + n, 1, None, f'{{"ad": "{ad.token}"}}'))
        if n % 4 == 0:
            clicks += 1
            rows.append((f"c{n}", "click", u, None, ad.item_id, None, now + n + 1, 1, None, f'{{"ad": "{ad.token}"}}'))
    events = pa.table({f.name: pa.array(c, type=f.type) for c, f in zip(zip(*rows, strict=True), list(EVENT_SCHEMA)[1:], strict=True)})
    model = AdsModel.build(list(shop.store.iter_products()), events, None, AdsConfig(), encode=hash_encode)
    assert len(users) == 60
    assert model.campaign_stats["c1"] == (60.0, float(clicks))
    assert int(model.item_stats[:, 0].sum()) == 60 and int(model.item_stats[:, 1].sum()) == clicks


def test_clicks_cannot_overspend_a_budget(svc, campaign):
    """Eight served ads of one campaign whose budget allows four and a bit: spend stops at the budget (read
    from the ledger inside the charging transaction; across processes in the test below)."""
    svc.create_campaign(campaign(products=["m1"], bid=1.0, daily_budget=2.5), "a")
    svc.create_campaign(campaign(products=["m2"], bid=0.6, daily_budget=1000.0), "b")
    now = time.time()
    ads = [_serve(svc, f"u{i}", now) for i in range(8)]
    assert {a.campaign_id for a in ads} == {"a"}  # served before any spend: every slot went to "a" at 0.6
    out = svc.ingest([_click(a, f"u{i}", f"e{i}", now) for i, a in enumerate(ads)], now=now + 1)
    assert out["clicks"] == 8 and svc.spend("a") == pytest.approx(2.5)
    assert sorted(c for _, _, c in _ledger(svc, "click")) == pytest.approx([0.0] * 3 + [0.1] + [0.6] * 4)


# -- exactly once across OS processes ---------------------------------------------------------------------
def _clicker(home: str, store: dict, clicks: list[tuple[str, str, str]], worker: int, rounds: int, barrier) -> None:
    """One API worker: its own ShopMind over the shared store, posting the same clicks again and again, each
    under a new event id."""
    from shopmind.engine import ShopMind

    shop = ShopMind.open(Path(home), store=store, state={"bots": {"enabled": False}})
    try:
        shop._ads = shop.new_ads_service(encode=hash_encode, config=OPEN)
        barrier.wait(timeout=120)
        for r in range(rounds):
            for j in range(len(clicks)):  # each worker starts elsewhere: different ads are charged at the same moment
                token, user, item = clicks[(j + 2 * worker) % len(clicks)]
                ev = {"id": f"w{worker}-{r}-{j}", "type": "click", "user_id": user, "item_id": item, "context": {"ad": token}}
                shop.events.track_many([ev])
    finally:
        shop.close()


@pytest.mark.integration
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_exactly_once_under_concurrent_replays_across_processes(tmp_path, demo_data, request, campaign, backend):
    """4 OS processes, each `ShopMind.open` on the same store, post the clicks of 8 served ads 4 times each, all
    at once (128 posts): each ad is charged exactly once, and the campaign's budget (4 clicks and a bit) holds."""
    from shopmind.engine import ShopMind

    store = {"url": request.getfixturevalue("postgres_url")} if backend == "postgres" else {}
    home = tmp_path / "shop"
    shop = ShopMind.open(home, store=store)
    try:
        shop.import_file("products", demo_data / "products.jsonl")
        svc = shop.new_ads_service(encode=hash_encode, config=OPEN)
        svc.create_campaign(campaign(products=["m1"], bid=1.0, daily_budget=2.5), "a")
        svc.create_campaign(campaign(products=["m2"], bid=0.6, daily_budget=1000.0), "b")
        now = time.time()
        ads = [_serve(svc, f"u{i}", now) for i in range(8)]
        assert {a.campaign_id for a in ads} == {"a"} and {a.price for a in ads} == {0.6}
        clicks = [(a.token, f"u{i}", a.item_id) for i, a in enumerate(ads)]
        ctx = mp.get_context("spawn")
        barrier = ctx.Barrier(4)
        workers = [ctx.Process(target=_clicker, args=(str(home), store, clicks, w, 4, barrier)) for w in range(4)]
        for p in workers:
            p.start()
        for p in workers:
            p.join(timeout=300)
        assert [p.exitcode for p in workers] == [0, 0, 0, 0]
        with shop.store.engine.connect() as conn:
            charged = conn.execute(select(ad_ledger.c.user_id, ad_ledger.c.cost).where(ad_ledger.c.kind == "click")).all()
            clicked = conn.execute(select(ad_impressions.c.clicked_at)).scalars().all()
        assert sorted(u for u, _ in charged) == [f"u{i}" for i in range(8)]  # one charged click per served ad
        assert sorted(c for _, c in charged) == pytest.approx([0.0] * 3 + [0.1] + [0.6] * 4)
        assert svc.spend("a") == pytest.approx(2.5) and svc.spend("a") <= 2.5 + 1e-9
        assert len(_ledger(svc, "invalid_click")) == 128 - 8  # every other post: stored, refused, and final
        assert len(clicked) == 8 and all(t is not None for t in clicked)
    finally:
        shop.close()


def test_ip_rate_window_slides():
    rate = IpClickRate(2, 10.0)
    t = np.array([0.0, 1.0, 2.0, 11.5, 11.8])
    assert [rate.allow("1.2.3.4", x) for x in t] == [True, True, False, True, False]
    assert rate.allow(None, 0.0) and IpClickRate(0, 10.0).allow("1.2.3.4", 0.0)
