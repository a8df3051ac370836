"""page stage: pages tile the ranked list, other sorts order every match, hits explain themselves."""

from __future__ import annotations

import numpy as np

from shopmind.search.stages import lexical
from tests.search.stages.conftest import run_until


def test_pages_tile_the_ranking(hd_svc) -> None:
    whole = run_until(hd_svc, "drill", "page", mode="bm25", per_page=30)
    pages = [run_until(hd_svc, "drill", "page", mode="bm25", page=p, per_page=10) for p in (1, 2, 3)]
    assert [h.id for p in pages for h in p.hits] == [h.id for h in whole.hits]
    assert whole.total == int(whole.r.match.sum()) == pages[0].total


def test_price_sort_orders_every_match(hd_svc) -> None:
    ctx = run_until(hd_svc, "drill", "page", mode="bm25", sort="price_asc", per_page=500)
    prices = [h.price for h in ctx.hits]
    assert len(prices) == min(500, ctx.total) and prices == sorted(prices)


def test_hits_explain_their_scores(hd_svc) -> None:
    ctx = run_until(hd_svc, "cordless drill", "page", mode="bm25", per_page=5)
    top = ctx.hits[0]
    row = hd_svc.table.row_of[top.id]
    assert top.why is not None and top.why.matched_terms and top.why.bm25 == round(float(ctx.lexical.lex_all[row]), 4)
    assert top.why.dense_similarity is None and top.why.fused == round(float(np.max(ctx.fused)), 5)
    quiet = run_until(hd_svc, "cordless drill", "page", mode="bm25", per_page=5, explain=False)
    assert [h.id for h in quiet.hits] == [h.id for h in ctx.hits] and quiet.hits[0].why is None


def test_hits_carry_the_tables_display_fields(hd_svc) -> None:
    ctx = run_until(hd_svc, "cordless drill", "page", mode="bm25", per_page=50, explain=False)
    t = hd_svc.table
    rows = np.array([t.row_of[h.id] for h in ctx.hits], np.int64)
    assert t.brands_of(rows) == [t.brand_of(r) for r in rows.tolist()] == [h.brand for h in ctx.hits]
    assert t.categories_of(rows) == [t.category_of(r) for r in rows.tolist()] == [h.category for h in ctx.hits]
    assert [h.title for h in ctx.hits] == [t.titles[r] for r in rows.tolist()]
    assert [h.price for h in ctx.hits] == [None if np.isnan(t.price[r]) else float(t.price[r]) for r in rows.tolist()]
    assert t.categories_of(np.zeros(0, np.int64)) == [] == t.brands_of(np.zeros(0, np.int64))


def test_matches_come_before_related_products_on_every_sort(hd_svc, monkeypatch) -> None:
    """Issue 21: `total` counts matches, so the first `total` hits a shopper pages through are the matches, also where
    the ranked candidates hold related products and the matches run on past the candidates (the BM25 tail)."""
    monkeypatch.setattr(lexical, "LEX_HEAD", 10)  # few candidates: related ones among them, and a tail of matches
    probe = run_until(hd_svc, "wood screw", "page", mode="bm25")
    total = probe.total
    assert (~probe.r.match[probe.r.cand]).any() and probe.tail_mask.any()
    for sort in ("relevance", "price_asc"):
        ctx = run_until(hd_svc, "wood screw", "page", mode="bm25", sort=sort, per_page=total + 10)
        related = [bool(h.why and h.why.related) for h in ctx.hits]
        assert related[:total] == [False] * total and all(related[total:]) and len(related) > total
        by_page = [run_until(hd_svc, "wood screw", "page", mode="bm25", sort=sort, page=p, per_page=7) for p in (1, 2, 3)]
        assert [h.id for c in by_page for h in c.hits] == [h.id for h in ctx.hits[:21]]
