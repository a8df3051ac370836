"""Loaders of the real experiment data (Hillstrom, Open Bandit) and CUPED's variance reduction on Hillstrom."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shopmind.evaluation import experiments_data as ed
from shopmind.experiments import stats as st


@pytest.fixture(scope="module")
def hill(shared_data):
    return ed.load_hillstrom(shared_data / "experiments" / "hillstrom" / "hillstrom.csv")


def test_hillstrom_loads_the_published_arms_and_rates(hill):
    assert len(hill["segment"]) == 64000
    # (customers, visit, conversion, spend per customer, mean history) as SOURCE.txt states them
    published = {"Mens E-Mail": (21307, 0.1828, 0.01253, 1.4226, 242.8), "Womens E-Mail": (21387, 0.1514, 0.00884, 1.0772, 242.5),
                 "No E-Mail": (21306, 0.1062, 0.00573, 0.6528, 240.9)}
    for arm, (n, visit, conv, spend, history) in published.items():
        assert ed.hillstrom_arm(hill, arm, "visit").size == n
        assert round(float(ed.hillstrom_arm(hill, arm, "visit").mean()), 4) == visit
        assert round(float(ed.hillstrom_arm(hill, arm, "conversion").mean()), 5) == conv
        assert round(float(ed.hillstrom_arm(hill, arm, "spend").mean()), 4) == spend
        assert round(float(ed.hillstrom_arm(hill, arm, "history").mean()), 1) == history
    assert set(np.unique(hill["zip_code"])) == {"Urban", "Surburban", "Rural"}
    with pytest.raises(ValueError):
        ed.hillstrom_arm(hill, "Kids E-Mail", "visit")


def test_hillstrom_cuped_reports_a_small_real_variance_reduction(hill):
    single = ed.hillstrom_cuped(data=hill)
    every = ed.hillstrom_cuped(data=hill, covariate="all")
    for metric in ("visit", "conversion", "spend"):
        one, many = single[metric], every[metric]
        # pre-period spend explains well under 5 % of the outcomes' variance here (SOURCE.txt: R² ≤ 2.7 %)
        assert 0 < one["variance_reduction"] < 0.05 and 0 < many["variance_reduction"] < 0.1
        assert many["variance_reduction"] >= one["variance_reduction"]
        assert math.isclose(one["ci_width_ratio"] ** 2, 1 - one["variance_reduction"], rel_tol=1e-3)
        plain, adj = one["plain"], one["cuped"]
        assert plain["ci_low"] <= adj["effect"] <= plain["ci_high"]  # same estimand, a little less noise
        assert one["n_a"] == 21306 and one["n_b"] == 21307
    # the single-covariate figure is CUPED's own: the same as the stats module's cuped_test on the raw arms
    ya, yb = ed.hillstrom_arm(hill, "No E-Mail", "visit"), ed.hillstrom_arm(hill, "Mens E-Mail", "visit")
    xa, xb = ed.hillstrom_arm(hill, "No E-Mail", "history"), ed.hillstrom_arm(hill, "Mens E-Mail", "history")
    assert single["visit"]["cuped"] == st.cuped_test(ya, xa, yb, xb).to_dict()
    assert every["visit"]["variance_reduction"] > 0.01  # all pre-period columns: a few percent for visits


@pytest.mark.parametrize(("policy", "campaign", "items", "ctr"), [("random", "all", 80, 0.0038), ("bts", "men", 34, None)])
def test_load_obd(shared_data, policy, campaign, items, ctr):
    log = ed.load_obd(policy, campaign, shared_data / "experiments" / "obd" / policy / campaign)
    assert len(log) == 10000 and log.n_items == items
    assert log.affinity.shape == (10000, items) and log.user_features.shape == (10000, 4)
    assert log.item_id.min() >= 0 and log.item_id.max() < items
    assert set(np.unique(log.position)) == {1, 2, 3} and set(np.unique(log.click)) <= {0, 1}
    assert np.all((log.propensity > 0) & (log.propensity <= 1))
    assert log.timestamp.min() >= np.datetime64("2019-11-24") and log.timestamp.max() < np.datetime64("2019-12-01")
    if policy == "random":
        assert np.allclose(log.propensity, 1 / items)  # uniform random logging policy
        assert round(float(log.click.mean()), 4) == ctr
    else:
        assert log.propensity.std() > 0  # Thompson sampling: propensities vary


def test_paths_and_arguments(monkeypatch, tmp_path):
    monkeypatch.setenv("SHOPMIND_SHARED_DATA", str(tmp_path))
    assert ed.shared_data_dir() == tmp_path
    with pytest.raises(ValueError):
        ed.load_obd("greedy", "all")
