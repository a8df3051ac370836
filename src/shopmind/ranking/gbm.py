"""One gradient-boosting wrapper around LightGBM: train, predict, save/load, explain.

Search's LambdaMART ranker, the ads pCTR model, the assistant's attribute ranker and the demand forecaster all
train through `GBM.train` (lambdarank with query groups, binary, or a regression objective; early stopping on a
validation set when given). A model is saved as LightGBM's own text format plus a JSON sidecar holding the feature
names, parameters and metrics — never a pickle — and `explain` gives per-feature gains and, per prediction,
SHAP-style contributions that sum to the raw score.

Training is deterministic for the same data and parameters: LightGBM's seeds are fixed (its defaults, or `seed`),
and its threads are fixed by `num_threads` (1 unless the parameters name a thread count), so a shared machine
never changes a model. Prediction runs on one thread: requests already run side by side.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson

logger = logging.getLogger(__name__)

THREAD_KEYS = ("num_threads", "num_thread", "nthread", "nthreads", "n_jobs")
"""LightGBM's aliases of num_threads: a caller naming any of them keeps its own thread count."""
EARLY_STOPPING_ROUNDS = 30


def _lgb() -> Any:
    import lightgbm

    return lightgbm


def train_params(params: Mapping[str, Any], *, objective: str | None = None, seed: int | None = None) -> dict[str, Any]:
    """The LightGBM parameters a model trains with: `params`, plus the objective and seed when given, quiet
    logging and one thread unless `params` say otherwise (nothing else is added, so results equal plain lgb.train)."""
    out = dict(params)
    if objective is not None:
        out["objective"] = objective
    if seed is not None:
        out["seed"] = seed
    out.setdefault("verbose", -1)
    if not any(k in out for k in THREAD_KEYS):
        out["num_threads"] = 1
    return out


