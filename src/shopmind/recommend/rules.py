"""Association rules A → B for "frequently bought together", over baskets (orders, carts or sessions).

Baskets are the `sessions` of `Interactions` when known, else each user's history cut into windows of
`basket_window` consecutive events. Every pair rule carries support, confidence P(B|A) and lift; rules below
`min_support` baskets are dropped and each antecedent keeps its `max_rules` best consequents by `metric`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

import numpy as np
import scipy.sparse as sp

from shopmind.recommend.base import Interactions, Recommender, histories_csr, register
from shopmind.recommend.itemknn import keep_top


def baskets(interactions: Interactions, window: int | None) -> sp.csr_matrix:
    """Basket × item binary matrix: sessions if present, else per-user windows of `window` events."""
    if interactions.sessions is not None:
        bid = interactions.sessions
    elif window is None:
        bid = interactions.user_of_event()
    else:
        pos = np.arange(interactions.n_events) - np.repeat(interactions.indptr[:-1], np.diff(interactions.indptr))
        bid = interactions.user_of_event() * (1 << 20) + pos // int(window)
    _, bid = np.unique(bid, return_inverse=True)
    m = sp.csr_matrix(
        (np.ones(interactions.n_events, np.float32), (bid, interactions.items)), shape=(int(bid.max(initial=-1)) + 1, interactions.n_items)
    )
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


@register("rules")
class AssociationRules(Recommender):
    """Pairwise association rules; a cart/history scores B by the best (or summed) rule strength into B."""

    query_params = frozenset({"aggregate"})

    def __init__(self, basket_window: int | None = 3, min_support: int = 2, metric: str = "confidence",
                 max_rules: int = 100, aggregate: str = "sum") -> None:
        super().__init__(basket_window=basket_window, min_support=min_support, metric=metric, max_rules=max_rules,
                         aggregate=aggregate)
        self.rules = sp.csr_matrix((0, 0), dtype=np.float32)
        self.support = sp.csr_matrix((0, 0), dtype=np.float32)
        self.lift = sp.csr_matrix((0, 0), dtype=np.float32)
        self.confidence = sp.csr_matrix((0, 0), dtype=np.float32)

    def fit(self, interactions: Interactions) -> Self:
        """Count pair supports over baskets, derive confidence and lift, keep the strongest rules."""
        p = self.params
        self.n_items = interactions.n_items
        b = baskets(interactions, p["basket_window"])
        n_baskets = max(b.shape[0], 1)
        item_sup = np.asarray(b.sum(axis=0)).ravel() + 1e-9
        pair = (b.T @ b).tocsr()
        pair.setdiag(0)
        pair.data[pair.data < float(p["min_support"])] = 0
        pair.eliminate_zeros()
        c = pair.tocoo()
        conf = c.data / item_sup[c.row]
        lift = conf * n_baskets / item_sup[c.col]
        shape = pair.shape
        self.support = sp.csr_matrix((c.data.astype(np.float32), (c.row, c.col)), shape=shape)
        self.confidence = sp.csr_matrix((conf.astype(np.float32), (c.row, c.col)), shape=shape)
        self.lift = sp.csr_matrix((lift.astype(np.float32), (c.row, c.col)), shape=shape)
        strength = {"confidence": self.confidence, "lift": self.lift, "support": self.support}[p["metric"]]
        self.rules = keep_top(strength, int(p["max_rules"]))
        return self

    def score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """Sum (or max) over antecedents in the history of rule strength A → B."""
        h = histories_csr(histories, self.n_items)
        h.data[:] = 1.0
        if self.params["aggregate"] == "max":
            out = np.zeros((len(histories), self.n_items), dtype=np.float32)
            for r in range(len(histories)):  # per user, over that user's few cart items only
                rows = self.rules[h.indices[h.indptr[r] : h.indptr[r + 1]]]
                if rows.nnz:
                    out[r] = np.asarray(rows.max(axis=0).todense()).ravel()
            return out
        return np.asarray((h @ self.rules).todense(), dtype=np.float32)

    def explain(self, antecedent: int, consequent: int) -> dict[str, float]:
        """Support, confidence and lift of one rule (for reasons and dashboards)."""
        return {
            "support": float(self.support[antecedent, consequent]),
            "confidence": float(self.confidence[antecedent, consequent]),
            "lift": float(self.lift[antecedent, consequent]),
        }

    def item_vectors(self) -> sp.csr_matrix:
        """Rule strengths as the similarity matrix (similar_items = best consequents)."""
        return self.rules

    def _arrays(self) -> dict[str, object]:
        return {"rules": self.rules, "support": self.support, "confidence": self.confidence, "lift": self.lift}

    def _set_arrays(self, arrays: dict[str, object]) -> None:
        for k, v in arrays.items():
            setattr(self, k, v)
