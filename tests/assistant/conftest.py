"""A tiny real shop for assistant tests: Home Depot and Multi-CPR titles, OpenBG and MEPAVE (zh) items with
brands/attributes, ePQA Amazon products with attributes, and the hetPQA toys with real list prices."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete

from shopmind.assistant import Assistant
from shopmind.assistant import datasets as ds
from shopmind.engine import ShopMind
from shopmind.store.schema import chat_sessions


@pytest.fixture(scope="session")
def products(shared_data: Path):
    hd = ds.read_products(shared_data / "search/homedepot/products.jsonl", 300)
    zh = ds.read_products(shared_data / "search/multicpr-zh/products.jsonl", 200)
    epqa, _ = ds.epqa(shared_data)
    return hd + zh + ds.openbg_products(shared_data)[:120] + [p for p, _ in ds.mepave(shared_data)[:80]] + epqa[:80] + ds.priced_toys(shared_data)


@pytest.fixture(scope="session")
def shop(tmp_path_factory, products):
    home = tmp_path_factory.mktemp("assistant-shop")
    s = ShopMind.open(home, search={"stages": {"dense": False}}, api={"admin_keys": ["admin-key"], "public_keys": ["public-key"]})
    s.catalog.upsert(products)
    s.build(["search"])
    yield s
    s.close()


@pytest.fixture
def assistant(shop) -> Assistant:
    """A fresh assistant with no conversations (they live in the shared shop's database)."""
    with shop.store.engine.begin() as conn:
        conn.execute(delete(chat_sessions))
    return shop.new_assistant()
