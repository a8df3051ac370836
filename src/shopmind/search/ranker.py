"""Learning to rank: search's LambdaMART model over the registry's "search" features, via the shared GBM wrapper,
saved as `ranker.txt` (LightGBM text) + `ranker.json` (feature names, params, metrics, dropped columns).

A column that holds one value on every training row (e.g. the personal columns when no judged search has a user,
brand BM25 on a catalog without brands) is dropped from the model explicitly: the model is trained on the other
columns, `dropped` names each one with the reason, and predict() picks the model's columns out of the full matrix."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shopmind.ranking.features import constant_features, feature_names
from shopmind.ranking.gbm import GBM

logger = logging.getLogger(__name__)

FEATURES = feature_names("search")
"""Columns of the candidate feature matrix, in order (described in shopmind.ranking.features)."""


class Ranker:
    """LambdaMART over FEATURES; predict() scores a query's candidate feature matrix."""

    def __init__(self, model: GBM, dropped: Mapping[str, str] | None = None) -> None:
        unknown = [f for f in model.features if f not in FEATURES]
        if unknown:
            raise ValueError(f"ranker trained on features this code does not compute: {unknown}")
        self.model = model
        self.dropped = dict(dropped or {})
        self.columns = np.array([FEATURES.index(f) for f in model.features], np.int64)

    @property
    def features(self) -> list[str]:
        """The columns the model uses, in order (FEATURES less the dropped ones)."""
        return list(self.model.features)

    @property
    def booster(self) -> Any:
        """The LightGBM booster underneath."""
        return self.model.booster

    @classmethod
    def fit(
        cls,
        X: np.ndarray,
        y: np.ndarray,
        groups: Sequence[int],
        params: Mapping[str, Any],
        valid: tuple[np.ndarray, np.ndarray, Sequence[int]] | None = None,
        drop: Sequence[str] = (),
    ) -> Ranker:
        """Train LambdaMART (early-stopped on `valid` when given) on the columns of X (FEATURES) that vary, less `drop`;
        `params` as in SearchConfig.ranker_params."""
        dropped = dict.fromkeys(drop, "excluded by the caller")
        dropped.update({f: "constant in training" for f in constant_features(X, FEATURES) if f not in dropped})
        keep = [i for i, f in enumerate(FEATURES) if f not in dropped]
        if dropped:
            logger.info("search ranker: %d columns dropped: %s", len(dropped), dropped)
        p = dict(params)
        n_estimators = int(p.pop("n_estimators", 300))
        p.setdefault("objective", "lambdarank")
        p.setdefault("metric", "ndcg")
        p.setdefault("eval_at", [10])
        p.setdefault("label_gain", [0, 1, 3, 7, 15, 31])
        va = (valid[0][:, keep], valid[1], valid[2]) if valid is not None and len(valid[2]) else None
        model = GBM.train(X[:, keep], y, features=[FEATURES[i] for i in keep], params=p, rounds=n_estimators, group=groups, valid=va)
        logger.info("search ranker trained on %d queries: %s", len(groups), model.metrics)
        return cls(model, dropped)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Scores of candidates (rows of the full FEATURES matrix; higher is better)."""
        return self.model.predict(X[:, self.columns]).astype(np.float32)

    def importance(self) -> dict[str, float]:
        """Total split gain per feature."""
        return self.model.importance()

    def explain(self, X: np.ndarray, top: int = 5) -> list[dict[str, float]]:
        """Per candidate, the features that moved its score most (SHAP contributions)."""
        return self.model.explain(X[:, self.columns], top)

    def save(self, path: Path) -> None:
        """LightGBM text model + JSON sidecar (feature names, params, metrics, dropped columns and why)."""
        self.model.save(path / "ranker.txt", path / "ranker.json", extra={"dropped": self.dropped})

    @classmethod
    def load(cls, path: Path) -> Ranker | None:
        """The saved ranker, or None when there is none or it was trained on other features (a rebuild retrains)."""
        if not (path / "ranker.json").is_file():
            return None
        try:
            loaded = GBM.load(path / "ranker.txt", path / "ranker.json")
        except ValueError as e:  # the sidecar names another number of columns than the model has
            logger.warning("ignoring saved ranker: %s", e)
            return None
        if loaded is None:
            return None
        model, meta = loaded
        dropped = meta.get("dropped", {})
        if [f for f in FEATURES if f not in dropped] != model.features:
            logger.warning("ignoring saved ranker: trained on features %s (dropped %s), this code uses %s", model.features,
                           sorted(dropped), FEATURES)
            return None
        return cls(model, dropped)
