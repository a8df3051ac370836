"""Weighted score blending of several fitted models, weights chosen on validation only.

Each member's scores are normalised per user (divided by that user's max absolute score over all items) so
weights compare across models with different scales; members are any `Recommender`s.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Self

import numpy as np

from shopmind.recommend.base import Interactions, Recommender, register


def normalise_rows(s: np.ndarray) -> np.ndarray:
    """Scale each row to max |score| = 1 (a row of zeros stays zero)."""
    s = np.asarray(s, dtype=np.float32)
    m = np.abs(s).max(axis=1, keepdims=True)
    return s / np.where(m > 0, m, 1.0)


@register("blend")
class Blend(Recommender):
    """Σ w_m · normalised score_m over member models (members fitted beforehand or by `fit`)."""

    def __init__(self, weights: Sequence[float] = (), members: Sequence[str] = ()) -> None:
        super().__init__(weights=list(weights), members=list(members))
        self.models: list[Recommender] = []

    def with_models(self, models: Sequence[Recommender], weights: Sequence[float]) -> Self:
        """Use already-fitted members."""
        self.models = list(models)
        self.params["weights"] = [float(w) for w in weights]
        self.params["members"] = [m.name for m in models]
        self.n_items = models[0].n_items
        return self

    def fit(self, interactions: Interactions) -> Self:
        """Fit every member on the same interactions."""
        for m in self.models:
            m.fit(interactions)
        self.n_items = interactions.n_items
        return self

    def member_scores(self, histories: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Normalised scores of each member (exposed so weight search scores each member once)."""
        return [normalise_rows(m.score(histories)) for m in self.models]

    def score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """Weighted sum of normalised member scores."""
        out = np.zeros((len(histories), self.n_items), dtype=np.float32)
        for w, s in zip(self.params["weights"], self.member_scores(histories), strict=False):
            if w:
                out += np.float32(w) * s
        return out

    def save(self, path: str | Path) -> None:
        """params.json plus one sub-directory per member."""
        super().save(path)
        for i, m in enumerate(self.models):
            m.save(Path(path) / f"member{i}")

    def _after_load(self, path: Path) -> None:
        self.models = [Recommender.load(path / f"member{i}") for i in range(len(self.params["members"]))]
        if self.models:
            self.n_items = self.models[0].n_items


def search_weights(
    member_val_scores: list[np.ndarray],
    histories: Sequence[np.ndarray],
    targets: np.ndarray,
    grid: Sequence[float] = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0),
) -> tuple[list[float], float]:
    """Greedy coordinate search of blend weights maximising validation NDCG@10 (member 0 weight fixed at 1)."""
    from shopmind.ranking.metrics import hit_rank_metrics
    from shopmind.recommend.base import mask_scores

    n = len(targets)
    rows = np.arange(n)

    def ndcg(weights: list[float]) -> float:
        s = sum(np.float32(w) * m for w, m in zip(weights, member_val_scores, strict=False))
        s = np.array(s, dtype=np.float32, copy=True)
        tgt = s[rows, targets].copy()
        mask_scores(s, histories, None, True)
        ranks = (s > tgt[:, None]).sum(axis=1)
        return hit_rank_metrics(ranks, 10)[1]

    weights = [1.0] + [0.0] * (len(member_val_scores) - 1)
    best = ndcg(weights)
    for _ in range(2):
        for j in range(1, len(weights)):
            for g in grid:
                trial = list(weights)
                trial[j] = g
                val = ndcg(trial)
                if val > best + 1e-6:
                    best, weights = val, trial
    return weights, best


__all__ = ["Blend", "normalise_rows", "search_weights"]
_ = json
