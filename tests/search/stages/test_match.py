"""The match set (stages.match): minimum-should-match over known terms, the dense threshold, and the rewrites
a query that matched nothing goes through (each one named in `recovery_steps`)."""

from __future__ import annotations

import numpy as np

from shopmind.index.vectors import VectorIndex
from shopmind.search.stages import match
from shopmind.text.tokenize import tokenize
from tests.search.stages.conftest import run_until


def test_min_should_match() -> None:
    assert [match.min_should_match(n) for n in range(1, 9)] == [1, 2, 3, 3, 4, 5, 6, 6]


def test_unknown_terms_are_not_counted(hd_svc) -> None:
    plain = run_until(hd_svc, "garden hose", "retrieve", mode="bm25")
    noisy = run_until(hd_svc, "garden hose qqzzxv", "retrieve", mode="bm25")
    assert plain.m.terms == ["garden", "hose"] == noisy.m.terms and np.array_equal(plain.r.match, noisy.r.match)
    titles = [set(tokenize(t)) for t in hd_svc.table.titles]
    assert all({"garden", "hose"} <= titles[r] for r in np.flatnonzero(plain.r.match))


def test_dense_threshold_is_z_deviations_above_the_query_mean(hd_slice) -> None:
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(3000, 16)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    index = VectorIndex.build(vecs, "Flat")
    q = vecs[0]
    cos = vecs.astype(np.float64) @ q
    thr = match.dense_threshold(index, q, 2.0)
    assert abs(thr - (cos.mean() + 2.0 * cos.std())) < 0.01
    alive = np.ones(len(vecs), bool)
    for k in (5, 50, 3000):  # the pool size never changes who matches
        rows, sims = match.dense_match(index, q, alive, k, thr)
        assert set(rows.tolist()) == set(np.flatnonzero(cos >= thr).tolist()) and (np.diff(sims) <= 0).all()


def test_no_match_drops_the_least_important_term(hd_svc, monkeypatch) -> None:
    from shopmind.search.stages import retrieve

    # the term step on its own (the rewrite step before it would keep the pair the catalog holds: test_rewrite.py)
    monkeypatch.setattr(retrieve, "RECOVERY_STEPS", tuple(s for s in retrieve.RECOVERY_STEPS if s != "rewrite"))
    ctx = run_until(hd_svc, "garden hose drill", "page", mode="bm25")  # no title has all three
    titles = [set(tokenize(t)) for t in hd_svc.table.titles]
    assert not any({"garden", "hose", "drill"} <= t for t in titles)
    dropped = ctx.recovery_steps[-1]
    assert dropped.startswith("dropped term") and ctx.total > 0 and ctx.m.dropped and not ctx.m.related
    assert all("dropped" in h.why.match[0] for h in ctx.hits if not h.why.related)


def test_no_match_tries_a_bolder_spelling(hd_svc) -> None:
    assert hd_svc.speller.correct("drrlx")[1] == {}  # five letters: one edit in everyday correction
    ctx = run_until(hd_svc, "drrlx", "page", mode="bm25")
    assert ctx.recovery_steps and ctx.recovery_steps[0].startswith("corrected spelling: drrlx→") and ctx.total > 0


def test_nothing_at_all_shows_related_products_and_says_so(hd_svc) -> None:
    ctx = run_until(hd_svc, "qqzzxv", "page", mode="bm25")
    assert ctx.total == 0 and ctx.m.terms == []


def test_union_rows_is_np_unique_either_way() -> None:
    rng = np.random.default_rng(0)
    for size in (10, 500, 5000):  # few postings (np.unique) and many (a row mask)
        parts = [rng.integers(0, 6000, size) for _ in range(3)]
        got = match.union_rows(parts, 6000)
        want = np.unique(np.concatenate(parts))
        assert got.dtype == want.dtype and np.array_equal(got, want)
    assert len(match.union_rows([], 10)) == 0
