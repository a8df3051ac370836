"""Model selection and the evaluation contract behind `shopmind eval forecast`.

Candidates are backtested on a validation window that ends before the test period T (nothing from T on is
read), the best model is chosen globally, per group (an id column) or per series, the global model's MAPE
shrink factor and the conformal residuals come from the same window, and the chosen models are then scored
by rolling origin from T on.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from shopmind.forecast.backtest import Conformal, Forecasts, Protocol_, metrics, run_backtest
from shopmind.forecast.data import Panel
from shopmind.forecast.gbm import GBMForecaster
from shopmind.forecast.models import NaiveForecaster, SeasonalNaiveForecaster, StatForecaster

log = logging.getLogger(__name__)

MODELS = ("naive", "seasonal_naive", "ets", "theta", "arima", "lightgbm")
DEFAULT_MODELS = ("naive", "seasonal_naive", "ets", "theta", "lightgbm")
SHRINKS = (1.0, 0.95, 0.9, 0.85, 0.8, 0.75)
# Refit cadence (periods) per model in backtests: AutoARIMA's order search is the slow part, so it is fitted
# once per window and rolled forward; the global model is retrained every 4 periods.
REFIT = {"lightgbm": 4, "arima": 1000, "ets": 4, "theta": 4}


def make_model(name: str, panel: Panel, *, seeds: int = 1) -> Any:
    """A fresh forecaster by name; raises naming the model when it is unknown."""
    if name == "naive":
        return NaiveForecaster()
    if name == "seasonal_naive":
        return SeasonalNaiveForecaster()
    if name in ("ets", "theta", "arima"):
        return StatForecaster(kind=name, refit_every=REFIT[name])  # counted in origins by the model itself
    if name == "lightgbm":
        return GBMForecaster(seeds=seeds)
    raise ValueError(f"models: unknown model {name!r}; use some of {', '.join(MODELS)}")


def _groups(panel: Panel, select_by: str) -> np.ndarray:
    if select_by == "global":
        return np.zeros(panel.n_series, dtype=np.int64)
    if select_by == "series":
        return np.arange(panel.n_series)
    return panel.group_codes(select_by).astype(np.int64)


def _backtest(panel: Panel, name: str, model: Any, proto: Protocol_) -> Forecasts:
    """Stat models refit themselves (every REFIT periods, rolled forward between); others per REFIT."""
    periods = 1 if isinstance(model, StatForecaster) else REFIT.get(name, 1)
    return run_backtest(panel, model, proto, refit_periods=periods)


def evaluate(
    panel: Panel,
    *,
    test_from: Any,
    horizon: int = 1,
    gap: int = 0,
    step: int = 1,
    models: tuple[str, ...] = DEFAULT_MODELS,
    select_by: str = "global",
    validation: int = 12,
    level: float = 80.0,
    score_all: bool = False,
    seeds: int = 1,
) -> dict[str, Any]:
    """Select on the `validation` periods before `test_from`, then backtest the choice from `test_from` on."""
    if horizon < 1 or gap < 0 or step < 1:
        raise ValueError("horizon must be ≥ 1, gap ≥ 0 and step ≥ 1")
    for m in models:
        if m not in MODELS:
            raise ValueError(f"models: unknown model {m!r}; use some of {', '.join(MODELS)}")
    t = panel.index_of(test_from)
    last = panel.n_periods - 1
    if t > last:
        raise ValueError(f"test-from {test_from!r}: no periods after it")
    val = Protocol_(start=t - validation, end=t - 1, horizon=horizon, gap=gap, step=step)
    if min(val.origins(), default=-1) < 8:
        raise ValueError(f"test-from {test_from!r}: too little history before it for a {validation}-period validation window")
    test = Protocol_(start=t, end=last, horizon=horizon, gap=gap, step=step)
    groups = _groups(panel, select_by)
    started = time.perf_counter()

    # 1. validation: every candidate on periods before T only
    inner: dict[str, Forecasts] = {}
    fitted: dict[str, Any] = {}
    shrink = 1.0
    for name in models:
        model = make_model(name, panel, seeds=seeds)
        fc = _backtest(panel, name, model, val)
        if name == "lightgbm":
            scores = {k: metrics(fc.y, fc.f * k)["mape"] for k in SHRINKS}
            shrink = min(scores, key=scores.__getitem__)
            fc.f = fc.f * shrink
            log.info("lightgbm: MAPE shrink %.2f chosen on validation (%s)", shrink, {k: round(v, 2) for k, v in scores.items()})
        inner[name] = fc
        fitted[name] = model
    val_scores = {name: metrics(fc.y, fc.f) for name, fc in inner.items()}
    global_best = min(val_scores, key=lambda n: val_scores[n]["mape"])
    choice: dict[int, str] = {}
    for g in np.unique(groups):
        best, best_score = global_best, np.inf
        for name, fc in inner.items():
            mask = groups[fc.series] == g
            if mask.sum() < 20:
                continue
            score = metrics(fc.y[mask], fc.f[mask])["mape"]
            if score < best_score:
                best, best_score = name, score
        choice[int(g)] = best
    chosen = sorted(set(choice.values()))

    # 2. conformal residuals from the chosen models' validation forecasts
    conformal = Conformal(level=level, window=max(validation, 4))
    pick = np.array([choice[int(g)] for g in groups])
    for name in chosen:
        fc = inner[name].subset(pick[inner[name].series] == name)
        for tgt in np.unique(fc.target):
            for lead in np.unique(fc.lead[fc.target == tgt]):
                m = (fc.target == tgt) & (fc.lead == lead)
                conformal.add(int(lead), int(tgt), fc.y[m], fc.f[m])

    # 3. test window: the chosen models (or every candidate with score_all)
    outer: dict[str, Forecasts] = {}
    for name in models if score_all else chosen:
        model = make_model(name, panel, seeds=seeds)
        if name == "lightgbm":
            model.shrink = shrink
        outer[name] = _backtest(panel, name, model, test)
    parts = [outer[name].subset(pick[outer[name].series] == name) for name in chosen]
    series, target, lead, y, f = (np.concatenate([getattr(p, a) for p in parts]) for a in ("series", "target", "lead", "y", "f"))
    combined = Forecasts(series, target, lead, y, f)
    combined = conformal.fill(combined)
    result = metrics(combined.y, combined.f, combined.lo, combined.hi)
    counts = {name: int(sum(1 for v in choice.values() if v == name)) for name in chosen}
    model_label = chosen[0] if len(chosen) == 1 else f"per {select_by}: " + ", ".join(f"{n}×{c}" for n, c in counts.items())
    out: dict[str, Any] = {
        "mape": round(result["mape"], 3),
        "wape": round(result["wape"], 3),
        "smape": round(result["smape"], 3),
        "coverage": round(result["coverage"], 2),
        "level": level,
        "model": model_label,
        "rows": result["rows"],
        "test_from": str(panel.periods[t]),
        "horizon": horizon,
        "gap": gap,
        "step": step,
        "select_by": select_by,
        "lightgbm_shrink": shrink if "lightgbm" in models else None,
        "validation": {n: {k: round(v, 3) for k, v in s.items()} for n, s in val_scores.items()},
        "seconds": round(time.perf_counter() - started, 1),
    }
    if score_all:
        out["test_by_model"] = {n: {**{k: round(v, 3) for k, v in metrics(fc.y, fc.f).items()}, **fc.seconds} for n, fc in outer.items()}
    return out
