"""Deterministic salted assignment: blake2b(salt, unit id) → a uniform number in [0, 1) → a weighted bucket.

Pure function of (salt, unit id, weights): every process and host assigns a unit the same variant with no shared
state; a new salt reshuffles units independently of the old split (blake2b keyed by the salt)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np

from shopmind.experiments.model import Experiment, Variant

__all__ = ["assign", "bucket_of", "buckets", "uniform"]

_SCALE = float(2**64)


def uniform(salt: str, unit_id: str) -> float:
    """A number in [0, 1) that depends only on the salt and the unit id (8 bytes of a salt-keyed blake2b)."""
    key = salt.encode()
    key = key if len(key) <= 64 else hashlib.blake2b(key).digest()  # blake2b keys are at most 64 bytes
    digest = hashlib.blake2b(unit_id.encode(), digest_size=8, key=key).digest()
    return int.from_bytes(digest, "big") / _SCALE


def buckets(weights: Sequence[float], u: np.ndarray | float) -> np.ndarray:
    """Which weighted bucket each uniform number falls in (weights normalised; bucket i covers its share)."""
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or len(w) == 0 or not np.all(w > 0):
        raise ValueError("weights: a non-empty list of positive numbers")
    edges = np.cumsum(w) / w.sum()
    edges[-1] = 1.0
    return np.searchsorted(edges, np.atleast_1d(np.asarray(u, dtype=np.float64)), side="right")


def bucket_of(exp: Experiment, unit_ids: Iterable[str]) -> np.ndarray:
    """The variant index of each unit under `exp` (vectorised over many units: analyses, tests)."""
    u = np.fromiter((uniform(exp.salt, uid) for uid in unit_ids), dtype=np.float64)
    return buckets([v.weight for v in exp.variants], u)


def assign(exp: Experiment, unit_id: str) -> Variant:
    """The variant `unit_id` gets in `exp` (the same on every call, process and host)."""
    return exp.variants[int(buckets([v.weight for v in exp.variants], uniform(exp.salt, unit_id))[0])]
