"""The model registry in the store, artifact storage by path and the catalog-changes feed (S3: tests/facade/test_s3.py).

(Tests of `shopmind.artifacts` live here: tests/artifacts/ is the browser tests' ignored output folder.)
"""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shopmind.artifacts import LocalStorage, ModelRegistry, RegistryError, StorageError, VersionNotFound, open_storage
from shopmind.domain import Product
from shopmind.store import changes, open_store
from shopmind.store.schema import model_versions


def _registry(url: str) -> ModelRegistry:
    return ModelRegistry(open_store(url).engine)


def test_promote_rollback_and_history(store_url: str) -> None:
    reg = _registry(store_url)
    for n, v in enumerate(["v1", "v2", "v3"]):
        assert reg.register("search", v, uri=f"/a/search/{v}", products=10 + n, events=100, last_event_seq=5, metrics={"ndcg": 0.5 + n / 10})
    assert not reg.register("search", "v1", uri="elsewhere")  # registered once
    assert reg.promoted() == {}
    assert reg.promote("search", "v1", who="build")["changed"]
    assert reg.promote("search", "v2", who="cli", reason="better ndcg") == {"part": "search", "from": "v1", "to": "v2", "changed": True}
    assert not reg.promote("search", "v2", who="cli")["changed"]
    assert reg.promoted() == {"search": "v2"}
    assert reg.previous("search") == "v1"
    reg.promote("search", "v1", who="k1", action="rollback")
    assert reg.previous("search") == "v2"  # rolling back again toggles
    history = reg.history("search")
    assert [(h["action"], h["from_version"], h["to_version"], h["who"]) for h in history] == [
        ("rollback", "v2", "v1", "k1"), ("promote", "v1", "v2", "cli"), ("promote", None, "v1", "build")]
    assert history[1]["reason"] == "better ndcg"
    rows = {r["version"]: r for r in reg.versions("search")}
    assert [r["version"] for r in reg.versions("search")] == ["v3", "v2", "v1"]
    assert rows["v1"]["status"] == "promoted" and rows["v2"]["status"] == "built" and rows["v3"]["metrics"] == {"ndcg": 0.7}
    assert reg.retire("search", ["v1", "v3"]) == 1  # never the promoted one
    with pytest.raises(RegistryError, match="retired"):
        reg.promote("search", "v3", who="cli")
    with pytest.raises(VersionNotFound, match="no search version 'v9'"):
        reg.promote("search", "v9", who="cli")
    with pytest.raises(RegistryError, match="unknown version field"):
        reg.register("search", "v4", colour="red")


def test_concurrent_promotions_leave_exactly_one_promoted_row(postgres_url: str) -> None:
    reg = _registry(postgres_url)
    versions = [f"v{i}" for i in range(8)]
    for v in versions:
        reg.register("recommend", v, uri=v)
    errors: list[BaseException] = []

    for _round in range(5):
        barrier = threading.Barrier(len(versions))

        def promote(version: str, barrier: threading.Barrier = barrier) -> None:
            try:
                barrier.wait(10)
                reg.promote("recommend", version, who="t")
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=promote, args=(v,)) for v in versions]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        with reg.engine.connect() as conn:
            promoted = conn.execute(select(func.count()).select_from(model_versions).where(model_versions.c.status == "promoted")).scalar()
        assert promoted == 1
    assert not errors
    chain = list(reversed(reg.history("recommend", limit=100)))  # every switch starts where the one before ended
    assert all(a["to_version"] == b["from_version"] for a, b in itertools.pairwise(chain))
    assert chain[-1]["to_version"] == reg.promoted()["recommend"]


def test_catalog_changes_feed_names_the_writer(store_url: str) -> None:
    a, b = open_store(store_url), open_store(store_url)
    start = changes.last_seq(a.engine)
    a.upsert_products([Product(id="p1", title="Red shoe"), Product(id="p2", title="Blue shoe")])
    b.delete_products(["p1"])
    rows = changes.since(a.engine, start)
    assert [(k, p, o) for _, k, p, o in rows] == [("upsert", "p1", a.origin), ("upsert", "p2", a.origin), ("delete", "p1", b.origin)]
    assert [s for s, *_ in rows] == sorted(s for s, *_ in rows) and changes.last_seq(a.engine) == rows[-1][0]


def test_local_storage_by_path_and_bad_urls(tmp_path: Path) -> None:
    assert open_storage(None, tmp_path).root == tmp_path / "artifacts"
    shared = open_storage(str(tmp_path / "nfs"), tmp_path / "home")
    assert isinstance(shared, LocalStorage) and shared.root == tmp_path / "nfs" and not shared.remote
    (shared.root / "search" / "v1").mkdir(parents=True)
    assert shared.versions("search") == ["v1"] and shared.fetch("search", "v1") == shared.root / "search" / "v1"
    with pytest.raises(StorageError, match="no folder"):
        shared.fetch("search", "v2")
    with pytest.raises(StorageError, match=r"cluster\.artifacts_url"):
        open_storage("gs://bucket/x", tmp_path)


def test_catalog_changes_reach_another_process_online_state(tmp_path: Path) -> None:
    """Two facades on one store (as two workers): B's follower applies A's upsert to its online state, once, and A's
    own follower skips the rows A wrote."""
    from shopmind.engine import ShopMind

    url = {"url": f"sqlite:///{tmp_path / 'shop.db'}"}
    a, b = ShopMind.open(tmp_path / "a", store=url), ShopMind.open(tmp_path / "b", store=url)
    a.catalog.upsert([{"id": "p1", "title": "Trail shoe", "category": ["Shoes", "Trail"], "price": 80.0}])
    assert b.state.items["p1"].category == "Shoes > Trail"  # read from the store when B's state is built
    b._follower.poll()  # B starts following here
    a.catalog.upsert([{"id": "p1", "title": "Trail shoe", "category": ["Outdoor"], "brand": "Acme", "price": 60.0}])
    assert b.state.items["p1"].brand is None
    assert a._follower.poll()["catalog_changes"] == 0
    assert b._follower.poll()["catalog_changes"] == 1
    assert (b.state.items["p1"].category, b.state.items["p1"].brand, b.state.items["p1"].price) == ("Outdoor", "Acme", 60.0)
    assert b._follower.poll()["catalog_changes"] == 0  # applied once
    a.close()
    b.close()
