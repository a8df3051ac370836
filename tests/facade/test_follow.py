"""Two hosts (two homes) on one PostgreSQL and one shared artifacts path: what one builds, promotes or changes in the
catalog, the other serves after its follower polls, without reopening. Demo slice: real MovieLens titles, 5,000 events.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from shopmind.engine import ShopMind

pytestmark = pytest.mark.integration  # PostgreSQL, whole-part builds

NEEDLE = "zanzibar kazoo"


def _host(home: Path, postgres_url: str, shared: Path, interval: float = 0.05) -> ShopMind:
    return ShopMind.open(home, store={"url": postgres_url}, search={"stages": {"dense": False}},
                         cluster={"artifacts_url": str(shared), "follow_interval_s": interval})


def _loaded(shop: ShopMind, part: str = "search") -> str | None:
    return shop.models(part)[part]["loaded"]


def _titles(shop: ShopMind, query: str) -> list[str]:
    return [h.title for h in shop.search(query).hits]


def _wait(check: Callable[[], bool], timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_a_build_promotion_and_catalog_changes_on_one_host_reach_the_other(tmp_path: Path, postgres_url: str, demo_data: Path) -> None:
    shared = tmp_path / "shared-artifacts"
    a = _host(tmp_path / "host-a", postgres_url, shared)
    a.import_file("products", demo_data / "products.jsonl")
    pq.write_table(pq.read_table(demo_data / "events.parquet").slice(0, 5000), tmp_path / "events.parquet")
    a.import_file("events", tmp_path / "events.parquet")
    first = a.build(["search"])["search"]["version"]

    b = _host(tmp_path / "host-b", postgres_url, shared)
    assert _titles(b, "star wars")[0] == "Star Wars" and _loaded(b) == first  # loaded from the shared path

    # a product upserted through A is found by B's search within a poll; A's own follower does not apply it again
    a.catalog.upsert([{"id": "x1", "title": "Zanzibar kazoo deluxe", "category": ["Music"], "price": 12.5}])
    assert a._follower.poll()["catalog_changes"] == 0
    time.sleep(0.06)  # one follow interval: B's next request polls
    assert _titles(b, NEEDLE)[:1] == ["Zanzibar kazoo deluxe"]
    a.catalog.delete(["x1"])
    time.sleep(0.06)
    assert "Zanzibar kazoo deluxe" not in _titles(b, NEEDLE)

    # a build published by A is served by B after B's follower runs (here: its background thread), B never reopened
    time.sleep(1.1)  # versions are named to the second
    b.start_following()
    try:
        second = a.build(["search"])["search"]["version"]
        assert _wait(lambda: _loaded(b) == second), "B never switched to A's build"
        assert _titles(b, "star wars")[0] == "Star Wars"
        a.rollback("search", who="test")  # and a rollback on A too
        assert _wait(lambda: _loaded(b) == first), "B never followed the rollback"
    finally:
        b.stop_following()

    # B loads a version built before a catalog change: the change is replayed into it before it serves
    a.catalog.upsert([{"id": "x2", "title": "Zanzibar kazoo travel", "category": ["Music"]}])
    c = _host(tmp_path / "host-c", postgres_url, shared)
    assert "Zanzibar kazoo travel" in _titles(c, NEEDLE) and _loaded(c) == first
    for shop in (a, b, c):
        shop.close()
