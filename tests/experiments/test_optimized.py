"""Optimized interleaving on real Home Depot result lists (BM25 vs a title-length order); clicks are SIMULATED from the
real graded judgements under a position-based model, and labelled so."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shopmind.experiments.interleave import interleaving_t_test
from shopmind.experiments.optimized import allowed_lists, credit_of_clicks, design, optimized_merge

K = 10
EXAM = 1.0 / np.arange(1, K + 1)  # SIMULATED examination probability by rank


def _pairs(hd: dict) -> list[tuple[str, list[str], list[str]]]:
    return [(q, hd["by_length"][q][:K], hd["bm25"][q][:K]) for q in hd["qids"]]


def _is_allowed(shown: tuple[str, ...], a: list[str], b: list[str]) -> bool:
    """Each position holds the best not-yet-shown id of A or of B."""
    for n, item in enumerate(shown):
        before = set(shown[:n])
        tops = [next((x for x in own if x not in before), None) for own in (a, b)]
        if item not in tops:
            return False
    return len(set(shown)) == len(shown)


def test_allowed_lists_are_exactly_the_prefix_unions(hd: dict) -> None:
    for _, a, b in _pairs(hd)[:30]:
        lists = allowed_lists(a, b, K)
        assert lists == sorted(set(lists)) and 1 <= len(lists) <= 2**K
        assert all(len(x) == K and _is_allowed(x, a, b) for x in lists)
        assert tuple(a) in lists and tuple(b) in lists  # always taking one side is allowed


def test_more_lists_than_the_limit_are_sampled_and_still_allowed(hd: dict) -> None:
    _, a, b = next(p for p in _pairs(hd) if not set(p[1]) & set(p[2]))
    lists = allowed_lists(a, b, K, limit=50, rng=np.random.default_rng(3))
    assert len(lists) == 50 and all(_is_allowed(x, a, b) for x in lists)


def _credits(shown: tuple[str, ...], a: list[str], b: list[str], credit: str) -> list[float]:
    """rank_A - rank_B ("negative"), 1/rank_B - 1/rank_A ("inverse"), ln rank_A - ln rank_B ("log") or rank_A² - rank_B²
    ("squared") per shown id, an id missing from a ranking's top K at rank K + 1 (written out independently)."""
    def rank(own: list[str], i: str) -> int:
        return own.index(i) + 1 if i in own else K + 1

    if credit == "negative":
        return [float(rank(a, i) - rank(b, i)) for i in shown]
    if credit == "log":
        return [math.log(rank(a, i) / rank(b, i)) for i in shown]
    if credit == "squared":
        return [float(rank(a, i) ** 2 - rank(b, i) ** 2) for i in shown]
    return [1 / rank(b, i) - 1 / rank(a, i) for i in shown]


@pytest.mark.parametrize("credit", ["negative", "inverse", "log", "squared"])
def test_every_design_is_a_fair_distribution(hd: dict, credit: str) -> None:
    """Probabilities sum to 1, at most depth + 1 lists carry weight, credits are the rank differences, and a clicker
    blind to the items gets zero expected credit at every depth the design is fair to (the whole list for nearly every
    real query) - where showing every allowed list alike would favour one arm for most queries."""
    fully_fair = unfair_if_uniform = 0
    for _, a, b in _pairs(hd):
        d = design(a, b, K, credit)
        assert np.all(d.probs > 0) and d.probs.sum() == pytest.approx(1.0)
        assert len(d.lists) <= K + 1 and all(_is_allowed(x, a, b) for x in d.lists)
        assert all(c.tolist() == pytest.approx(_credits(x, a, b, credit)) for x, c in zip(d.lists, d.credits, strict=True))
        expected = d.probs @ np.cumsum(d.credits, axis=1)  # expected credit of a click at each depth
        assert np.abs(expected[: d.fair_depth]).max(initial=0.0) < 1e-9
        fully_fair += d.fair_depth == K
        uniform = np.mean([np.cumsum(_credits(x, a, b, credit)) for x in allowed_lists(a, b, K)], axis=0)
        unfair_if_uniform += np.abs(uniform).max() > 1e-3
    assert fully_fair >= 0.95 * len(hd["qids"])
    assert unfair_if_uniform >= 0.5 * len(hd["qids"])


