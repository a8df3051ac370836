"""Optimized-interleaving sessions on real Home Depot judgements (A = the judged products as listed, B = the same sorted
by grade: known better); clicks SIMULATED under the position-based click model."""

from __future__ import annotations

import numpy as np
import pytest

from shopmind.simulate.clickmodel import ClickModel
from shopmind.simulate.offline import OfflineLab
from shopmind.simulate.optimized_lab import OptimizedLab
from shopmind.simulate.sources import search_tasks


@pytest.fixture(scope="module")
def labs(shared_data):
    tasks = [t for t in search_tasks(shared_data / "search" / "homedepot")[:800] if len(t.judged) >= 6]
    a = [list(t.judged) for t in tasks]
    b = [sorted(t.judged, key=lambda p, t=t: -t.judged[p]) for t in tasks]
    lab = OfflineLab(a, b, [t.judged for t in tasks], ClickModel(k=6), seed=1)
    return lab, OptimizedLab(lab), OptimizedLab(OfflineLab(a, a, [t.judged for t in tasks], ClickModel(k=6), seed=1))


def test_exact_moments_agree_with_simulated_sessions(labs):
    _, opt, _ = labs
    exact = opt.exact_moments()
    rng = np.random.default_rng(3)
    s = opt.scores(rng.integers(opt.lab.queries, size=200_000), rng)
    assert exact["score_mean"] > 0
    assert abs(s.mean() - exact["score_mean"]) < 4 * np.sqrt(exact["score_var"] / s.size)
    assert s.var() == pytest.approx(exact["score_var"], rel=0.03)


def test_the_better_order_is_found_and_a_ranker_against_itself_scores_nothing(labs):
    lab, opt, same = labs
    need = opt.normal_sessions_for_power()
    assert need is not None and need < lab.normal_sessions_for_power()["ab"]
    found = opt.rejections([int(2 * need)], 100, seed=4).mean()
    assert found > 0.9  # at twice the 80 % size
    assert same.exact_moments() == {"score_mean": 0.0, "score_var": 0.0} and same.normal_sessions_for_power() is None
    rng = np.random.default_rng(0)
    assert not same.scores(rng.integers(same.lab.queries, size=1000), rng).any()


def test_each_session_shows_a_list_of_its_design(labs):
    _, opt, _ = labs
    assert np.allclose(opt.weights.sum(axis=1), 1.0) and (opt.weights > 0).sum(axis=1).max() <= opt.lab.model.k + 1
    d = opt.describe()
    assert d["queries"] == opt.lab.queries and d["queries_not_fair_at_every_depth"] <= 0.05 * opt.lab.queries


def test_normalised_credits_are_each_querys_credits_over_its_design_scale(labs):
    from shopmind.experiments.optimized import design

    lab, opt, _ = labs
    norm = OptimizedLab(lab, normalise=True)
    k = lab.model.k
    for i in range(0, lab.queries, 97):
        scale = design(lab.lists_a[i][:k], lab.lists_b[i][:k], k).scale()
        assert norm.credits[i] == pytest.approx(opt.credits[i] / (scale or 1.0))
    assert norm.describe()["normalised"] and not opt.describe()["normalised"]
