"""Per-series forecasters: naive, seasonal naive and statsforecast's AutoETS / AutoTheta / AutoARIMA.

Every forecaster has the same two calls as the global model: `fit(panel, origin, leads)` reads sales up to
the origin only, `predict(panel, origin, leads)` returns units (n_series, len(leads)). Gaps are filled with
the last observed value for the per-series models, as the published baselines did.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shopmind.forecast.data import Panel, ffill

log = logging.getLogger(__name__)

STAT_MODELS = ("ets", "theta", "arima")


@dataclass
class NaiveForecaster:
    """The last observed value (the published 'Naive' baseline)."""

    name: str = "naive"
    fit_seconds: float = 0.0

    def fit(self, panel: Panel, origin: int, leads: list[int]) -> NaiveForecaster:
        """Nothing to learn."""
        return self

    def predict(self, panel: Panel, origin: int, leads: list[int]) -> np.ndarray:
        """The value at the origin (carried over gaps) for every lead."""
        last = ffill(panel.y[:, : origin + 1])[:, -1]
        return np.repeat(last[:, None], len(leads), axis=1)


@dataclass
class SeasonalNaiveForecaster:
    """The value one season (a year of weeks, a week of days) before the target; the last value if none."""

    name: str = "seasonal_naive"
    fit_seconds: float = 0.0

    def fit(self, panel: Panel, origin: int, leads: list[int]) -> SeasonalNaiveForecaster:
        """Nothing to learn."""
        return self

    def predict(self, panel: Panel, origin: int, leads: list[int]) -> np.ndarray:
        """y[t − season] (gap-filled) for each target t = origin + lead."""
        filled = ffill(panel.y[:, : origin + 1])
        out = np.empty((panel.n_series, len(leads)))
        for j, lead in enumerate(leads):
            src = origin + lead - panel.season
            while src > origin:
                src -= panel.season
            out[:, j] = filled[:, src] if src >= 0 else filled[:, -1]
            miss = np.isnan(out[:, j])
            out[miss, j] = filled[miss, -1]
        return out


def _make_stat(kind: str, season: int) -> Any:
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

    if kind == "ets":
        return AutoETS(season_length=season, model="ZZN" if season == 1 else "ZZZ", alias="ets")
    if kind == "theta":
        return AutoTheta(season_length=season, alias="theta")
    if kind == "arima":
        return AutoARIMA(season_length=season, max_p=3, max_q=3, max_P=1, max_Q=1, approximation=True, alias="arima")
    raise ValueError(f"model: unknown statistical model {kind!r}; use one of {', '.join(STAT_MODELS)}")


@dataclass
class StatForecaster:
    """One statsforecast model per series on log units; refitted every `refit_every` origins, else rolled forward.

    Between refits the fitted parameters are kept and only the newer observations are filtered through them
    (statsforecast's `forward`), as `cross_validation(refit=False)` does: AutoARIMA's order search costs about
    0.2 s a series, the forward pass a hundredth of that.
    """

    kind: str = "ets"
    season: int = 1  # weekly series rarely hold the two years a 52-week season needs
    min_history: int = 8
    refit_every: int = 1
    name: str = ""
    fit_seconds: float = 0.0
    _models: dict[int, Any] = field(default_factory=dict, repr=False)
    _calls: int = field(default=0, repr=False)
    _fc: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.name = self.name or self.kind
        _make_stat(self.kind, self.season)  # fail early on an unknown kind

    def fit(self, panel: Panel, origin: int, leads: list[int]) -> StatForecaster:
        """Fit (or roll forward) every series with at least `min_history` observations up to `origin`."""
        import warnings

        started = time.perf_counter()
        refit = self._calls % max(1, self.refit_every) == 0
        self._calls += 1
        hist = np.log1p(ffill(panel.y[:, : origin + 1]))
        seen = (~np.isnan(panel.y[:, : origin + 1])).sum(axis=1)
        h = max(leads)
        out = np.full((panel.n_series, h), np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i in np.nonzero(seen >= self.min_history)[0].tolist():
                series = hist[i][~np.isnan(hist[i])]
                try:
                    model = self._models.get(i)
                    if refit or model is None:
                        model = _make_stat(self.kind, self.season).fit(series)
                        self._models[i] = model
                        out[i] = model.predict(h=h)["mean"]
                    else:
                        out[i] = model.forward(y=series, h=h)["mean"]
                except Exception as exc:  # noqa: BLE001 - one degenerate series must not stop the others
                    log.debug("%s: series %s not fitted (%s); naive used", self.name, panel.keys[i], exc)
        naive = NaiveForecaster().predict(panel, origin, list(range(1, h + 1)))
        out = np.where(np.isfinite(out), out, np.log1p(naive))
        self._fc[origin] = out
        self.fit_seconds += time.perf_counter() - started
        log.debug("%s: fitted at %s (refit=%s) in %.1fs", self.name, panel.periods[origin], refit, time.perf_counter() - started)
        return self

    def predict(self, panel: Panel, origin: int, leads: list[int]) -> np.ndarray:
        """Forecasts made by the fit at this origin (fitting there first if needed)."""
        if origin not in self._fc:
            self.fit(panel, origin, leads)
        fc = self._fc.pop(origin)
        return np.maximum(np.expm1(fc[:, [lead - 1 for lead in leads]]), 0.0)
