"""EASE (Steck, WWW 2019): closed-form linear item-item model B = I - P/diag(P), P = (XᵀX + λI)⁻¹.

One Cholesky inverse of an items × items matrix (float32): seconds for 12k items, ~1 min for 18k.
Scoring may weight the newest history items more (`recency`), which suits next-item tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

import numpy as np
import scipy.linalg

from shopmind.recommend.base import Interactions, Recommender, histories_csr, recency_weights, register


@register("ease")
class EASE(Recommender):
    """Embarrassingly shallow autoencoder with L2 weight `lam` and optional recency weighting at query time."""

    query_params = frozenset({"recency"})

    batch_size = 1024

    def __init__(self, lam: float = 500.0, recency: float = 1.0) -> None:
        super().__init__(lam=lam, recency=recency)
        self.B = np.zeros((0, 0), dtype=np.float32)

    def fit(self, interactions: Interactions) -> Self:
        """Solve the closed form on the binary user × item matrix."""
        self.n_items = interactions.n_items
        x = interactions.csr(binary=True)
        g = (x.T @ x).toarray().astype(np.float32)
        g[np.diag_indices_from(g)] += float(self.params["lam"])
        p = scipy.linalg.inv(g, overwrite_a=True, check_finite=False).astype(np.float32)
        b = p / (-np.diag(p))[None, :]
        b[np.diag_indices_from(b)] = 0.0
        # LAPACK hands back Fortran order; scipy's sparse @ dense would copy all of B on every call
        self.B = np.ascontiguousarray(b)
        return self

    def score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """History vector (recency-weighted) times B."""
        w = recency_weights(histories, float(self.params["recency"])) if self.params["recency"] != 1.0 else None
        h = histories_csr(histories, self.n_items, w)
        return np.asarray(h @ self.B, dtype=np.float32)

    def item_vectors(self) -> None:
        return None

    def similar_items(self, item_ids: np.ndarray | Sequence[int], k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Rows of B: the items that item i predicts most strongly."""
        return super().similar_items(item_ids, k)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"B": self.B}

    def _set_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.B = np.ascontiguousarray(arrays["B"])
