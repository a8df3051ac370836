"""Popularity and trending: time-decayed, weighted event counts, globally and per category.

Trending = counts decayed with a half-life measured back from the newest event, so last week's risers beat
last year's best-sellers. Scores ignore the user's history (it is only used to exclude seen items).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

import numpy as np

from shopmind.recommend.base import Interactions, Recommender, register


@register("popular")
class Popular(Recommender):
    """Weighted event counts with exponential time decay (half_life_s=None → plain popularity)."""

    def __init__(self, half_life_s: float | None = None, weighted: bool = True) -> None:
        super().__init__(half_life_s=half_life_s, weighted=weighted)
        self.scores = np.zeros(0, dtype=np.float32)

    def fit(self, interactions: Interactions) -> Self:
        """Sum (decayed) event weights per item."""
        self.n_items = interactions.n_items
        self.scores = self._counts(interactions)
        return self

    def _counts(self, interactions: Interactions, mask: np.ndarray | None = None) -> np.ndarray:
        w = interactions.weights.astype(np.float64) if self.params["weighted"] else np.ones(interactions.n_events)
        hl = self.params["half_life_s"]
        if hl and interactions.n_events:
            age = interactions.ts.max() - interactions.ts
            w = w * np.exp2(-age / float(hl))
        items = interactions.items
        if mask is not None:
            w, items = w[mask], items[mask]
        return np.bincount(items, weights=w, minlength=interactions.n_items).astype(np.float32)

    def counts_where(self, interactions: Interactions, mask: np.ndarray) -> np.ndarray:
        """Decayed counts over a subset of events (a context segment: device, location, hour)."""
        return self._counts(interactions, mask)

    def score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """The same popularity vector for everyone."""
        return np.broadcast_to(self.scores, (len(histories), self.n_items))

    def item_vectors(self) -> None:
        return None

    def similar_items(self, item_ids: np.ndarray | Sequence[int], k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Most popular other items (popularity has no notion of similarity)."""
        return super().similar_items(item_ids, k)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"scores": self.scores}

    def _set_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.scores = arrays["scores"]


@register("trending")
class Trending(Popular):
    """Popularity with a 7-day half-life by default (falls back to positions when the data has no time)."""

    def __init__(self, half_life_s: float | None = 7 * 86400.0, weighted: bool = True) -> None:
        super().__init__(half_life_s=half_life_s, weighted=weighted)


def per_category_top(scores: np.ndarray, item_category: np.ndarray, n_categories: int, k: int) -> np.ndarray:
    """(n_categories × k) best items of each category by `scores` (-1 pads), for "popular in Z" rows."""
    out = np.full((n_categories, k), -1, dtype=np.int64)
    order = np.lexsort((-scores, item_category))
    cats = item_category[order]
    starts = np.searchsorted(cats, np.arange(n_categories))
    ends = np.searchsorted(cats, np.arange(n_categories), side="right")
    for c in range(n_categories):  # loop over categories (tens), at build time only
        take = order[starts[c] : min(ends[c], starts[c] + k)]
        out[c, : len(take)] = take
    return out
