"""Budget pacing: probabilistic throttling steered by a PI controller toward a traffic-shaped spend curve.

Each campaign takes part in an auction with probability `p`. Every `interval_s` the controller compares
the share of the daily budget spent so far with the share the day's traffic curve says should be spent
by now (restricted to the campaign's serving hours), and moves `p` up when behind, down when ahead.
A campaign with ample demand therefore spends steadily through the day instead of in its first hour.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field


class PacingConfig(BaseModel):
    """Controller gains and limits."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    interval_s: float = Field(default=300.0, gt=0, description="seconds between controller updates")
    kp: float = Field(default=10.0, ge=0, description="gain on log p per unit of spend-share error")
    ki: float = Field(default=1.0, ge=0, description="gain on log p per unit of accumulated error (per update)")
    p_min: float = Field(default=0.005, gt=0, le=1)
    p_start: float = Field(default=0.3, gt=0, le=1)
    lookahead_s: float = Field(default=600.0, ge=0, description="aim at the curve this far ahead (offsets reaction lag)")
    finish_by_h: float = Field(default=22.0, gt=1, le=24, description="the curve is compressed to end here: slack for noisy clicks")


def target_share(curve: np.ndarray, hours: np.ndarray, ts: float) -> np.ndarray:
    """Share of each campaign's daily budget due by `ts` under a 24-bin traffic curve, over allowed hours.

    curve: (24,) traffic weights; hours: (C, 24) bool serving hours. Returns (C,) in [0, 1]."""
    w = hours * curve[None, :]
    w = w / np.maximum(w.sum(axis=1, keepdims=True), 1e-12)
    cum = np.concatenate([np.zeros((len(w), 1)), np.cumsum(w, axis=1)], axis=1)
    sec = ts % 86400
    hour = int(sec // 3600)
    frac = (sec - hour * 3600) / 3600
    return np.clip(cum[:, hour] + frac * w[:, hour], 0.0, 1.0)


class Pacer:
    """Per-campaign participation probabilities, updated from spend against the target curve."""

    def __init__(self, n: int, curve: np.ndarray, config: PacingConfig | None = None) -> None:
        self.config = config or PacingConfig()
        self.curve = np.asarray(curve, np.float64)
        self.p = np.full(n, self.config.p_start if self.config.enabled else 1.0)
        self.integral = np.zeros(n)
        self.last_update = -np.inf
        self.day = None

    def resize(self, n: int) -> None:
        """Keep state for existing campaigns, start new ones fresh (campaign list changed)."""
        if n != len(self.p):
            p = np.full(n, self.config.p_start if self.config.enabled else 1.0)
            integ = np.zeros(n)
            m = min(n, len(self.p))
            p[:m], integ[:m] = self.p[:m], self.integral[:m]
            self.p, self.integral = p, integ

    def update(self, ts: float, spend_today: np.ndarray, daily_budget: np.ndarray, hours: np.ndarray) -> np.ndarray:
        """Advance the controller if an interval has passed (and reset it at a new day); return p."""
        cfg = self.config
        if not cfg.enabled:
            return self.p
        day = int(ts // 86400)
        if day != self.day:
            self.day = day
            self.p[:] = cfg.p_start
            self.integral[:] = 0.0
            self.last_update = -np.inf
        if ts - self.last_update < cfg.interval_s:
            return self.p
        self.last_update = ts
        sec = (ts - day * 86400 + cfg.lookahead_s) * 24.0 / cfg.finish_by_h
        target = target_share(self.curve, hours, day * 86400 + min(sec, 86399.0))
        err = target - spend_today / np.maximum(daily_budget, 1e-12)  # > 0: behind the curve
        log_p = np.log(cfg.p_start) + cfg.kp * err + cfg.ki * (self.integral + err)
        # anti-windup: only integrate while p is not pinned at a limit in the error's direction
        pinned = ((log_p >= 0.0) & (err > 0)) | ((log_p <= np.log(cfg.p_min)) & (err < 0))
        self.integral = np.where(pinned, self.integral, self.integral + err)
        self.p = np.clip(np.exp(np.log(cfg.p_start) + cfg.kp * err + cfg.ki * self.integral), cfg.p_min, 1.0)
        return self.p
