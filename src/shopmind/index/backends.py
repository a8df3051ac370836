"""Vector-index backends by URL scheme (`[search] vector_url`): "faiss://" (local files, the default) and "milvus://"
(Milvus Lite `milvus:///abs/path.db` or a server `milvus://host:19530`). One registry dict, no if-chains; pgvector is
not implemented (a `pgvector` class here would be the only change needed)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Protocol

import numpy as np

from shopmind.index.milvus import MilvusVectorIndex
from shopmind.index.vectors import VectorIndex

log = logging.getLogger(__name__)


class VectorBackend(Protocol):
    """What a vector-index class offers the registry: build from vectors at a URL, reopen a saved version, check a URL."""

    def from_url(self, vectors: np.ndarray, url: str, *, spec: str = ..., ef_construction: int = ..., ef_search: int = ...) -> VectorIndex: ...

    def open(self, path: Path, url: str | None = None, *, ef_search: int = ...) -> VectorIndex: ...

    def check_url(self, url: str) -> None: ...


VECTOR_BACKENDS: dict[str, VectorBackend] = {"faiss": VectorIndex, "milvus": MilvusVectorIndex}


def scheme_of(url: str) -> str:
    """The registered scheme of a vector URL; a ValueError naming search.vector_url otherwise."""
    scheme = url.split(":", 1)[0] if ":" in url else ""
    if scheme not in VECTOR_BACKENDS:
        raise ValueError(f"search.vector_url: unknown scheme in {url!r}; use one of " + ", ".join(f"{s}://" for s in VECTOR_BACKENDS))
    return scheme


def check_vector_url(url: str) -> str:
    """Validate a vector URL (scheme and address); returns it unchanged."""
    VECTOR_BACKENDS[scheme_of(url)].check_url(url)
    return url


def build_vector_index(vectors: np.ndarray, url: str, *, spec: str = "auto", ef_construction: int = 200, ef_search: int = 512) -> VectorIndex:
    """A new index over vectors (rows = positions) in the backend `url` names."""
    return VECTOR_BACKENDS[scheme_of(url)].from_url(vectors, url, spec=spec, ef_construction=ef_construction, ef_search=ef_search)


def saved_backend(path: Path) -> str:
    """The backend a saved vector folder was built with (folders written before the registry are faiss)."""
    return str(json.loads((path / "vectors.json").read_text()).get("backend", "faiss"))


def load_vector_index(path: Path, url: str | None = None, *, ef_search: int = 512) -> VectorIndex:
    """Reopen a saved vector folder with the backend it was built with; `url` (the serving config's) overrides the saved
    address only when it names the same backend (a faiss-built version keeps loading as faiss under a milvus config)."""
    backend = saved_backend(path)
    if backend not in VECTOR_BACKENDS:
        raise ValueError(f"{path}: vector backend {backend!r} is not registered here ({', '.join(VECTOR_BACKENDS)})")
    same = url is not None and scheme_of(url) == backend
    return VECTOR_BACKENDS[backend].open(path, url if same else None, ef_search=ef_search)


def drop_vector_index(path: Path) -> bool:
    """Best effort: free what a saved vector folder holds outside it (a Milvus collection) before the folder is deleted.
    True when there was nothing to free or it was freed; False (logged) when the server could not be reached."""
    if not (path / "vectors.json").exists() or saved_backend(path) != "milvus":
        return True
    meta = json.loads((path / "vectors.json").read_text())
    index = MilvusVectorIndex(meta["url"], meta["collection"], np.zeros((0, int(meta["dim"])), np.float32), meta["spec"], meta["index_type"])
    return index.drop()
