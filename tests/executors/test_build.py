"""A build on a distributed executor (its contract run here, files shipped as bytes) equals the in-process build,
and a part that fails leaves no half-written version behind."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from shopmind.engine import ShopMind
from shopmind.executors import EXECUTORS, BuildFailed
from shopmind.executors.base import collect_files
from shopmind.text.embedstore import EmbeddingStore
from tests.executors.conftest import TinyEncoder, open_shop
from tests.executors.test_local import Inline

pytestmark = pytest.mark.integration  # two small builds of every part

QUERIES = ["star wars", "toy story", "love", "the war", "comedy of errors"]
USERS = [f"u{i}" for i in range(1, 30)]


def _tiny(shop: ShopMind, cache: Path) -> ShopMind:
    shop._embeddings = EmbeddingStore(TinyEncoder, name="tiny-test", dim=16, cache_dir=cache, batch=16)
    return shop


@pytest.fixture(scope="module")
def built(tmp_path_factory, small_demo):
    """The same small shop built in process and on the inline executor."""
    root = tmp_path_factory.mktemp("build")
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(EXECUTORS, "inline", Inline)
        here = _tiny(open_shop(root / "here", small_demo), root / "cache-here")
        there = _tiny(open_shop(root / "there", small_demo), root / "cache-there")
        here.build()
        summary = there.build(executor="inline")
        yield here, there, summary
    here.close()
    there.close()


def _version_dir(shop: ShopMind, part: str) -> Path:
    return shop.artifacts_dir(part) / shop.artifact_version(part)


def _without_times(metrics: dict) -> dict:
    return {k: {kk: vv for kk, vv in v.items() if kk != "train_s"} if isinstance(v, dict) else v for k, v in metrics.items()}


def test_every_part_is_built_and_published(built):
    _, there, summary = built
    assert set(summary) >= {"search", "recommend", "ads"}
    for part in ("search", "recommend", "ads"):
        assert summary[part]["version"] == there.artifact_version(part)
        assert (_version_dir(there, part) / "snapshot.json").exists()


def test_recommenders_are_the_same_bytes_and_metrics(built):
    here, there, _ = built
    a, b = (collect_files(_version_dir(s, "recommend") / "models") for s in (here, there))
    assert a.keys() == b.keys() and len(a) > 5
    assert [k for k in a if a[k] != b[k]] == []
    ma, mb = (json.loads((_version_dir(s, "recommend") / "meta.json").read_text())["metrics"] for s in (here, there))
    assert _without_times(ma) == _without_times(mb) and "itemknn" in ma
    for user in USERS:
        for placement, item in (("home", None), ("product", "m1")):
            ra = here.recommend(user_id=user, placement=placement, item_id=item, k=10)
            rb = there.recommend(user_id=user, placement=placement, item_id=item, k=10)
            assert [(i.id, i.score, i.reason) for i in ra.items] == [(i.id, i.score, i.reason) for i in rb.items]


def test_search_built_as_a_task_answers_the_same(built):
    here, there, _ = built
    for q in QUERIES:
        ha, hb = here.search(q, per_page=10).hits, there.search(q, per_page=10).hits
        assert [h.id for h in ha] == [h.id for h in hb]
        np.testing.assert_allclose([h.score for h in ha], [h.score for h in hb], rtol=1e-6)
    assert here.search("star wars", per_page=3).hits  # the comparison is not vacuous


def test_ads_built_as_a_task_are_the_same_files(built):
    here, there, _ = built
    a, b = (collect_files(_version_dir(s, "ads")) for s in (here, there))
    for name in ("item_vectors.npy", "item_arrays.npy", "items.json", "item_factors.npy"):
        assert a[name] == b[name], name


@pytest.mark.parametrize(("part", "overrides", "cause"), [
    ("recommend", {"recommend": {"params": {"itemknn": {"no_such_option": 1}}}}, "TypeError"),  # fails in a model's task
    ("search", {"search": {"faiss_spec": "NoSuchIndex"}}, ""),  # fails in the part's task
])
def test_a_failed_task_removes_its_version_and_names_the_part(built, part, overrides, cause):
    _, there, _ = built
    before = there.artifact_version(part)
    versions = sorted(p.name for p in there.artifacts_dir(part).iterdir() if p.is_dir())
    shop = _tiny(ShopMind.open(there.home, **overrides), there.embeddings().dir.parent)
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(EXECUTORS, "inline", Inline)
        with pytest.raises(BuildFailed, match=f"build of part '{part}' failed on inline: {cause}"):
            shop.build([part], executor="inline")
    assert sorted(p.name for p in there.artifacts_dir(part).iterdir() if p.is_dir()) == versions
    assert shop.artifact_version(part) == before
    shop.close()
