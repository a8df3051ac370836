"""Query–title structure features of the search ranker (title_signals) on real Home Depot titles: the vectorised
sparse computation equals a plain per-title reading of the same definitions, numbers match by value, rows appended
later get their columns, and on real judged queries no new column is constant (each one carries something)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from shopmind.evaluation.search_eval import load_queries
from shopmind.search.catalog import ProductTable
from shopmind.search.title_signals import SIGNALS, TitleSignals, canonical, positions, signals_for, title_terms
from shopmind.text.tokenize import tokenize


@pytest.fixture(scope="module")
def signals(hd_slice) -> TitleSignals:
    s = TitleSignals()
    s.extend([p.title for p in hd_slice])
    return s


@pytest.fixture(scope="module")
def hd_queries(shared_data) -> list[str]:
    qs = load_queries(shared_data / "search" / "homedepot" / "queries.tsv")
    return [t for _, t in sorted(qs.items())[:150]]


def reference(title: str, query_tokens: list[str]) -> list[float]:
    """The five definitions read off one title directly (first positions, 1-based)."""
    toks = title_terms(title)
    first: dict[str, int] = {}
    for i, t in enumerate(toks):
        first.setdefault(t, i + 1)
    q = [canonical(t) for t in query_tokens]
    pairs = [(a, b) for a, b in itertools.pairwise(q) if a != b]
    bigram = float(np.mean([a in first and first.get(b, 0) - first[a] == 1 for a, b in pairs])) if pairs else math.nan
    nums = {t for t in q if t[:1] == "n" and t[1:2].isdigit()}
    number = float(np.mean([t in first for t in nums])) if nums else math.nan
    first_term = float(any(first.get(t) == 1 for t in q))
    last = first.get(q[-1], 0) if q else 0
    last_pos = last / max(len(toks), 1) if last else math.nan
    hit = sorted({first[t] for t in q if t in first})
    span = (hit[-1] - hit[0] + 1) / len(hit) if len(hit) >= 2 else math.nan
    return [bigram, number, first_term, last_pos, span]


def test_numbers_match_by_value_and_keep_their_unit() -> None:
    assert canonical("3/4") == canonical("0.75") == canonical("0.750") == "n0.75"
    assert canonical("3/4in") == canonical("0.750in") == "n0.75in"
    assert canonical("3/4in") != canonical("3/4ft")
    assert canonical("mdf") == "mdf"
    assert "n0.75in" in title_terms("House of Fara 3/4 in. x 3 in. x 8 ft. MDF Fluted Casing")


def test_vectorised_columns_equal_a_per_title_reading_on_real_queries(hd_slice, signals, hd_queries) -> None:
    titles = [p.title for p in hd_slice]
    term_sets = [set(title_terms(t)) for t in titles]
    rng = np.random.default_rng(0)
    seen = np.zeros(len(SIGNALS), bool)
    for text in hd_queries:
        q = tokenize(text)
        if not q:
            continue
        # candidates: titles sharing a term (where the columns say something) and a few random rows
        qs = {canonical(x) for x in q}
        share = [i for i, t in enumerate(term_sets) if t & qs][:40]
        rows = np.array(sorted(set(share) | set(rng.choice(len(titles), 10, replace=False).tolist())), np.int64)
        got = signals.features(rows, q)
        want = np.array([reference(titles[r], q) for r in rows], np.float32)
        np.testing.assert_allclose(got, want, rtol=1e-6, equal_nan=True, err_msg=text)
        seen |= (np.nan_to_num(got, nan=0.0) > 0).any(axis=0)
    assert seen.all(), f"never non-zero on real queries: {[s for s, v in zip(SIGNALS, seen, strict=True) if not v]}"


def test_a_phrase_and_its_number_score_above_scattered_words(hd_slice, signals) -> None:
    titles = [p.title for p in hd_slice]
    row = titles.index("House of Fara 3/4 in. x 3 in. x 8 ft. MDF Fluted Casing")
    terms = title_terms(titles[row])
    X = signals.features(np.array([row]), tokenize("fluted casing"))[0]
    assert X[SIGNALS.index("title_bigram_share")] == 1.0
    assert X[SIGNALS.index("title_span")] == 1.0  # two terms, side by side
    assert X[SIGNALS.index("title_last_term_pos")] == pytest.approx((terms.index("case") + 1) / len(terms))
    assert np.isnan(X[SIGNALS.index("title_number_share")])  # the query has no number
    assert signals.features(np.array([row]), tokenize("0.75 in casing"))[0][SIGNALS.index("title_number_share")] == 1.0
    wrong = signals.features(np.array([row]), tokenize("casing fluted 5/8 in"))[0]
    assert wrong[SIGNALS.index("title_bigram_share")] == 0.0 and wrong[SIGNALS.index("title_number_share")] == 0.0


def test_rows_appended_after_the_first_use_get_their_columns(hd_slice) -> None:
    table = ProductTable()
    table.append(hd_slice[:50])
    first = signals_for(table)
    assert len(first) == 50
    table.append(hd_slice[50:60])
    again = signals_for(table)
    assert again is first and len(again) == 60
    X = again.features(np.array([55, 70]), tokenize(hd_slice[55].title))
    assert X[0, SIGNALS.index("title_first_term")] == 1.0
    assert np.isnan(X[1]).all()  # a row this table does not have yet


def test_positions_read_from_the_csr_arrays_equal_scipys_slice(signals) -> None:
    rng = np.random.default_rng(1)
    n, width = signals.pos.shape
    for _ in range(50):
        rows = rng.integers(0, n, int(rng.integers(0, 40)))  # repeats and any order, as candidates come
        cols = np.unique(rng.integers(0, width, int(rng.integers(1, 6)))).astype(np.int64)
        want = signals.pos[rows][:, cols].toarray()
        got = positions(signals.pos, rows, cols)
        assert got.dtype == want.dtype and np.array_equal(got, want)
