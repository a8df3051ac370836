"""The offline, vectorised sessions that validate the experiment machinery, on real Home Depot judgements (the two
"rankers" here are orders of each query's judged products, so no index is built: unit tier). A/A at a small run count
is a smoke, not the bar (bench/experiments.py runs >= 1,000 over the built shop's rankers)."""

from __future__ import annotations

import numpy as np
import pytest

from shopmind.experiments.interleave import credit, team_draft
from shopmind.simulate.clickmodel import ClickModel
from shopmind.simulate.offline import OfflineLab, sessions_for_power
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
    return OfflineLab(a, b, [t.judged for t in tasks], ClickModel(k=6), draws=8, seed=1)


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
    for q in range(5):
        for d in range(lab.draws):
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
