"""The contract every recommender passes (implicit-style test mixin), on a real Beauty slice."""

from __future__ import annotations

import numpy as np
import pytest

from shopmind.recommend.base import Interactions, Recommender, available, create

from .conftest import hash_encoder

FAST = {
    "popular": {},
    "trending": {},
    "itemknn": {"window": 3, "recency": 0.7},
    "rules": {},
    "als": {"factors": 16, "iterations": 3},
    "bpr": {"factors": 16, "iterations": 5},
    "ease": {"lam": 100.0},
    "content": {},
    "sasrec": {"hidden": 16, "epochs": 1, "max_len": 20, "batch": 256, "negatives": 256},
}


def _fit(name: str, inter: Interactions) -> Recommender:
    m = create(name, **FAST[name])
    if name == "content":
        m.with_texts([f"item {i} group {i % 7}" for i in range(inter.n_items)], hash_encoder)  # type: ignore[attr-defined]
    return m.fit(inter)


@pytest.fixture(scope="module", params=sorted(FAST))
def fitted(request: pytest.FixtureRequest, beauty_inter: Interactions) -> Recommender:
    return _fit(request.param, beauty_inter)


def test_registry_lists_every_model() -> None:
    assert set(FAST) <= set(available())


def test_recommend_shapes_and_order(fitted: Recommender, beauty_inter: Interactions) -> None:
    hist = beauty_inter.sequences()[:50]
    ids, scores = fitted.recommend(hist, k=10)
    assert ids.shape == (50, 10) and scores.shape == (50, 10)
    assert (ids >= 0).all() and (ids < beauty_inter.n_items).all()
    assert (np.diff(scores, axis=1) <= 1e-6).all(), "scores must be sorted best first"


def test_exclude_seen(fitted: Recommender, beauty_inter: Interactions) -> None:
    hist = beauty_inter.sequences()[:50]
    ids, _ = fitted.recommend(hist, k=20, exclude_seen=True)
    for h, row in zip(hist, ids, strict=True):
        assert not set(h.tolist()) & set(row.tolist())


def test_filter_items_respected(fitted: Recommender, beauty_inter: Interactions) -> None:
    hist = beauty_inter.sequences()[:20]
    first, _ = fitted.recommend(hist, k=5)
    banned = np.unique(first)
    ids, _ = fitted.recommend(hist, k=5, filter_items=banned)
    assert not set(ids.ravel().tolist()) & set(banned.tolist())


def test_whitelist_items(fitted: Recommender, beauty_inter: Interactions) -> None:
    allowed = np.arange(0, beauty_inter.n_items, 3)
    ids, _ = fitted.recommend(beauty_inter.sequences()[:10], k=5, items=allowed)
    assert set(ids.ravel().tolist()) <= set(allowed.tolist()) | {-1}


def test_similar_items_excludes_self(fitted: Recommender) -> None:
    q = np.array([0, 5, 17])
    ids, _scores = fitted.similar_items(q, k=5)
    assert ids.shape == (3, 5)
    for i, row in zip(q, ids, strict=True):
        assert i not in row.tolist()


def test_save_load_round_trip(fitted: Recommender, beauty_inter: Interactions, tmp_path) -> None:
    fitted.save(tmp_path / "m")
    assert not list((tmp_path / "m").glob("*.pkl"))
    back = Recommender.load(tmp_path / "m")
    assert type(back) is type(fitted) and back.params == fitted.params
    hist = beauty_inter.sequences()[:30]
    np.testing.assert_allclose(back.score(hist), fitted.score(hist), rtol=1e-4, atol=1e-5)


def test_empty_history_does_not_crash(fitted: Recommender) -> None:
    ids, _scores = fitted.recommend([np.zeros(0, dtype=np.int32)], k=5)
    assert ids.shape == (1, 5)


# ---------------------------------------------------------------------------------------------- exact fixture
def _blocks() -> Interactions:
    """Checkerboard: users 0-9 buy items 0-4 only, users 10-19 items 5-9 only (each misses one item)."""
    seqs = []
    for u in range(20):
        block = np.arange(5) if u < 10 else np.arange(5, 10)
        seqs.append(np.delete(block, u % 5).astype(np.int32))
    return Interactions.from_sequences(seqs, 10)


@pytest.mark.parametrize("name", ["itemknn", "ease", "rules", "als"])
def test_block_structure_is_recovered(name: str) -> None:
    inter = _blocks()
    params = {"als": {"factors": 2, "iterations": 10, "regularization": 0.01}, "rules": {"basket_window": None}}
    m = create(name, **params.get(name, {}))
    m.fit(inter)
    ids, _ = m.recommend(inter.sequences(), k=1)
    expected = np.array([u % 5 if u < 10 else 5 + u % 5 for u in range(20)])
    assert (ids[:, 0] == expected).all(), f"{name}: {ids[:, 0]} != {expected}"


def test_rules_support_confidence_lift() -> None:
    # baskets = whole histories: items 0 and 1 always together in 4 of 4 baskets containing 0
    seqs = [np.array([0, 1]), np.array([0, 1, 2]), np.array([0, 1]), np.array([0, 1, 3]), np.array([2, 3])]
    m = create("rules", basket_window=None, min_support=1).fit(Interactions.from_sequences(seqs, 4))
    r = m.explain(0, 1)  # type: ignore[attr-defined]
    assert r["support"] == 4 and r["confidence"] == pytest.approx(1.0)
    assert r["lift"] == pytest.approx(1.0 * 5 / 4)


