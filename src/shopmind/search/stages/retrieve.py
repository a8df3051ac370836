"""Stage 2, retrieve: the query's match set (stages.match: lexical terms or dense similarity, decided once and
independently of filters) ∩ the filters → the result set and the fusion candidates; when nothing matches, the
query is rewritten step by step (spelling, a rewrite, then the least important constraint) and, as a last resort, the
nearest products are shown as "related" (total 0); a query with fewer than rewrite.LOW_RESULTS matches is offered
its rewrite's matches as related products (never counted in total)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from shopmind.index.base import top_k
from shopmind.search import crosslang, timeq
from shopmind.search.stages import dense as dense_side
from shopmind.search.stages import lexical as lexical_side
from shopmind.search.stages import match as match_rule
from shopmind.search.stages import rewrite as rewrite_side
from shopmind.search.stages.context import LexicalScores, MatchInfo, Retrieval, SearchContext, SearchParts
from shopmind.search.stages.timing import timed
from shopmind.search.stages.understand import retokenize
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
    if u.years is not None and "q:years" not in relax:  # a year range read from the query: values of a year-like attribute
        for k, v in timeq.year_filters(parts.table, u.years).items():
            f.setdefault(k, v)
    return parts.table.filter_masks(f)


def allowed_rows(parts: SearchParts, masks: Mapping[str, np.ndarray], skip: str | None = None) -> np.ndarray:
    """Live rows passing every mask but `skip`."""
    allowed = parts.table.alive.copy()
    for k, m in masks.items():
        if k != skip:
            allowed &= m
    return allowed


def uses_dense(parts: SearchParts, mode: str) -> bool:
    """Whether a request in `mode` has a dense side here."""
    return mode in ("hybrid", "dense") and parts.config.stages.dense and parts.vectors is not None


def dense_matches(parts: SearchParts, qvec: np.ndarray | None, allowed: np.ndarray | None = None
                  ) -> tuple[tuple[np.ndarray, np.ndarray, float | None], np.ndarray]:
    """((rows, cosines, threshold) of the dense rule over every live product, the dense_k nearest allowed rows at or
    above dense_min_sim: the dense candidate pool); empty without a vector."""
    empty = np.zeros(0, np.int64)
    if qvec is None or parts.vectors is None:
        return (empty, np.zeros(0, np.float32), None), empty
    cfg, alive = parts.config, parts.table.alive
    thr = max(match_rule.dense_threshold(parts.vectors, qvec, match_rule.dense_z(parts.encoder.name)), cfg.dense_min_sim)
    first = parts.vectors.search(qvec, cfg.dense_k, None if alive.all() else alive)
    rows, cos = match_rule.dense_match(parts.vectors, qvec, alive, cfg.dense_k, thr, first)
    if allowed is None or np.array_equal(allowed, alive):
        pool = first[0][first[1] >= cfg.dense_min_sim]
    else:
        pool = dense_side.dense_top_k(parts.vectors, qvec, allowed, cfg.dense_k, cfg.dense_min_sim)[0]
    return (rows, cos, thr), pool


def encode_and_match(parts: SearchParts, text: str, allowed: np.ndarray
                     ) -> tuple[np.ndarray, tuple[tuple[np.ndarray, np.ndarray, float | None], np.ndarray]]:
    """Query vector, its dense matches and its dense pool among allowed rows (run through the query lane)."""
    qvec = parts.encoder.encode_queries([text])[0]
    return qvec, dense_matches(parts, qvec, allowed)


def match_info(parts: SearchParts, u: Understood, lex: LexicalScores, mode: str, dense: tuple[np.ndarray, np.ndarray, float | None],
               drop: tuple[str, ...] = ()) -> MatchInfo:
    """The match set of a query under `mode` (lexical rule ∪ dense rule), before any filter."""
    n = len(parts.table)
    lex_ok = np.zeros(n, bool)
    terms, counts = None, None
    if mode in ("hybrid", "bm25"):
        m, terms, counts = match_rule.lexical_match(parts.lexical, u, drop)
        lex_ok = m[:n] & (lex.lex_all[:n] > 0)
    rows, cos, thr = dense if uses_dense(parts, mode) else (np.zeros(0, np.int64), np.zeros(0, np.float32), None)
    matched = lex_ok.copy()
    matched[rows] = True
    if u.years is not None and not u.tokens and not u.translations:  # only a year range: every product in it matches
        matched[:] = True
    matched &= parts.table.alive
    return MatchInfo(matched=matched, lexical=lex_ok, dense_rows=rows, dense_cos=cos, dense_threshold=thr,
                     terms=[t for t in terms.terms if t not in drop] if terms else [], dropped=list(drop), term_count=counts)


def related_info(parts: SearchParts, lex: LexicalScores, qvec: np.ndarray | None, allowed: np.ndarray, mode: str) -> MatchInfo:
    """No match: the products sharing any term and the dense top k among allowed rows, shown as related."""
    n = len(parts.table)
    lex_ok = (lex.lex_all[:n] > 0) & allowed if mode in ("hybrid", "bm25") else np.zeros(n, bool)
    rows, cos = (dense_side.dense_top_k(parts.vectors, qvec, allowed, parts.config.dense_k, -1.0) if qvec is not None
                 else (np.zeros(0, np.int64), np.zeros(0, np.float32)))
    matched = lex_ok.copy()
    matched[rows] = True
    return MatchInfo(matched=matched & allowed, lexical=lex_ok, dense_rows=rows, dense_cos=cos, dense_threshold=None, related=True)


def retrieve(parts: SearchParts, lex: LexicalScores, qvec: np.ndarray | None, allowed: np.ndarray, mode: str, mi: MatchInfo,
             dense_k: int, pool: np.ndarray | None = None, related: bool = True) -> Retrieval:
    """Result set (match ∩ allowed) and the fusion candidates. `related`: the candidates are the LEX_HEAD best BM25
    rows sharing any term ∪ the dense pool (`pool`, else the dense_k nearest allowed rows), so related products are
    ranked beside the matches (marked in `why`); else only matches are: their LEX_HEAD best ∪ dense_k nearest."""
    n = len(allowed)
    empty = np.zeros(0, np.int64)
    match = mi.matched[:n] & allowed
    use_lex = mode in ("hybrid", "bm25")
    if related and not mi.related:
        top = top_k(lex.lex_all, lexical_side.LEX_HEAD, allowed & (lex.lex_all > 0))[0] if use_lex else empty
        if pool is None:
            pool = dense_side.dense_top_k(parts.vectors, qvec, allowed, dense_k, parts.config.dense_min_sim)[0] if qvec is not None and mode != "bm25" else empty
        d_rows = pool
    else:
        top = top_k(lex.lex_all, lexical_side.LEX_HEAD, match & (lex.lex_all > 0))[0] if use_lex else empty
        d_rows = mi.dense_rows[allowed[mi.dense_rows]][:dense_k] if len(mi.dense_rows) else empty
    cand = np.unique(np.concatenate([top, d_rows]))
    cos = np.zeros(len(cand), np.float32)
    if qvec is not None and parts.vectors is not None and len(cand):
        cos = parts.vectors.similarity(qvec, cand)
    lex_rank = np.full(len(cand), np.inf)
    lex_rank[np.searchsorted(cand, top)] = np.arange(1, len(top) + 1)
    dense_rank = np.full(len(cand), np.inf)
    dense_rank[np.searchsorted(cand, d_rows)] = np.arange(1, len(d_rows) + 1)
    return Retrieval(match=match, cand=cand, lex=lex.lex_all[cand], per_field={k: v[cand] for k, v in lex.per_field.items()},
                     coverage=lex.cov[cand], all_terms=lex.cov[cand, 0] >= 0.999, cos=cos, lex_rank=lex_rank,
                     dense_rank=dense_rank, lex_all=lex.lex_all, dense_rows=d_rows)


def _apply(ctx: SearchContext, mi: MatchInfo, pool: np.ndarray | None = None) -> None:
    """Set the match info and the retrieval under the current masks (`pool`: the dense pool under them, if known)."""
    ctx.match = mi
    ctx.retrieval = retrieve(ctx.parts, ctx.lexical or lexical_side.empty_scores(len(ctx.parts.table)), ctx.qvec,
                             allowed_rows(ctx.parts, ctx.masks), ctx.mode, mi, ctx.dense_k, pool, ctx.request.related)


def _respell(ctx: SearchContext) -> bool:
    """Rewrite the query with bolder spelling (two edits, short and dictionary words too); True when it changed."""
    parts, u = ctx.parts, ctx.u
    if not parts.config.stages.spelling or u.language != "en":
        return False
    fixed, fixes = parts.speller.correct(u.text, bold=True)
    if not fixes:
        return False
    u.corrections = {**u.corrections, **fixes}
    u.did_you_mean = fixed
    retokenize(parts, u, fixed)
    if ctx.mode != "dense":
        ctx.lexical = lexical_side.lexical_scores(parts.lexical, lexical_side.query_fields(parts.lexical, u))
    if ctx.qvec is not None:
        ctx.qvec = parts.pool.submit(parts.encoder.encode_queries, [fixed]).result()[0]
    return True


RECOVERY_STEPS = ("q:entities", "q:price", "q:years", "spelling", "rewrite", "term")  # in order; "related" is the last resort


def _recover(ctx: SearchContext) -> None:
    """Nothing matched: keep the shopper's own filters; relax what the query implied (entities, price), correct its
    spelling harder, rewrite it (stages.rewrite: the LLM's rewrite, else the terms the catalog holds together), drop its
    least important term; else show the nearest products as related (total stays 0)."""
    parts, u, req = ctx.parts, ctx.u, ctx.request
    mi = ctx.m
    for step in RECOVERY_STEPS:
        if step == "q:entities" and not (parts.config.entity_mode == "filter" and (u.brands or u.attributes)):
            continue
        if step == "q:price" and u.price is None:
            continue
        if step == "q:years" and u.years is None:
            continue
        if step in ("q:entities", "q:price", "q:years"):
            ctx.relax.add(step)
            ctx.masks = filter_masks(parts, req.filters, u, ctx.relax)
            label = f"relaxed {step}"
        elif step == "spelling":
            if not _respell(ctx):
                continue
            label = "corrected spelling: " + ", ".join(f"{a}→{b}" for a, b in u.corrections.items())
            assert ctx.lexical is not None
            mi = match_info(parts, u, ctx.lexical, ctx.mode, dense_matches(parts, ctx.qvec)[0] if uses_dense(parts, ctx.mode) else mi.dense())
        elif step == "rewrite":  # the LLM's rewrite when configured, else the catalog's (stages.rewrite)
            # not in bm25 mode where vectors exist: there the related fallback's switch to dense served better pages
            # (Home Depot dev nDCG@10 0.293 vs 0.267; bench/_und_generation.py)
            if ctx.mode == "bm25" and parts.vectors is not None and parts.config.stages.dense:
                continue
            got = rewrite_side.recover(ctx, mi)
            if got is None:
                continue
            mi, label = got
        else:
            if ctx.mode == "dense" or not mi.terms:
                continue
            assert ctx.lexical is not None
            _, hits, _ = match_rule.lexical_match(parts.lexical, u)
            least = hits.least_important()
            if least is None:
                continue
            mi = match_info(parts, u, ctx.lexical, ctx.mode, mi.dense(), drop=(least,))
            label = f"dropped term {least!r}"
        ctx.recovery_steps.append(label)
        ctx.recovery = label
        _apply(ctx, mi)
        if ctx.r.match.any():
            break
    if not ctx.r.match.any():
        if ctx.qvec is None and parts.vectors is not None and parts.config.stages.dense:
            ctx.qvec = parts.pool.submit(parts.encoder.encode_queries, [u.text or u.normalized or req.query]).result()[0]
        mode = "hybrid" if ctx.qvec is not None and ctx.mode == "bm25" else ctx.mode
        rel = related_info(parts, ctx.lexical or lexical_side.empty_scores(len(parts.table)), ctx.qvec, allowed_rows(parts, ctx.masks), mode)
        if rel.matched.any():
            ctx.mode = mode
            ctx.recovery_steps.append("related")
            ctx.recovery = "related"
            _apply(ctx, rel)
    ctx.stages.append("recovery")


def run(ctx: SearchContext) -> None:
    """ctx.match (the query's match set), ctx.retrieval (∩ filters: result set and candidates), ctx.lexical, ctx.qvec."""
    parts, u, req = ctx.parts, ctx.u, ctx.request
    cfg = parts.config
    ctx.mode = req.mode
    ctx.dense_k, ctx.min_sim = cfg.dense_k, cfg.dense_min_sim
    want_dense = uses_dense(parts, req.mode)
    ctx.masks = filter_masks(parts, req.filters, u, ctx.relax)
    allowed = allowed_rows(parts, ctx.masks)
    text = crosslang.dense_text(u.text, u.translations) or u.normalized or req.query
    with timed(ctx, "retrieve.lexical"):
        if req.mode != "dense":
            ctx.lexical = lexical_side.lexical_scores(parts.lexical, lexical_side.query_fields(parts.lexical, u))
        else:
            ctx.lexical = lexical_side.empty_scores(len(parts.table))
    none = (np.zeros(0, np.int64), np.zeros(0, np.float32), None)
    with timed(ctx, "retrieve.dense"):  # in the query lane (search.lane): the query's OpenMP team, one query at a time
        ctx.qvec, (dense, pool) = (parts.pool.submit(encode_and_match, parts, text, allowed).result() if want_dense
                                   else (None, (none, np.zeros(0, np.int64))))
    if ctx.qvec is not None:
        RECENT_QUERY_VECTORS.put(parts.encoder.name, req.query, ctx.qvec)  # the page's ad slots match on it too
    ctx.stages += ["bm25"] if req.mode != "dense" else []
    ctx.stages += ["dense"] if ctx.qvec is not None else []
    _apply(ctx, match_info(parts, u, ctx.lexical, req.mode, dense), pool)
    user_allowed = allowed_rows(parts, parts.table.filter_masks(req.filters)) if req.filters else parts.table.alive
    if not ctx.r.match.any() and cfg.stages.recovery and user_allowed.any():
        _recover(ctx)
    elif cfg.stages.recovery and cfg.stages.low_result_rewrite and req.related and 0 < int(ctx.r.match.sum()) < rewrite_side.LOW_RESULTS:
        rewrite_side.offer_related(ctx, pool)
