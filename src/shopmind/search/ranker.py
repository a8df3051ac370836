"""Learning to rank: search's LambdaMART model over the registry's "search" features, via the shared GBM wrapper,
saved as `ranker.txt` (LightGBM text) + `ranker.json` (feature names, params, metrics)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shopmind.ranking.features import feature_names
from shopmind.ranking.gbm import GBM

logger = logging.getLogger(__name__)

FEATURES = feature_names("search")
"""Columns of the candidate feature matrix, in order (described in shopmind.ranking.features)."""


class Ranker:
    """LambdaMART over FEATURES; predict() scores a query's candidate feature matrix."""

    def __init__(self, model: GBM) -> None:
        self.model = model

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
    ) -> Ranker:
        """Train LambdaMART (early-stopped on `valid` when given); `params` as in SearchConfig.ranker_params."""
        p = dict(params)
        n_estimators = int(p.pop("n_estimators", 300))
        p.setdefault("objective", "lambdarank")
        p.setdefault("metric", "ndcg")
        p.setdefault("eval_at", [10])
        p.setdefault("label_gain", [0, 1, 3, 7, 15, 31])
        va = valid if valid is not None and len(valid[2]) else None
        model = GBM.train(X, y, features=FEATURES, params=p, rounds=n_estimators, group=groups, valid=va)
        logger.info("search ranker trained on %d queries: %s", len(groups), model.metrics)
        return cls(model)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Scores of candidates (higher is better)."""
        return self.model.predict(X).astype(np.float32)

    def importance(self) -> dict[str, float]:
        """Total split gain per feature."""
        return self.model.importance()

    def explain(self, X: np.ndarray, top: int = 5) -> list[dict[str, float]]:
        """Per candidate, the features that moved its score most (SHAP contributions)."""
        return self.model.explain(X, top)

    def save(self, path: Path) -> None:
        """LightGBM text model + JSON sidecar (feature names, params, metrics)."""
        self.model.save(path / "ranker.txt", path / "ranker.json")

    @classmethod
    def load(cls, path: Path) -> Ranker | None:
        """The saved ranker, or None when there is none or it was trained on other features (a rebuild retrains)."""
        if not (path / "ranker.json").is_file():
            return None
        try:
            loaded = GBM.load(path / "ranker.txt", path / "ranker.json", features=FEATURES)
        except ValueError as e:
            logger.warning("ignoring saved ranker: %s", e)
            return None
        return cls(loaded[0]) if loaded is not None else None