def test_credit_is_the_rank_difference_and_zero_for_equal_rankings() -> None:
    d = design(["x", "y", "z"], ["y", "x", "z"], 3, credit="inverse")
    for shown, credits in zip(d.lists, d.credits, strict=True):
        want = {"x": 1 / 2 - 1, "y": 1 - 1 / 2, "z": 0.0}  # 1/rank_B - 1/rank_A
        assert credits.tolist() == pytest.approx([want[i] for i in shown])
    short = design(["x", "y"], ["y"], 2, credit="inverse")  # B returned one result: x is past B's top 2, not B's second
    assert {i: c for x, cs in zip(short.lists, short.credits, strict=True) for i, c in zip(x, cs, strict=True)} == pytest.approx(
        {"x": 1 / 3 - 1, "y": 1 - 1 / 2})
    same = design(["a", "b", "c"], ["a", "b", "c"], 3)
    assert same.lists == (("a", "b", "c"),) and not same.credits.any()
    ids, credits, depth = optimized_merge(["a", "b"], ["a", "b"], 2, np.random.default_rng(0))
    assert ids == ["a", "b"] and credits == [0.0, 0.0] and depth == 2
    neg = design(["x", "y"], ["y", "x"], 2, credit="negative")
    assert {c for row in neg.credits for c in row} == {1.0, -1.0}  # rank_A - rank_B
    with pytest.raises(ValueError, match="credit"):
        design(["x"], ["y"], 1, credit="cubic")


def test_scale_is_the_credit_spread_under_clicks_at_one_over_rank() -> None:
    """sqrt(sum_k (1/k) E[credit_k^2]) written out over the design's lists; 0 when the rankings agree."""
    d = design(["x", "y", "z"], ["z", "x", "y"], 3)
    want = math.sqrt(sum(p * sum(c * c / k for k, c in enumerate(cs, 1)) for p, cs in zip(d.probs, d.credits.tolist(), strict=True)))
    assert d.scale() == pytest.approx(want) and want > 0
    assert design(["a", "b"], ["a", "b"], 2).scale() == 0.0


def test_clicks_score_the_summed_credit_of_distinct_shown_ids() -> None:
    assert credit_of_clicks(["p", "q", "r"], [0.5, -0.25, 0.0], ["q", "p", "q", "elsewhere"]) == pytest.approx(0.25)
    assert credit_of_clicks(["p"], [1.0], []) == 0.0


def _sessions(hd: dict, n: int, rng: np.random.Generator) -> np.ndarray:
    """SIMULATED sessions: a uniform real query, an optimized merge, PBM clicks on the real grades; the score of each."""
    pairs, scores = _pairs(hd), np.zeros(n)
    for s, qi in enumerate(rng.integers(len(pairs), size=n).tolist()):
        q, a, b = pairs[qi]
        ids, credits, _ = optimized_merge(a, b, K, rng)
        g = np.array([hd["grades"][q].get(i, 0.0) for i in ids])
        clicked = rng.random(len(ids)) < EXAM[: len(ids)] * (0.05 + 0.85 * (2.0**g - 1.0) / 7.0)
        scores[s] = float(np.dot(clicked, credits))
    return scores


def test_the_better_ranker_is_found(hd: dict) -> None:
    """BM25 (B) against the title-length order of the same candidates (A): SIMULATED clicks on the real grades find B
    better, and the A/A twin (B against itself) scores exactly zero."""
    rng = np.random.default_rng(11)
    found = interleaving_t_test(_sessions(hd, 3000, rng))
    assert found.effect > 0 and found.p_value < 1e-4
    same = {**hd, "by_length": hd["bm25"]}
    assert not _sessions(same, 200, rng).any()


def test_a_seeded_merge_repeats() -> None:
    a, b = ["a", "b", "c", "d"], ["d", "c", "x", "a"]
    first = optimized_merge(a, b, 4, np.random.default_rng(5))
    assert optimized_merge(a, b, 4, np.random.default_rng(5)) == first
