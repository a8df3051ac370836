"""features stage: the ranker's feature matrix over real candidates, and no work without a ranker."""

from __future__ import annotations

import numpy as np

from shopmind.ranking.features import USER_FEATURES
from shopmind.search.ranker import FEATURES
from shopmind.search.stages.features import entity_match, feature_matrix, rising_of
from tests.search.stages.conftest import known_brand, run_until


def test_columns_hold_what_they_name(hd_svc) -> None:
    ctx = run_until(hd_svc, "cordless drill under $60", "fuse", mode="bm25")
    idx = ctx.order[:50]
    X = feature_matrix(hd_svc, ctx.r, idx, ctx.rrf, ctx.convex, ctx.u, None)
    col = {f: X[:, i] for i, f in enumerate(FEATURES)}
    assert X.shape == (len(idx), len(FEATURES)) and X.dtype == np.float32
    assert np.allclose(col["bm25"], ctx.r.lex[idx]) and np.allclose(col["convex"], ctx.convex[idx])
    rows = ctx.r.cand[idx]
    assert np.array_equal(col["price_fit"], (hd_svc.table.price[rows] <= 60).astype(np.float32))
    assert (col["query_terms"] == len(set(ctx.u.tokens))).all() and not any(col[f].any() for f in USER_FEATURES)


def test_no_ranker_means_no_matrix(hd_svc) -> None:
    assert hd_svc.ranker is None
    ctx = run_until(hd_svc, "cordless drill", "features", mode="bm25")
    assert ctx.X is None and ctx.head is None


def test_entity_match_counts_brand_and_attribute_values(ob_svc) -> None:
    brand = known_brand(ob_svc)
    u = ob_svc.understand(f"{brand.lower()} 连衣裙")
    rows = np.arange(len(ob_svc.table))
    ent = entity_match(ob_svc.table, rows, u)
    assert (ent[[ob_svc.table.brand_of(int(r)) == brand for r in rows]] >= 1).all()


def test_rising_of_rows_added_later_is_zero() -> None:
    rising = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    assert rising_of(rising, np.array([1, 5])).tolist() == [[3.0, 4.0], [0.0, 0.0]]
