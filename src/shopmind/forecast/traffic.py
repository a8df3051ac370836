"""Today's hourly traffic, forecast from the event log: the curve ads pacing spreads a daily budget along.

A seasonal model with two seasons, day of week × hour of day (UTC): each weekday's hourly profile is the
exponentially weighted sum of that weekday's past hourly counts (recent weeks count more; half-life
`half_life_weeks`), shrunk toward the hour-of-day profile of all days by `prior_events` pseudo-events so a
weekday seen a few times does not follow its noise. With fewer than `min_days` full days of history it falls
back to the hour-of-day profile for every day, and without events (or with too few) to the flat day.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

DAY = 86400.0
FLAT = np.full(24, 1.0 / 24)


def weekday(day: int) -> int:
    """Monday = 0 … Sunday = 6 of a day number counted from 1970-01-01 (a Thursday), UTC."""
    return (int(day) + 3) % 7


def as_week(curve: np.ndarray) -> np.ndarray:
    """A (24,) day curve or a (7, 24) week of them as a (7, 24) array of rows summing to 1."""
    c = np.asarray(curve, np.float64)
    if c.shape == (24,):
        c = np.tile(c, (7, 1))
    if c.shape != (7, 24):
        raise ValueError(f"curve: expected 24 hourly weights or 7 × 24, got shape {c.shape}")
    c = np.maximum(c, 0.0)
    sums = c.sum(axis=1, keepdims=True)
    return np.where(sums > 0, c / np.where(sums > 0, sums, 1.0), 1.0 / 24)


def hourly_forecast(ts: np.ndarray, *, min_days: int = 14, min_events: int = 240, half_life_weeks: float = 4.0,
                    prior_events: float = 240.0) -> tuple[np.ndarray, str]:
    """(7, 24) forecast share of each weekday's traffic per UTC hour (rows sum to 1) and the method used.

    Methods: "weekday_hour" (the seasonal model), "hour_of_day" (history shorter than `min_days` full days),
    "flat" (fewer than `min_events` events).
    """
    ts = np.asarray(ts, np.float64)
    ts = ts[np.isfinite(ts)]
    if len(ts) < min_events:
        return np.tile(FLAT, (7, 1)), "flat"
    first_day = int(np.ceil(ts.min() / DAY))  # whole days only: a log that starts or stops mid-day skews its hours
    last_day = int(np.floor(ts.max() / DAY))  # exclusive
    n_days = last_day - first_day
    pooled_counts = np.bincount((ts % DAY // 3600).astype(np.int64), minlength=24)[:24].astype(np.float64)
    pooled = (pooled_counts + 1.0) / (pooled_counts.sum() + 24.0)
    if n_days < min_days:
        return np.tile(pooled, (7, 1)), "hour_of_day"
    inside = ts[(ts >= first_day * DAY) & (ts < last_day * DAY)]
    slot = ((inside - first_day * DAY) // 3600).astype(np.int64)
    grid = np.bincount(slot, minlength=n_days * 24)[: n_days * 24].reshape(n_days, 24).astype(np.float64)
    days = np.arange(first_day, last_day)
    age_weeks = (last_day - 1 - days) / 7.0
    w = 0.5 ** (age_weeks / half_life_weeks)
    weighted = grid * w[:, None]
    day_total = weighted.sum(axis=0)
    prior = (day_total + 1.0) / (day_total.sum() + 24.0)  # recency-weighted hour-of-day profile of all days
    week = np.empty((7, 24))
    wd = (days + 3) % 7
    for d in range(7):
        counts = weighted[wd == d].sum(axis=0)
        week[d] = (counts + prior_events * prior) / (counts.sum() + prior_events)
    log.info("traffic forecast: weekday × hour profile from %d days (%d events)", n_days, len(ts))
    return week, "weekday_hour"
