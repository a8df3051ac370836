"""The search ranker drops what it cannot learn from, by name: columns constant in training (the personal columns
when no judged search has a user) and columns the caller excludes; it predicts from the full feature matrix, and
a saved model remembers its columns. Real features: judged Home Depot queries over the 2,000-product slice."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from shopmind.evaluation.search_eval import load_qrels, load_queries
from shopmind.ranking.features import USER_FEATURES, constant_features
from shopmind.search import SearchConfig, SearchService, StageSwitches
from shopmind.search.ranker import FEATURES, Ranker
from shopmind.search.title_signals import SIGNALS

PARAMS = {"n_estimators": 30, "learning_rate": 0.1, "num_leaves": 15, "min_child_samples": 5}


@pytest.fixture(scope="module")
def matrix(hd_slice, shared_data, tmp_path_factory) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Features and grades of 60 real judged queries (no user: the personal columns are all 0)."""
    root = shared_data / "search" / "homedepot"
    queries, qrels = load_queries(root / "queries.tsv"), load_qrels(root / "qrels.tsv")
    prods = hd_slice[:1000]
    ids = {p.id for p in prods}
    svc = SearchService.build(prods, None, tmp_path_factory.mktemp("rk"), SearchConfig(stages=StageSwitches(dense=False)))
    Xs, ys, groups = [], [], []
    for q in sorted(qrels):
        rel = {p: g for p, g in qrels[q].items() if p in ids}
        if q in queries and rel and max(rel.values()) > 0 and len(groups) < 60:
            X, y, *_ = svc.candidates_for_training(queries[q], rel, mode="bm25")
            if len(y) and y.max() > 0:
                Xs.append(X)
                ys.append(np.round(y).astype(np.int32))
                groups.append(len(y))
    return np.concatenate(Xs), np.concatenate(ys), groups


def test_constant_columns_are_dropped_by_name(matrix, tmp_path) -> None:
    X, y, groups = matrix
    constant = constant_features(X, FEATURES)
    assert set(USER_FEATURES) <= set(constant) and "bm25" not in constant
    ranker = Ranker.fit(X, y, groups, PARAMS)
    assert ranker.dropped == dict.fromkeys(constant, "constant in training")
    assert ranker.features == [f for f in FEATURES if f not in constant]
    assert ranker.booster.num_feature() == len(ranker.features)
    scores = ranker.predict(X)  # the full matrix in, the model's columns picked out
    assert scores.shape == (len(X),) and np.unique(scores).size > 1
    ranker.save(tmp_path)
    assert orjson.loads((tmp_path / "ranker.json").read_bytes())["dropped"] == ranker.dropped
    again = Ranker.load(tmp_path)
    assert again is not None and again.dropped == ranker.dropped and np.allclose(again.predict(X), scores)
    assert list(again.explain(X[:3], top=3)[0]) and set(again.explain(X[:3])[0]) <= set(ranker.features)


def test_caller_can_drop_columns_and_a_model_on_other_columns_is_not_loaded(matrix, tmp_path) -> None:
    X, y, groups = matrix
    ranker = Ranker.fit(X, y, groups, PARAMS, drop=["bm25_title"])
    assert ranker.dropped["bm25_title"] == "excluded by the caller" and "bm25_title" not in ranker.features
    ranker.save(tmp_path)
    meta = orjson.loads((tmp_path / "ranker.json").read_bytes())
    meta["dropped"] = {}  # the model's columns no longer equal FEATURES less the dropped ones: a rebuild retrains
    (tmp_path / "ranker.json").write_bytes(orjson.dumps(meta))
    assert Ranker.load(tmp_path) is None


def test_query_title_columns_are_never_constant_on_real_judged_queries(matrix) -> None:
    """The title-structure and head-relative columns (issue 21) vary over real judged candidates: the ranker keeps them."""
    X, _, _ = matrix
    new = [*SIGNALS, "bm25_title_ratio", "idf_coverage_gap", "bm25_rank_head"]
    assert set(new) <= set(FEATURES)
    assert not set(new) & set(constant_features(X, FEATURES))
