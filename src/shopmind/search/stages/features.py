"""Stage 4, features: the ranker's feature matrix (columns: ranker.FEATURES, described in
shopmind.ranking.features) for the head of the fused order, when a ranker will rerank it."""

from __future__ import annotations

import time

import numpy as np

from shopmind.search.catalog import ProductTable
from shopmind.search.ranker import FEATURES
from shopmind.search.stages.context import Retrieval, SearchContext, SearchParts
from shopmind.search.title_signals import SIGNALS, signals_for
from shopmind.search.understand import Understood
from shopmind.search.user_features import UserContext, user_columns, user_context


def rising_of(rising: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(len(rows), 2) build-time rising z-scores (item, category) of table rows; 0 for rows added since."""
    rows = np.asarray(rows, np.int64)
    out = np.zeros((len(rows), 2), np.float32)
    known = rows < len(rising)
    out[known] = rising[rows[known]]
    return out


def entity_match(t: ProductTable, rows: np.ndarray, u: Understood) -> np.ndarray:
    """How many of the query's recognised brands/attribute values each row carries as evidence beyond its title (the
    shop's values and values read from a description; ProductTable.evidence_mask)."""
    ent = np.zeros(len(rows), np.float32)
    if u.brands:
        codes = [t.brands.code[b] for b in u.brands if b in t.brands.code]
        ent += np.isin(t.brand[rows], codes)
    for k, vals in u.attributes.items():
        m = t.filter_masks({f"attributes.{k}": vals}).get(f"attributes.{k}")
        if m is not None:
            ent += m[rows] & t.evidence_mask(k, rows)
    return ent


def head_relative(bm25: np.ndarray, bm25_title: np.ndarray, idf_coverage: np.ndarray) -> dict[str, np.ndarray]:
    """Columns relative to the other reranked candidates of the same query (what a query-level scale hides)."""
    if not len(bm25):
        return {k: np.zeros(0, np.float32) for k in ("bm25_title_ratio", "idf_coverage_gap", "bm25_rank_head")}
    top = float(bm25_title.max())
    rank = np.empty(len(bm25), np.float32)
    rank[np.argsort(-bm25, kind="stable")] = np.arange(len(bm25), dtype=np.float32)
    return {
        "bm25_title_ratio": bm25_title / top if top > 0 else np.zeros(len(bm25), np.float32),
        "idf_coverage_gap": idf_coverage.max() - idf_coverage,
        "bm25_rank_head": rank,
    }


def feature_matrix(parts: SearchParts, r: Retrieval, idx: np.ndarray, rrf: np.ndarray, convex: np.ndarray, u: Understood,
                   user_id: str | None, uctx: UserContext | None = None) -> np.ndarray:
    """Feature matrix (len(idx) × FEATURES) for candidates idx (positions in r.cand); the personal columns from `uctx`
    (the user's earlier items), else from the built preferences of user_id."""
    rows = r.cand[idx]
    t = parts.table
    n = len(idx)
    intent = np.zeros(n, np.float32)
    if u.category:
        intent = t.in_category(u.category, rows).astype(np.float32) * u.category_confidence
    age = (time.time() - t.created[rows]) / 86400.0
    price = t.price[rows]
    fit = np.full(n, np.nan, np.float32)
    if u.price is not None:
        lo = u.price.min if u.price.min is not None else -np.inf
        hi = u.price.max if u.price.max is not None else np.inf
        fit = np.where(np.isnan(price), np.nan, ((price >= lo) & (price <= hi)).astype(np.float32))
    cos = r.cos[idx]
    dmax = r.cos.max() if len(r.cos) else 0.0
    rise = rising_of(parts.rising, rows)
    zeros = np.zeros(len(r.cand))
    title = signals_for(t).features(rows, u.tokens)
    cols = {
        "bm25": r.lex[idx],
        "bm25_title": r.per_field.get("title", zeros)[idx],
        "bm25_brand": r.per_field.get("brand", zeros)[idx],
        "bm25_category": r.per_field.get("category", zeros)[idx],
        "bm25_attributes": r.per_field.get("attributes", zeros)[idx],
        "bm25_description": r.per_field.get("description", zeros)[idx],
        "bm25_pinyin": r.per_field.get("pinyin", zeros)[idx],
        "title_coverage": r.coverage[idx, 0],
        "title_idf_coverage": r.coverage[idx, 1],
        "title_last_term": r.coverage[idx, 2],
        "title_all_terms": r.all_terms[idx].astype(np.float32),
        "dense_cos": cos,
        "dense_cos_gap": dmax - cos,
        "lex_rank_log": np.log1p(np.minimum(r.lex_rank[idx], 10_000)),
        "dense_rank_log": np.log1p(np.minimum(r.dense_rank[idx], 10_000)),
        "rrf": rrf[idx],
        "convex": convex[idx],
        "intent_match": intent,
        "entity_match": entity_match(t, rows, u),
        "popularity": t.popularity[rows],
        "ctr": t.ctr[rows],
        "conversion": t.conversion[rows],
        "age_days": age,
        "in_stock": t.in_stock[rows].astype(np.float32),
        "price_fit": fit,
        **user_columns(parts, rows, uctx if uctx is not None else user_context(parts, None, user_id)),
        "query_terms": np.full(n, len(set(u.tokens)), np.float32),
        "title_terms": parts.title_len[rows],
        "rising_item": rise[:, 0],
        "rising_category": rise[:, 1],
        **{name: title[:, j] for j, name in enumerate(SIGNALS)},
        **head_relative(r.lex[idx], r.per_field.get("title", zeros)[idx], r.coverage[idx, 1]),
    }
    return np.column_stack([np.asarray(cols[f], np.float32) for f in FEATURES])


def warm(parts: SearchParts) -> None:
    """Build the title signals now (a load or a training), not on the first query that is reranked."""
    signals_for(parts.table)


def reranks(ctx: SearchContext) -> bool:
    """Whether a learned ranker reorders this request's candidates."""
    p = ctx.parts
    return bool(ctx.request.use_ranker and p.ranker is not None and p.config.stages.ranker and ctx.order is not None and len(ctx.order))


def run(ctx: SearchContext) -> None:
    """ctx.head (the first rerank_k of the fused order) and ctx.X, only when a ranker will rerank them."""
    if not reranks(ctx):
        return
    assert ctx.order is not None and ctx.rrf is not None and ctx.convex is not None
    ctx.head = ctx.order[: ctx.parts.config.rerank_k]
    req = ctx.request
    uctx = user_context(ctx.parts, req.history, req.user_id)
    ctx.X = feature_matrix(ctx.parts, ctx.r, ctx.head, ctx.rrf, ctx.convex, ctx.u, req.user_id, uctx)
