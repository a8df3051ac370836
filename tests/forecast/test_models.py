"""Panels, models, backtests and intervals on real Dominick's orange-juice series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopmind.forecast.backtest import Conformal, Protocol_, metrics, run_backtest
from shopmind.forecast.data import SalesDataError, build_panel, extend
from shopmind.forecast.gbm import GBMForecaster
from shopmind.forecast.models import NaiveForecaster, SeasonalNaiveForecaster, StatForecaster


def test_panel_keeps_gaps_and_picks_only_known_covariates(oj_frame, oj_panel):
    assert oj_panel.n_series == 33 and oj_panel.periods[0] == 40 and oj_panel.periods[-1] == 136
    assert np.isnan(oj_panel.y).sum() == 33 * 97 - len(oj_frame)  # a missing week is unknown, not zero
    assert {"price", "deal", "feat", "price1", "price11"} <= set(oj_panel.x)
    assert "logmove" not in oj_panel.x and "profit" not in oj_panel.x  # derived from the outcome: would leak
    row = oj_frame.iloc[0]
    i = oj_panel.keys.index((str(int(row.store)), str(int(row.brand))))
    assert oj_panel.y[i, oj_panel.index_of(int(row.week))] == row.units


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns=["units"]), "target 'units'"),
        (lambda f: pd.concat([f, f.iloc[:1]]), "two rows for series"),
        (lambda f: f.assign(units=-f["units"]), "must not be negative"),
        (lambda f: f.assign(units="many"), "must be numeric"),
        (lambda f: f.assign(week="soon"), "time column 'week'"),
    ],
)
def test_bad_sales_name_the_field(oj_frame, change, message):
    with pytest.raises(SalesDataError, match=message):
        build_panel(change(oj_frame.head(200)), id_cols=["store", "brand"], time_col="week", target="units")


def test_dates_become_a_regular_weekly_grid():
    frame = pd.DataFrame({"item": ["a"] * 3 + ["b"], "day": ["2024-01-01", "2024-01-08", "2024-01-22", "2024-01-08"], "units": [1, 2, 3, 4]})
    p = build_panel(frame, id_cols=["item"], time_col="day", target="units")
    assert list(p.periods) == ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22"]
    assert np.isnan(p.y[0, 2]) and p.y[1, 1] == 4 and np.isnan(p.y[1, 0])
    assert list(extend(p, 2).periods[-2:]) == ["2024-01-29", "2024-02-05"]


def _score(panel, model, proto, refit=4):
    fc = run_backtest(panel, model, proto, refit_periods=refit)
    return fc, metrics(fc.y, fc.f)


@pytest.mark.integration
def test_global_model_beats_naive_and_ets_on_real_series(oj_panel):
    """TSPerf-style rounds (one-week gap, 2–3 weeks ahead) over weeks 121–136 of three stores."""
    proto = Protocol_(start=oj_panel.index_of(121), end=oj_panel.index_of(136), horizon=2, gap=1, step=2)
    _, naive = _score(oj_panel, NaiveForecaster(), proto)
    _, snaive = _score(oj_panel, SeasonalNaiveForecaster(), proto)
    _, ets = _score(oj_panel, StatForecaster(kind="ets", refit_every=4), proto, refit=1)
    gbm_fc, gbm = _score(oj_panel, GBMForecaster(rounds=150), proto)
    assert naive["rows"] == gbm["rows"] == ets["rows"] > 500
    assert gbm["mape"] < 0.6 * naive["mape"], (gbm, naive)
    assert gbm["mape"] < ets["mape"] and gbm["mape"] < snaive["mape"]
    assert set(np.unique(gbm_fc.lead)) == {2, 3}


def test_backtest_reads_nothing_after_the_origin(oj_panel):
    """Scrambling every week after an origin must not change the forecasts made at it."""
    origin = oj_panel.index_of(120)
    model = GBMForecaster(rounds=60).fit(oj_panel, origin, [1, 2])
    before = model.predict(oj_panel, origin, [1, 2])
    scrambled = build_panel.__globals__["Panel"](**{**oj_panel.__dict__, "y": oj_panel.y.copy()})
    scrambled.y[:, origin + 1:] *= 50
    again = GBMForecaster(rounds=60).fit(scrambled, origin, [1, 2]).predict(scrambled, origin, [1, 2])
    np.testing.assert_allclose(before, again)


def test_conformal_intervals_hold_their_coverage(oj_panel):
    proto_cal = Protocol_(start=oj_panel.index_of(101), end=oj_panel.index_of(112), horizon=1)
    proto = Protocol_(start=oj_panel.index_of(113), end=oj_panel.index_of(136), horizon=1)
    cal = run_backtest(oj_panel, NaiveForecaster(), proto_cal)
    test = run_backtest(oj_panel, NaiveForecaster(), proto)
    conformal = Conformal(level=80, window=12)
    for t in np.unique(cal.target):
        m = cal.target == t
        conformal.add(1, int(t), cal.y[m], cal.f[m])
    test = conformal.fill(test)
    cover = metrics(test.y, test.f, test.lo, test.hi)["coverage"]
    assert 70 <= cover <= 90, cover
    assert np.all(test.lo <= test.f + 1e-9) and np.all(test.hi >= test.f - 1e-9)


def test_metrics_on_known_numbers():
    m = metrics(np.array([100.0, 50.0]), np.array([110.4, 25.0]), np.array([90.0, 60.0]), np.array([120.0, 70.0]))
    assert m["mape"] == pytest.approx((10 / 100 + 25 / 50) / 2 * 100)
    assert m["wape"] == pytest.approx(35 / 150 * 100)
    assert m["coverage"] == 50.0
