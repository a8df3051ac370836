"""The offline, vectorised sessions that validate the experiment machinery, on real Home Depot judgements (the two
"rankers" here are orders of each query's judged products, so no index is built: unit tier). A/A at a small run count
is a smoke, not the bar (bench/experiments.py runs >= 1,000 over the built shop's rankers)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from shopmind.experiments.interleave import credit, draft_coins, team_draft
from shopmind.simulate.clickmodel import ClickModel
from shopmind.simulate.offline import OfflineLab, fit_sessions_for_power, ratio_interval, sessions_for_power
from shopmind.simulate.sources import search_tasks


def salted(ids, salt):
    from shopmind.experiments.assign import buckets, uniform

    return buckets([1.0, 1.0], np.array([uniform(salt, u) for u in ids]))


@pytest.fixture(scope="module")
def lab(shared_data):
    """A = Home Depot's own judged order as listed, B = the same products sorted by grade (known better)."""
    tasks = [t for t in search_tasks(shared_data / "search" / "homedepot")[:1500] if len(t.judged) >= 6]
    a = [list(t.judged) for t in tasks]
    b = [sorted(t.judged, key=lambda p, t=t: -t.judged[p]) for t in tasks]
    return OfflineLab(a, b, [t.judged for t in tasks], ClickModel(k=6), seed=1)  # every team draft of each query


def test_click_counts_follow_the_exact_distribution(lab):
    rng = np.random.default_rng(0)
    q = rng.integers(lab.queries, size=200_000)
    exact = lab.expected_clicks()
    for v in "AB":
        y = lab.clicks(v, q, rng)
        assert abs(y.mean() - getattr(lab, f"probs_{v.lower()}")[q].sum(1).mean()) < 4 * y.std() / np.sqrt(len(y))
    assert exact["B"] > exact["A"]


def test_vectorised_outcomes_agree_with_interleave_credit(lab):
    rng = np.random.default_rng(5)
    teams, clicked = lab.interleaved(rng.integers(lab.queries, size=500), np.random.default_rng(6))
    rng2 = np.random.default_rng(5)
    outcomes = lab.outcomes(rng2.integers(lab.queries, size=500), np.random.default_rng(6))
    expected = [credit(list(t), list(np.flatnonzero(c))) for t, c in zip(teams, clicked, strict=True)]
    assert list(outcomes) == expected


def test_precomputed_interleavings_are_team_drafts_of_the_two_lists(lab):
    assert lab.il_teams.shape[1] == len(draft_coins(6)) == 8
    for q in range(5):
        for d in range(lab.il_teams.shape[1]):
            teams = lab.il_teams[q, d]
            assert set(np.unique(teams).tolist()) <= {0, 1} and abs(int((teams == 0).sum()) - int((teams == 1).sum())) <= 1
    ids, _ = team_draft(lab.lists_a[0], lab.lists_b[0], 6, np.random.default_rng(0))
    assert len(set(ids)) == len(ids) == 6 and set(ids) <= set(lab.lists_a[0]) | set(lab.lists_b[0])


def test_aa_smoke_rejects_near_alpha_with_the_salted_split(lab):
    res = lab.aa(300, 400, salted, alpha=0.05, looks=5, seed=3)
    assert 0.01 <= res["false_positive_rate"] <= 0.10, res  # ±4 binomial SD around 0.05 at 300 runs
    assert res["msprt_peeking_false_positive_rate"] <= 0.10, res
    assert abs(res["share_b_mean"] - 0.5) < 0.01 and res["srm_flags_at_0.001"] <= 3


def test_interleaving_finds_the_better_order_with_fewer_sessions_than_ab(lab):
    grid = [100, 200, 400, 800]
    ab = lab.ab_power(grid, 60)
    il = lab.interleaving_power(grid, 60)
    assert il[1] >= 0.8 and ab[1] < il[1], (ab, il)
    n_il = sessions_for_power(grid, il)
    assert n_il is not None and n_il <= 200


def test_sessions_for_power_interpolates_and_says_never():
    assert sessions_for_power([100, 200, 400], [0.5, 0.7, 0.9]) == pytest.approx(np.exp(np.log(200) + 0.5 * np.log(2)))
    assert sessions_for_power([100, 200], [0.2, 0.5]) is None
    assert sessions_for_power([100, 200], [0.85, 0.95]) == 100


