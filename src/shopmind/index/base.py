"""The contract every retrieval index meets: rows in, (rows, scores) out, filters applied inside.

Indexes speak in dense row numbers (0..n-1) assigned by the caller; the caller owns the id ↔ row map,
deletions (a dead-row mask folded into `allowed`) and product metadata. `allowed` is a boolean mask
over rows (None = all rows), so filtered retrieval returns the true top-k of the allowed set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Index(Protocol):
    """A searchable segment set over rows 0..size-1 with a small in-memory delta for fresh rows."""

    @property
    def size(self) -> int: ...

    def search(self, query: Any, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (rows, scores) among allowed rows, best first."""
        ...

    def add(self, rows: np.ndarray, docs: Any) -> None:
        """Make new rows searchable at once (appended to the delta segment)."""
        ...

    def save(self, path: Path) -> None:
        """Write plain files (.npy / JSON / faiss / bm25s) under path."""
        ...


def top_k(scores: np.ndarray, k: int, allowed: np.ndarray | None = None, min_score: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the k best scores (ties by row), optionally only allowed rows and scores > min_score."""
    s = scores if allowed is None else np.where(allowed, scores, -np.inf)
    if min_score is not None:
        s = np.where(s > min_score, s, -np.inf)
    k = min(k, len(s))
    if k <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    part = np.argpartition(-s, k - 1)[:k] if k < len(s) else np.arange(len(s))
    order = np.lexsort((part, -s[part]))
    rows = part[order]
    rows = rows[np.isfinite(s[rows])]
    return rows.astype(np.int64), scores[rows].astype(np.float32)
