"""Simulated sessions of optimized interleaving (`experiments.optimized`) on the same lists and click model as `OfflineLab`.

Each query's fair design is solved once (at most depth + 1 lists carry weight); a session draws one of them by its
probability, clicks under the click model, and scores the summed credit of its clicks (positive = B). `exact_moments`
gives that score's mean and variance over uniform queries and the design with no sampling error, so the sessions
needed for a power follow from the normal approximation exactly as for team draft.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shopmind.simulate.offline import OfflineLab

__all__ = ["OptimizedLab"]
log = logging.getLogger(__name__)


@dataclass
class OptimizedLab:
    """Optimized interleaving of `lab`'s two rankings under `lab`'s click model, with credit `credit`."""

    lab: OfflineLab
    credit: str = "negative"
    normalise: bool = False  # divide each query's credits by its design's credit scale (`Design.scale`)
    fair_depths: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        from shopmind.experiments.optimized import design

        k = self.lab.model.k
        designs = [design(a[:k], b[:k], k, self.credit) for a, b in zip(self.lab.lists_a, self.lab.lists_b, strict=True)]
        m = max(len(d.lists) for d in designs)
        q = len(designs)
        self.weights = np.zeros((q, m))
        self.credits = np.zeros((q, m, k))
        grades = np.full((q, m, k), np.nan)
        for i, (d, judged) in enumerate(zip(designs, self.lab.judged, strict=True)):
            self.weights[i, : len(d.lists)] = d.probs
            unit = d.scale() if self.normalise else 1.0
            for j, ids in enumerate(d.lists):
                self.credits[i, j, : d.credits.shape[1]] = d.credits[j] / (unit or 1.0)
                grades[i, j, : len(ids)] = [float(judged.get(x, 0.0)) for x in ids]
        self.click_probs = np.nan_to_num(self.lab.model.click_probs(grades))
        self.fair_depths = [d.fair_depth for d in designs]
        self._cdf = np.cumsum(self.weights, axis=1)

    @property
    def not_fully_fair(self) -> int:
        """Queries whose design could not be fair at every depth (see `experiments.optimized`)."""
        return sum(1 for d, a, b in zip(self.fair_depths, self.lab.lists_a, self.lab.lists_b, strict=True)
                   if d < min(self.lab.model.k, len(set(a) | set(b))))

    def scores(self, query_idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Per session on the given queries: the summed credit of its clicks (positive = B preferred)."""
        u = rng.random(len(query_idx))[:, None]
        j = np.minimum((u > self._cdf[query_idx]).sum(axis=1), self.weights.shape[1] - 1)
        clicked = rng.random((len(query_idx), self.lab.model.k)) < self.click_probs[query_idx, j]
        return (clicked * self.credits[query_idx, j]).sum(axis=1)

    def exact_moments(self) -> dict[str, float]:
        """Mean and variance of one session's score (clicks independent given the list, as the click model has them)."""
        p, c, w = self.click_probs, self.credits, self.weights
        mean_l = (p * c).sum(axis=2)  # (Q, M): expected score of each list
        var_l = (p * (1 - p) * c * c).sum(axis=2)
        m1 = float((w * mean_l).sum(axis=1).mean())
        m2 = float((w * (var_l + mean_l**2)).sum(axis=1).mean())
        return {"score_mean": m1, "score_var": m2 - m1 * m1}

    def normal_sessions_for_power(self, alpha: float = 0.05, power: float = 0.8) -> float | None:
        """Sessions for `power` of the one-sample t-test of the mean score (normal approximation, exact moments)."""
        from scipy.stats import norm

        m = self.exact_moments()
        if m["score_mean"] <= 0:
            return None
        return float((norm.ppf(1 - alpha / 2) + norm.ppf(power)) ** 2 * m["score_var"] / m["score_mean"] ** 2)

    def rejections(self, n_grid: Sequence[int], reps: int, *, alpha: float = 0.05, seed: int = 5) -> np.ndarray:
        """(len(n_grid), reps): did the t-test of the mean score over n simulated sessions find B better?"""
        from shopmind.experiments.interleave import interleaving_t_test

        rng = np.random.default_rng(seed)
        out = np.zeros((len(n_grid), reps), bool)
        for g, n in enumerate(n_grid):
            for r in range(reps):
                res = interleaving_t_test(self.scores(rng.integers(self.lab.queries, size=int(n)), rng), alpha)
                out[g, r] = res.p_value < alpha and res.effect > 0
        return out

    def describe(self) -> dict[str, Any]:
        """What the design looks like over the queries: lists with weight, and how many are fair at every depth."""
        used = (self.weights > 0).sum(axis=1)
        return {"credit": self.credit, "normalised": self.normalise, "lists_with_weight_median": float(np.median(used)), "lists_with_weight_max": int(used.max()),
                "queries_not_fair_at_every_depth": self.not_fully_fair, "queries": self.lab.queries}
