"""Real catalog slices for search tests: Home Depot titles, Multi-CPR (zh), and OpenBG Taobao items
(title + brand + attributes + coarse/fine category, from shared/data/ecomgpt)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shopmind.assistant.datasets import openbg_products as _openbg
from shopmind.domain import Product


def openbg_products(shared: Path) -> list[Product]:
    """OpenBG Taobao items with the attributes search tests match on (lists kept as lists)."""
    return _openbg(shared, keep_keys=("颜色分类", "风格", "材质", "适用对象", "功效", "适用季节", "流行元素"), flatten=False)


def read_jsonl(path: Path, limit: int | None = None) -> list[Product]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            out.append(Product(**json.loads(line)))
            if limit and len(out) >= limit:
                break
    return out


@pytest.fixture(scope="session")
def openbg(shared_data: Path) -> list[Product]:
    return openbg_products(shared_data)


@pytest.fixture(scope="session")
def hd_slice(shared_data: Path) -> list[Product]:
    """First 2,000 Home Depot products (titles only)."""
    return read_jsonl(shared_data / "search" / "homedepot" / "products.jsonl", 2000)


@pytest.fixture(scope="session")
def zh_products(shared_data: Path) -> list[Product]:
    return read_jsonl(shared_data / "search" / "multicpr-zh" / "products.jsonl")
