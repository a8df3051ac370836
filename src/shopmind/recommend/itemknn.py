"""Item-to-item co-occurrence neighbours (item-kNN) with session/time-window awareness.

Similarity: co-occurrence counts within a window of `window` steps in each user's sequence (None = the
whole history, the classic item-kNN), pairs weighted by `pair_decay`**(distance-1), normalised as cosine
(`C_ij / (n_i^alpha n_j^(1-alpha))`) or lift. Only the `neighbours` best per item are kept (sparse).
Scoring a history sums the neighbour rows of its items, newest items weighted most (`recency`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

import numpy as np
import scipy.sparse as sp

from shopmind.recommend.base import Interactions, Recommender, histories_csr, recency_weights, register


def cooccurrence(interactions: Interactions, window: int | None, pair_decay: float = 1.0, directed_forward: float = 1.0) -> sp.csr_matrix:
    """Item × item co-occurrence: whole-history (window=None) or within `window` steps, decayed by distance."""
    n = interactions.n_items
    if window is None:
        x = interactions.csr(binary=True)
        c = (x.T @ x).tocsr().astype(np.float32)
        c.setdiag(0)
        c.eliminate_zeros()
        return c
    items = interactions.items.astype(np.int64)
    user = interactions.user_of_event()
    rows, cols, vals = [], [], []
    for d in range(1, int(window) + 1):
        same = user[d:] == user[:-d]
        a, b = items[:-d][same], items[d:][same]
        w = np.full(len(a), pair_decay ** (d - 1), dtype=np.float32)
        rows += [a, b]
        cols += [b, a]
        vals += [w * directed_forward, w]  # a→b follows in time: weight the forward direction
    if not rows:
        return sp.csr_matrix((n, n), dtype=np.float32)
    c = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    c.sum_duplicates()
    c.setdiag(0)
    c.eliminate_zeros()
    return c


def keep_top(m: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep the k largest entries of each row (vectorised over the CSR data)."""
    m = m.tocsr()
    m.sort_indices()
    lens = np.diff(m.indptr)
    if lens.max(initial=0) <= k:
        return m
    row = np.repeat(np.arange(m.shape[0]), lens)
    order = np.lexsort((-m.data, row))
    rank = np.arange(len(order)) - np.repeat(m.indptr[:-1], lens)
    keep = order[rank < k]
    keep.sort()
    out = sp.csr_matrix((m.data[keep], m.indices[keep], np.r_[0, np.cumsum(np.minimum(lens, k))]), shape=m.shape)
    return out


@register("itemknn")
class ItemKNN(Recommender):
    """Co-occurrence item-kNN (cosine or lift) with windowed co-occurrence and recency-weighted scoring."""

    query_params = frozenset({"recency"})

    def __init__(
        self,
        window: int | None = None,
        pair_decay: float = 1.0,
        forward: float = 1.0,
        similarity: str = "cosine",
        alpha: float = 0.5,
        shrink: float = 0.0,
        neighbours: int = 200,
        recency: float = 1.0,
    ) -> None:
        super().__init__(window=window, pair_decay=pair_decay, forward=forward, similarity=similarity, alpha=alpha,
                         shrink=shrink, neighbours=neighbours, recency=recency)
        self.sim = sp.csr_matrix((0, 0), dtype=np.float32)

    def fit(self, interactions: Interactions) -> Self:
        """Count co-occurrences, normalise, keep the top neighbours per item."""
        p = self.params
        self.n_items = interactions.n_items
        c = cooccurrence(interactions, p["window"], p["pair_decay"], p["forward"]).tocoo()
        n = interactions.item_counts().astype(np.float64) + 1e-9
        if p["similarity"] == "lift":
            total = max(interactions.n_users, 1)
            val = c.data * total / (n[c.row] * n[c.col])
        else:
            a = float(p["alpha"])
            val = c.data / (np.power(n[c.row], a) * np.power(n[c.col], 1.0 - a) + p["shrink"])
        s = sp.csr_matrix((val.astype(np.float32), (c.row, c.col)), shape=c.shape)
        self.sim = keep_top(s, int(p["neighbours"]))
        return self

    def score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """Recency-weighted sum of the history items' neighbour rows."""
        w = recency_weights(histories, float(self.params["recency"])) if self.params["recency"] != 1.0 else None
        h = histories_csr(histories, self.n_items, w)
        return np.asarray((h @ self.sim).todense(), dtype=np.float32)

    def item_vectors(self) -> sp.csr_matrix:
        """The similarity matrix itself."""
        return self.sim

    def _arrays(self) -> dict[str, object]:
        return {"sim": self.sim}

    def _set_arrays(self, arrays: dict[str, object]) -> None:
        self.sim = arrays["sim"]
