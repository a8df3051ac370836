"""The simulated shopper's click model on real Home Depot judgements: the stated PBM curve, graded attraction, exact
click-count distribution, and the funnel — seeded, with tolerances from the binomial error (so each check can fail)."""

from __future__ import annotations

import numpy as np
import pytest

from shopmind.simulate.clickmodel import ClickModel, Funnel, clicks_pmf
from shopmind.simulate.sources import search_tasks


@pytest.fixture(scope="module")
def judged(shared_data):
    """Real queries with at least 5 judged products, their grades in the order Home Depot's engine judged them."""
    tasks = [t for t in search_tasks(shared_data / "search" / "homedepot")[:2000] if len(t.judged) >= 5]
    return np.array([[t.judged[p] for p in list(t.judged)[:5]] for t in tasks])


def test_examination_is_the_stated_one_over_rank_curve():
    model = ClickModel()
    np.testing.assert_allclose(model.examination(4), [1, 1 / 2, 1 / 3, 1 / 4])
    np.testing.assert_allclose(ClickModel(eta=2.0).examination(3), [1, 1 / 4, 1 / 9])


def test_attraction_rises_with_the_grade_and_unjudged_is_epsilon():
    a = ClickModel().attraction(np.array([0, 1, 2, 3, np.nan]))
    np.testing.assert_allclose(a, [0.1, 0.1 + 0.9 / 7, 0.1 + 0.9 * 3 / 7, 1.0, 0.1])
    assert np.all(np.diff(a[:4]) > 0)


def test_sampled_clicks_match_the_model_on_real_grades(judged):
    """Per-rank click rates over many seeded sessions sit within 4 binomial standard errors of examination × attraction."""
    model = ClickModel(k=5)
    rng = np.random.default_rng(7)
    reps = 40
    grades = np.repeat(judged, reps, axis=0)
    clicks = model.sample_clicks(grades, rng)
    p = model.click_probs(grades)
    observed, expected = clicks.mean(axis=0), p.mean(axis=0)
    se = np.sqrt(expected * (1 - expected) / len(grades))
    assert np.all(np.abs(observed - expected) < 4 * se), (observed, expected)
    assert np.all(np.diff(observed) < 0)  # the position effect is visible on real lists


def test_a_list_sorted_by_grade_earns_more_clicks_than_its_reverse(judged):
    model = ClickModel(k=5)
    best = -np.sort(-judged, axis=1)
    worst = np.sort(judged, axis=1)
    assert model.click_probs(best).sum(1).mean() > model.click_probs(worst).sum(1).mean()
    same = np.all(best == worst, axis=1)  # all grades equal: ordering cannot matter
    np.testing.assert_allclose(model.click_probs(best[same]).sum(1), model.click_probs(worst[same]).sum(1))


def test_short_lists_click_nothing_past_their_end():
    p = ClickModel(k=4).click_probs(np.array([[3.0, 0.0, np.nan, np.nan]]))
    np.testing.assert_allclose(p, [[1.0, 0.05, 0.0, 0.0]])


def test_click_count_distribution_is_exact(judged):
    model = ClickModel(k=5)
    probs = model.click_probs(judged[:200])
    pmf = clicks_pmf(probs)
    np.testing.assert_allclose(pmf.sum(1), 1.0)
    np.testing.assert_allclose(pmf @ np.arange(6), probs.sum(1))  # mean of a Poisson-binomial
    rng = np.random.default_rng(3)
    sims = model.sample_clicks(np.repeat(judged[:1], 20000, axis=0), rng).sum(1)
    freq = np.bincount(sims, minlength=6) / len(sims)
    assert np.all(np.abs(freq - pmf[0]) < 4 * np.sqrt(pmf[0] * (1 - pmf[0]) / len(sims)) + 1e-9)


def test_funnel_cart_probability_is_stated_and_rises_with_grade():
    f = Funnel()
    np.testing.assert_allclose(f.cart_probability(np.array([0.0, 3.0])), [f.cart_given_click, f.cart_given_click_top])
    assert 0 < f.purchase_given_cart < 1 and 0 <= f.noise_click < 0.1
