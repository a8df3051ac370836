"""HTTP API: keys, validation errors with field paths, 413, idempotent events, privacy delete, probes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

import shopmind
from shopmind.api import create_app
from shopmind.engine import ShopMind

ADMIN = {"X-API-Key": "admin-key"}
PUBLIC = {"X-API-Key": "public-key"}
ANALYST = {"X-API-Key": "analyst-key"}


@pytest.fixture
def shop(tmp_path, demo_data):
    s = ShopMind.open(tmp_path / "shop", api={"admin_keys": ["admin-key"], "public_keys": ["public-key"], "analyst_keys": ["analyst-key"], "max_body_bytes": 64 * 1024})
    s.import_file("products", demo_data / "products.jsonl")
    yield s
    s.close()


@pytest.fixture
def client(shop):
    with TestClient(create_app(shop)) as c:
        yield c


def test_probes_and_metrics(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"
    client.get("/products/m1")
    assert client.get("/metrics").status_code == 401  # the runtime's version is in there: analyst or admin only
    assert client.get("/metrics", headers=PUBLIC).status_code == 403
    text = client.get("/metrics", headers=ANALYST).text
    assert 'shopmind_http_requests_total{method="GET",route="/products/{product_id}",status="200"}' in text
    info = client.get("/openapi.json").json()["info"]
    assert info["title"] == "ShopMind" and info["version"] != shopmind.__version__


def test_reads_are_open_writes_need_keys(client):
    assert client.get("/products/m1").json()["title"] == "Toy Story"
    assert client.get("/products/nope").status_code == 404
    body = {"id": "m1", "title": "Toy Story (1995)"}
    assert client.put("/products/m1", json=body).status_code == 401
    assert client.put("/products/m1", json=body, headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.put("/products/m1", json=body, headers=PUBLIC).status_code == 403
    assert client.put("/products/m1", json=body, headers=ADMIN).status_code == 200
    assert client.get("/products/m1").json()["title"] == "Toy Story (1995)"
    assert client.post("/events", json={"type": "view", "user_id": "u1", "item_id": "m1"}).status_code == 401
    assert client.post("/events", json={"type": "view", "user_id": "u1", "item_id": "m1"}, headers={"Authorization": "Bearer public-key"}).status_code == 202


def test_invalid_bodies_get_422_with_field_paths(client):
    r = client.post("/events/batch", headers=PUBLIC, json=[
        {"type": "view", "user_id": "u1", "item_id": "m1"},
        {"type": "view", "user_id": "u1", "item_id": "m2", "quantity": -1},
        {"type": "nope", "user_id": "u1", "item_id": "m1"},
    ])
    assert r.status_code == 422
    locs = [e["loc"] for e in r.json()["detail"]]
    assert ["body", 1, "quantity"] in locs and ["body", 2, "type"] in locs
    assert client.get("/stats", headers=ANALYST).json()["events"] == 0  # the batch is all or nothing
    r = client.put("/products/x", headers=ADMIN, json={"id": "x", "title": "t", "price": "cheap"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "price"]
    r = client.put("/products/x", headers=ADMIN, json={"id": "y", "title": "t"})
    assert r.status_code == 422


def test_oversized_bodies_get_413(client):
    events = [{"type": "view", "user_id": "u1", "item_id": f"m{i}"} for i in range(2000)]
    assert client.post("/events/batch", headers=PUBLIC, json=events).status_code == 413
    def chunks():
        yield b"[" + b",".join([b'{"type":"view","user_id":"u1","item_id":"m1"}'] * 3000) + b"]"
    assert client.post("/events/batch", headers={**PUBLIC, "content-type": "application/json"}, content=chunks()).status_code == 413


def test_events_are_idempotent_by_id(client):
    ev = {"id": "e-1", "type": "add_to_cart", "user_id": "u1", "item_id": "m1", "timestamp": "2024-05-01T10:00:00Z", "context": {"device": "mobile", "placement": "home", "position": 2}}
    assert client.post("/events", json=ev, headers=PUBLIC).json() == {"accepted": 1, "new": 1, "duplicates": 0}
    assert client.post("/events", json=ev, headers=PUBLIC).json() == {"accepted": 1, "new": 0, "duplicates": 1}
    batch = [ev, {**ev, "id": "e-2"}, {"type": "search", "user_id": "u1", "query": "toy story", "timestamp": 1714557600}]
    assert client.post("/events/batch", json=batch, headers=PUBLIC).json() == {"accepted": 3, "new": 2, "duplicates": 1}
    assert client.get("/stats", headers=ANALYST).json()["events"] == 3


def test_bulk_products_and_delete(client):
    r = client.post("/products", headers=ADMIN, json=[{"id": "n1", "title": "New One", "price": 9.5, "stock": 0}, {"id": "n2", "title": "New Two"}])
    assert r.json() == {"upserted": 2}
    assert client.get("/products/n1").json()["in_stock"] is False
    assert client.delete("/products/n1", headers=ADMIN).json() == {"deleted": 1}
    assert client.delete("/products/n1", headers=ADMIN).status_code == 404


def test_delete_user_removes_everything_and_says_what(client):
    client.put("/users/u9", headers=ADMIN, json={"id": "u9", "attributes": {"device": "ios"}})
    client.post("/events/batch", headers=PUBLIC, json=[{"type": "view", "user_id": "u9", "item_id": f"m{i}"} for i in range(1, 6)])
    client.post("/events", headers=PUBLIC, json={"type": "view", "user_id": "u8", "item_id": "m1"})
    assert client.delete("/users/u9", headers=PUBLIC).status_code == 403
    r = client.delete("/users/u9", headers=ADMIN)
    assert r.json()["removed"]["users"] == 1 and r.json()["removed"]["events"] == 5
    assert client.get("/users/u9", headers=ADMIN).status_code == 404
    assert client.get("/stats", headers=ADMIN).json()["events"] == 1


def test_profile_trending_and_reports(client, demo_data):
    import pyarrow.parquet as pq

    events = pq.read_table(demo_data / "events.parquet").slice(0, 3000).to_pylist()
    for e in events:
        e["timestamp"] = int(e["timestamp"])
    for start in range(0, len(events), 300):  # the fixture's body limit is 64 KiB
        assert client.post("/events/batch", headers=PUBLIC, json=events[start : start + 300]).status_code == 202
    assert client.get("/users/u276/profile").status_code == 401 and client.get("/users/u276/profile", headers=PUBLIC).status_code == 403
    prof = client.get("/users/u276/profile", headers=ADMIN).json()
    assert prof["known"] and prof["interests"] and len(prof["heat"]) == 7
    before = prof["events"]
    client.post("/events", headers=PUBLIC, json={"type": "view", "user_id": "u276", "item_id": "m9", "timestamp": int(events[-1]["timestamp"]) + 5})
    after = client.get("/users/u276/profile", headers=ADMIN).json()
    assert after["events"] == before + 1 and after["recent"][0]["item_id"] == "m9"
    assert client.get("/trending").json()["items"]
    assert client.get("/reports/funnel").status_code == 401
    assert client.get("/reports/funnel", headers=PUBLIC).status_code == 403
    assert client.get("/reports/funnel", headers=ANALYST).json()[0]["viewers"] > 0
    assert client.get("/reports/queries", headers=ANALYST).status_code == 403  # quotes what shoppers typed
    assert "top" in client.get("/reports/queries", headers=ADMIN).json()
    assert client.get("/reports/nope", headers=ADMIN).status_code == 404
    assert client.post("/admin/rebuild-state", headers=ADMIN).json()["events"] == 3001
