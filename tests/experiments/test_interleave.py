"""Team-draft interleaving on real Home Depot result lists; clicks are SIMULATED from the real graded judgements.

Rankings: BM25 (shopmind.index.lexical) over the judged products of 150 real queries plus 3,000 other real titles,
and a title-length order of the same candidates. Clicks: a small position-based model (examination 1/rank,
attraction from the crowd grade) - labelled simulated; helper T's simulator is the full one.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from shopmind.experiments.interleave import (
    ab_power,
    ab_sessions_for_power,
    aggregate_by_unit,
    click_difference_batch,
    credit,
    credit_batch,
    credit_ids,
    draft_coins,
    interleaved_power,
    interleaving_msprt,
    interleaving_sessions_for_power,
    interleaving_t_test,
    interleaving_test,
    merge_for_response,
    session_rng,
    team_draft,
)

K = 10
EXAM = 1.0 / np.arange(1, K + 1)  # SIMULATED examination probability by rank (position-based model)


def _attraction(grade: np.ndarray) -> np.ndarray:
    """SIMULATED click attraction from a 0-3 judgement grade (unjudged = 0): 0.05 ... 0.90."""
    return 0.05 + 0.85 * (2.0**grade - 1.0) / 7.0


def simulate(a: dict[str, list[str]], b: dict[str, list[str]], hd: dict, n: int, rng: np.random.Generator) -> np.ndarray:
    """SIMULATED sessions: a uniform real query, a team-draft list of A and B, PBM clicks; returns credits (+1 A)."""
    qids, grades = hd["qids"], hd["grades"]
    teams = np.full((n, K), -1)
    attract = np.zeros((n, K))
    for s, qi in enumerate(rng.integers(len(qids), size=n).tolist()):
        q = qids[qi]
        ids, t = team_draft(a[q], b[q], K, rng)
        teams[s, : len(t)] = t
        attract[s, : len(ids)] = [grades[q].get(i, 0.0) for i in ids]
    attract = _attraction(attract)
    return credit_batch(teams, rng.random((n, K)) < EXAM * attract)


def clicks_alone(ranking: dict[str, list[str]], hd: dict, n: int, rng: np.random.Generator) -> np.ndarray:
    """SIMULATED A/B arm: clicks per session on one ranker's own top K."""
    qids, grades = hd["qids"], hd["grades"]
    attract = _attraction(np.array([[grades[q].get(i, 0.0) for i in ranking[q][:K]] for q in qids]))
    picked = attract[rng.integers(len(qids), size=n)]
    return (rng.random(picked.shape) < EXAM * picked).sum(axis=1)


# ------------------------------------------------------------------------------------------------ drafting
def test_team_draft_invariants_on_real_result_lists(hd: dict) -> None:
    rng = np.random.default_rng(7)
    for q in hd["qids"]:
        a, b = hd["bm25"][q][: 2 * K], hd["by_length"][q]
        for k in (K, 4 * K):  # 4K exceeds the union: exhaustion path
            ids, teams = team_draft(a, b, k, rng)
            assert len(ids) == len(set(ids)) == min(k, len(set(a) | set(b)))
            assert len(teams) == len(ids) and set(teams) <= {0, 1}
            for team, own in ((0, a), (1, b)):
                picked = [i for i, t in zip(ids, teams, strict=True) if t == team]
                assert set(picked) <= set(own)
                assert [own.index(i) for i in picked] == sorted(own.index(i) for i in picked)
            shown: set[str] = set()
            counts = [0, 0]
            for i, t in zip(ids, teams, strict=True):
                both_left = bool(set(a) - shown) and bool(set(b) - shown)
                shown.add(i)
                counts[t] += 1
                if both_left:
                    assert abs(counts[0] - counts[1]) <= 1


def test_team_draft_duplicates_and_exhaustion() -> None:
    rng = np.random.default_rng(0)
    ids, teams = team_draft(["x", "y", "x", "z"], ["y", "x"], 10, rng)
    assert sorted(ids) == ["x", "y", "z"] and ids[-1] == "z" and teams[-1] == 0
    assert team_draft([], [], 5, rng) == ([], [])
    assert team_draft(["a", "b"], [], 5, rng) == (["a", "b"], [0, 0])


def test_first_pick_is_fair_over_seeds(hd: dict) -> None:
    q = next(q for q in hd["qids"] if hd["bm25"][q][0] != hd["by_length"][q][0])
    first = [team_draft(hd["bm25"][q], hd["by_length"][q], K, np.random.default_rng(s))[1][0] for s in range(2000)]
    assert stats.binomtest(int(np.sum(first)), len(first), 0.5).pvalue > 0.001


