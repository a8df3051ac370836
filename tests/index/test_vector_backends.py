"""The vector-index registry: URL schemes checked with errors naming search.vector_url, faiss stays the default and
a saved folder reopens with the backend it was built with (no Milvus server needed here)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from pydantic import ValidationError

from shopmind.index.backends import VECTOR_BACKENDS, build_vector_index, check_vector_url, load_vector_index, saved_backend
from shopmind.index.milvus import MilvusVectorIndex, milvus_index_params, parse_milvus_url
from shopmind.index.vectors import VectorIndex
from shopmind.search import SearchConfig


def test_registry_names_both_backends() -> None:
    assert VECTOR_BACKENDS["faiss"] is VectorIndex and VECTOR_BACKENDS["milvus"] is MilvusVectorIndex
    assert SearchConfig().vector_url == "faiss://"


@pytest.mark.parametrize("url", ["faiss://", "milvus:///tmp/x/shop.db", "milvus://milvus:19530", "milvus://10.0.0.5"])
def test_good_urls(url: str) -> None:
    assert check_vector_url(url) == url
    assert SearchConfig(vector_url=url).vector_url == url


@pytest.mark.parametrize(("url", "words"), [
    ("qdrant://host:6333", "unknown scheme"),
    ("faiss:///some/path", "takes no address"),
    ("milvus://relative.db", "absolute path"),
    ("milvus:///tmp/no-suffix", "ending in .db"),
    ("milvus://host:19530/db", "milvus://host:port"),
    ("/tmp/shop.db", "unknown scheme"),
])
def test_bad_urls_name_the_setting(url: str, words: str) -> None:
    with pytest.raises(ValueError, match=r"search\.vector_url") as err:
        check_vector_url(url)
    assert words in str(err.value)
    with pytest.raises(ValidationError, match=r"search\.vector_url"):
        SearchConfig(vector_url=url)


def test_milvus_urls_parse() -> None:
    lite = parse_milvus_url("milvus:///srv/shop/vectors.db")
    assert lite.lite and lite.uri == "/srv/shop/vectors.db"
    server = parse_milvus_url("milvus://milvus")
    assert not server.lite and server.uri == "http://milvus:19530"
    assert milvus_index_params("Flat", 200) == ("FLAT", {})
    assert milvus_index_params("HNSW32,Flat", 120) == ("HNSW", {"M": 32, "efConstruction": 120})
    assert milvus_index_params("IVF256,PQ16", 200)[0] == "AUTOINDEX"


def test_faiss_round_trip_through_the_registry(tmp_path) -> None:
    rng = np.random.default_rng(0)
    v = rng.standard_normal((300, 16)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    index = build_vector_index(v, "faiss://", spec="Flat", ef_search=64)
    assert type(index) is VectorIndex and index.ef_search == 64
    index.save(tmp_path)
    assert saved_backend(tmp_path) == "faiss"  # folders written before the registry carry no backend key: faiss
    assert "backend" not in json.loads((tmp_path / "vectors.json").read_text())
    again = load_vector_index(tmp_path, "milvus:///tmp/unused.db", ef_search=64)  # a faiss-built version stays faiss
    assert type(again) is VectorIndex
    rows, _ = again.search(v[7], 5)
    assert rows[0] == 7


def test_unregistered_saved_backend_is_a_clear_error(tmp_path) -> None:
    (tmp_path / "vectors.json").write_text(json.dumps({"backend": "pgvector", "n": 1, "dim": 2}))
    with pytest.raises(ValueError, match="pgvector"):
        load_vector_index(tmp_path, "faiss://")


def test_missing_pymilvus_names_the_extra(monkeypatch, tmp_path) -> None:
    """With pymilvus hidden, a milvus:// index fails with one line naming the extra to install."""
    from shopmind.index import milvus

    monkeypatch.setitem(sys.modules, "pymilvus", None)
    with pytest.raises(ImportError, match=r"pip install -e '\.\[milvus\]'"):
        milvus.milvus_client(parse_milvus_url(f"milvus://{tmp_path / 'hidden.db'}"))
    assert str(tmp_path / "hidden.db") not in milvus._CLIENTS


@pytest.mark.integration
def test_engine_import_stays_light() -> None:
    """The embedded default never loads pymilvus (nor its gRPC stack) on import."""
    code = "import sys, shopmind.engine, shopmind.search.artifact; sys.exit(1 if 'pymilvus' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120).returncode == 0
