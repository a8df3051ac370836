"""EASE (Steck, WWW 2019): closed-form linear item-item model B = I - P/diag(P), P = (XᵀX + λI)⁻¹.

One Cholesky inverse (LAPACK potrf + potri, float32) of an items × items matrix.
Scoring may weight the newest history items more (`recency`), which suits next-item tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

import numpy as np
import scipy.linalg

from shopmind.recommend.base import Interactions, Recommender, histories_csr, recency_weights, register


def _spd_inverse(g: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive-definite float32 matrix via Cholesky (potrf + potri, ~n³ flops, in place).

    Half the flops of an LU inverse; falls back to scipy.linalg.inv if the factorisation fails.
    """
    from scipy.linalg import lapack

    a = np.asfortranarray(g, dtype=np.float32)
    c, info = lapack.spotrf(a, lower=1, overwrite_a=1, clean=0)
    if info == 0:
        inv, info = lapack.spotri(c, lower=1, overwrite_c=1)
        if info == 0:
            n, step = inv.shape[0], 2048
            for j0 in range(0, n, step):  # potri fills the lower triangle only: mirror it block by block
                j1 = min(n, j0 + step)
                inv[j0:j1, j1:] = inv[j1:, j0:j1].T
                blk = inv[j0:j1, j0:j1]
                inv[j0:j1, j0:j1] = np.tril(blk) + np.tril(blk, -1).T
            return inv
    return scipy.linalg.inv(np.asarray(g, dtype=np.float64), check_finite=False).astype(np.float32)


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
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):  # the same bytes in process and as a capped build task
            p = _spd_inverse(g)
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
