"""Ads pacing along a forecast of today's hourly traffic (weekday × hour from the event log), not a flat day."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from shopmind.ads.pacing import Pacer, PacingConfig, target_share
from shopmind.forecast.traffic import FLAT, hourly_forecast, weekday

DAY = 86400.0
HOURS = np.ones((1, 24), bool)


@pytest.fixture(scope="module")
def demo_ts(demo_data: Path) -> np.ndarray:
    """The demo shop's real MovieLens event timestamps (30 weeks, UTC seconds)."""
    return pq.read_table(demo_data / "events.parquet")["timestamp"].to_numpy().astype(np.float64)


def _daily_cdf_error(curve: np.ndarray, ts: np.ndarray) -> float:
    """Mean over days of the largest gap between a day's actual cumulative traffic share and the curve's."""
    days = (ts // DAY).astype(np.int64)
    errs = []
    for d in np.unique(days):
        x = np.bincount((ts[days == d] % DAY // 3600).astype(np.int64), minlength=24)
        if x.sum() >= 20:
            errs.append(np.abs(np.cumsum(x / x.sum()) - np.cumsum(curve[weekday(int(d))])).max())
    return float(np.mean(errs))


def test_target_share_follows_the_forecast_on_the_demo_log(demo_ts):
    week, method = hourly_forecast(demo_ts)
    assert method == "weekday_hour" and week.shape == (7, 24)
    np.testing.assert_allclose(week.sum(axis=1), 1.0)
    assert np.abs(week - FLAT).max() > 0.02  # the demo shop's traffic is far from flat
    assert np.abs(week[5] - week[2]).max() > 0.005  # and a Saturday is not a Wednesday

    pacer = Pacer(1, week, PacingConfig())
    day = int(demo_ts.max() // DAY) + 1  # "today": the day after the log
    for h in range(25):
        ts = day * DAY + min(h * 3600.0, DAY - 1)
        expected = np.cumsum(np.concatenate([[0.0], week[weekday(day)]]))[h]
        assert pacer.target(ts, HOURS)[0] == pytest.approx(expected, abs=1e-3 if h < 24 else 2e-3)
    # the controller runs on today's row: after an update its curve is the forecast for today's weekday
    pacer.update(day * DAY + 7200.0, np.zeros(1), np.ones(1), HOURS)
    np.testing.assert_allclose(pacer.curve, week[weekday(day)])
    pacer.update((day + 1) * DAY + 7200.0, np.zeros(1), np.ones(1), HOURS)
    np.testing.assert_allclose(pacer.curve, week[weekday(day + 1)])
    # serving hours: the share is renormalised over the hours a campaign runs
    evening = np.zeros((1, 24), bool)
    evening[0, 18:] = True
    assert target_share(week, evening, day * DAY + 12 * 3600.0)[0] == 0.0
    assert target_share(week, evening, day * DAY + 21 * 3600.0)[0] == pytest.approx(
        week[weekday(day), 18:21].sum() / week[weekday(day), 18:].sum())


def test_forecast_beats_the_flat_day_on_held_out_weeks(demo_ts):
    """Rolling origins over the demo log: fit on everything before, score the next 14 days (never seen)."""
    end = np.floor(demo_ts.max() / DAY) * DAY
    fc_err, flat_err = [], []
    for back in (98, 70, 42, 14):
        cut = end - back * DAY
        week, _ = hourly_forecast(demo_ts[demo_ts < cut])
        test = demo_ts[(demo_ts >= cut) & (demo_ts < cut + 14 * DAY)]
        fc_err.append(_daily_cdf_error(week, test))
        flat_err.append(_daily_cdf_error(np.tile(FLAT, (7, 1)), test))
    assert np.mean(fc_err) < np.mean(flat_err) - 0.02, (fc_err, flat_err)


def test_flat_history_gives_the_flat_day():
    rng = np.random.default_rng(0)
    start = 10_000 * DAY
    ts = start + rng.permutation(np.repeat(np.arange(28 * 24), 20)) * 3600.0 + 1800.0  # 20 events every hour, 4 weeks
    week, method = hourly_forecast(ts)
    assert method == "weekday_hour"
    np.testing.assert_allclose(week, np.tile(FLAT, (7, 1)), atol=1e-12)
    forecast_pacer, flat_pacer = Pacer(1, week), Pacer(1, FLAT)
    for sec in (0.0, 3600.0, 5 * 3600.0 + 900.0, 12 * 3600.0, 20 * 3600.0, DAY - 1):
        assert forecast_pacer.target(start + sec, HOURS)[0] == pytest.approx(sec / DAY, abs=1e-9)
        assert forecast_pacer.target(start + sec, HOURS)[0] == pytest.approx(flat_pacer.target(start + sec, HOURS)[0], abs=1e-12)


def test_short_or_missing_history_falls_back(demo_ts):
    five_days = demo_ts[demo_ts < demo_ts.min() + 5 * DAY]
    week, method = hourly_forecast(five_days)
    assert method == "hour_of_day" and np.allclose(week, week[0])  # every weekday alike
    week, method = hourly_forecast(demo_ts[:100])
    assert method == "flat" and np.allclose(week, FLAT)
    assert hourly_forecast(np.zeros(0))[1] == "flat"
    with pytest.raises(ValueError, match="curve"):
        Pacer(1, np.ones(23))
