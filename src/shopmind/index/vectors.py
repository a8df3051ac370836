"""Dense vector index: faiss inner product over L2-normalised vectors, plus an in-memory delta.

Spec "auto" is exact (Flat) up to AUTO_HNSW_ROWS rows and HNSW above (efConstruction 200, efSearch 512:
≈2 ms a query at 55k rows on one core instead of ≈9 ms, recall@200 0.99 against exact on real queries). Filters are applied inside the search: a selective filter
(few allowed rows) is answered exactly with numpy over the allowed rows; otherwise faiss searches with
an IDSelectorBitmap (exact for Flat). Rows added after the build sit in a numpy delta searched beside.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from shopmind.index.base import top_k

AUTO_HNSW_ROWS = 20_000
HNSW_SPEC = "HNSW32,Flat"


def resolve_spec(spec: str, n: int) -> str:
    """The faiss factory string for `spec` at n rows ("auto": Flat below AUTO_HNSW_ROWS, HNSW above)."""
    if spec == "auto":
        return HNSW_SPEC if n >= AUTO_HNSW_ROWS else "Flat"
    return spec


class VectorIndex:
    """Exact (Flat) or approximate (any faiss factory string, e.g. HNSW) inner-product search over rows."""

    def __init__(self, index, vectors: np.ndarray, spec: str = "Flat", ef_search: int = 512, exact_max: int = 8000) -> None:
        self.index = index
        self.vectors = vectors
        self.spec = spec
        self.n_main = int(index.ntotal)
        self.delta = np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 0), np.float32)
        self.ef_search = ef_search
        self.exact_max = exact_max
        self.is_hnsw = "HNSW" in spec

    @property
    def size(self) -> int:
        return self.n_main + len(self.delta)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    @classmethod
    def build(cls, vectors: np.ndarray, spec: str = "auto", ef_construction: int = 200) -> VectorIndex:
        """faiss index over vectors (rows = positions); spec "auto" picks Flat or HNSW by size."""
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        spec = resolve_spec(spec, len(vectors))
        index = faiss.index_factory(vectors.shape[1], spec, faiss.METRIC_INNER_PRODUCT)
        if hasattr(index, "hnsw"):
            index.hnsw.efConstruction = int(ef_construction)  # faiss's default (40) loses recall on these vectors
        if not index.is_trained:
            index.train(vectors)
        index.add(vectors)
        return cls(index, vectors, spec)

    def add(self, rows: np.ndarray, docs: np.ndarray) -> None:
        """Append delta vectors for rows size..size+len-1."""
        docs = np.atleast_2d(np.asarray(docs, np.float32))
        if len(rows) and int(rows[0]) != self.size:
            raise ValueError("delta rows must be appended in order")
        self.delta = np.concatenate([self.delta.reshape(-1, self.dim), docs])

    def similarity(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Cosine of the query with given rows (main or delta)."""
        rows = np.asarray(rows, np.int64)
        out = np.zeros(len(rows), np.float32)
        main = rows < self.n_main
        if main.any():
            out[main] = self.vectors[rows[main]] @ query
        if (~main).any():
            out[~main] = self.delta[rows[~main] - self.n_main] @ query
        return out

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (rows, cosine) among allowed rows, main and delta merged."""
        q = np.ascontiguousarray(np.asarray(query, np.float32).reshape(1, -1))
        kk = min(k, self.n_main)
        rows = np.zeros(0, np.int64)
        scores = np.zeros(0, np.float32)
        if kk > 0:
            main_allowed = None if allowed is None else np.asarray(allowed[: self.n_main], bool)
            n_allowed = self.n_main if main_allowed is None else int(main_allowed.sum())
            if n_allowed == 0:
                pass
            elif main_allowed is not None and n_allowed <= max(self.exact_max, 4 * kk):
                rows, scores = self._exact(q[0], kk, main_allowed)
            else:
                rows, scores = self._ann(q, kk, main_allowed, n_allowed)
                if len(rows) < min(kk, n_allowed):  # an approximate index came up short: answer exactly
                    rows, scores = self._exact(q[0], kk, main_allowed)
        if len(self.delta):
            dscores = self.delta @ q[0]
            dal = None if allowed is None else np.asarray(allowed[self.n_main : self.size], bool)
            drows, dsc = top_k(dscores, k, dal)
            rows = np.concatenate([rows, drows + self.n_main])
            scores = np.concatenate([scores, dsc])
            order = np.argsort(-scores, kind="stable")[:k]
            rows, scores = rows[order], scores[order]
        return rows, scores

    def _exact(self, q: np.ndarray, kk: int, main_allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-kk over the allowed main rows (numpy over the stored vectors)."""
        cand = np.flatnonzero(main_allowed) if main_allowed is not None else np.arange(self.n_main)
        pos, scores = top_k(np.asarray(self.vectors[cand] @ q, np.float32), kk)
        return cand[pos], scores

    def _ann(self, q: np.ndarray, kk: int, main_allowed: np.ndarray | None, n_allowed: int) -> tuple[np.ndarray, np.ndarray]:
        """The index's own top-kk over the allowed main rows (faiss, filtered inside by a bitmap selector)."""
        import faiss

        sel = None
        if main_allowed is not None:
            bits = np.packbits(main_allowed, bitorder="little")
            sel = faiss.IDSelectorBitmap(self.n_main, faiss.swig_ptr(bits))
        if self.is_hnsw:
            frac = n_allowed / self.n_main
            ef = int(min(max(self.ef_search, kk) / max(frac, 1e-3), 4 * self.ef_search))
            params = faiss.SearchParametersHNSW(efSearch=max(ef, kk))  # type: ignore[attr-defined]  # missing from faiss's .pyi
            if sel is not None:
                params.sel = sel
        else:
            params = faiss.SearchParameters(sel=sel) if sel is not None else None  # type: ignore[call-arg]  # SWIG kwargs
        d, i = self.index.search(q, kk, params=params)
        keep = i[0] >= 0
        return i[0][keep].astype(np.int64), d[0][keep]

    def save(self, path: Path) -> None:
        """vectors.npy + index.faiss + vectors.json."""
        import faiss

        if len(self.delta):
            raise RuntimeError("save() after add(): rebuild to fold the delta into the main segment")
        path.mkdir(parents=True, exist_ok=True)
        np.save(path / "vectors.npy", self.vectors)
        faiss.write_index(self.index, str(path / "index.faiss"))
        (path / "vectors.json").write_text(json.dumps({"spec": self.spec, "n": self.n_main, "dim": self.dim}))

    @classmethod
    def load(cls, path: Path, ef_search: int = 512) -> VectorIndex:
        """Read what save() wrote (vectors memory-mapped)."""
        import faiss

        meta = json.loads((path / "vectors.json").read_text())
        index = faiss.read_index(str(path / "index.faiss"))
        return cls(index, np.load(path / "vectors.npy", mmap_mode="r"), meta["spec"], ef_search=ef_search)

    @classmethod
    def from_url(cls, vectors: np.ndarray, url: str, *, spec: str = "auto", ef_construction: int = 200, ef_search: int = 512) -> VectorIndex:
        """The registry's build entry for "faiss://" (local files; the URL carries nothing else)."""
        index = cls.build(vectors, spec, ef_construction)
        index.ef_search = ef_search
        return index

    @classmethod
    def open(cls, path: Path, url: str | None = None, *, ef_search: int = 512) -> VectorIndex:
        """The registry's load entry for "faiss://": what save() wrote under path."""
        return cls.load(path, ef_search)

    @classmethod
    def check_url(cls, url: str) -> None:
        """ "faiss://" only: the local index takes no address."""
        if url not in ("faiss://", "faiss:"):
            raise ValueError(f"search.vector_url: the local faiss index takes no address, use 'faiss://' (got {url!r})")

    def close(self) -> None:
        """Nothing to release: a faiss index is process memory."""