def test_popularity_counts_and_trending_decay() -> None:
    seqs = [np.array([0, 1]), np.array([1]), np.array([2])]
    inter = Interactions.from_sequences(seqs, 3, ts=[np.array([0.0, 0.0]), np.array([0.0]), np.array([100.0])])
    pop = create("popular").fit(inter)
    assert pop.scores.tolist() == [1.0, 2.0, 1.0]  # type: ignore[attr-defined]
    trend = create("trending", half_life_s=10.0).fit(inter)
    assert int(np.argmax(trend.scores)) == 2  # type: ignore[attr-defined]


def test_sasrec_learns_a_deterministic_sequence() -> None:
    """A cyclic next-item rule (i → i+1 mod 8) is learned in a few seconds; predictions follow it."""
    rng = np.random.default_rng(0)
    seqs = [((rng.integers(0, 8) + np.arange(rng.integers(4, 10))) % 8).astype(np.int32) for _ in range(256)]
    m = create("sasrec", hidden=16, epochs=12, batch=64, lr=1e-2, dropout=0.0, loss="ce", max_len=10, weight_decay=0.0)
    m.fit(Interactions.from_sequences(seqs, 8))
    hist = [np.array([3, 4, 5], dtype=np.int32), np.array([6, 7], dtype=np.int32)]
    ids, _ = m.recommend(hist, k=1)
    assert ids[:, 0].tolist() == [6, 0]


def test_blend_round_trip_and_weight_search(beauty_slice, tmp_path) -> None:
    from shopmind.evaluation.recs_eval import LOOSplit, blend_on_validation

    seqs, n = beauty_slice
    split = LOOSplit(seqs, n)
    knn = create("itemknn", window=3, recency=0.7).fit(split.train)
    pop = create("popular").fit(split.train)
    blended, val = blend_on_validation(knn, [pop], split)
    assert blended.params["weights"][0] == 1.0 and val >= split.val_metric(knn, sample=6000) - 1e-9
    blended.save(tmp_path / "b")
    back = Recommender.load(tmp_path / "b")
    hist = split.test_hist[:20]
    np.testing.assert_allclose(back.score(hist), blended.score(hist), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("loss", ["ce", "bce", "gbce"])
def test_sasrec_losses_train(loss: str) -> None:
    rng = np.random.default_rng(1)
    seqs = [rng.integers(0, 30, rng.integers(3, 12)).astype(np.int32) for _ in range(64)]
    m = create("sasrec", hidden=8, epochs=1, batch=32, loss=loss, negatives=8, max_len=8)
    m.fit(Interactions.from_sequences(seqs, 30))
    assert np.isfinite(m.history[-1]["loss"])  # type: ignore[attr-defined]


def test_sasrec_defaults_scale_with_data(shared_data) -> None:
    """max_len / batch / dropout / loss follow the data: short sparse Amazon sequences vs long MovieLens ones."""
    from shopmind.evaluation.recs_eval import sequences_from_inter
    from shopmind.recommend.base import read_seqrec
    from shopmind.recommend.sasrec import data_defaults

    auto = {"max_len": "auto", "batch": "auto", "dropout": "auto", "loss": "auto", "negatives": 2048}
    seqs, _ = read_seqrec(shared_data / "seqrec" / "Beauty.txt")
    amazon = data_defaults(auto, np.array([len(s) for s in seqs]), 12101)
    assert amazon == {"loss": "sce", "max_len": 50, "batch": 256, "dropout": 0.3}
    ml, n_ml, _ = sequences_from_inter(shared_data / "ml-100k" / "ml-100k.inter")
    movies = data_defaults(auto, np.array([len(s) for s in ml]), n_ml)
    assert movies["max_len"] == 200 and movies["dropout"] == 0.2 and movies["loss"] == "ce"
    assert 32 <= movies["batch"] <= 256
    # explicit values are kept
    assert data_defaults({**auto, "max_len": 20, "loss": "bce"}, np.array([5, 6]), 100).keys() == {"batch", "dropout"}


def test_sasrec_auto_params_saved_resolved(beauty_inter, tmp_path) -> None:
    """After fit the resolved values (not "auto") are the model's params, so a loaded model rebuilds the same net."""
    m = create("sasrec", hidden=16, epochs=1, negatives=256).fit(beauty_inter)
    assert isinstance(m.params["max_len"], int) and m.params["loss"] in ("ce", "sce") and isinstance(m.params["batch"], int)
    m.save(tmp_path / "s")
    back = Recommender.load(tmp_path / "s")
    hist = [beauty_inter.sequence(u) for u in range(5)]
    np.testing.assert_allclose(back.score(hist), m.score(hist), rtol=1e-5, atol=1e-5)


def test_ease_cholesky_inverse_matches_lu(beauty_inter) -> None:
    """The potrf/potri inverse (mirrored block by block) equals a float64 LU inverse on a real Gram matrix."""
    import scipy.linalg

    from shopmind.recommend.ease import _spd_inverse

    x = beauty_inter.csr()
    g = (x.T @ x).toarray().astype(np.float32)[:1000, :1000]
    g[np.diag_indices_from(g)] += 50.0
    want = scipy.linalg.inv(g.astype(np.float64))
    got = _spd_inverse(g.copy())
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert np.allclose(got, got.T)
