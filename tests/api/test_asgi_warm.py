"""An API worker loads its built parts and its query encoder before it takes traffic (`shopmind.api.asgi.warm`), so
N workers do not each load them during their first requests (issue 16: minutes of warm-up with two workers)."""

from __future__ import annotations

import pytest

from shopmind.api.asgi import warm
from shopmind.engine import ShopMind

pytestmark = pytest.mark.integration  # builds the search part of the demo catalog


def test_a_worker_with_nothing_built_starts(tmp_path):
    with ShopMind.open(tmp_path / "shop") as shop:
        assert warm(shop) == []


def test_a_worker_loads_search_and_encodes_once_before_serving(tmp_path, demo_data):
    home = tmp_path / "shop"
    with ShopMind.open(home) as builder:
        builder.import_file("products", demo_data / "products.jsonl")
        builder.build(parts=["search"])
    with ShopMind.open(home) as worker:  # another process's view: nothing loaded yet
        store = worker.embeddings()
        before = store.encoded
        assert warm(worker) == ["search"]
        assert store.encoded == before + 1  # the query thread has started and loaded the model
        assert worker.search("drill", explain=False).total >= 0
