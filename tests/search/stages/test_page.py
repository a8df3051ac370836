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


def test_no_match_is_paged_behind_a_related_product(hd_svc, monkeypatch) -> None:
    """Issue 21: `total` counts matches, so the first k pages hold the first min(total, k × per_page) matches, also where
    the ranked candidates hold related products and the matches run on past the candidates (the BM25 tail). Within a
    page the rows keep their ranked order; in another sort every match comes first."""
    monkeypatch.setattr(lexical, "LEX_HEAD", 10)  # few candidates: related ones among them, and a tail of matches
    probe = run_until(hd_svc, "wood screw", "page", mode="bm25")
    total = probe.total
    assert (~probe.r.match[probe.r.cand]).any() and probe.tail_mask.any() and total > 7
    for sort in ("relevance", "price_asc"):
        pages = [run_until(hd_svc, "wood screw", "page", mode="bm25", sort=sort, page=p, per_page=7) for p in (1, 2, 3)]
        related = [bool(h.why and h.why.related) for c in pages for h in c.hits]
        for b in (7, 14, 21):
            assert related[:b].count(False) == min(total, b), (sort, b)
        ids = [h.id for c in pages for h in c.hits]
        assert len(set(ids)) == len(ids) > total  # no row twice; the related products follow
        if sort == "price_asc":
            assert related == sorted(related)  # every match, then the related products
    whole = run_until(hd_svc, "wood screw", "page", mode="bm25", per_page=total + 10)
    pos = {row: i for i, row in enumerate(whole.ranked_rows.tolist())}
    in_ranked = [pos[hd_svc.table.row_of[h.id]] for h in whole.hits if hd_svc.table.row_of[h.id] in pos]
    assert in_ranked == sorted(in_ranked)  # one page: its ranked rows in ranked order, related ones among the matches
    assert sum(not h.why.related for h in whole.hits) == total
