"""Stage 5, rank: the learned ranker (when there is one) reorders the head of the fused order; the ranked
rows and their final scores come out, with the matched rows beyond the candidates kept as a BM25 tail."""

from __future__ import annotations

import numpy as np

from shopmind.search.stages.context import SearchContext


def run(ctx: SearchContext) -> None:
    """ctx.rk_scores (ranker score per candidate, NaN outside the head), ctx.ranked_rows, ctx.final_score, ctx.tail_mask."""
    r, order, score = ctx.r, ctx.order, ctx.score
    assert order is not None and score is not None
    ranker = ctx.parts.ranker
    if ctx.X is not None and ctx.head is not None and ranker is not None:
        head = ctx.head
        rk = ranker.predict(ctx.X)
        ctx.rk_scores = np.full(len(r.cand), np.nan, np.float32)
        ctx.rk_scores[head] = rk
        head = head[np.lexsort((r.cand[head], -rk))]
        order = np.concatenate([head, order[len(ctx.head) :]])
        ctx.order = order
        ctx.stages.append("ranker")
    ctx.ranked_rows = r.cand[order]
    final = (ctx.rk_scores[order] if ctx.rk_scores is not None else score[order]).astype(np.float64)
    if ctx.rk_scores is not None:
        final = np.where(np.isnan(final), score[order] - 1e3, final)
    ctx.final_score = final
    tail = r.match.copy()
    tail[r.cand] = False
    ctx.tail_mask = tail