def test_enumerated_coins_give_the_exact_draft_distribution(hd: dict) -> None:
    """Every coin sequence once = team draft's exact distribution: A picks first in half of them, each seeded draft is
    one of them, and each team's share of every position is 1/2 while both rankings still have unseen ids."""
    coins = draft_coins(K)
    assert coins.shape == (2 ** ((K + 1) // 2), (K + 1) // 2) and len({tuple(c) for c in coins.tolist()}) == len(coins)
    q = next(q for q in hd["qids"] if hd["bm25"][q][0] != hd["by_length"][q][0])
    a, b = hd["bm25"][q][:K], hd["by_length"][q][:K]
    drafts = [team_draft(a, b, K, coins=c) for c in coins]
    assert np.mean([t[0] for _, t in drafts]) == 0.5  # first pick: exactly fair
    assert np.mean([t.count(1) for _, t in drafts]) == pytest.approx(K / 2)
    enumerated = {(tuple(i), tuple(t)) for i, t in drafts}
    for seed in range(50):
        ids, teams = team_draft(a, b, K, np.random.default_rng(seed))
        assert (tuple(ids), tuple(teams)) in enumerated
    with pytest.raises(ValueError, match="coins"):
        team_draft(a, b, K, coins=[True, False])
    with pytest.raises(ValueError, match="rng or coins"):
        team_draft(a, b, K)


def test_session_rng_is_deterministic(hd: dict) -> None:
    q = hd["qids"][0]
    a, b = hd["bm25"][q], hd["by_length"][q]
    assert team_draft(a, b, K, session_rng("salt", "s1", q)) == team_draft(a, b, K, session_rng("salt", "s1", q))
    drafts = {tuple(team_draft(a, b, K, session_rng("salt", f"s{i}", q))[1]) for i in range(20)}
    assert len(drafts) > 1
    ids, teams = team_draft(a, b, 3 * K, session_rng("salt", "s1", q))  # pages: a longer draft keeps the prefix
    assert (ids[:K], teams[:K]) == team_draft(a, b, K, session_rng("salt", "s1", q))


def test_merge_for_response_keeps_each_teams_hit_and_explains(hd: dict) -> None:
    q = hd["qids"][1]
    hits_a = [{"id": i, "score": 10.0 - r} for r, i in enumerate(hd["bm25"][q][:K])]
    hits_b = [{"id": i, "score": 1.0 / (r + 1)} for r, i in enumerate(hd["by_length"][q][:K])]
    mixed = merge_for_response(hits_a, hits_b, K, np.random.default_rng(3))
    assert [h["id"] for h in mixed.hits] == mixed.ids and len(mixed.ids) == K
    for row, hit in zip(mixed.rows(), mixed.hits, strict=True):
        assert hit is (hits_a if row["team"] == 0 else hits_b)[row["rank_a" if row["team"] == 0 else "rank_b"]]
        if row["rank_a"] is not None:
            assert row["score_a"] == hits_a[row["rank_a"]]["score"]
        if row["rank_b"] is not None:
            assert row["score_b"] == hits_b[row["rank_b"]]["score"]
    assert (mixed.ids, mixed.teams) == team_draft(hd["bm25"][q][:K], hd["by_length"][q][:K], K, np.random.default_rng(3))


# ------------------------------------------------------------------------------------------------ credit
def test_credit_hand_cases() -> None:
    teams = [0, 1, 0, 1]
    assert credit(teams, []) == 0
    assert credit(teams, [0]) == 1
    assert credit(teams, [1]) == -1
    assert credit(teams, [0, 1]) == 0
    assert credit(teams, [0, 1, 3]) == -1
    assert credit(teams, [0, 0, 0, 1]) == 0  # repeated clicks on one position count once
    # a shared item is credited to the team that picked it
    ids, teams = team_draft(["s", "a1"], ["s", "b1"], 4, np.random.default_rng(1))
    picker = teams[ids.index("s")]
    assert credit_ids(ids, teams, ["s"]) == (1 if picker == 0 else -1)
    assert credit_ids(ids, teams, ["not-shown"]) == 0
    with pytest.raises(ValueError):
        credit([0, 1], [2])


def test_credit_batch_matches_credit() -> None:
    rng = np.random.default_rng(5)
    lengths = rng.integers(0, K + 1, size=500)
    teams = np.where(np.arange(K) < lengths[:, None], rng.integers(0, 2, size=(500, K)), -1)  # -1: empty slot
    clicks = rng.random((500, K)) < 0.2
    expected = [credit(t[:m].tolist(), np.flatnonzero(c[:m]).tolist()) for t, c, m in zip(teams, clicks, lengths, strict=True)]
    assert credit_batch(teams, clicks).tolist() == expected


def test_click_difference_is_b_minus_a_and_its_sign_is_minus_credit() -> None:
    teams = np.array([[0, 1, 0, 1, -1], [1, 0, 1, 0, 1], [0, 1, -1, -1, -1]])
    clicks = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 0, 1], [0, 0, 0, 0, 0]], bool)
    assert click_difference_batch(teams, clicks).tolist() == [-1, 3, 0]
    rng = np.random.default_rng(8)
    t = np.where(rng.random((400, K)) < 0.9, rng.integers(0, 2, size=(400, K)), -1)
    c = rng.random((400, K)) < 0.25
    assert np.array_equal(np.sign(click_difference_batch(t, c)), -credit_batch(t, c))


