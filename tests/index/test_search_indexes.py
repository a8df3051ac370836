"""Lexical (multi-field bm25s) and vector (faiss) indexes: filters inside retrieval, delta segments, files."""

from __future__ import annotations

import numpy as np
import pytest

from shopmind.index import Index, LexicalIndex, VectorIndex, top_k
from shopmind.text import tokenize


@pytest.fixture(scope="module")
def titles(hd_slice) -> list[list[str]]:
    return [tokenize(p.title) for p in hd_slice[:1000]]


@pytest.fixture(scope="module")
def lex(titles) -> LexicalIndex:
    return LexicalIndex.build({"title": titles, "brand": [[] for _ in titles]}, {"title": 1.0, "brand": 0.5})


def test_protocol(lex: LexicalIndex) -> None:
    assert isinstance(lex, Index)
    assert isinstance(VectorIndex.build(np.eye(4, dtype=np.float32)), Index)


def test_lexical_search_and_mask(lex: LexicalIndex, titles) -> None:
    q = {"*": tokenize("shower faucet chrome")}
    rows, scores = lex.search(q, 10)
    assert len(rows) == 10 and np.all(np.diff(scores) <= 0) and scores[-1] > 0
    allowed = np.zeros(lex.size, bool)
    allowed[::3] = True
    frows, _ = lex.search(q, 10, allowed)
    assert np.all(frows % 3 == 0)
    full = lex.combine(lex.field_scores(q))
    expect = top_k(np.where(allowed, full, -np.inf), 10, min_score=0.0)[0]
    assert list(frows) == list(expect)


def test_delta_scores_like_main(lex: LexicalIndex, titles, hd_slice) -> None:
    """A delta copy of a main document scores exactly like the original (same IDF and lengths)."""
    lex2 = LexicalIndex.build({"title": titles}, {"title": 1.0})
    src = 17
    lex2.add(np.array([lex2.size]), [{"title": titles[src]}])
    q = {"*": titles[src][:3]}
    s = lex2.combine(lex2.field_scores(q))
    assert s[-1] == pytest.approx(s[src], rel=1e-4)
    rows, _ = lex2.search({"*": titles[src]}, 2)
    assert set(rows) == {src, lex2.size - 1}


def test_lexical_save_load(lex: LexicalIndex, tmp_path) -> None:
    lex.save(tmp_path)
    again = LexicalIndex.load(tmp_path)
    q = {"*": tokenize("ceiling fan light kit")}
    a, sa = lex.search(q, 20)
    b, sb = again.search(q, 20)
    assert list(a) == list(b) and np.allclose(sa, sb)
    assert not any(p.suffix == ".pkl" for p in tmp_path.rglob("*"))


def test_vector_filtered_search_is_exact(tmp_path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 32)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    vi = VectorIndex.build(x)
    q = x[5]
    allowed = rng.random(3000) < 0.1
    rows, sims = vi.search(q, 15, allowed)
    brute = np.flatnonzero(allowed)[np.argsort(-(x[allowed] @ q))][:15]
    assert list(rows) == list(brute) and np.allclose(sims, x[brute] @ q, atol=1e-5)
    # delta rows join the search at once and respect the mask too
    vi.add(np.array([3000]), -q[None, :] * -1)
    allowed2 = np.append(allowed, True)
    rows2, sims2 = vi.search(q, 3, allowed2)
    assert rows2[0] == 3000 and sims2[0] == pytest.approx(1.0, abs=1e-5)
    allowed2[-1] = False
    assert 3000 not in vi.search(q, 3, allowed2)[0]
    vi2 = VectorIndex.build(x)
    vi2.save(tmp_path)
    again = VectorIndex.load(tmp_path)
    assert list(again.search(q, 5)[0]) == list(vi2.search(q, 5)[0])


def test_top_k_ties_and_empty() -> None:
    s = np.array([1.0, 3.0, 3.0, 0.0], np.float32)
    assert list(top_k(s, 3)[0]) == [1, 2, 0]
    assert list(top_k(s, 5, min_score=0.0)[0]) == [1, 2, 0]
    assert len(top_k(s, 0)[0]) == 0


@pytest.mark.integration
def test_hnsw_above_auto_threshold_filtered_and_exact_for_selective_filters(tmp_path) -> None:
    from shopmind.index.vectors import AUTO_HNSW_ROWS, resolve_spec

    assert resolve_spec("auto", 1000) == "Flat" and "HNSW" in resolve_spec("auto", AUTO_HNSW_ROWS)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4000, 32)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    vi = VectorIndex.build(x, "HNSW32,Flat")
    assert vi.is_hnsw
    q = x[7]
    rows, _sims = vi.search(q, 20)
    brute = np.argsort(-(x @ q))[:20]
    assert rows[0] == 7 and len(set(rows) & set(brute)) >= 18  # approximate, but close
    vi.exact_max = 100  # force the filtered HNSW path: only allowed rows come back
    allowed = rng.random(4000) < 0.5
    rows, _ = vi.search(q, 20, allowed)
    assert len(rows) == 20 and allowed[rows].all()
    vi.exact_max = 8000  # a selective filter is answered exactly over the allowed rows
    rows, _sims = vi.search(q, 20, allowed)
    brute = np.flatnonzero(allowed)[np.argsort(-(x[allowed] @ q))][:20]
    assert list(rows) == list(brute)
    vi.save(tmp_path)
    again = VectorIndex.load(tmp_path)
    assert again.is_hnsw and list(again.search(q, 5)[0]) == list(vi.search(q, 5)[0])
