"""The `image_vectors` artifact: one image embedding and perceptual hash per product, nearest neighbours by inner
product (faiss) and near-duplicate groups for catalog hygiene.

Files: `ids.json` (product ids, aligned), `vectors.npy` (n×1280 float32, L2-normalised), `phash.npy` (uint64),
`meta.json`. A product's vector is its first image that could be read; products without one are listed in meta.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from shopmind.understand.images import EMBED_DIM, MODEL_NAME, ImageError, hamming

if TYPE_CHECKING:
    from shopmind.domain import Product
    from shopmind.understand.images import ImageEmbedder
    from shopmind.understand.images_fetch import FetchPolicy

__all__ = ["MAX_COSINE_NEIGHBOURS", "ImageIndex", "duplicate_groups", "duplicate_pairs"]
log = logging.getLogger(__name__)

# Chosen by pair F1 on the DEV part of bench/_und_images.py (40 % of the photos with their copies); the a-priori 10 bits /
# 0.92 let white-background photos of different products pair up (TEST part precision 0.59 vs 0.93 with these).
MAX_HAMMING = 4  # of 64 pHash bits
MIN_COSINE = 0.88  # embedding cosine (among the nearest neighbours) that also counts as the same picture
MAX_COSINE_NEIGHBOURS = 10
BLOCK = 4096  # pHash comparisons run block × block, vectorised
MAX_BRUTE = 100_000  # above this many images only embedding neighbours propose pairs


def duplicate_pairs(vectors: np.ndarray, hashes: np.ndarray, *, max_hamming: int = MAX_HAMMING, min_cosine: float = MIN_COSINE,
                    neighbours: int = MAX_COSINE_NEIGHBOURS) -> np.ndarray:
    """Index pairs (i < j) whose images are near-duplicates: pHash within `max_hamming` bits, or embedding cosine at
    least `min_cosine` (among each image's `neighbours` nearest). Returns an (m, 2) int64 array."""
    n = len(hashes)
    found: list[np.ndarray] = []
    if max_hamming >= 0 and 1 < n <= MAX_BRUTE:
        for a in range(0, n, BLOCK):
            ha = hashes[a:a + BLOCK, None]
            for b in range(a, n, BLOCK):
                d = hamming(ha, hashes[None, b:b + BLOCK])
                i, j = np.nonzero(d <= max_hamming)
                i, j = i + a, j + b
                keep = i < j
                found.append(np.stack([i[keep], j[keep]], axis=1))
    if min_cosine <= 1.0 and n > 1 and len(vectors) == n:
        import faiss

        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        sims, nbrs = index.search(np.ascontiguousarray(vectors, dtype=np.float32), min(neighbours + 1, n))
        rows = np.repeat(np.arange(n), nbrs.shape[1])
        cols, s = nbrs.ravel(), sims.ravel()
        ok = (cols >= 0) & (cols != rows) & (s >= min_cosine)
        found.append(np.sort(np.stack([rows[ok], cols[ok]], axis=1), axis=1))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    return np.unique(np.concatenate(found).astype(np.int64), axis=0)


def duplicate_groups(n: int, pairs: np.ndarray) -> list[list[int]]:
    """Connected groups (size ≥ 2) of near-duplicate pairs over `n` items, largest first."""
    if len(pairs) == 0:
        return []
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    order = np.argsort(labels, kind="stable")
    splits = np.flatnonzero(np.diff(labels[order])) + 1
    groups = [g.tolist() for g in np.split(order, splits) if len(g) > 1]
    return sorted(groups, key=lambda g: (-len(g), g[0]))


class ImageIndex:
    """Product image vectors and hashes, loaded read-only; `similar`, `search` and `duplicates` serve from it."""

    def __init__(self, ids: list[str], vectors: np.ndarray, hashes: np.ndarray, meta: dict[str, Any]) -> None:
        self.ids = ids
        self.vectors = vectors
        self.hashes = hashes
        self.meta = meta
        self.row = {pid: i for i, pid in enumerate(ids)}
        self.deleted: set[str] = set()
        self._faiss: Any = None

    # -- build / load ----------------------------------------------------------------------------------------
    @classmethod
    def build(cls, products: Iterable[Product], out_dir: Path, embedder: ImageEmbedder, policy: FetchPolicy,
              *, batch_size: int = 64) -> ImageIndex:
        """Embed every product's first readable image into `out_dir` (cached by content hash); unreadable images are
        logged and counted, never fatal."""
        from shopmind.understand.images_fetch import read_image

        started = time.perf_counter()
        ids: list[str] = []
        vecs: list[np.ndarray] = []
        hashes: list[np.ndarray] = []
        errors: dict[str, str] = {}
        without = 0
        pending: list[tuple[str, bytes, str]] = []

        def flush() -> None:
            if not pending:
                return
            try:
                v, h = embedder.encode_bytes([b for _, b, _ in pending], [f"product {p}: {r}" for p, _, r in pending])
                ids.extend(p for p, _, _ in pending)
                vecs.append(v)
                hashes.append(h)
            except ImageError:  # one bad image in the batch: go one by one to keep the others
                for pid, blob, ref in pending:
                    try:
                        v, h = embedder.encode_bytes([blob], [f"product {pid}: {ref}"])
                    except ImageError as exc:
                        errors[pid] = str(exc)[:300]
                        continue
                    ids.append(pid)
                    vecs.append(v)
                    hashes.append(h)
            pending.clear()

        for p in products:
            if not p.images:
                without += 1
                continue
            try:
                pending.append((p.id, read_image(p.images[0], policy), p.images[0]))
            except ImageError as exc:
                errors[p.id] = str(exc)[:300]
                continue
            if len(pending) >= batch_size:
                flush()
        flush()
        if errors:
            log.warning("image build: %d product image(s) could not be read, e.g. %s", len(errors), next(iter(errors.values())))
        vectors = np.concatenate(vecs) if vecs else np.zeros((0, EMBED_DIM), dtype=np.float32)
        hash_arr = np.concatenate(hashes).astype(np.uint64) if hashes else np.zeros(0, dtype=np.uint64)
        meta = {"part": "image_vectors", "model": MODEL_NAME, "products": len(ids), "without_images": without,
                "unreadable": len(errors), "unreadable_examples": dict(list(errors.items())[:20]), "encoded": embedder.encoded,
                "seconds": round(time.perf_counter() - started, 2)}
        index = cls(ids, vectors, hash_arr, meta)
        index.save(out_dir)
        return index

    def save(self, out_dir: Path) -> None:
        """Write the plain files (no pickles)."""
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "ids.json").write_bytes(orjson.dumps(self.ids))
        np.save(out_dir / "vectors.npy", self.vectors.astype(np.float32))
        np.save(out_dir / "phash.npy", self.hashes.astype(np.uint64))
        (out_dir / "meta.json").write_bytes(orjson.dumps(self.meta, option=orjson.OPT_INDENT_2))

    @classmethod
    def load(cls, out_dir: Path) -> ImageIndex:
        """Read a built version folder (vectors memory-mapped)."""
        ids = orjson.loads((out_dir / "ids.json").read_bytes())
        vectors = np.load(out_dir / "vectors.npy", mmap_mode="r")
        hashes = np.load(out_dir / "phash.npy")
        meta = orjson.loads((out_dir / "meta.json").read_bytes())
        return cls(ids, np.asarray(vectors, dtype=np.float32), hashes, meta)

    # -- serving ---------------------------------------------------------------------------------------------
    def _index(self) -> Any:
        if self._faiss is None:
            import faiss

            index = faiss.IndexFlatIP(EMBED_DIM)
            if len(self.ids):
                index.add(np.ascontiguousarray(self.vectors, dtype=np.float32))
            self._faiss = index
        return self._faiss

    def search(self, vector: np.ndarray, k: int = 10, *, exclude: Sequence[str] = ()) -> list[dict[str, Any]]:
        """The `k` products whose image is nearest to `vector` (inner product of normalised vectors = cosine)."""
        if not self.ids or k <= 0:
            return []
        skip = set(exclude) | self.deleted
        want = min(len(self.ids), k + len(skip))
        sims, rows = self._index().search(np.ascontiguousarray(vector, dtype=np.float32).reshape(1, -1), want)
        out = []
        for s, r in zip(sims[0], rows[0], strict=True):
            if r < 0 or self.ids[r] in skip:
                continue
            out.append({"id": self.ids[r], "score": round(float(s), 4)})
            if len(out) == k:
                break
        return out

    def similar(self, product_id: str, k: int = 10) -> list[dict[str, Any]]:
        """Visually similar products: nearest images to the product's own (KeyError when it has no image vector)."""
        if product_id in self.deleted or product_id not in self.row:
            raise KeyError(product_id)
        return self.search(self.vectors[self.row[product_id]], k, exclude=[product_id])

    def duplicates(self, *, max_hamming: int = MAX_HAMMING, min_cosine: float = MIN_COSINE) -> list[dict[str, Any]]:
        """Groups of products whose images are near-duplicates (resized, recompressed or slightly cropped copies)."""
        keep = np.array([pid not in self.deleted for pid in self.ids], dtype=bool)
        rows = np.flatnonzero(keep)
        pairs = duplicate_pairs(self.vectors[rows], self.hashes[rows], max_hamming=max_hamming, min_cosine=min_cosine)
        out = []
        for group in duplicate_groups(len(rows), pairs):
            members = rows[group]
            sims = self.vectors[members] @ self.vectors[members].T
            dist = hamming(self.hashes[members][:, None], self.hashes[members][None, :])
            out.append({"products": [self.ids[i] for i in members], "min_cosine": round(float(sims.min()), 4),
                        "max_phash_distance": int(dist.max())})
        return out

    def delete(self, ids: list[str]) -> None:
        """Deleted products leave results at once (the engine calls this on catalog deletions)."""
        self.deleted.update(i for i in ids if i in self.row)
