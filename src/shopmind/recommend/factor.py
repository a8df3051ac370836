"""Matrix factorisation through `implicit`: ALS (implicit feedback, Hu et al. 2008) and BPR.

Histories are folded in with the exact ALS user solve against the fixed item factors, batched in numpy, so
new users and freshly updated histories are served without retraining (and BPR uses the same fold-in).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

import numpy as np
import scipy.sparse as sp

from shopmind.recommend.base import Interactions, Recommender, dot_t, histories_csr, recency_weights, register


class _Factor(Recommender):
    """Shared fold-in scoring over item factors."""

    query_params = frozenset({"recency"})

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self.item_factors = np.zeros((0, 0), dtype=np.float32)

    def _fit_implicit(self, model: object, interactions: Interactions) -> None:
        from threadpoolctl import threadpool_limits

        x = interactions.csr(binary=True)
        with threadpool_limits(1, "blas"):  # implicit's own threads do the work; BLAS threads only fight them
            model.fit(x, show_progress=False)  # type: ignore[attr-defined]
        f = model.item_factors  # type: ignore[attr-defined]
        self.item_factors = np.asarray(f.to_numpy() if hasattr(f, "to_numpy") else f, dtype=np.float32)
        self.n_items = interactions.n_items
        self._yty: tuple[float, np.ndarray] | None = None

    def user_vectors(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """Implicit-ALS user solve: (YᵀY + α YₕᵀYₕ + λI) u = (1+α) Yₕᵀ w, one batched solve."""
        y = self.item_factors
        alpha, lam = float(self.params.get("alpha", 1.0)), float(self.params.get("regularization", 0.01))
        rec = float(self.params.get("recency", 1.0))
        w = recency_weights(histories, rec) if rec != 1.0 else [np.ones(len(h), np.float32) for h in histories]
        cached = getattr(self, "_yty", None)
        if cached is None or cached[0] != lam:
            cached = self._yty = (lam, y.T @ y + lam * np.eye(y.shape[1], dtype=np.float32))
        yty = cached[1]
        h = histories_csr(histories, self.n_items, w)
        f = y.shape[1]
        hc = h.tocoo()
        yc = y[hc.col]
        outer = (yc[:, :, None] * yc[:, None, :]).reshape(len(yc), f * f)
        # (B × nnz) sparse indicator @ (nnz × f²): all per-user weighted Gram sums in one product
        ind = sp.csr_matrix((alpha * hc.data, (hc.row, np.arange(len(hc.data)))), shape=(len(histories), len(hc.data)))
        a = ind @ outer
        a = np.asarray(a, dtype=np.float32).reshape(len(histories), f, f) + yty[None]
        b = np.asarray(((1.0 + alpha) * h) @ y, dtype=np.float32)
        return np.linalg.solve(a, b[..., None])[..., 0].astype(np.float32)

    def score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """Dot product of folded-in user vectors and item factors."""
        return dot_t(self.user_vectors(histories), self.item_factors)

    def item_vectors(self) -> np.ndarray:
        """Item factors (cosine neighbours for similar_items)."""
        return self.item_factors

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"item_factors": self.item_factors}

    def _set_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.item_factors = arrays["item_factors"]
        self._yty = None


@register("als")
class ALS(_Factor):
    """implicit.cpu ALS on the binary matrix scaled by `alpha` (confidence 1 + α)."""

    def __init__(self, factors: int = 64, regularization: float = 0.01, alpha: float = 1.0, iterations: int = 15,
                 recency: float = 1.0, seed: int = 0, threads: int = 1) -> None:  # 1: a build inside a serving process
        super().__init__(factors=factors, regularization=regularization, alpha=alpha, iterations=iterations,
                         recency=recency, seed=seed, threads=threads)

    def fit(self, interactions: Interactions) -> Self:
        """Fit implicit's AlternatingLeastSquares."""
        from implicit.cpu.als import AlternatingLeastSquares

        p = self.params
        model = AlternatingLeastSquares(factors=p["factors"], regularization=p["regularization"], alpha=p["alpha"],
                                        iterations=p["iterations"], random_state=p["seed"], num_threads=p["threads"])
        self._fit_implicit(model, interactions)
        return self


@register("bpr")
class BPR(_Factor):
    """implicit.cpu BPR (pairwise ranking loss), served with the ALS fold-in over its item factors."""

    def __init__(self, factors: int = 64, learning_rate: float = 0.05, regularization: float = 0.01,
                 iterations: int = 100, alpha: float = 1.0, recency: float = 1.0, seed: int = 0, threads: int = 2) -> None:
        super().__init__(factors=factors, learning_rate=learning_rate, regularization=regularization,
                         iterations=iterations, alpha=alpha, recency=recency, seed=seed, threads=threads)

    def fit(self, interactions: Interactions) -> Self:
        """Fit implicit's BayesianPersonalizedRanking (the bias column is dropped for fold-in)."""
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        p = self.params
        model = BayesianPersonalizedRanking(factors=p["factors"], learning_rate=p["learning_rate"],
                                            regularization=p["regularization"], iterations=p["iterations"],
                                            random_state=p["seed"], num_threads=p["threads"])
        self._fit_implicit(model, interactions)
        return self
