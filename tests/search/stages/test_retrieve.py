"""retrieve stage (lexical and dense sides): matches, candidates, filters and recovery."""

from __future__ import annotations

import numpy as np

from shopmind.search.stages import dense, lexical
from shopmind.text.tokenize import tokenize
from tests.search.stages.conftest import run_until


def test_bm25_matches_are_the_rows_with_enough_query_terms(hd_svc) -> None:
    ctx = run_until(hd_svc, "cordless drill", "retrieve", mode="bm25")
    r, lex_all = ctx.r, ctx.lexical.lex_all
    titles = [set(tokenize(t)) for t in hd_svc.table.titles]
    both = np.array([{"cordless", "drill"} <= t for t in titles]) & hd_svc.table.alive  # two terms: both are needed
    assert np.array_equal(r.match, both) and 0 < both.sum() < int((lex_all > 0).sum())
    # candidates: every row sharing a term (related products are ranked beside the matches), or only matches
    assert np.array_equal(r.cand, np.unique(r.cand)) and (lex_all[r.cand] > 0).all() and r.match[r.cand].sum() == both.sum()
    strict = run_until(hd_svc, "cordless drill", "retrieve", mode="bm25", related=False).r
    assert np.array_equal(strict.match, r.match) and set(strict.cand.tolist()) == set(np.flatnonzero(both).tolist())
    best = int(np.argmax(lex_all))
    assert best in r.cand and r.lex_rank[np.searchsorted(r.cand, best)] == 1
    assert "bm25" in ctx.stages and "dense" not in ctx.stages and ctx.qvec is None


def test_lex_head_keeps_the_best_allowed_rows(hd_svc) -> None:
    u = hd_svc.understand("garden hose")
    scores = lexical.lexical_scores(hd_svc.lexical, lexical.query_fields(hd_svc.lexical, u))
    allowed = hd_svc.table.alive.copy()
    allowed[::2] = False
    ok, head = lexical.lex_head(scores.lex_all, allowed)
    assert ok.sum() > 0 and allowed[head].all() and len(head) == min(lexical.LEX_HEAD, int(ok.sum()))
    assert scores.lex_all[head].min() >= scores.lex_all[ok & ~np.isin(np.arange(len(ok)), head)].max(initial=0)
    assert (scores.cov[:, 0] <= 1).all() and scores.cov[scores.lex_all == 0, 0].max() == 0


def test_filters_bound_the_match_set(hd_svc) -> None:
    ctx = run_until(hd_svc, "drill", "retrieve", mode="bm25", filters={"price": {"max": 40}})
    rows = np.flatnonzero(ctx.r.match)
    assert len(rows) and (hd_svc.table.price[rows] <= 40).all()


def test_nothing_matched_relaxes_the_query_price(hd_svc) -> None:
    ctx = run_until(hd_svc, "drill under $1", "retrieve", mode="bm25")  # titles are at least a few letters long
    assert ctx.recovery == "relaxed q:price" and ctx.r.match.any() and "recovery" in ctx.stages


def test_dense_side_without_vectors_is_empty(hd_svc) -> None:
    rows, sims = dense.dense_top_k(None, np.ones(4, np.float32), hd_svc.table.alive, 10, 0.0)
    assert len(rows) == len(sims) == 0
