"""Stage 3, fuse: one score per candidate from BM25 and dense (convex or RRF), plus the explained boosts
(category intent, recognised brand/attribute values, rising demand), and the fused order."""

from __future__ import annotations

import numpy as np

from shopmind.search.config import SearchConfig
from shopmind.search.stages.context import Retrieval, SearchContext, SearchParts
from shopmind.search.stages.features import entity_match, rising_of
from shopmind.search.understand import Understood


def fuse_scores(r: Retrieval, mode: str, config: SearchConfig, fusion: str | None = None,
                dense_weight: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fused, rrf, convex) scores per candidate; `fusion`/`dense_weight` override the config (tuning)."""
    k = config.rrf_k
    rrf = np.where(np.isfinite(r.lex_rank), 1.0 / (k + r.lex_rank), 0.0) + np.where(
        np.isfinite(r.dense_rank), 1.0 / (k + r.dense_rank), 0.0
    )
    w = config.dense_weight if dense_weight is None else dense_weight
    if mode == "bm25":
        w = 0.0
    elif mode == "dense":
        w = 1.0
    lmax = r.lex.max() if len(r.lex) else 0.0
    ln = r.lex / lmax if lmax > 0 else np.zeros_like(r.lex)
    if len(r.cos):
        lo, hi = float(r.cos.min()), float(r.cos.max())
        dn = (r.cos - lo) / (hi - lo) if hi > lo else np.zeros_like(r.cos)
    else:
        dn = r.cos
    convex = (1 - w) * ln + w * dn
    fused = rrf if (fusion or config.fusion) == "rrf" and mode == "hybrid" else convex
    return fused.astype(np.float32), rrf.astype(np.float32), convex.astype(np.float32)


def boosts(parts: SearchParts, r: Retrieval, u: Understood) -> dict[str, np.ndarray]:
    """Additive score boosts per candidate, by name (each one shows in a hit's `why`)."""
    cfg, t = parts.config, parts.table
    out: dict[str, np.ndarray] = {}
    if u.category and u.category_confidence >= cfg.intent_min_confidence and len(r.cand):
        b = t.in_category(u.category, r.cand) * (cfg.intent_boost * u.category_confidence)
        out["category_intent"] = b.astype(np.float32)
    if cfg.entity_mode == "boost" and (u.brands or u.attributes) and len(r.cand):
        out["entity"] = (entity_match(t, r.cand, u) * cfg.entity_boost).astype(np.float32)
    if cfg.rising_boost > 0 and len(r.cand) and parts.rising.any():  # documented tie-breaker
        z = np.clip(rising_of(parts.rising, r.cand), 0.0, 3.0) / 3.0
        b = (z[:, 0] + 0.5 * z[:, 1]) * cfg.rising_boost
        if b.any():
            out["rising"] = b.astype(np.float32)
    return out


def run(ctx: SearchContext) -> None:
    """ctx.fused/rrf/convex, ctx.boosts, ctx.score (fused + boosts) and ctx.order (best first, ties by row)."""
    r = ctx.r
    ctx.fused, ctx.rrf, ctx.convex = fuse_scores(r, ctx.mode, ctx.parts.config)
    ctx.boosts = boosts(ctx.parts, r, ctx.u)
    score = ctx.fused.copy()
    for b in ctx.boosts.values():
        score = score + b
    ctx.score = score
    ctx.order = np.lexsort((r.cand, -score))