class GBM:
    """A trained LightGBM booster with its feature names, training parameters and metrics."""

    def __init__(self, booster: Any, features: Sequence[str], params: Mapping[str, Any] | None = None,
                 metrics: Mapping[str, Any] | None = None) -> None:
        names = list(features)
        if booster.num_feature() != len(names):
            raise ValueError(f"model has {booster.num_feature()} features, {len(names)} names given")
        self.booster = booster
        self.features = names
        self.params = dict(params or {})
        self.metrics = dict(metrics or {})

    # ------------------------------------------------------------------ train
    @classmethod
    def train(
        cls,
        X: np.ndarray,
        y: np.ndarray,
        *,
        features: Sequence[str],
        params: Mapping[str, Any],
        rounds: int = 100,
        objective: str | None = None,
        group: Sequence[int] | None = None,
        valid: tuple[np.ndarray, np.ndarray, Sequence[int] | None] | None = None,
        early_stopping_rounds: int = EARLY_STOPPING_ROUNDS,
        categorical: Sequence[int] = (),
        seed: int | None = None,
    ) -> GBM:
        """Fit `rounds` boosting rounds on rows X with labels y (`group`: rows per query, in order, for lambdarank);
        with `valid` = (X, y, group or None) stop when its metric has not improved for `early_stopping_rounds`."""
        lgb = _lgb()
        p = train_params(params, objective=objective, seed=seed)
        cats = list(categorical) if categorical else "auto"
        train = lgb.Dataset(X, label=y, group=list(group) if group is not None else None, feature_name=list(features),
                            categorical_feature=cats, free_raw_data=True)
        valid_sets, callbacks = [], []
        if valid is not None and len(valid[1]):
            vgroup = list(valid[2]) if valid[2] is not None else None
            valid_sets = [lgb.Dataset(valid[0], label=valid[1], group=vgroup, reference=train)]
            callbacks = [lgb.early_stopping(early_stopping_rounds, verbose=False)]
        booster = lgb.train(p, train, num_boost_round=rounds, valid_sets=valid_sets, callbacks=callbacks)
        metrics: dict[str, Any] = {"rows": len(y), "rounds": int(booster.current_iteration())}
        if valid_sets:
            metrics["best_iteration"] = int(booster.best_iteration)
            metrics["valid"] = {k: float(v) for k, v in booster.best_score.get("valid_0", {}).items()}
        logger.debug("trained %s on %d rows: %s", p.get("objective", "regression"), len(y), metrics)
        return cls(booster, features, p, metrics)

    # ---------------------------------------------------------------- predict
    @property
    def best_iteration(self) -> int | None:
        """Rounds predictions use (None: all of them)."""
        return self.booster.best_iteration or None

    def predict(self, X: np.ndarray, *, raw_score: bool = False) -> np.ndarray:
        """Scores of feature rows (the objective's output, or the raw tree sum with `raw_score`), on one thread."""
        if len(X) == 0:
            return np.zeros(0)
        return np.asarray(self.booster.predict(X, num_iteration=self.best_iteration, raw_score=raw_score, num_threads=1))

    # ---------------------------------------------------------------- explain
    def importance(self) -> dict[str, float]:
        """Total split gain of each feature: what the model leans on overall."""
        gains = self.booster.feature_importance(importance_type="gain", iteration=self.best_iteration)
        return {f: float(g) for f, g in zip(self.features, gains, strict=True)}

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Per-row SHAP contributions (TreeSHAP): shape (n, n_features + 1), the last column the bias; each row
        sums to the row's raw score."""
        if len(X) == 0:
            return np.zeros((0, len(self.features) + 1))
        return np.asarray(self.booster.predict(X, num_iteration=self.best_iteration, pred_contrib=True, num_threads=1))

    def explain(self, X: np.ndarray, top: int = 5) -> list[dict[str, float]]:
        """The `top` features that moved each row's raw score most, as {feature: contribution} (largest |value| first)."""
        contrib = self.contributions(X)[:, :-1]
        out = []
        for row in contrib:
            order = np.argsort(-np.abs(row), kind="stable")[:top]
            out.append({self.features[i]: round(float(row[i]), 6) for i in order if row[i] != 0})
        return out

    # ------------------------------------------------------------- save/load
    def model_string(self) -> str:
        """LightGBM's text model (the rounds predictions use only)."""
        return str(self.booster.model_to_string(num_iteration=self.best_iteration))

    def sidecar(self) -> dict[str, Any]:
        """What the JSON beside the text model holds."""
        return {"features": self.features, "params": self.params, "metrics": self.metrics}

    def save(self, model_path: Path, sidecar_path: Path, extra: Mapping[str, Any] | None = None) -> None:
        """Write the text model and its JSON sidecar (feature names, params, metrics, and `extra` keys)."""
        self.booster.save_model(str(model_path), num_iteration=self.best_iteration)
        sidecar_path.write_bytes(orjson.dumps({**self.sidecar(), **(extra or {})}, default=_jsonable,
                                              option=orjson.OPT_SERIALIZE_NUMPY))

    @classmethod
    def from_string(cls, model: str, features: Sequence[str], params: Mapping[str, Any] | None = None,
                    metrics: Mapping[str, Any] | None = None) -> GBM:
        """A model from LightGBM's text format (e.g. embedded in a JSON file)."""
        return cls(_lgb().Booster(model_str=model), features, params, metrics)

    @classmethod
    def load(cls, model_path: Path, sidecar_path: Path, features: Sequence[str] | None = None) -> tuple[GBM, dict[str, Any]] | None:
        """(model, sidecar dict) from `save`'s files, or None when the model file is missing. With `features`,
        a model trained on other feature names is an error naming both lists."""
        if not model_path.is_file():
            return None
        meta = orjson.loads(sidecar_path.read_bytes())
        names = list(meta["features"])
        if features is not None and names != list(features):
            raise ValueError(f"model {model_path} was trained on features {names}, this code uses {list(features)}")
        gbm = cls(_lgb().Booster(model_file=str(model_path)), names, meta.get("params"), meta.get("metrics"))
        return gbm, meta


def _jsonable(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")