def test_exact_moments_agree_with_simulated_sessions(lab):
    """The exact per-session moments (no sampling) sit within 4 standard errors of 300,000 simulated sessions."""
    m = lab.exact_moments()
    rng = np.random.default_rng(12)
    q = rng.integers(lab.queries, size=300_000)
    d = lab.differences(q, rng)
    se = np.sqrt(m["diff_var"] / len(d))
    assert abs(d.mean() - m["diff_mean"]) < 4 * se and abs(d.var() - m["diff_var"]) < 0.02 * m["diff_var"]
    for key, share in (("b_wins", (d > 0).mean()), ("a_wins", (d < 0).mean())):
        assert abs(share - m[key]) < 4 * np.sqrt(m[key] * (1 - m[key]) / len(d)), key
    y = lab.clicks("B", q, rng)
    assert abs(y.mean() - m["clicks_b"]) < 4 * np.sqrt(m["clicks_var_b"] / len(y))
    same = lab.differences(q[:2000], np.random.default_rng(13)), lab.outcomes(q[:2000], np.random.default_rng(13))
    assert np.array_equal(np.sign(same[0]), -same[1])  # the same sessions: the click difference's sign is the win/loss
    need = lab.normal_sessions_for_power()
    assert need["ab"] > need["interleaving_sign"] > 0 and need["interleaving_t"] > 0


def _curve(n, a, b):
    return stats.norm.cdf(a + b * np.sqrt(n))


def test_probit_fit_recovers_a_known_power_curve_where_interpolation_is_noisy():
    """Rejections drawn from a known curve Phi(a + b sqrt n): the fit's 80 % point is close to the truth on average
    and less spread than interpolating between two noisy neighbours (the original estimate)."""
    a, b = -1.96, 0.04
    truth = ((stats.norm.ppf(0.8) - a) / b) ** 2
    grid = np.round(truth * np.array([0.35, 0.5, 0.71, 1.0, 1.41, 2.0, 2.83])).astype(int)
    exact = np.zeros((len(grid), 10_000), bool)
    exact[:, :] = np.arange(10_000) < np.round(_curve(grid, a, b) * 10_000)[:, None]
    assert fit_sessions_for_power(grid, exact) == pytest.approx(truth, rel=0.01)
    rng = np.random.default_rng(0)
    fits, interps = [], []
    for _ in range(200):
        rej = rng.random((len(grid), 60)) < _curve(grid, a, b)[:, None]
        fits.append(fit_sessions_for_power(grid, rej))
        interps.append(sessions_for_power(grid, rej.mean(axis=1)))
    fits_arr, interps_arr = np.array(fits, float), np.array(interps, float)
    assert abs(np.mean(fits_arr) / truth - 1) < 0.03
    assert np.std(fits_arr) < np.std(interps_arr)


def test_ratio_interval_covers_a_known_ratio():
    """Two known curves whose 80 % points differ by a factor 5: the bootstrap interval holds 5 in most replications."""
    rng = np.random.default_rng(1)
    za, zp = 1.96, stats.norm.ppf(0.8)
    n_ab, n_il = 20_000.0, 4_000.0
    g_ab = np.round(n_ab * np.array([0.5, 0.71, 1.0, 1.41, 2.0])).astype(int)
    g_il = np.round(n_il * np.array([0.5, 0.71, 1.0, 1.41, 2.0])).astype(int)
    covered = 0
    for _ in range(6):
        r_ab = rng.random((5, 80)) < _curve(g_ab, -za, (za + zp) / np.sqrt(n_ab))[:, None]
        r_il = rng.random((5, 80)) < _curve(g_il, -za, (za + zp) / np.sqrt(n_il))[:, None]
        ci = ratio_interval(g_ab, r_ab, g_il, r_il, n_boot=60, seed=2)
        assert ci["low"] < ci["high"] and ci["failed"] < 6
        covered += ci["low"] <= 5.0 <= ci["high"]
    assert covered >= 4  # nominal 95 %: 5.7 of 6 expected; 4 allows for a small bootstrap (P(<= 3) < 0.003)


def test_interleaving_a_ranker_with_itself_detects_b_at_half_alpha(lab):
    """Interleaving A with A: both statistics find "B better" in about alpha / 2 of experiments (one tail; a test of
    the wrong size, e.g. one-sided at alpha, would sit near 0.05). The exact difference distribution is symmetric."""
    same = OfflineLab(lab.lists_a, lab.lists_a, lab.judged, lab.model, seed=2)
    m = same.exact_moments()
    assert abs(m["diff_mean"]) < 1e-12 and m["a_wins"] == pytest.approx(m["b_wins"], abs=1e-12)
    rej = same.interleaving_rejections([300], 1500, seed=9)
    for name, r in rej.items():
        assert 0.01 < r.mean() < 0.042, (name, r.mean())  # 0.025 +- 4.5 standard errors at 1,500 experiments
