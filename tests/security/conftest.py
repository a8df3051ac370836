"""A demo shop (real MovieLens products, users and a slice of events) served with one key per role."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from shopmind.api import create_app
from shopmind.engine import ShopMind

KEYS = {"admin": "sec-admin-key", "storefront": "sec-storefront-key", "ingest": "sec-ingest-key", "analyst": "sec-analyst-key"}
AS = {role: {"X-API-Key": key} for role, key in KEYS.items()}
API = {"admin_keys": [KEYS["admin"]], "public_keys": [KEYS["storefront"]], "ingest_keys": [KEYS["ingest"]], "analyst_keys": [KEYS["analyst"]]}


def open_demo(home, demo_data, n_events: int = 2000, **api) -> ShopMind:
    """A shop at `home` with the demo's products and users and its first `n_events` real events."""
    shop = ShopMind.open(home, api={**API, **api})
    shop.import_file("products", demo_data / "products.jsonl")
    shop.import_file("users", demo_data / "users.csv")
    events = pq.read_table(demo_data / "events.parquet").slice(0, n_events)
    pq.write_table(events, home / "events.parquet")
    shop.import_file("events", home / "events.parquet")
    return shop


@pytest.fixture
def shop(tmp_path, demo_data):
    s = open_demo(tmp_path / "shop", demo_data)
    yield s
    s.close()


@pytest.fixture
def client(shop):
    with TestClient(create_app(shop)) as c:
        yield c
