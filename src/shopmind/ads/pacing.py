"""Budget pacing: probabilistic throttling, steered toward a traffic-shaped spend curve.

Each campaign takes part in an auction with probability `p`. Two controllers:

- `forecast` (default; adaptive throttling with a demand forecast, after Agarwal et al., "Budget pacing
  for targeted online advertisements at LinkedIn", KDD 2014, and Xu et al., "Smart pacing", KDD 2015):
  every `interval_s` the pacer estimates what the campaign would spend over a whole day if it took part
  in every auction, from its spend so far divided by its *exposure* (the share of the day's traffic it
  has taken part in: Σ p × traffic share, traffic from the forecast of today's hourly traffic — the
  weekday × hour profile of `shopmind.forecast.traffic`, the flat day without history — over the campaign's
  serving hours), shrunk toward a prior (yesterday's estimate, else "demand = budget"). It then sets
  p = remaining budget / (forecast demand × traffic left until `finish_by_h`), and multiplies it by a
  feedback factor exp(kp × (target share − spent share)) so a campaign behind the traffic-shaped target
  curve catches up and one ahead slows down. Constant p over the remaining traffic spends the remaining
  budget in proportion to traffic, so spend follows the traffic curve; after `finish_by_h` p is 1
  (late-day catch-up: unspent budget is worth more than smoothness).
- `pi`: the former PI controller on log p (kept for comparison in the bench).
- `fixed`: p stays at `p_start` (random participation, e.g. for an exploration log).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from shopmind.forecast.traffic import as_week, weekday


class PacingConfig(BaseModel):
    """Controller choice, gains and limits."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    controller: Literal["forecast", "pi", "fixed"] = Field(default="forecast", description="see the module docstring")
    interval_s: float = Field(default=60.0, gt=0, description="seconds between controller updates")
    kp: float = Field(default=6.0, ge=0, description="gain on log p per unit of spend-share error (behind the target curve: > 0)")
    ki: float = Field(default=1.0, ge=0, description="pi only: gain on log p per unit of accumulated error (per update)")
    p_min: float = Field(default=0.005, gt=0, le=1)
    p_start: float = Field(default=1.0, gt=0, le=1, description="p at the start of a day (forecast: until the first update)")
    prior_share: float = Field(default=0.005, ge=0, le=1, description="forecast: the prior demand counts as this share of a day's traffic")
    margin: float = Field(default=0.10, ge=0, le=1, description="forecast: aim at spending (1 + margin) × the remaining budget (the cap stops at 100 %)")
    lookahead_s: float = Field(default=600.0, ge=0, description="pi: aim at the curve this far ahead (offsets reaction lag)")
    finish_by_h: float = Field(default=21.0, gt=1, le=24, description="the target curve is compressed to end here: slack for noisy clicks")


