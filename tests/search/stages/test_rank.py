"""rank stage: a ranker reorders the head of the fused order; without one the fused order stands."""

from __future__ import annotations

import numpy as np

from shopmind.search.ranker import FEATURES
from tests.search.stages.conftest import run_until


class ShortestTitleFirst:
    """A stand-in ranker: prefers candidates with fewer title terms."""

    def predict(self, X: np.ndarray) -> np.ndarray:
        return -X[:, FEATURES.index("title_terms")]


def test_without_ranker_the_fused_order_stands(hd_svc) -> None:
    ctx = run_until(hd_svc, "garden hose", "rank", mode="bm25")
    assert np.array_equal(ctx.ranked_rows, ctx.r.cand[ctx.order]) and ctx.rk_scores is None
    assert np.allclose(ctx.final_score, ctx.score[ctx.order]) and "ranker" not in ctx.stages
    assert not ctx.tail_mask[ctx.r.cand].any() and (ctx.tail_mask <= ctx.r.match).all()


def test_ranker_reorders_the_head(hd_svc) -> None:
    hd_svc.ranker = ShortestTitleFirst()
    try:
        ctx = run_until(hd_svc, "garden hose", "rank", mode="bm25")
    finally:
        hd_svc.ranker = None
    k = len(ctx.head)
    assert k == min(hd_svc.config.rerank_k, len(ctx.r.cand)) and "ranker" in ctx.stages
    is_match = ctx.r.match[ctx.ranked_rows]
    assert is_match.any() and (~is_match).any()  # "garden hose" has related products beside its matches
    assert (np.diff(is_match.astype(int)) <= 0).all()  # every match before every related product
    in_head = np.isin(ctx.ranked_rows, ctx.r.cand[ctx.head])
    for group in (is_match, ~is_match):  # within each group: the head first, fewest title terms first
        rows, head = ctx.ranked_rows[group], in_head[group]
        assert (np.diff(head.astype(int)) <= 0).all()
        assert (np.diff(hd_svc.title_len[rows[head]]) >= 0).all()
    assert set(ctx.ranked_rows[in_head].tolist()) == set(ctx.r.cand[ctx.head].tolist())
