"""The shared gradient-boosting wrapper on real Home Depot judgments: it learns, stops early, reproduces itself,
round-trips through its text files and explains its scores."""

from __future__ import annotations

import json

import numpy as np
import pytest

from shopmind.ranking.gbm import GBM, train_params
from shopmind.ranking.metrics import ndcg_at_k
from tests.ranking.conftest import HD_FEATURES, Split

PARAMS = {"objective": "lambdarank", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 20, "metric": "ndcg", "eval_at": [10]}


def _ndcg(split: Split, scores: np.ndarray) -> float:
    out, at = [], 0
    for n in split.groups:
        grades = split.y[at : at + n]
        qrels = {str(i): float(g) for i, g in enumerate(grades)}
        out.append(ndcg_at_k([str(i) for i in np.argsort(-scores[at : at + n], kind="stable")], qrels, 10))
        at += n
    return float(np.mean(out))


@pytest.fixture(scope="module")
def ranker(hd_ltr) -> GBM:
    tr, va = hd_ltr["train"], hd_ltr["valid"]
    return GBM.train(tr.X, tr.y, features=HD_FEATURES, params=PARAMS, rounds=300, group=tr.groups, valid=(va.X, va.y, va.groups))


def test_lambdarank_beats_the_order_it_was_given_and_stops_early(hd_ltr, ranker):
    te = hd_ltr["test"]
    learned = _ndcg(te, ranker.predict(te.X))
    given = _ndcg(te, np.zeros(len(te.y)))  # stable sort: the judgments' file order
    assert learned > given + 0.02
    assert 0 < ranker.metrics["best_iteration"] < 300 and ranker.best_iteration == ranker.metrics["best_iteration"]
    assert "ndcg@10" in ranker.metrics["valid"]


def test_training_is_deterministic_and_single_threaded_by_default(hd_ltr, ranker):
    tr, va = hd_ltr["train"], hd_ltr["valid"]
    again = GBM.train(tr.X, tr.y, features=HD_FEATURES, params=PARAMS, rounds=300, group=tr.groups, valid=(va.X, va.y, va.groups))
    assert again.model_string() == ranker.model_string()
    assert ranker.params["num_threads"] == 1
    assert train_params({"n_jobs": 2}) == {"n_jobs": 2, "verbose": -1}  # the caller's own thread count is kept, nothing added
    assert train_params({}, objective="binary", seed=3) == {"objective": "binary", "seed": 3, "verbose": -1, "num_threads": 1}


def test_save_load_round_trip_gives_identical_predictions(tmp_path, hd_ltr, ranker):
    ranker.save(tmp_path / "m.txt", tmp_path / "m.json", extra={"note": "hd"})
    assert (tmp_path / "m.txt").read_text().startswith("tree")  # LightGBM's text format, not a pickle
    meta = json.loads((tmp_path / "m.json").read_text())
    assert meta["features"] == HD_FEATURES and meta["params"]["objective"] == "lambdarank" and meta["note"] == "hd"
    loaded, sidecar = GBM.load(tmp_path / "m.txt", tmp_path / "m.json")
    te = hd_ltr["test"]
    assert np.array_equal(loaded.predict(te.X), ranker.predict(te.X))
    assert loaded.metrics == ranker.metrics and sidecar["note"] == "hd"
    # the text model holds only the rounds predictions used
    assert loaded.booster.current_iteration() == ranker.best_iteration
    again = GBM.from_string(ranker.model_string(), HD_FEATURES)
    assert np.array_equal(again.predict(te.X), ranker.predict(te.X))


def test_loading_refuses_other_features_and_missing_files(tmp_path, ranker):
    ranker.save(tmp_path / "m.txt", tmp_path / "m.json")
    with pytest.raises(ValueError, match="title_coverage"):
        GBM.load(tmp_path / "m.txt", tmp_path / "m.json", features=[*HD_FEATURES[1:], HD_FEATURES[0]])
    assert GBM.load(tmp_path / "none.txt", tmp_path / "none.json") is None
    with pytest.raises(ValueError, match="6 features"):
        GBM(ranker.booster, HD_FEATURES[:3])


def test_contributions_sum_to_the_raw_score_and_name_the_features(hd_ltr, ranker):
    X = hd_ltr["test"].X[:200]
    contrib = ranker.contributions(X)
    assert contrib.shape == (200, len(HD_FEATURES) + 1)
    np.testing.assert_allclose(contrib.sum(axis=1), ranker.predict(X, raw_score=True), rtol=1e-6, atol=1e-6)
    top = ranker.explain(X[:5], top=2)
    assert all(len(t) <= 2 and set(t) <= set(HD_FEATURES) for t in top)
    gains = ranker.importance()
    assert list(gains) == HD_FEATURES and max(gains, key=gains.get) in {"title_coverage", "title_overlap", "title_all_terms"}


def test_binary_and_regression_objectives(hd_ltr):
    tr, te = hd_ltr["train"], hd_ltr["test"]
    clf = GBM.train(tr.X, (tr.y >= 2).astype(float), features=HD_FEATURES, params={"num_leaves": 7}, objective="binary", rounds=50, seed=1)
    p = clf.predict(te.X)
    assert p.min() >= 0 and p.max() <= 1
    np.testing.assert_allclose(1 / (1 + np.exp(-clf.predict(te.X, raw_score=True))), p, rtol=1e-9)
    reg = GBM.train(tr.X, tr.y.astype(float), features=HD_FEATURES, params={"num_leaves": 7}, objective="regression", rounds=50)
    err = np.abs(reg.predict(te.X) - te.y).mean()
    assert err < np.abs(tr.y.mean() - te.y).mean()  # better than predicting the mean grade