def test_interleaving_t_test_matches_scipy_and_sums_per_unit() -> None:
    d = np.random.default_rng(4).choice([-2, -1, 0, 1, 2], p=[0.05, 0.2, 0.45, 0.22, 0.08], size=600)
    res, ref = interleaving_t_test(d), stats.ttest_1samp(d, 0.0)
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-9) and res.effect == pytest.approx(d.mean())
    ci = ref.confidence_interval(0.95)
    assert (res.ci_low, res.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert (res.n_a, res.n_b) == (int((d < 0).sum()), int((d > 0).sum()))
    units = interleaving_t_test(np.array([1, 1, -1, 2, 0, -3]), units=["u", "u", "v", "w", "w", "x"])
    assert units.effect == pytest.approx(np.mean([2, -1, 2, -3])) and (units.n_a, units.n_b) == (2, 2)
    assert interleaving_t_test(np.zeros(9)).p_value == 1.0 and interleaving_t_test(np.array([1])).p_value == 1.0


def test_aggregate_by_unit() -> None:
    out = aggregate_by_unit(np.array([1, -1, 1, 0, -1, -1, 1]), ["u1", "u2", "u1", "u3", "u2", "u1", "u4"])
    assert out.tolist() == [1, -1, 0, 1]  # u1: 1+1-1, u2: -2, u3: 0, u4: 1
    res = interleaving_test(np.array([1, 1, 1, -1]), units=["u", "u", "u", "v"])
    assert (res.n_a, res.n_b) == (1, 1)


# ------------------------------------------------------------------------------------------------ tests
@pytest.mark.parametrize(("wins_a", "wins_b", "ties"), [(30, 50, 20), (12, 3, 100), (0, 7, 0), (400, 440, 5)])
def test_interleaving_test_matches_scipy_binomtest(wins_a: int, wins_b: int, ties: int) -> None:
    outcomes = np.repeat([1, -1, 0], [wins_a, wins_b, ties])
    res = interleaving_test(np.random.default_rng(0).permutation(outcomes), alpha=0.05)
    ref = stats.binomtest(wins_b, wins_a + wins_b, 0.5)
    ci = ref.proportion_ci(0.95, method="exact")
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert res.effect == pytest.approx(wins_b / (wins_a + wins_b) - 0.5)
    assert (res.ci_low, res.ci_high) == pytest.approx((ci.low - 0.5, ci.high - 0.5), rel=1e-7, abs=1e-12)
    assert (res.n_a, res.n_b) == (wins_a, wins_b)
    assert (res.ci_low > 0 or res.ci_high < 0) == (res.p_value < 0.05)
    assert interleaving_test(np.zeros(5)).p_value == 1.0


@pytest.mark.parametrize(("wins_a", "wins_b"), [(30, 50), (200, 260), (5, 5)])
def test_msprt_matches_the_mixture_integral(wins_a: int, wins_b: int) -> None:
    tau2 = 0.01
    res = interleaving_msprt(np.repeat([1, -1], [wins_a, wins_b]), tau2=tau2)
    n, s = wins_a + wins_b, wins_b - wins_a
    lam, _ = integrate.quad(lambda th: np.exp(th * s - th * th * n / 2) * stats.norm.pdf(th, 0, np.sqrt(tau2)), -3, 3)
    assert res.p_value == pytest.approx(min(1.0, 1.0 / lam), rel=1e-6)
    assert res.ci_low <= res.effect <= res.ci_high
    fixed = interleaving_test(np.repeat([1, -1], [wins_a, wins_b]))
    assert res.ci_high - res.ci_low > fixed.ci_high - fixed.ci_low  # always-valid costs width


def test_aa_rejects_at_alpha_with_simulated_pbm_clicks(hd: dict) -> None:
    """Identical rankers: rejection rate equals the exact test's own size (<= alpha), with and without peeking."""
    runs, n = 1000, 60
    rng = np.random.default_rng(20261206)
    same = {q: hd["bm25"][q][:K] for q in hd["qids"]}
    outcomes = simulate(same, same, hd, runs * n, rng).reshape(runs, n)
    assert (outcomes != 0).mean() > 0.2  # clicks do split the teams
    p = np.array([interleaving_test(o).p_value for o in outcomes])
    decisive = (outcomes != 0).sum(axis=1)
    # exact size of the sign test at each run's number of decisive sessions (discreteness makes it < alpha)
    size = np.zeros(n + 1)
    for m in range(1, n + 1):
        x = np.arange(m + 1)
        size[m] = stats.binom.pmf(x, m, 0.5)[2 * stats.binom.cdf(np.minimum(x, m - x), m, 0.5) < 0.05].sum()
    expected = size[decisive].mean()
    rejections = int(np.sum(p < 0.05))
    assert stats.binomtest(rejections, runs, expected).pvalue > 0.001
    assert rejections / runs <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / runs)
    # always-valid: looking after every 10 sessions and stopping at the first p < alpha stays within alpha
    peeked = np.zeros(runs, dtype=bool)
    for m in range(10, n + 1, 10):
        peeked |= np.array([interleaving_msprt(o[:m]).p_value < 0.05 for o in outcomes])
    assert peeked.mean() <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / runs)


