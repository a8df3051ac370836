"""Fixtures for index tests (Home Depot slice)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shopmind.domain import Product


@pytest.fixture(scope="session")
def hd_slice(shared_data: Path) -> list[Product]:
    """First 2,000 Home Depot products (titles only)."""
    out = []
    with open(shared_data / "search" / "homedepot" / "products.jsonl", encoding="utf-8") as f:
        for line in f:
            out.append(Product(**json.loads(line)))
            if len(out) >= 2000:
                break
    return out
