"""The facade over both stores: the same calls give the same answers on SQLite and PostgreSQL."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from shopmind.engine import ShopMind


def _open(tmp_path, store_url) -> ShopMind:
    return ShopMind.open(tmp_path / "home", store={"url": store_url})


@pytest.mark.integration  # whole-shop builds on both stores
def test_import_state_and_privacy_agree_across_stores(tmp_path, store_url, demo_data):
    shop = _open(tmp_path, store_url)
    shop.import_file("products", demo_data / "products.jsonl")
    shop.import_file("users", demo_data / "users.csv")
    events = pq.read_table(demo_data / "events.parquet").slice(0, 8000)
    pq.write_table(events, tmp_path / "ev.parquet")
    report = shop.import_file("events", tmp_path / "ev.parquet", batch_size=3000)
    assert (report.stored, report.batches) == (8000, 3)
    assert shop.import_file("events", tmp_path / "ev.parquet").stored == 0
    stats = shop.stats()
    assert (stats["products"], stats["users"], stats["events"]) == (1682, 943, 8000)
    assert stats["store"] == store_url.split(":")[0]
    live = shop.state.fingerprint()
    shop.rebuild_state()
    assert shop.state.fingerprint() == live
    victim = events.column("user_id")[0].as_py()
    removed = shop.delete_user(victim)
    assert removed["users"] == 1 and removed["events"] > 0 and removed["online_state"]["profile"] == 1
    assert shop.store.scan_events(user_id=victim).num_rows == 0
    assert not shop.profile(victim).known
    shop.close()


def test_artifacts_are_versioned_and_roll_back(tmp_path):
    shop = ShopMind.open(tmp_path / "home")
    for version in ("20240101-000000-001", "20240102-000000-001"):
        (shop.artifacts_dir("search") / version).mkdir(parents=True)
        shop.publish_artifact("search", version)
    assert shop.artifact_version("search") == "20240102-000000-001"
    shop.rollback("search", "20240101-000000-001")
    assert shop.artifact_version("search") == "20240101-000000-001"
    assert [v["version"] for v in shop.artifacts()["search"]["versions"]] == ["20240102-000000-001", "20240101-000000-001"]
    shop.close()


def test_open_by_url_and_env_home(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPMIND_HOME", str(tmp_path / "envhome"))
    shop = ShopMind.open(f"sqlite:///{tmp_path / 'other.db'}")
    assert shop.home == (tmp_path / "envhome").resolve() and (tmp_path / "other.db").exists()
    shop.close()


@pytest.mark.integration  # builds the demo shop
def test_user_vector_follows_the_latest_items(tmp_path, demo_data):
    shop = ShopMind.open(tmp_path / "home")
    import orjson

    products = [orjson.loads(line) for line in (demo_data / "products.jsonl").read_bytes().splitlines()[:120]]
    shop.catalog.upsert(products)
    shop.build(["search"])
    assert shop.user_vector("nobody") is None
    shop.events.track({"type": "view", "user_id": "a", "item_id": "m1"})
    first = shop.user_vector("a")
    assert first.shape == (384,) and abs(float(first @ first) - 1) < 1e-5
    shop.catalog.upsert([{"id": "fresh", "title": "A brand new space adventure"}])  # lands in the delta segment
    for _ in range(5):
        shop.events.track({"type": "view", "user_id": "a", "item_id": "fresh"})
    later = shop.user_vector("a")
    assert float(later @ first) < 0.999  # moved toward the new item
    shop.close()


@pytest.mark.integration  # builds the demo shop
def test_fresh_purchases_and_stock_changes_reach_recommendations_at_once(tmp_path, demo_data):
    shop = ShopMind.open(tmp_path / "home")
    shop.import_file("products", demo_data / "products.jsonl")
    events = pq.read_table(demo_data / "events.parquet").sort_by("timestamp").slice(0, 20_000)
    pq.write_table(events, tmp_path / "ev.parquet")
    shop.import_file("events", tmp_path / "ev.parquet")
    shop.build(["recommend"])
    shown = [i.id for i in shop.recommend(user_id="u1", placement="home", k=10).items]
    assert shown
    shop.events.track({"type": "purchase", "user_id": "u1", "item_id": shown[0]})
    assert shown[0] not in [i.id for i in shop.recommend(user_id="u1", placement="home", k=10).items]
    product = shop.catalog.get(shown[1])
    shop.catalog.upsert([product.model_copy(update={"stock": 0, "in_stock": False})])
    assert shown[1] not in [i.id for i in shop.recommend(user_id="u1", placement="home", k=10).items]
    shop.close()
