"""Stage 8, page: the requested page of the ranked list (or of the matches in another sort order), as hits
with their `why` (matched terms, BM25, dense similarity, fused and ranker scores, boosts, rules)."""

from __future__ import annotations

import numpy as np
from pydantic import TypeAdapter

from shopmind.index.base import top_k
from shopmind.search.catalog import ProductTable
from shopmind.search.models import Hit, Why
from shopmind.search.stages.context import SearchContext
from shopmind.text.tokenize import tokenize


def sort_key(t: ProductTable, sort: str, rows: np.ndarray) -> np.ndarray:
    """Ascending sort key of rows for a non-relevance sort (missing values last)."""
    if sort == "price_asc":
        return np.where(np.isnan(t.price[rows]), np.inf, t.price[rows])
    if sort == "price_desc":
        return np.where(np.isnan(t.price[rows]), np.inf, -t.price[rows])
    if sort == "newest":
        return np.where(np.isnan(t.created[rows]), np.inf, -t.created[rows])
    return -t.popularity[rows].astype(np.float64)


def _page_rows(ctx: SearchContext) -> tuple[np.ndarray, np.ndarray]:
    """Rows and scores of the requested page; ctx.total is set on the way."""
    req, r = ctx.request, ctx.r
    ranked, final, tail = ctx.ranked_rows, ctx.final_score, ctx.tail_mask
    assert ranked is not None and final is not None and tail is not None
    ctx.total = 0 if ctx.m.related else int(r.match.sum())  # the ranked list may also hold related products
    start = (req.page - 1) * req.per_page
    if req.sort == "relevance":
        need = start + req.per_page
        if ctx.m.related:  # no match: the ranked list is all related products
            return ranked[start:need], final[start:need]
        # which rows a page holds: matches first (ranked, then the lexical tail by BM25), related products after them,
        # so no match is ever pushed to a later page by a related product; a page then shows its rows in ranked order
        is_match = r.match[ranked]
        m_pos, rel_pos = np.flatnonzero(is_match), np.flatnonzero(~is_match)
        tail_rows, tail_sc = (top_k(r.lex_all, need - len(m_pos), tail) if need > len(m_pos) and tail.any()
                              else (np.zeros(0, np.int64), np.zeros(0)))
        rows = np.concatenate([ranked[m_pos], tail_rows, ranked[rel_pos]])[start:need]
        scores = np.concatenate([final[m_pos], tail_sc - 1e6, final[rel_pos]])[start:need]
        ranked_pos = np.concatenate([m_pos, len(ranked) + np.arange(len(tail_rows)), rel_pos])[start:need]
        o = np.argsort(ranked_pos, kind="stable")
        return rows[o], scores[o]
    all_rows = np.concatenate([ranked, np.flatnonzero(tail)])
    rel = np.concatenate([np.arange(len(ranked)), len(ranked) + np.arange(int(tail.sum()))])
    related = np.zeros(len(all_rows), bool) if ctx.m.related else ~r.match[all_rows]  # matches first, in sort order
    o = np.lexsort((rel, sort_key(ctx.parts.table, req.sort, all_rows), related))
    page_rows = all_rows[o][start : start + req.per_page]
    page_scores = np.concatenate([final, np.zeros(int(tail.sum()))])[o][start : start + req.per_page]
    return page_rows, page_scores


def _match_reasons(ctx: SearchContext, row: int) -> list[str]:
    """Which rule of the match set took this row in (stages.match), in words."""
    mi = ctx.m
    if mi.related:
        return []
    out = []
    if mi.lexical[row]:
        k = int(mi.term_count[row]) if mi.term_count is not None and row < len(mi.term_count) else len(mi.terms)
        out.append(f"terms {k}/{len(mi.terms)}" + (f" (dropped {', '.join(mi.dropped)})" if mi.dropped else ""))
    if mi.dense_threshold is not None and len(mi.dense_rows) and np.isin(row, mi.dense_rows):
        out.append(f"dense ≥ {mi.dense_threshold:.3f}")
    return out + ctx.u.interpretations  # translations, year ranges: what the query was read as


def _why(ctx: SearchContext, row: int, ci: int | None) -> Why:
    """Why one hit is here; `ci`: its position among the candidates (None for tail rows)."""
    t, r, u = ctx.parts.table, ctx.r, ctx.u
    assert ctx.fused is not None
    matched = []
    if ci is not None or r.lex_all[row] > 0:
        title_toks = set(tokenize(t.titles[row]))
        matched = [tok for tok in dict.fromkeys(u.tokens) if tok in title_toks]
    rk = ctx.rk_scores
    return Why(
        matched_terms=matched,
        bm25=round(float(r.lex_all[row]), 4),
        dense_similarity=round(float(r.cos[ci]), 4) if ci is not None and ctx.parts.vectors is not None else None,
        fused=round(float(ctx.fused[ci]), 5) if ci is not None else 0.0,
        ranker=round(float(rk[ci]), 5) if rk is not None and ci is not None and not np.isnan(rk[ci]) else None,
        boosts={k: round(float(v[ci]), 4) for k, v in ctx.boosts.items() if ci is not None and v[ci]},
        rules=ctx.rule_notes.get(row, []),
        match=_match_reasons(ctx, row) if r.match[row] and not ctx.m.related else [],
        related=ctx.m.related or not r.match[row],
    )


_HITS: TypeAdapter[list[Hit]] = TypeAdapter(list[Hit])
"""Validates a page's hits in one call (pydantic-core): ~1 µs a hit where `Hit.model_construct` took ~5 µs."""


def hits(ctx: SearchContext, rows: np.ndarray, scores: np.ndarray, ci: np.ndarray, in_cand: np.ndarray) -> list[Hit]:
    """The hits of page rows (`ci`: their positions among the candidates, valid where `in_cand`); the display
    columns are read for the whole page at once."""
    t = ctx.parts.table
    rows_l = rows.tolist()
    price = t.price[rows]
    shown = price.astype(object)
    shown[np.isnan(price)] = None
    prices = shown.tolist()
    whys = ([_why(ctx, row, c if ok else None) for row, c, ok in zip(rows_l, ci.tolist(), in_cand.tolist(), strict=True)]
            if ctx.request.explain else [None] * len(rows_l))
    cols = zip(rows_l, scores.tolist(), prices, t.brands_of(rows), t.categories_of(rows), whys, strict=True)
    return _HITS.validate_python([
        {"id": t.ids[row], "score": round(score, 6), "title": t.titles[row], "price": p, "brand": b, "category": c, "why": w}
        for row, score, p, b, c, w in cols
    ])


def run(ctx: SearchContext) -> None:
    """ctx.total, ctx.hits (the page) and ctx.n_related (how many of them are related products, not matches)."""
    r = ctx.r
    page_rows, page_scores = _page_rows(ctx)
    ci = np.minimum(np.searchsorted(r.cand, page_rows), max(len(r.cand) - 1, 0))
    in_cand = (r.cand[ci] == page_rows) if len(r.cand) else np.zeros(len(page_rows), bool)
    ctx.hits = hits(ctx, page_rows, page_scores, ci, in_cand)
    ctx.n_related = len(page_rows) if ctx.m.related else int((~r.match[page_rows]).sum())
