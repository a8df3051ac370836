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
    head_rows = ctx.ranked_rows[:k]
    assert (np.diff(hd_svc.title_len[head_rows]) >= 0).all()  # fewest title terms first
    assert set(head_rows.tolist()) == set(ctx.r.cand[ctx.head].tolist())
    assert (ctx.final_score[k:] < ctx.final_score[:k].min()).all() or k == len(ctx.r.cand)
