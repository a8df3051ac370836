"""Rolling-origin backtests, forecast metrics and conformal prediction intervals.

An origin o forecasts leads gap+1 … gap+horizon; a target period is scored from every origin that reaches it.
Intervals are split-conformal on log units: the quantiles of past log residuals per lead, refreshed as the
origin rolls on with the residuals of targets that have become known (never later ones).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from shopmind.forecast.data import Panel, SalesDataError

log = logging.getLogger(__name__)


class Forecaster(Protocol):
    """What the backtest needs of a model."""

    name: str
    fit_seconds: float

    def fit(self, panel: Panel, origin: int, leads: list[int]) -> Any: ...

    def predict(self, panel: Panel, origin: int, leads: list[int]) -> np.ndarray: ...


@dataclass
class Protocol_:
    """Which origins and leads a backtest uses: targets from `start` to `end` (column indexes, inclusive)."""

    start: int
    end: int
    horizon: int = 1
    gap: int = 0
    step: int = 1

    @property
    def leads(self) -> list[int]:
        """Lead times each origin forecasts."""
        return list(range(self.gap + 1, self.gap + self.horizon + 1))

    def origins(self) -> list[int]:
        """Every origin whose forecasts land in [start, end], on the `step` grid anchored at start − gap − 1."""
        anchor = self.start - self.gap - 1
        first = self.start - self.gap - self.horizon
        return [o for o in range(max(first, 0), self.end - self.gap) if (o - anchor) % self.step == 0]


@dataclass
class Forecasts:
    """Scored forecasts of one backtest: one entry per (series, target period, lead)."""

    series: np.ndarray
    target: np.ndarray
    lead: np.ndarray
    y: np.ndarray
    f: np.ndarray
    lo: np.ndarray | None = None
    hi: np.ndarray | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    def subset(self, mask: np.ndarray) -> Forecasts:
        """The entries where `mask` holds."""
        pick = lambda a: None if a is None else a[mask]
        return Forecasts(self.series[mask], self.target[mask], self.lead[mask], self.y[mask], self.f[mask], pick(self.lo), pick(self.hi), self.seconds)


def metrics(y: np.ndarray, f: np.ndarray, lo: np.ndarray | None = None, hi: np.ndarray | None = None) -> dict[str, float]:
    """MAPE (rows with y > 0), WAPE and sMAPE in percent on forecasts rounded to whole units; interval coverage."""
    f = np.round(f)
    pos = y > 0
    out = {
        "mape": float(np.mean(np.abs(f[pos] - y[pos]) / y[pos]) * 100) if pos.any() else float("nan"),
        "wape": float(np.abs(f - y).sum() / max(y.sum(), 1e-9) * 100),
        "smape": float(np.mean(np.where((y + f) > 0, 2 * np.abs(f - y) / np.maximum(np.abs(y) + np.abs(f), 1e-9), 0.0)) * 100),
        "rows": len(y),
    }
    if lo is not None and hi is not None:
        out["coverage"] = float(np.mean((y >= np.floor(lo)) & (y <= np.ceil(hi))) * 100)
    return out


def run_backtest(panel: Panel, model: Forecaster, proto: Protocol_, refit_periods: int = 1) -> Forecasts:
    """Forecast every origin of `proto`, refitting once `refit_periods` periods passed since the last fit."""
    leads = proto.leads
    parts: list[tuple[np.ndarray, ...]] = []
    fit_s = pred_s = 0.0
    last_fit = None
    for o in proto.origins():
        t0 = time.perf_counter()
        if last_fit is None or o - last_fit >= max(1, refit_periods):
            model.fit(panel, o, leads)
            last_fit = o
        t1 = time.perf_counter()
        fc = model.predict(panel, o, leads)
        pred_s += time.perf_counter() - t1
        fit_s += t1 - t0
        for j, lead in enumerate(leads):
            t = o + lead
            if t < proto.start or t > proto.end or t >= panel.n_periods:
                continue
            y = panel.y[:, t]
            ok = ~np.isnan(y) & ~np.isnan(fc[:, j])
            idx = np.nonzero(ok)[0]
            parts.append((idx, np.full(len(idx), t), np.full(len(idx), lead), y[idx], fc[idx, j]))
    if not parts:
        raise SalesDataError("the backtest window holds no observed target periods")
    series_col, target_col, lead_col, y_col, f_col = (np.concatenate([p[k] for p in parts]) for k in range(5))
    log.info("%s backtest: %d origins, fit %.1fs, predict %.1fs", model.name, len(proto.origins()), fit_s, pred_s)
    return Forecasts(series_col, target_col, lead_col, y_col, f_col, seconds={"fit_s": round(fit_s, 2), "predict_s": round(pred_s, 2)})


@dataclass
class Conformal:
    """Split-conformal intervals on log units per lead, fed with residuals as targets become known."""

    level: float = 80.0
    window: int = 12  # target periods of residuals kept per lead
    _res: dict[int, list[tuple[int, np.ndarray]]] = field(default_factory=dict)

    def add(self, lead: int, target: int, y: np.ndarray, f: np.ndarray) -> None:
        """Remember the log residuals of one lead's forecasts for one target period."""
        self._res.setdefault(lead, []).append((target, np.log1p(y) - np.log1p(np.maximum(f, 0))))

    def quantiles(self, lead: int, known_until: int) -> tuple[float, float]:
        """Lower and upper residual quantiles from targets up to `known_until` (the most recent `window`)."""
        usable = [(t, r) for t, r in self._res.get(lead, []) if t <= known_until]
        if not usable:
            usable = [(t, r) for lead_res in self._res.values() for t, r in lead_res if t <= known_until]
        if not usable:
            return (-np.inf, np.inf)
        recent = sorted({t for t, _ in usable})[-self.window:]
        res = np.concatenate([r for t, r in usable if t in set(recent)])
        alpha = (100 - self.level) / 200
        n = len(res)
        q_hi = min(1.0, np.ceil((n + 1) * (1 - alpha)) / n)
        q_lo = max(0.0, np.floor((n + 1) * alpha) / n - 1 / n)
        return float(np.quantile(res, q_lo)), float(np.quantile(res, q_hi))

    def fill(self, fc: Forecasts) -> Forecasts:
        """Intervals for every entry in origin order, each from residuals of targets known at its origin."""
        lo = np.empty(len(fc.f))
        hi = np.empty(len(fc.f))
        origins = fc.target - fc.lead
        pending = sorted({(int(t), int(ld)) for t, ld in zip(fc.target, fc.lead, strict=True)})
        for origin in np.unique(origins):
            while pending and pending[0][0] <= origin:  # these targets are known at this origin
                t, ld = pending.pop(0)
                m = (fc.target == t) & (fc.lead == ld)
                self.add(ld, t, fc.y[m], fc.f[m])
            for lead in np.unique(fc.lead[origins == origin]):
                m = (origins == origin) & (fc.lead == lead)
                q_lo, q_hi = self.quantiles(int(lead), int(origin))
                base = np.log1p(np.maximum(fc.f[m], 0))
                lo[m] = np.maximum(np.expm1(base + q_lo), 0)
                hi[m] = np.expm1(base + q_hi)
        for t, ld in pending:
            m = (fc.target == t) & (fc.lead == ld)
            self.add(ld, t, fc.y[m], fc.f[m])
        fc.lo, fc.hi = lo, hi
        return fc
