"""Stage 2, retrieve: filters → lexical (BM25) and dense (ANN, in the query worker, at the same time) → the
match set and the fusion candidates; when nothing matches, what the query implied is relaxed step by step."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from shopmind.search.stages import dense as dense_side
from shopmind.search.stages import lexical as lexical_side
from shopmind.search.stages.context import LexicalScores, Retrieval, SearchContext, SearchParts
from shopmind.search.stages.timing import timed
from shopmind.search.understand import Understood
from shopmind.text.encoders import RECENT_QUERY_VECTORS


def filter_masks(parts: SearchParts, filters: Mapping[str, Any] | None, u: Understood, relax: set[str]) -> dict[str, np.ndarray]:
    """Row masks of the caller's filters plus what the query implied (price; entities in filter mode), minus `relax`."""
    f = dict(filters or {})
    if u.price is not None and "price" not in f and "q:price" not in relax:
        f["price"] = {"min": u.price.min, "max": u.price.max}
    if parts.config.entity_mode == "filter" and "q:entities" not in relax:
        if u.brands and "brand" not in f:
            f["brand"] = u.brands
        for k, v in u.attributes.items():
            f.setdefault(f"attributes.{k}", v)
    return parts.table.filter_masks(f)


def allowed_rows(parts: SearchParts, masks: Mapping[str, np.ndarray], skip: str | None = None) -> np.ndarray:
    """Live rows passing every mask but `skip`."""
    allowed = parts.table.alive.copy()
    for k, m in masks.items():
        if k != skip:
            allowed &= m
    return allowed


def retrieve(
    parts: SearchParts,
    lex: LexicalScores,
    qvec: np.ndarray | None,
    allowed: np.ndarray,
    mode: str,
    dense_k: int,
    min_sim: float,
    dense: tuple[np.ndarray, np.ndarray] | None = None,
    head: tuple[np.ndarray, np.ndarray] | None = None,
) -> Retrieval:
    """Match set and fusion candidates under one allowed-row mask (`dense`: its dense top-k and `head`:
    (lexical matches, BM25 head) when already computed for this mask)."""
    n = len(allowed)
    use_lex = mode in ("hybrid", "bm25")
    use_dense = mode in ("hybrid", "dense") and qvec is not None and parts.vectors is not None
    if use_lex and head is None:
        head = lexical_side.lex_head(lex.lex_all, allowed)
    lex_ok, top = head if use_lex and head is not None else (np.zeros(n, bool), np.zeros(0, np.int64))
    if not use_dense:
        d_rows = np.zeros(0, np.int64)
    elif dense is not None:
        d_rows = dense[0]
    else:
        d_rows = dense_side.dense_top_k(parts.vectors, qvec, allowed, dense_k, min_sim)[0]
    match = lex_ok.copy()
    match[d_rows] = True
    cand = np.unique(np.concatenate([top, d_rows]))
    cos = np.zeros(len(cand), np.float32)
    if use_dense and qvec is not None and parts.vectors is not None and len(cand):
        cos = parts.vectors.similarity(qvec, cand)
    lex_rank = np.full(len(cand), np.inf)
    lex_rank[np.searchsorted(cand, top)] = np.arange(1, len(top) + 1)
    dense_rank = np.full(len(cand), np.inf)
    dense_rank[np.searchsorted(cand, d_rows)] = np.arange(1, len(d_rows) + 1)
    return Retrieval(
        match=match,
        cand=cand,
        lex=lex.lex_all[cand],
        per_field={k: v[cand] for k, v in lex.per_field.items()},
        coverage=lex.cov[cand],
        all_terms=lex.cov[cand, 0] >= 0.999,
        cos=cos,
        lex_rank=lex_rank,
        dense_rank=dense_rank,
        lex_all=lex.lex_all,
        dense_rows=d_rows,
    )


def _recover(ctx: SearchContext) -> None:
    """Nothing matched: keep the shopper's own filters, relax what the query implied (entities, price),
    then fall back to dense neighbours of the whole query."""
    parts, u, req = ctx.parts, ctx.u, ctx.request
    assert ctx.lexical is not None
    for step in ("q:entities", "q:price", "semantic"):
        if step == "q:entities" and not (parts.config.entity_mode == "filter" and (u.brands or u.attributes)):
            continue
        if step == "q:price" and u.price is None:
            continue
        ctx.relax.add(step)
        if step == "semantic":
            if ctx.qvec is None and parts.vectors is not None:
                ctx.qvec = parts.pool.submit(parts.encoder.encode_queries, [u.normalized or req.query]).result()[0]
            if ctx.qvec is None:
                break
            ctx.mode = "dense"
            ctx.masks = filter_masks(parts, req.filters, u, ctx.relax)
            ctx.retrieval = retrieve(parts, ctx.lexical, ctx.qvec, allowed_rows(parts, ctx.masks), "dense", ctx.dense_k, -1.0)
        else:
            ctx.masks = filter_masks(parts, req.filters, u, ctx.relax)
            ctx.retrieval = retrieve(parts, ctx.lexical, ctx.qvec, allowed_rows(parts, ctx.masks), ctx.mode, ctx.dense_k, ctx.min_sim)
        ctx.recovery = f"relaxed {step}"
        if ctx.r.match.any():
            break
    ctx.stages.append("recovery")


def run(ctx: SearchContext) -> None:
    """ctx.retrieval ← matches and candidates (ctx.lexical, ctx.qvec, ctx.masks on the way)."""
    parts, u, req = ctx.parts, ctx.u, ctx.request
    cfg = parts.config
    ctx.mode = req.mode
    ctx.dense_k, ctx.min_sim = cfg.dense_k, cfg.dense_min_sim
    want_dense = req.mode in ("hybrid", "dense") and cfg.stages.dense and parts.vectors is not None
    ctx.masks = filter_masks(parts, req.filters, u, ctx.relax)
    allowed = allowed_rows(parts, ctx.masks)
    # the query worker encodes and searches the dense index (GIL released, one core) while this thread scores BM25
    fut = (parts.pool.submit(dense_side.encode_and_search, parts.encoder, parts.vectors, u.text or u.normalized or req.query,
                             allowed, ctx.dense_k, ctx.min_sim) if want_dense else None)
    with timed(ctx, "retrieve.lexical"):
        if req.mode != "dense":
            ctx.lexical = lexical_side.lexical_scores(parts.lexical, lexical_side.query_fields(parts.lexical, u))
        else:
            ctx.lexical = lexical_side.empty_scores(len(parts.table))
        head = lexical_side.lex_head(ctx.lexical.lex_all, allowed) if req.mode in ("hybrid", "bm25") else None
    with timed(ctx, "retrieve.dense"):
        ctx.qvec, dense = fut.result() if fut is not None else (None, None)
    if ctx.qvec is not None:
        RECENT_QUERY_VECTORS.put(parts.encoder.name, req.query, ctx.qvec)  # the page's ad slots match on it too
    ctx.stages += ["bm25"] if req.mode != "dense" else []
    ctx.stages += ["dense"] if ctx.qvec is not None else []
    ctx.retrieval = retrieve(parts, ctx.lexical, ctx.qvec, allowed, req.mode, ctx.dense_k, ctx.min_sim, dense=dense, head=head)
    user_allowed = allowed_rows(parts, parts.table.filter_masks(req.filters)) if req.filters else parts.table.alive
    if not ctx.r.match.any() and cfg.stages.recovery and user_allowed.any():
        _recover(ctx)
