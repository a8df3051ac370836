"""Dense vectors in Milvus through pymilvus: Milvus Lite (`milvus:///abs/path/file.db`, a local server that pymilvus
starts per file, for tests and one process) or a Milvus server (`milvus://host:19530`, token from the env var MILVUS_TOKEN) — same code.

One collection per built search version (row number = primary key, inner product over the engine's L2-normalised
vectors, FLAT below 20k rows and HNSW above like the faiss index, or as `faiss_spec` says). `search` keeps the
VectorIndex contract — the true top-k of the allowed rows — through the same template: a selective mask is answered
exactly with numpy, otherwise Milvus searches with a limit oversampled by 1/(allowed fraction) and the result is
post-filtered, falling back to exact when it comes up short.

Decisions: the version's vectors are also kept as vectors.npy in the version folder and memory-mapped
(n × dim × 4 bytes of page cache, shared by every worker on a host: 84 MB at 55k × 384) — `similarity`, the exact
paths and user vectors then need no round trip. Rows upserted after the build stay in the process-local numpy delta,
not in Milvus: row numbers are assigned per process (each worker applies catalog changes itself), so a shared
collection would mix two workers' rows under one number; the collection stays exactly what was built and evaluated,
and the next build folds the delta in. Milvus Lite serves one process per file: use a server for `serve --workers N`.
Every call has a timeout; clients are shared per URI and closed at exit (`close_clients`). A version's collection is
dropped by `shopmind.index.backends.drop_vector_index(folder)` — best effort, to be called before the folder is deleted.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from shopmind.index.vectors import VectorIndex, resolve_spec

log = logging.getLogger(__name__)

PK, VEC = "row", "vec"
CALL_TIMEOUT_S = 10.0  # one search, get, has/drop collection
BUILD_TIMEOUT_S = 120.0  # one insert batch, flush, load
INDEX_WAIT_S = 600.0  # the whole asynchronous index build after the inserts
INSERT_BATCH = 4096
MAX_LIMIT = 16_384  # Milvus's largest topk
OVERSAMPLE = 1.5  # filtered searches ask for kk / allowed-fraction × this, then post-filter
DEFAULT_PORT = 19530


@dataclass(frozen=True)
class MilvusURL:
    """A parsed `milvus://` URL: `uri` is what MilvusClient takes (a .db path for Lite, http://host:port for a server)."""

    url: str
    uri: str
    lite: bool


def parse_milvus_url(url: str) -> MilvusURL:
    """milvus:///abs/path/file.db (Milvus Lite) or milvus://host[:port] (server); errors name search.vector_url."""
    u = urlsplit(url)
    if u.scheme != "milvus":
        raise ValueError(f"search.vector_url: {url!r} is not a milvus:// URL")
    if u.netloc:
        if u.path not in ("", "/") or u.query:
            raise ValueError(f"search.vector_url: a Milvus server URL is milvus://host:port, got {url!r}")
        try:
            port = u.port or DEFAULT_PORT
        except ValueError as e:
            raise ValueError(f"search.vector_url: bad port in {url!r}") from e
        if not u.hostname:
            raise ValueError(f"search.vector_url: no host in {url!r}")
        if u.hostname.endswith(".db"):
            raise ValueError(f"search.vector_url: {url!r} names host {u.hostname!r}; a Milvus Lite file needs an absolute path: milvus:///abs/path/file.db")
        return MilvusURL(url, f"http://{u.hostname}:{port}", lite=False)
    if not u.path.startswith("/") or not u.path.endswith(".db"):
        raise ValueError(f"search.vector_url: Milvus Lite needs an absolute file path ending in .db (milvus:///abs/path/file.db), got {url!r}")
    return MilvusURL(url, u.path, lite=True)


_CLIENTS: dict[str, Any] = {}
_LOCK = threading.Lock()


def milvus_client(mu: MilvusURL) -> Any:
    """One shared MilvusClient per URI in this process (Milvus Lite starts its server process on the first one)."""
    with _LOCK:
        client = _CLIENTS.get(mu.uri)
        if client is None:
            try:
                from pymilvus import MilvusClient
            except ImportError as e:
                raise ImportError("search.vector_url milvus:// needs pymilvus (and milvus-lite for a .db file): pip install -e '.[milvus]'") from e
            if mu.lite:
                Path(mu.uri).parent.mkdir(parents=True, exist_ok=True)
            token = "" if mu.lite else os.environ.get("MILVUS_TOKEN", "")
            client = MilvusClient(uri=mu.uri, token=token, timeout=CALL_TIMEOUT_S)
            _CLIENTS[mu.uri] = client
            log.info("milvus: connected to %s", mu.uri if mu.lite else mu.url)
        return client


def close_clients() -> None:
    """Close every client of this process (stops Milvus Lite's server processes); runs at exit too."""
    with _LOCK:
        clients = list(_CLIENTS.values())
        _CLIENTS.clear()
    for client in clients:
        try:
            client.close()
        except Exception as e:  # noqa: BLE001 — shutting down: log and go on
            log.warning("milvus: close failed: %s", e)


atexit.register(close_clients)


def milvus_index_params(spec: str, ef_construction: int) -> tuple[str, dict[str, int]]:
    """Milvus index type and build params for a resolved faiss spec: Flat → FLAT, HNSW<M>… → HNSW, else AUTOINDEX."""
    if spec == "Flat":
        return "FLAT", {}
    if spec.startswith("HNSW"):
        digits = "".join(ch for ch in spec[4:].split(",")[0] if ch.isdigit())
        return "HNSW", {"M": int(digits or 32), "efConstruction": int(ef_construction)}
    return "AUTOINDEX", {}


def new_collection_name() -> str:
    """A fresh collection name (letters, digits, underscores), unique across hosts and shops on one server."""
    return f"shopmind_{time.strftime('%Y%m%d%H%M%S', time.gmtime())}_{uuid.uuid4().hex[:12]}"


class MilvusVectorIndex(VectorIndex):
    """VectorIndex whose main segment lives in a Milvus collection (see the module docstring)."""

    def __init__(self, url: str, collection: str, vectors: np.ndarray, spec: str, index_type: str, ef_search: int = 512,
                 exact_max: int = 8000) -> None:
        self.index = None  # no faiss index: the ANN side is Milvus
        self.mu = parse_milvus_url(url)
        self.collection = collection
        self.vectors = vectors
        self.spec = spec
        self.index_type = index_type
        self.n_main = len(vectors)
        self.delta = np.zeros((0, vectors.shape[1]), np.float32)
        self.ef_search = ef_search
        self.exact_max = exact_max
        self.is_hnsw = index_type == "HNSW"

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def client(self) -> Any:
        return milvus_client(self.mu)

    @classmethod
    def build(cls, vectors: np.ndarray, url: str, name: str | None = None, *,  # type: ignore[override]  # a URL, not a faiss spec
              spec: str = "auto", ef_construction: int = 200, ef_search: int = 512) -> MilvusVectorIndex:
        """Create collection `name` (default a fresh one) at `url`, insert vectors as rows 0..n-1, wait for the index."""
        from pymilvus import DataType

        mu = parse_milvus_url(url)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or not len(vectors):
            raise ValueError(f"Milvus index needs a non-empty 2-d array of vectors, got shape {vectors.shape}")
        spec = resolve_spec(spec, len(vectors))
        index_type, params = milvus_index_params(spec, ef_construction)
        name = name or new_collection_name()
        client = milvus_client(mu)
        t0 = time.perf_counter()
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field(PK, DataType.INT64, is_primary=True)
        schema.add_field(VEC, DataType.FLOAT_VECTOR, dim=int(vectors.shape[1]))
        index_params = client.prepare_index_params()
        index_params.add_index(field_name=VEC, index_type=index_type, metric_type="IP", params=params)
        if client.has_collection(name, timeout=CALL_TIMEOUT_S):
            raise ValueError(f"Milvus collection {name!r} already exists at {mu.url}")
        client.create_collection(name, schema=schema, index_params=index_params, consistency_level="Strong", timeout=BUILD_TIMEOUT_S)
        for start in range(0, len(vectors), INSERT_BATCH):
            stop = min(start + INSERT_BATCH, len(vectors))
            client.insert(name, [{PK: i, VEC: vectors[i]} for i in range(start, stop)], timeout=BUILD_TIMEOUT_S)
        client.flush(name, timeout=BUILD_TIMEOUT_S)  # seal the segments so searches use the built index, not brute force
        _wait_for_index(client, name, len(vectors))
        log.info("milvus: %s (%s, %d × %d) built in %.1f s", name, index_type, len(vectors), vectors.shape[1], time.perf_counter() - t0)
        return cls(url, name, vectors, spec, index_type, ef_search=ef_search)

    @classmethod
    def from_url(cls, vectors: np.ndarray, url: str, *, spec: str = "auto", ef_construction: int = 200, ef_search: int = 512) -> VectorIndex:
        """The registry's build entry for milvus:// (a fresh collection)."""
        return cls.build(vectors, url, spec=spec, ef_construction=ef_construction, ef_search=ef_search)

    @classmethod
    def check_url(cls, url: str) -> None:
        """milvus:///abs/path/file.db or milvus://host[:port] (a ValueError naming search.vector_url otherwise)."""
        parse_milvus_url(url)

    def _ann(self, q: np.ndarray, kk: int, main_allowed: np.ndarray | None, n_allowed: int) -> tuple[np.ndarray, np.ndarray]:
        """Milvus's top hits with an oversampled limit, post-filtered by the mask; ties by row like the exact path."""
        frac = n_allowed / self.n_main
        limit = kk if main_allowed is None else int(np.ceil(kk / frac * OVERSAMPLE)) + 16
        limit = max(kk, min(limit, self.n_main, MAX_LIMIT))
        search_params: dict[str, Any] = {"metric_type": "IP"}
        if self.is_hnsw:
            ef = int(min(max(self.ef_search, kk) / max(frac, 1e-3), 4 * self.ef_search))
            search_params["params"] = {"ef": max(ef, limit)}
        hits = self.client.search(self.collection, data=[q[0]], anns_field=VEC, limit=limit, search_params=search_params,
                                  output_fields=[PK], timeout=CALL_TIMEOUT_S)[0]
        rows = np.fromiter((h[PK] for h in hits), np.int64, count=len(hits))
        scores = np.fromiter((h["distance"] for h in hits), np.float32, count=len(hits))
        keep = rows < self.n_main
        if main_allowed is not None:
            keep &= main_allowed[np.minimum(rows, self.n_main - 1)]
        rows, scores = rows[keep], scores[keep]
        order = np.lexsort((rows, -scores))[:kk]
        return rows[order], scores[order]

    def save(self, path: Path) -> None:
        """vectors.npy (the local copy) + vectors.json naming the backend, URL and collection."""
        if len(self.delta):
            raise RuntimeError("save() after add(): rebuild to fold the delta into the main segment")
        path.mkdir(parents=True, exist_ok=True)
        target = path / "vectors.npy"
        mapped = getattr(self.vectors, "filename", None)
        if not (mapped and target.exists() and Path(mapped).resolve() == target.resolve()):  # never rewrite the file we map
            np.save(target, np.asarray(self.vectors))
        meta = {"backend": "milvus", "url": self.mu.url, "collection": self.collection, "spec": self.spec,
                "index_type": self.index_type, "n": self.n_main, "dim": self.dim}
        (path / "vectors.json").write_text(json.dumps(meta))

    @classmethod
    def load(cls, path: Path, ef_search: int = 512, url: str | None = None) -> MilvusVectorIndex:
        """Reconnect to the collection save() named (at `url` when given: the serving hosts' address for the server)."""
        meta = json.loads((path / "vectors.json").read_text())
        if meta.get("backend") != "milvus":
            raise ValueError(f"{path} holds a {meta.get('backend', 'faiss')} vector index, not a Milvus one")
        url = url or meta["url"]
        vectors = np.load(path / "vectors.npy", mmap_mode="r")
        index = cls(url, meta["collection"], vectors, meta["spec"], meta["index_type"], ef_search=ef_search)
        client = index.client
        if not client.has_collection(index.collection, timeout=CALL_TIMEOUT_S):
            raise FileNotFoundError(f"Milvus collection {index.collection!r} (from {path}) is missing at {index.mu.url}: rebuild search")
        client.load_collection(index.collection, timeout=BUILD_TIMEOUT_S)
        return index

    @classmethod
    def open(cls, path: Path, url: str | None = None, *, ef_search: int = 512) -> VectorIndex:
        """The registry's load entry for milvus://."""
        return cls.load(path, ef_search, url)

    def drop(self) -> bool:
        """Drop this version's collection (best effort: False and a warning when Milvus is unreachable)."""
        try:
            self.client.drop_collection(self.collection, timeout=CALL_TIMEOUT_S)
        except Exception as e:  # noqa: BLE001 — a leftover collection is harmless; the version is gone either way
            log.warning("milvus: could not drop %s at %s: %s", self.collection, self.mu.url, e)
            return False
        log.info("milvus: dropped %s", self.collection)
        return True

    def close(self) -> None:
        """Nothing per index: clients are shared per URI and closed by close_clients() (at exit)."""


def _wait_for_index(client: Any, name: str, n: int) -> None:
    """Block until every row is indexed (the index builds asynchronously), at most INDEX_WAIT_S; searches are exact-correct
    before that too (growing segments are scanned), only slower."""
    deadline = time.monotonic() + INDEX_WAIT_S
    while True:
        info = client.describe_index(name, VEC, timeout=CALL_TIMEOUT_S) or {}
        indexed = int(info.get("indexed_rows", n) or 0)
        pending = int(info.get("pending_index_rows", 0) or 0)
        if str(info.get("state", "")).lower() == "failed":
            raise RuntimeError(f"Milvus failed to index {name}: {info.get('index_state_fail_reason') or info}")
        if indexed >= n and pending == 0:
            return
        if time.monotonic() > deadline:
            log.warning("milvus: %s still indexing after %.0f s (%d of %d rows); serving anyway", name, INDEX_WAIT_S, indexed, n)
            return
        time.sleep(0.5)
