"""RecommendService on ML-100k as a small shop: placements, filters, rules, reasons, cold start, artifacts."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path

import pyarrow.compute as pc
import pytest

from shopmind.recommend.datasets import ml100k
from shopmind.recommend.service import BusinessRules, RecommendConfig, RecommendService

from .conftest import hash_encoder

pytestmark = pytest.mark.integration  # the module fixture builds a whole shop from ML-100k

PLACEMENTS = ["home", "product", "cart", "search", "new", "substitute", "promotion"]


@pytest.fixture(scope="module")
def shop(shared_data: Path, tmp_path_factory: pytest.TempPathFactory):
    products, events = ml100k(shared_data / "ml-100k", max_users=300)
    # real products; the shop marks some out of stock, some on promotion, some new (its own catalog state)
    oos = {p.id for p in products[:40]}  # includes the most popular films (Star Wars is 50)
    oos.add("50")
    promo = {p.id for p in products[100:130]}
    fixed = []
    from datetime import datetime

    for p in products:
        upd: dict = {}
        if p.id in oos:
            upd["in_stock"] = False
        if p.id in promo:
            upd["attributes"] = {**p.attributes, "promotion": True}
        if p.id in {"1600", "1601", "1602", "1603", "1604", "1605"}:
            upd["created_at"] = datetime.now(UTC)
        fixed.append(p.model_copy(update=upd))
    cfg = RecommendConfig(
        rules=BusinessRules(pin={"home": ["181"]}, exclude=["100", "258"], bury=["174"]),
        content_encoder="none",
        select={"enabled": False},  # the configured pipeline (sources, filters, reasons); chosen blends: test_choose.py
    )
    out = tmp_path_factory.mktemp("recs")
    svc = RecommendService.build(fixed, events, out, cfg, encoder=hash_encoder)
    return svc, fixed, events, oos, promo, out, cfg


def _users(events, n=5):
    return list(dict.fromkeys(events["user_id"].to_pylist()))[:n]


@pytest.mark.parametrize("placement", PLACEMENTS)
def test_no_out_of_stock_or_excluded_and_every_item_has_reason(shop, placement: str) -> None:
    svc, _products, events, oos, promo, _, _ = shop
    for user in [*_users(events), None]:
        r = svc.recommend(user_id=user, placement=placement, item_id="50", cart=["1", "181"], k=10,
                          context={"query": "star wars", "location": "zip5"})
        assert r.placement == placement
        ids = [i.id for i in r.items]
        assert len(ids) == len(set(ids))
        assert not set(ids) & oos, f"{placement}: out-of-stock item returned"
        assert not set(ids) & {"100", "258"}, f"{placement}: excluded item returned"
        assert "50" not in ids and "1" not in ids
        for it in r.items:
            assert it.reason and it.reason_code
        if placement == "promotion":
            assert set(ids) <= promo
        if placement == "new":
            assert set(ids) <= {"1600", "1601", "1602", "1603", "1604", "1605"}


def test_home_has_personal_reasons_and_pin(shop) -> None:
    svc, _, events, *_ = shop
    seen_pin = set(events.filter(pc.equal(events["item_id"], "181"))["user_id"].to_pylist())
    user = next(u for u in _users(events, 50) if u not in seen_pin)  # home leaves out what the user has seen, pins too
    r = svc.recommend(user_id=user, placement="home", k=20)
    assert r.items[0].id == "181" and r.items[0].reason_code == "pinned"
    assert "181" not in {i.id for i in svc.recommend(user_id=next(iter(seen_pin)), placement="home", k=20).items}
    personal = [i for i in r.items if i.reason_code == "because_you_viewed"]
    assert personal and all(i.source_item and i.reason.startswith("because you viewed") for i in personal)
    # the source item is really in the user's history
    hist = set(events.filter(pc.equal(events["user_id"], user))["item_id"].to_pylist())
    assert all(i.source_item in hist for i in personal)
    assert r.items[-1].id != "174" or len(r.items) < 20  # buried item is never above others
    assert len(r.items) == 20


def test_purchased_items_are_filtered_on_home(shop) -> None:
    svc, _, events, *_ = shop
    user = _users(events, 1)[0]
    mine = events.filter(pc.equal(events["user_id"], user))
    bought = {i for i, t in zip(mine["item_id"].to_pylist(), mine["type"].to_pylist(), strict=True) if t == "purchase"}
    ids = {i.id for i in svc.recommend(user_id=user, placement="home", k=50).items}
    assert not ids & bought


def test_cart_reasons_name_a_cart_item(shop) -> None:
    svc, *_ = shop
    r = svc.recommend(placement="cart", cart=["172", "173"], k=10)
    rules = [i for i in r.items if i.reason_code == "bought_with"]
    assert rules and all(i.source_item in {"172", "173"} for i in rules)


def test_unknown_user_gets_context_popular(shop) -> None:
    svc, *_ = shop
    r = svc.recommend(user_id="nobody", placement="home", k=10, context={"location": "zip5", "hour": 21})
    assert r.items and {i.reason_code for i in r.items} <= {"popular_in_context", "pinned", "trending", "popular"}
    assert any("zip5" in i.reason for i in r.items)


def test_history_makes_unknown_user_personal(shop) -> None:
    svc, *_ = shop
    r = svc.recommend(user_id="nobody", placement="home", k=10, history=["172", "173", "174"])
    assert any(i.reason_code == "because_you_viewed" for i in r.items)


def test_substitute_for_out_of_stock_item(shop) -> None:
    svc, *_ = shop
    r = svc.recommend(placement="substitute", item_id="50", k=5)
    assert r.items and all(i.reason_code == "substitute_for" and i.source_item == "50" for i in r.items)


def test_search_placement_uses_query(shop) -> None:
    svc, *_ = shop
    svc.encoder = hash_encoder
    r = svc.recommend(placement="search", k=5, context={"query": "Star Trek"})
    assert r.items and r.items[0].reason_code == "matches_search"


def test_artifacts_and_load_round_trip(shop) -> None:
    svc, _, events, _, _, out, cfg = shop
    meta = json.loads((out / "meta.json").read_text())
    assert meta["config"]["rules"]["exclude"] == ["100", "258"]
    assert "itemknn" in meta["metrics"] and "hr@10" in meta["metrics"]["itemknn"]
    assert not list(out.rglob("*.pkl"))
    back = RecommendService.load(out, cfg)
    user = _users(events, 1)[0]
    a = [i.id for i in svc.recommend(user_id=user, placement="home", k=10).items]
    b = [i.id for i in back.recommend(user_id=user, placement="home", k=10).items]
    assert a == b


def test_unknown_placement_is_an_error(shop) -> None:
    with pytest.raises(KeyError):
        shop[0].recommend(placement="nope")
