"""Click-through prediction: a fixed feature layout, a LightGBM classifier and a cross-fitted calibration map.

The classifier trains through the shared `shopmind.ranking.gbm.GBM`, the columns are the feature registry's
"ads_ctr" set, and the calibration maps and checks live in `shopmind.ranking.calibration` (re-exported here).
The same `FEATURES` layout is filled by the serving path (one row per candidate ad, vectorised) and by
training (one row per logged impression), so a model can never see features in a different order
than it was trained on. Calibration maps raw scores to click rates, fitted on out-of-fold scores (folds
by user, `user_folds`): Platt scaling (two parameters) below `isotonic_min_clicks` clicks, isotonic
regression (pool-adjacent-violators) above; stored as JSON next to the LightGBM text model.
`calibration_table` reports predicted vs observed CTR per decile with clicks and 95 % intervals; `hosmer_lemeshow`
tests whether the deciles' gaps as a whole are larger than binomial noise."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from shopmind.ranking.calibration import (
    calibrate,
    calibration_error,
    calibration_table,
    fit_calibration,
    hosmer_lemeshow,
    isotonic_fit,
    platt_fit,
    wilson_interval,
)
from shopmind.ranking.features import feature_names
from shopmind.ranking.gbm import GBM
from shopmind.ranking.metrics import auc

logger = logging.getLogger(__name__)

__all__ = ["CTR_FOLDS", "FEATURES", "N_FEATURES", "CtrModel", "auc", "calibration_error", "calibration_table",
           "hosmer_lemeshow", "isotonic_fit", "platt_fit", "user_folds", "wilson_interval"]

FEATURES = tuple(feature_names("ads_ctr"))
"""Columns of a pCTR row (position, placement, relevance, ...; described in shopmind.ranking.features)."""
N_FEATURES = len(FEATURES)
CTR_FOLDS = 4
"""User folds of the cross-fitting: out-of-fold target statistics (model.py) and out-of-fold calibration scores."""


def user_folds(groups: np.ndarray, folds: int = CTR_FOLDS, seed: int = 7) -> np.ndarray:
    """Fold of each row, the same for every row of a user (a seeded draw per distinct user)."""
    _, inv = np.unique(np.asarray(groups), return_inverse=True)
    return np.random.default_rng(seed).integers(0, folds, inv.max() + 1 if len(inv) else 0)[inv]


class CtrModel:
    """LightGBM pCTR with an isotonic calibration map; `predict` takes an (n, N_FEATURES) float array."""

    PARAMS: ClassVar[dict[str, Any]] = {
        "objective": "binary", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 100,
        "feature_fraction": 0.9, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
        "num_threads": 1, "verbose": -1, "seed": 7,
    }

    def __init__(self, model: GBM, calibration: dict[str, Any], metrics: dict[str, Any] | None = None) -> None:
        self.model = model
        self.calibration = calibration  # {"method": "platt", "a", "b"} or {"method": "isotonic", "x", "y"}
        self.metrics = metrics or {}

    @property
    def booster(self) -> Any:
        """The LightGBM booster underneath."""
        return self.model.booster

    @classmethod
    def fit(cls, X: np.ndarray, y: np.ndarray, *, groups: np.ndarray | None = None, rounds: int = 200, folds: int = CTR_FOLDS,
            isotonic_min_clicks: int = 1000, seed: int = 7) -> CtrModel:
        """Cross-fitted calibration: out-of-fold scores (folds split by `groups`, i.e. users, so each score is for a
        user the trees never saw — as at serving) fit the calibration map; the served trees use every row. (Checked on
        the ads bench: the full-data trees' held-out raw scores have the same spread and logistic slope as the average
        of the fold models', so the map fitted on fold scores applies to them; serving the fold models gained nothing.)
        Isotonic with plenty of clicks, Platt (two parameters, stable on few clicks) otherwise."""
        if groups is not None:
            fold = user_folds(groups, folds, seed)
        else:
            fold = np.random.default_rng(seed).integers(0, folds, len(y))

        def train(rows: np.ndarray) -> GBM:
            return GBM.train(X[rows], y[rows], features=FEATURES, params=cls.PARAMS, rounds=rounds, seed=seed)

        oof = np.empty(len(y))
        for f in range(folds):
            held = fold == f
            oof[held] = train(~held).predict(X[held], raw_score=True)
        cal = fit_calibration(oof, y, isotonic_min_clicks)
        model = cls(train(np.ones(len(y), bool)), cal)
        pred = model.calibrate(oof)
        weighted, worst = calibration_error(pred, y)
        model.metrics = {"calibration": cal["method"], "impressions": len(y), "clicks": int(y.sum()), "folds": folds,
                         "oof_auc": round(auc(pred, y), 4), "oof_calibration_error": round(weighted, 4),
                         "oof_calibration_worst_decile": round(worst, 4)}
        logger.info("pCTR model trained: %s", model.metrics)
        return model

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Calibrated click probabilities for feature rows."""
        if len(X) == 0:
            return np.zeros(0)
        return self.calibrate(self.model.predict(np.ascontiguousarray(X, np.float64), raw_score=True))

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        """Raw tree scores → click probabilities with the fitted calibration map."""
        return calibrate(self.calibration, raw)

    def explain(self, X: np.ndarray, top: int = 5) -> list[dict[str, float]]:
        """Per row, the features that moved its raw (pre-calibration) score most."""
        return self.model.explain(np.ascontiguousarray(X, np.float64), top)

    def save(self, out_dir: Path) -> None:
        """Write `ctr_model.txt` (LightGBM text) and `ctr_calibration.json` (features, params, calibration, metrics)."""
        self.model.save(out_dir / "ctr_model.txt", out_dir / "ctr_calibration.json",
                        extra={"calibration": self.calibration, "metrics": self.metrics})

    @classmethod
    def load(cls, out_dir: Path) -> CtrModel | None:
        """Read a saved model, or None where the directory holds none (ValueError: trained on other features)."""
        loaded = GBM.load(out_dir / "ctr_model.txt", out_dir / "ctr_calibration.json", features=FEATURES)
        if loaded is None:
            return None
        model, meta = loaded
        return cls(model, meta["calibration"], meta.get("metrics"))
