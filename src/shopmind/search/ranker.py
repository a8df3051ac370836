"""Learning to rank: candidate features and a LightGBM LambdaMART model saved as a text file."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

FEATURES = [
    "bm25",
    "bm25_title",
    "bm25_brand",
    "bm25_category",
    "bm25_attributes",
    "bm25_description",
    "bm25_pinyin",
    "title_coverage",
    "title_idf_coverage",
    "title_last_term",
    "title_all_terms",
    "dense_cos",
    "dense_cos_gap",
    "lex_rank_log",
    "dense_rank_log",
    "rrf",
    "convex",
    "intent_match",
    "entity_match",
    "popularity",
    "ctr",
    "conversion",
    "age_days",
    "in_stock",
    "price_fit",
    "user_affinity",
    "query_terms",
    "title_terms",
    "rising_item",  # forecast demand growth z-score of the item (0: not rising, or no event history)
    "rising_category",  # the same for its top-level category
]


class Ranker:
    """LambdaMART over FEATURES; predict() scores a query's candidate feature matrix."""

    def __init__(self, booster) -> None:
        self.booster = booster

    @classmethod
    def fit(
        cls,
        X: np.ndarray,
        y: np.ndarray,
        groups: Sequence[int],
        params: dict,
        valid: tuple[np.ndarray, np.ndarray, Sequence[int]] | None = None,
    ) -> Ranker:
        """Train LambdaMART (early-stopped on `valid` when given)."""
        import lightgbm as lgb

        params = dict(params)
        n_estimators = int(params.pop("n_estimators", 300))
        params.setdefault("objective", "lambdarank")
        params.setdefault("metric", "ndcg")
        params.setdefault("eval_at", [10])
        params.setdefault("label_gain", [0, 1, 3, 7, 15, 31])
        train = lgb.Dataset(X, label=y, group=list(groups), feature_name=FEATURES, free_raw_data=True)
        valid_sets, callbacks = [], []
        if valid is not None and len(valid[2]):
            valid_sets = [lgb.Dataset(valid[0], label=valid[1], group=list(valid[2]), reference=train)]
            callbacks = [lgb.early_stopping(30, verbose=False)]
        booster = lgb.train(params, train, num_boost_round=n_estimators, valid_sets=valid_sets, callbacks=callbacks)
        return cls(booster)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Scores of candidates (higher is better)."""
        n = self.booster.best_iteration or None
        return np.asarray(self.booster.predict(X, num_iteration=n, num_threads=1), np.float32)

    def importance(self) -> dict[str, float]:
        gains = self.booster.feature_importance(importance_type="gain")
        return {f: float(g) for f, g in zip(FEATURES, gains)}

    def save(self, path: Path) -> None:
        """LightGBM text model + feature names."""
        self.booster.save_model(str(path / "ranker.txt"), num_iteration=self.booster.best_iteration or None)
        (path / "ranker.json").write_text(json.dumps({"features": FEATURES}))

    @classmethod
    def load(cls, path: Path) -> Ranker | None:
        import lightgbm as lgb

        f = path / "ranker.txt"
        if not f.exists():
            return None
        meta = json.loads((path / "ranker.json").read_text())
        if meta["features"] != FEATURES:
            return None
        return cls(lgb.Booster(model_file=str(f)))
