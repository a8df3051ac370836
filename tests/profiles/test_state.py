"""Online state: live equals rebuilt, bots stay out of counters, deletes retract, profiles explain."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from shopmind.engine import ShopMind


@pytest.fixture
def shop(tmp_path, demo_data):
    s = ShopMind.open(tmp_path / "shop")
    s.import_file("products", demo_data / "products.jsonl")
    yield s
    s.close()


def _demo_events(demo_data, n: int) -> list[dict]:
    rows = pq.read_table(demo_data / "events.parquet").slice(0, n).to_pylist()
    return rows


@pytest.mark.integration
def test_live_state_equals_rebuilt_state(shop, demo_data):
    events = _demo_events(demo_data, 6000)
    _ = shop.state  # live from the start
    for start in range(0, len(events), 250):
        shop.events.track_many(events[start : start + 250])
    shop.events.track_many(events[:500])  # replays change nothing
    shop.events.track_many([{"type": "search", "user_id": "u1", "query": "Toy Story", "timestamp": 880000000}])
    live = shop.state.fingerprint()
    shop.rebuild_state()
    assert shop.state.fingerprint() == live
    assert live["last_seq"] == len(events) + 1 and live["queries"] == [("toy story", 1)]


def test_next_read_reflects_an_event_at_once(shop, demo_data):
    shop.events.track_many(_demo_events(demo_data, 2000))
    before = shop.state.history("u1")
    shop.events.track({"type": "add_to_cart", "user_id": "u1", "item_id": "m50", "timestamp": 900000000})
    assert shop.state.history("u1") == [*before, "m50"]
    shop.events.track({"type": "purchase", "user_id": "u1", "item_id": "m50", "timestamp": 900000060, "price": 12.5, "quantity": 2})
    assert "m50" in shop.state.purchased("u1")
    assert shop.profile("u1").lifetime_value == 25.0


def test_imported_events_are_seen_by_the_state(shop, demo_data, tmp_path):
    _ = shop.state  # live from the start
    table = pq.read_table(demo_data / "events.parquet").slice(0, 3000)
    pq.write_table(table, tmp_path / "ev.parquet")
    shop.import_file("events", tmp_path / "ev.parquet")
    assert shop.state.events_applied == 3000


@pytest.mark.integration
def test_a_bots_ten_thousand_clicks_move_neither_trending_nor_ctr(shop, demo_data):
    real = _demo_events(demo_data, 20_000)
    shop.events.track_many(real)
    ts = max(e["timestamp"] for e in real)
    shop.events.track_many([{"type": "impression", "user_id": f"u{i}", "item_id": "m1", "timestamp": ts} for i in range(1, 40)])
    stats = shop.state.item_stats()
    row = stats["ids"].index("m1")
    ctr_before, trending_before = stats["ctr"][row], shop.state.trending_items(10, now=ts)
    bot = [{"id": f"bot-{i}", "type": "click", "user_id": "crawler-7", "item_id": "m1682", "timestamp": ts + i * 0.01, "context": {"ip": "203.0.113.9"}} for i in range(10_000)]
    for start in range(0, len(bot), 500):
        shop.events.track_many(bot[start : start + 500])
    assert shop.stats()["events"] == len(real) + 39 + 10_000  # stored, for audit
    state = shop.state
    assert "crawler-7" in state.flagged_users()
    assert state.trending_items(10, now=ts) == trending_before  # same moment: decay alone must not differ
    after = state.item_stats()
    assert after["ctr"][after["ids"].index("m1")] == ctr_before
    if "m1682" in after["ids"]:
        assert after["counts"]["click"][after["ids"].index("m1682")] == 0
    assert "automated" in shop.profile("crawler-7").summary
    shop.rebuild_state()
    assert shop.state.trending_items(10, now=ts) == trending_before


def test_delete_user_retracts_their_counts(shop, demo_data):
    events = _demo_events(demo_data, 5000)
    _ = shop.state  # live from the start
    shop.events.track_many(events)
    victim = events[0]["user_id"]
    removed = shop.delete_user(victim)
    assert removed["events"] == sum(e["user_id"] == victim for e in events)
    assert removed["online_state"]["profile"] == 1
    after = shop.state.fingerprint()
    assert victim not in after["users"]
    shop.rebuild_state()
    rebuilt = shop.state.fingerprint()
    assert rebuilt["users"] == after["users"] and rebuilt["items"] == [i for i, t in zip(after["items"], after["totals"], strict=True) if any(t)]


@pytest.mark.integration
def test_profile_explains_itself(shop, demo_data):
    shop.events.track_many(_demo_events(demo_data, 20_000))
    prof = shop.profile("u1")
    assert prof.known and prof.events > 0 and prof.interests
    cats = [i.weight for i in prof.interests if i.kind == "category"]
    assert cats == sorted(cats, reverse=True) and 0.5 < sum(cats) <= 1.0001  # shares of the top 10
    assert prof.segment in {"new", "champion", "loyal", "hibernating", "at_risk", "occasional"}
    assert prof.segment_why and prof.churn_why and prof.heat_why.startswith("most active")
    assert sum(map(sum, prof.heat)) == prof.events
    assert prof.recent[0].title is not None
    assert not shop.profile("nobody").known


@pytest.mark.integration
def test_reports(shop, demo_data):
    shop.events.track_many(_demo_events(demo_data, 20_000))
    shop.events.track_many([
        {"type": "search", "user_id": "u1", "query": "star wars", "timestamp": 890000000, "context": {"results": 0}},
        {"type": "search", "user_id": "u1", "query": "Star Wars ", "timestamp": 890000010},
        {"type": "click", "user_id": "u1", "item_id": "m50", "timestamp": 890000020},
        {"type": "search", "user_id": "u2", "query": "xyzzy", "timestamp": 890000000},
    ])
    q = shop.report("queries")
    assert q["top"][0] == {"query": "star wars", "count": 2, "share": 1.0}
    assert q["zero_result"][0]["query"] == "star wars"
    assert {r["query"] for r in q["no_click"]} == {"star wars", "xyzzy"}
    funnel = shop.report("funnel")
    assert funnel[0]["viewers"] >= funnel[-1]["viewers"]
    assert sum(shop.report("rfm")["segments"].values()) == shop.report("rfm")["users"]
    assert shop.report("cohorts")[0]["retention"][0] == 1.0
    with pytest.raises(ValueError):
        shop.report("nope")