def test_known_better_ranker_detected_with_few_sessions(hd: dict) -> None:
    """Judgement-sorted (A) vs a random order of the same candidates (B): A wins within a few hundred sessions."""
    rng = np.random.default_rng(11)
    grades = hd["grades"]
    cands = {q: list(dict.fromkeys(list(grades[q]) + hd["bm25"][q][:K])) for q in hd["qids"]}
    better = {q: sorted(c, key=lambda i: -grades[q].get(i, 0.0)) for q, c in cands.items()}
    shuffled = {q: [c[j] for j in rng.permutation(len(c))] for q, c in cands.items()}
    outcomes = simulate(better, shuffled, hd, 300, rng)
    res = interleaving_test(outcomes)
    assert res.effect < 0 and res.ci_high < 0 and res.p_value < 0.01
    assert interleaving_msprt(outcomes).p_value < 0.05
    # power helpers: bootstrapped from a pilot of SIMULATED sessions, interleaving needs fewer than an A/B split
    pilot = simulate(better, shuffled, hd, 4000, rng)
    n_il = interleaving_sessions_for_power(pilot, n_boot=1000)
    clicks_a, clicks_b = clicks_alone(better, hd, 4000, rng), clicks_alone(shuffled, hd, 4000, rng)
    n_ab = ab_sessions_for_power(clicks_a, clicks_b, n_boot=1000)
    assert n_il is not None and n_ab is not None and n_il < n_ab
    assert interleaved_power(pilot, n_il, n_boot=1000) >= 0.8 > interleaved_power(pilot, int(n_il * 0.8), n_boot=1000)


def test_power_helpers_match_a_loop_over_the_real_tests() -> None:
    rng = np.random.default_rng(3)
    outcomes = rng.choice([1, 0, -1], p=[0.2, 0.5, 0.3], size=3000)
    loop = np.mean([interleaving_test(rng.choice(outcomes, 120)).p_value < 0.05 for _ in range(400)])
    assert interleaved_power(outcomes, 120, n_boot=4000) == pytest.approx(loop, abs=0.08)
    for a, b in ((rng.poisson(1.0, 3000), rng.poisson(1.15, 3000)), (rng.lognormal(0, 1, 3000), rng.lognormal(0.15, 1, 3000))):
        loop = np.mean([stats.ttest_ind(rng.choice(b, 200), rng.choice(a, 200), equal_var=False).pvalue < 0.05 for _ in range(400)])
        assert ab_power(a, b, 400, n_boot=4000) == pytest.approx(loop, abs=0.08)
    assert ab_power(np.ones(50), np.ones(50), 40) == 0.0
