"""Retrieval, dense side: the query's vector and its nearest products among the allowed rows."""

from __future__ import annotations

import numpy as np

from shopmind.index.vectors import VectorIndex
from shopmind.search.stages.context import QueryEncoder


def dense_top_k(vectors: VectorIndex | None, qvec: np.ndarray | None, allowed: np.ndarray, k: int,
                min_sim: float) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cosines) of the k nearest allowed rows at or above min_sim (empty without vectors)."""
    if qvec is None or vectors is None:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    rows, sims = vectors.search(qvec, k, allowed)
    keep = sims >= min_sim
    return rows[keep], sims[keep]


def encode_and_search(encoder: QueryEncoder, vectors: VectorIndex | None, text: str, allowed: np.ndarray, k: int,
                      min_sim: float) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Query vector and its dense top-k among allowed rows (run through the query lane)."""
    qvec = encoder.encode_queries([text])[0]
    return qvec, dense_top_k(vectors, qvec, allowed, k, min_sim)