def _cum_share(curve: np.ndarray, hours: np.ndarray, sec: float) -> np.ndarray:
    """(C,) share of each campaign's day of traffic (over its serving hours) before second `sec` of the day, 0..86400."""
    w = hours * curve[None, :]
    w = w / np.maximum(w.sum(axis=1, keepdims=True), 1e-12)
    cum = np.concatenate([np.zeros((len(w), 1)), np.cumsum(w, axis=1)], axis=1)
    sec = min(max(float(sec), 0.0), 86400.0)
    hour = min(int(sec // 3600), 23)
    frac = (sec - hour * 3600) / 3600
    return np.clip(cum[:, hour] + frac * w[:, hour], 0.0, 1.0)


def target_share(curve: np.ndarray, hours: np.ndarray, ts: float) -> np.ndarray:
    """Share of each campaign's daily budget due by `ts` under a 24-bin traffic curve, over allowed hours.

    curve: (24,) traffic weights, or (7, 24) per weekday (the row of ts's weekday is used); hours: (C, 24) bool
    serving hours. Returns (C,) in [0, 1]."""
    curve = np.asarray(curve, np.float64)
    if curve.ndim == 2:
        curve = as_week(curve)[weekday(int(ts // 86400))]
    return _cum_share(curve, hours, ts % 86400)


STATE = {"p": None, "integral": 0.0, "exposure": 0.0, "share": 0.0, "spent": 0.0, "demand": np.nan}
"""Per-campaign controller state arrays and their fresh values (p: `p_start`)."""


class Pacer:
    """Per-campaign participation probabilities, updated from spend against the traffic-shaped target."""

    def __init__(self, n: int, curve: np.ndarray, config: PacingConfig | None = None) -> None:
        self.config = config or PacingConfig()
        self.day: int | None = None
        self.curve = curve  # (24,) every day alike, or (7, 24): the forecast of each weekday's hourly traffic
        self.p = np.full(n, self._start())
        self.integral = np.zeros(n)  # pi: accumulated error
        self.exposure = np.zeros(n)  # forecast: Σ p × traffic share taken part in today
        self.share = np.zeros(n)  # traffic share of the day passed at the last update
        self.spent = np.zeros(n)  # spend today at the last update
        self.demand = np.full(n, np.nan)  # forecast prior: yesterday's full-participation demand estimate
        self.last_update = -np.inf

    @property
    def curve(self) -> np.ndarray:
        """Today's (24,) hourly traffic shares: the week curve's row for the current day's weekday."""
        return self.week[weekday(self.day)] if self.day is not None else self.week.mean(axis=0)

    @curve.setter
    def curve(self, value: np.ndarray) -> None:
        self.week = as_week(value)

    def target(self, ts: float, hours: np.ndarray) -> np.ndarray:
        """Share of each campaign's daily budget the traffic forecast says is due by `ts` (before compression)."""
        return target_share(self.week, hours, ts)

    def _start(self) -> float:
        return self.config.p_start if self.config.enabled else 1.0

    def resize(self, n: int) -> None:
        """Keep state for existing campaigns, start new ones fresh (campaign list grew or shrank at the end)."""
        if n != len(self.p):
            self.remap(list(range(len(self.p))), list(range(n)))

    def remap(self, old_ids: list, new_ids: list) -> None:
        """Carry each campaign's state to its place in a new campaign list; new campaigns start fresh."""
        pos = {c: j for j, c in enumerate(old_ids)}
        rows = np.array([pos.get(c, -1) for c in new_ids], np.int64)
        have = rows >= 0
        for name, fresh in STATE.items():
            old = getattr(self, name)
            new = np.full(len(new_ids), self._start() if fresh is None else fresh, np.float64)
            if len(old) == len(old_ids) and have.any():
                new[have] = old[rows[have]]
            setattr(self, name, new)

    def update(self, ts: float, spend_today: np.ndarray, daily_budget: np.ndarray, hours: np.ndarray) -> np.ndarray:
        """Advance the controller if an interval has passed (and reset it at a new day); return p."""
        cfg = self.config
        if not cfg.enabled or cfg.controller == "fixed":
            return self.p
        day = int(ts // 86400)
        if day != self.day:
            if self.day is not None and cfg.controller == "forecast":  # yesterday's demand estimate is today's prior
                self.demand = self._forecast(self.spent, daily_budget)
            self.day = day
            self.p[:] = cfg.p_start
            for name in ("integral", "exposure", "share", "spent"):
                getattr(self, name)[:] = 0.0
            self.last_update = -np.inf
        if ts - self.last_update < cfg.interval_s:
            return self.p
        self.last_update = ts
        if cfg.controller == "pi":
            return self._update_pi(ts, day, spend_today, daily_budget, hours)
        return self._update_forecast(ts, day, spend_today, daily_budget, hours)

    def _forecast(self, spend: np.ndarray, budget: np.ndarray) -> np.ndarray:
        """Full-participation daily spend: today's spend over today's exposure, shrunk toward the prior."""
        w0 = self.config.prior_share
        prior = np.where(np.isfinite(self.demand), self.demand, budget)
        return (spend + w0 * prior) / np.maximum(self.exposure + w0, 1e-9)

    def _update_forecast(self, ts: float, day: int, spend: np.ndarray, budget: np.ndarray, hours: np.ndarray) -> np.ndarray:
        cfg = self.config
        sec = ts - day * 86400
        finish = cfg.finish_by_h * 3600
        now = _cum_share(self.curve, hours, sec)
        self.exposure += self.p * np.maximum(now - self.share, 0.0)  # the p held since the last update
        self.share = now
        self.spent = np.asarray(spend, np.float64).copy()
        if sec >= finish:  # late-day catch-up: take part everywhere until the cap stops the campaign
            self.p = np.ones(len(self.p))
            return self.p
        demand = self._forecast(self.spent, budget)
        left = np.maximum(_cum_share(self.curve, hours, finish) - now, 1e-9)  # traffic share until finish_by_h
        remaining = np.maximum(budget - self.spent, 0.0) * (1 + cfg.margin)
        p = remaining / np.maximum(demand * left, 1e-12)
        due = _cum_share(self.curve, hours, sec * 24.0 / cfg.finish_by_h)  # the target curve, compressed to finish_by_h
        err = due - self.spent / np.maximum(budget, 1e-12)  # > 0: behind the target curve
        self.p = np.clip(p * np.exp(cfg.kp * err), cfg.p_min, 1.0)
        return self.p

    def _update_pi(self, ts: float, day: int, spend: np.ndarray, budget: np.ndarray, hours: np.ndarray) -> np.ndarray:
        cfg = self.config
        sec = (ts - day * 86400 + cfg.lookahead_s) * 24.0 / cfg.finish_by_h
        target = _cum_share(self.curve, hours, min(sec, 86400.0))
        err = target - spend / np.maximum(budget, 1e-12)  # > 0: behind the curve
        log_p = np.log(cfg.p_start) + cfg.kp * err + cfg.ki * (self.integral + err)
        # anti-windup: only integrate while p is not pinned at a limit in the error's direction
        pinned = ((log_p >= 0.0) & (err > 0)) | ((log_p <= np.log(cfg.p_min)) & (err < 0))
        self.integral = np.where(pinned, self.integral, self.integral + err)
        self.p = np.clip(np.exp(np.log(cfg.p_start) + cfg.kp * err + cfg.ki * self.integral), cfg.p_min, 1.0)
        return self.p
