"""The attribute ranker's passage cache: bounded, and a call always returns every row it asked for."""

from __future__ import annotations

import numpy as np

from shopmind.assistant.attr_vectors import DIM, E5Embedder


class _Counting(E5Embedder):
    """No model: a text's vector is a function of its length; counts the texts encoded."""

    def __init__(self, max_items: int) -> None:
        super().__init__(max_items)
        self.encoded: list[str] = []

    def _encode_passages(self, texts: list[str]) -> np.ndarray:
        self.encoded += texts
        return np.stack([np.full(DIM, len(t), np.float32) for t in texts])


def test_more_texts_than_the_cache_holds_still_come_back_in_order() -> None:
    emb = _Counting(max_items=2)
    texts = ["a", "bb", "ccc", "bb"]  # the old FIFO evicted "a" while filling, then failed with KeyError reading it back
    out = emb.passages(texts)
    assert out.shape == (4, DIM) and out[:, 0].tolist() == [1, 2, 3, 2]
    assert emb.encoded == ["a", "bb", "ccc"]  # each distinct text once


def test_cached_texts_are_not_encoded_again_and_the_cache_is_bounded() -> None:
    emb = _Counting(max_items=3)
    emb.passages(["x", "yy"])
    emb.passages(["x", "yy", "zzz"])
    assert emb.encoded == ["x", "yy", "zzz"]
    emb.passages(["w", "v"])
    assert len(emb._cache) == 3
