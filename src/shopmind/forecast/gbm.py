"""The global gradient-boosting forecaster: one LightGBM model over every series and lead time.

It learns log-demand relative to each series' recent level from lags, windows, calendar, price, deal and
feature-ad covariates (known for the forecast period) and the lead itself, so one model serves all series,
new ones included. Forecasts are the learned median scaled by `shrink`, a factor the backtest tunes for MAPE.
Trained through the shared `shopmind.ranking.gbm.GBM` wrapper (one model per seed, averaged).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shopmind.forecast.data import Panel
from shopmind.forecast.features import FeatureBuilder
from shopmind.ranking.gbm import GBM

logger = logging.getLogger(__name__)

DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "l1",
    "learning_rate": 0.05,
    "num_leaves": 63,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "num_threads": 1,
    "verbose": -1,
    "seed": 0,
}


@dataclass
class GBMForecaster:
    """LightGBM on log units relative to the series level; `fit` at an origin, `predict` leads after it."""

    name: str = "lightgbm"
    params: dict[str, Any] = field(default_factory=dict)
    rounds: int = 400
    history: int = 104  # training targets from at most this many periods before the origin
    shrink: float = 1.0
    seeds: int = 1
    max_train_rows: int = 2_000_000  # a uniform sample beyond this: a global model needs rows, not every series
    _models: list[GBM] = field(default_factory=list, repr=False)
    _fb: FeatureBuilder | None = field(default=None, repr=False)
    _panel_id: int = field(default=0, repr=False)
    fit_seconds: float = 0.0

    def _features(self, panel: Panel) -> FeatureBuilder:
        if self._fb is None or self._panel_id != id(panel):
            self._fb = FeatureBuilder(panel)
            self._panel_id = id(panel)
        return self._fb

    def fit(self, panel: Panel, origin: int, leads: list[int]) -> GBMForecaster:
        """Train on every target period up to `origin` (inclusive) for each lead; reads no later sales."""
        started = time.perf_counter()
        fb = self._features(panel)
        xs, ys = [], []
        lo = max(0, origin - self.history + 1)
        cols = np.arange(lo, origin + 1)
        rows = None
        per_series = len(cols) * len(leads)
        if panel.n_series * per_series > self.max_train_rows * 1.5:  # sample whole series before building features
            n = max(1, self.max_train_rows // per_series)
            rows = np.sort(np.random.default_rng(0).choice(panel.n_series, n, replace=False))
        for lead in leads:
            feats = fb.matrix(lead, cols, rows)
            target = (fb.ly if rows is None else fb.ly[rows])[:, cols] - fb.base(lead, cols, rows)
            ok = ~np.isnan(target)
            xs.append(feats[ok])
            ys.append(target[ok])
        x = np.concatenate(xs)
        y = np.concatenate(ys)
        if len(y) > self.max_train_rows:
            keep = np.sort(np.random.default_rng(0).choice(len(y), self.max_train_rows, replace=False))
            x, y = x[keep], y[keep]
        if len(y) < 50:
            raise ValueError(f"too little history before period {panel.periods[origin]} to train {self.name} ({len(y)} rows)")
        names = fb.names()
        cats = [i for i, n in enumerate(names) if n.startswith("id_")]
        params = {**DEFAULT_PARAMS, **self.params}
        self._models = [GBM.train(x, y, features=names, params=params, rounds=self.rounds, categorical=cats, seed=params["seed"] + s)
                        for s in range(self.seeds)]
        self.fit_seconds += time.perf_counter() - started
        logger.debug("%s: trained on %d rows up to %s in %.1fs", self.name, len(y), panel.periods[origin], time.perf_counter() - started)
        return self

    def predict_log(self, panel: Panel, origin: int, leads: list[int]) -> np.ndarray:
        """Log1p forecasts (n_series, len(leads)) made at `origin` (NaN for series with no history yet)."""
        fb = self._features(panel)
        out = np.full((panel.n_series, len(leads)), np.nan)
        for j, lead in enumerate(leads):
            t = origin + lead
            if t >= panel.n_periods:
                continue
            feats = fb.matrix(lead, np.array([t]))[:, 0, :]
            base = fb.base(lead, np.array([t]))[:, 0]
            pred = np.mean([m.predict(feats) for m in self._models], axis=0)
            out[:, j] = pred + base
        return out

    def predict(self, panel: Panel, origin: int, leads: list[int]) -> np.ndarray:
        """Unit forecasts (n_series, len(leads)) made at `origin`."""
        return np.maximum(np.expm1(self.predict_log(panel, origin, leads)) * self.shrink, 0.0)
