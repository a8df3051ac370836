"""The embedding seam: `build(..., vectors=..., embeddings=...)` indexes the given vectors without encoding,
and queries and new products are encoded through the given store (after load too)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from shopmind.search import SearchConfig, SearchService
from shopmind.text.encoders import RECENT_QUERY_VECTORS
from shopmind.text.product_text import product_text


class HashEmbeddings:
    """A deterministic bag-of-words store (tests only) that counts what it is asked to encode."""

    name, dim = "test-hash-64", 64

    def __init__(self) -> None:
        self.passages: list[str] = []
        self.queries: list[str] = []

    def _vecs(self, texts: list[str]) -> np.ndarray:
        v = np.zeros((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().replace("|", " ").split():
                v[i, zlib.crc32(w.encode()) % self.dim] += 1.0
        return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)

    def encode_passages(self, texts):
        self.passages += list(texts)
        return self._vecs(list(texts))

    def encode_queries(self, texts):
        self.queries += list(texts)
        return self._vecs(list(texts))

    def product_vectors(self, products):
        return self.encode_passages([product_text(p) for p in products])


@pytest.fixture(scope="module")
def products(hd_slice):
    return hd_slice[:300]


def test_given_vectors_are_indexed_without_encoding(products, tmp_path) -> None:
    emb = HashEmbeddings()
    vectors = emb._vecs([product_text(p) for p in products])
    svc = SearchService.build(products, None, tmp_path / "s", SearchConfig(), vectors=vectors, embeddings=emb)
    assert emb.passages == [] and np.allclose(np.asarray(svc.vectors.vectors), vectors)
    res = svc.search("cordless drill", per_page=5)
    assert "dense" in res.query.stages and emb.queries == ["cordless drill"]
    assert res.hits[0].why.dense_similarity is not None
    assert RECENT_QUERY_VECTORS.get(emb.name, "cordless drill") is not None

    again = SearchService.load(tmp_path / "s", embeddings=emb)
    assert [h.id for h in again.search("cordless drill", per_page=5).hits] == [h.id for h in res.hits]
    assert emb.queries == ["cordless drill"] * 2 and emb.passages == []
    new = products[0].model_copy(update={"id": "new-1", "title": "Zebra striped garden hose reel"})
    again.upsert([new])
    assert emb.passages == [product_text(new)]


def test_without_vectors_the_store_encodes_product_text(products, tmp_path) -> None:
    emb = HashEmbeddings()
    SearchService.build(products[:50], None, None, SearchConfig(), embeddings=emb)
    assert emb.passages == [product_text(p) for p in products[:50]]


def test_misaligned_vectors_are_refused(products) -> None:
    with pytest.raises(ValueError, match="vectors"):
        SearchService.build(products[:10], None, None, SearchConfig(), vectors=np.zeros((3, 8), np.float32), embeddings=HashEmbeddings())
