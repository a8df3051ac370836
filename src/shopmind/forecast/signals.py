"""What forecasts change: rising series, stock-out risk, and price response (elasticity and what-if).

- rising: series whose forecast for the next periods exceeds their own recent history by more than their
  usual week-to-week noise (a z-score on log units), so a small item doubling from 1 to 2 does not drown a
  real surge;
- stock-out risk: forecast demand over the horizon against stock, with the upper interval for "may run out";
- elasticity: within-series log-log regression of units on price with promotion and feature-ad terms,
  shrunk toward the pooled estimate where a series' own prices barely move.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from shopmind.forecast.data import Panel, SalesDataError, ffill

log = logging.getLogger(__name__)


def rising(panel: Panel, forecast: np.ndarray, *, window: int = 13, recent: int = 3, min_units: float = 3.0, z_min: float = 1.0,
           k: int = 20) -> list[dict[str, Any]]:
    """Series whose mean forecast beats their history by at least `z_min` times their usual noise.

    History is the median of the `window` periods before the latest `recent` ones (a surge in progress does not
    raise its own bar), noise the median absolute period-to-period log change there, never below a count's own
    Poisson noise 1/sqrt(level + 1) (nor 0.15).
    """
    hist = panel.y[:, -(window + recent):-recent] if recent else panel.y[:, -window:]
    seen = (~np.isnan(hist)).sum(axis=1)
    fmean = np.nanmean(forecast, axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # series with one observation have no spread: floored below
        base = np.where(seen > 0, np.nanmedian(hist, axis=1), 0.0)
        steps = np.abs(np.diff(np.log1p(ffill(hist)), axis=1))
        noise = 1.4826 * np.nanmedian(steps, axis=1)  # robust: the start of a surge does not widen its own bar
    # counting noise: a Poisson count at level b wanders about 1/sqrt(b) in log terms even when nothing changes
    floor = np.maximum(0.15, 1.0 / np.sqrt(base + 1.0))
    noise = np.where(np.isfinite(noise), np.maximum(noise, floor), floor)
    growth = np.log1p(fmean) - np.log1p(base)
    z = growth / noise
    ok = (seen >= 2) & (fmean >= min_units) & (z >= z_min) & np.isfinite(z)
    order = np.argsort(-z[ok])[:k]
    idx = np.nonzero(ok)[0][order]
    return [
        {"key": "/".join(panel.keys[i]), "forecast": round(float(fmean[i]), 2), "history": round(float(base[i]), 2),
         "growth": round(float(np.expm1(growth[i])) * 100, 1), "z": round(float(z[i]), 2)}
        for i in idx
    ]


def stockout_risk(items: list[dict[str, Any]], *, horizon: int) -> list[dict[str, Any]]:
    """Alerts for items whose forecast (or upper interval) over `horizon` periods reaches their stock.

    Each item: {"id", "stock", "forecast": [per period], "hi": [per period]}; returns the at-risk ones, worst first,
    with the period in which the point forecast runs out ("likely") or only the upper bound does ("possible").
    """
    alerts = []
    for it in items:
        stock = it.get("stock")
        if stock is None:
            continue
        cum = np.cumsum(np.asarray(it["forecast"][:horizon], dtype=float))
        cum_hi = np.cumsum(np.asarray(it["hi"][:horizon], dtype=float))
        if len(cum) == 0 or cum_hi[-1] < stock:
            continue
        likely = bool(cum[-1] >= stock)
        hit = int(np.argmax((cum if likely else cum_hi) >= stock)) + 1
        per_period = float(cum[-1] / len(cum)) if len(cum) else 0.0
        alerts.append({"id": it["id"], "stock": stock, "risk": "likely" if likely else "possible", "runs_out_in": hit,
                       "forecast_total": round(float(cum[-1]), 1), "upper_total": round(float(cum_hi[-1]), 1),
                       "cover_periods": round(stock / per_period, 1) if per_period > 0 else None})
    return sorted(alerts, key=lambda a: (a["risk"] != "likely", a["runs_out_in"], -a["forecast_total"]))


@dataclass
class Elasticity:
    """Price response of one series: log units ≈ level + e·log(price/ref) + promo·deal + feat·feature."""

    key: str
    elasticity: float
    stderr: float
    promotion: float  # log-lift of a promotion (deal) period
    feature: float  # log-lift of a featured period
    ref_price: float
    level: float  # mean log1p units at the reference price, recent periods
    n: int

    def demand(self, price: float, promotion: bool = False, feature: bool = False) -> dict[str, float]:
        """Expected units (and a 90% band from the elasticity's standard error) at `price`."""
        if not np.isfinite(price) or price <= 0:
            raise SalesDataError("price must be a positive number")
        dlog = np.log(price / self.ref_price)
        mid = self.level + self.elasticity * dlog + self.promotion * promotion + self.feature * feature
        spread = 1.645 * self.stderr * abs(dlog)
        units = float(np.expm1(mid))
        return {"units": round(units, 2), "low": round(float(np.expm1(mid - spread)), 2), "high": round(float(np.expm1(mid + spread)), 2),
                "revenue": round(units * price, 2)}

    def to_json(self) -> dict[str, Any]:
        """The estimate as plain numbers."""
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    dof = max(len(y) - x.shape[1], 1)
    sigma2 = float(resid @ resid) / dof
    cov = sigma2 * np.linalg.pinv(x.T @ x)
    return beta, np.sqrt(np.maximum(np.diag(cov), 0))


def elasticities(panel: Panel, *, price: str = "price", promo: str | None = None, feat: str | None = None, prior_n: float = 30.0) -> list[Elasticity]:
    """Per-series elasticities from history (within-series variation), shrunk toward the pooled estimate."""
    if price not in panel.x:
        raise SalesDataError(f"price: the sales history has no {price!r} column")
    promo = promo or next((c for c in ("deal", "promotion", "promo") if c in panel.x), None)
    feat = feat or next((c for c in ("feat", "feature", "display") if c in panel.x), None)
    ly = np.log1p(panel.y)
    lp = np.log(np.where(panel.x[price] > 0, panel.x[price], np.nan))
    extra = [panel.x[c] for c in (promo, feat) if c is not None]
    ok = ~np.isnan(ly) & ~np.isnan(lp)
    for e in extra:
        ok &= ~np.isnan(e)

    def demean(a: np.ndarray) -> np.ndarray:
        m = np.where(ok, a, np.nan)
        return np.where(ok, m - np.nanmean(m, axis=1, keepdims=True), 0.0)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a series without a priced row has no mean: it is skipped
        dy, dp = demean(ly), demean(lp)
        dx = [demean(e) for e in extra]
    if ok.sum() < 8 * (1 + len(extra)):
        raise SalesDataError(f"too little sales history with prices to estimate elasticities ({int(ok.sum())} rows)")
    pooled_x = np.stack([dp[ok], *[d[ok] for d in dx]], axis=1)
    pooled, _ = _ols(pooled_x, dy[ok])
    out = []
    for i in range(panel.n_series):
        m = ok[i]
        n = int(m.sum())
        if n < 8:
            continue
        xi = np.stack([dp[i, m], *[d[i, m] for d in dx]], axis=1)
        beta, se = _ols(xi, dy[i, m])
        var_p = float(np.var(dp[i, m]))
        w = (n * var_p) / (n * var_p + prior_n * 0.01)  # little own-price variation → lean on the pool
        coef = w * beta + (1 - w) * pooled
        recent = np.nonzero(m)[0][-8:]
        ref = float(np.exp(np.mean(lp[i, recent])))
        adj = coef[0] * (lp[i, recent] - np.log(ref))
        for j, e in enumerate(extra):
            adj = adj + coef[1 + j] * e[i, recent]
        level = float(np.mean(ly[i, recent] - adj))
        out.append(Elasticity(key="/".join(panel.keys[i]), elasticity=float(coef[0]), stderr=float(se[0]) if np.isfinite(se[0]) else float("nan"),
                              promotion=float(coef[1]) if promo else 0.0, feature=float(coef[1 + (promo is not None)]) if feat else 0.0,
                              ref_price=ref, level=level, n=n))
    return out
