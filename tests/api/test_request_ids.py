"""Request ids through the API and the JSON log format: echoed, generated, validated, on every log record."""

from __future__ import annotations

import io
import logging

import orjson
import pytest
from fastapi.testclient import TestClient

from shopmind.api import create_app
from shopmind.engine import ShopMind
from shopmind.logs import flush_logs, setup_logging, valid_request_id


@pytest.fixture
def logged(tmp_path, demo_data):
    shop = ShopMind.open(tmp_path / "shop", api={"admin_keys": ["admin-key"], "public_keys": ["public-key"], "max_body_bytes": 4096})
    shop.import_file("products", demo_data / "products.jsonl")
    stream = io.StringIO()
    handler = setup_logging("INFO", "json", stream=stream)
    try:
        with TestClient(create_app(shop)) as client:
            yield client, stream
    finally:
        logging.getLogger().removeHandler(handler)
        shop.close()


def _records(stream: io.StringIO) -> list[dict]:
    flush_logs()  # records are written by a background thread
    return [orjson.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_request_id_echoed_and_on_the_access_record(logged):
    client, stream = logged
    r = client.get("/products/m1?secret=hunter2", headers={"X-Request-ID": "abc-123", "X-API-Key": "public-key"})
    assert r.status_code == 200 and r.headers["x-request-id"] == "abc-123"
    access = [rec for rec in _records(stream) if rec["logger"] == "shopmind.api.access"]
    assert access and access[-1]["request_id"] == "abc-123"
    assert (access[-1]["method"], access[-1]["route"], access[-1]["status"], access[-1]["level"]) == ("GET", "/products/{product_id}", 200, "INFO")
    assert isinstance(access[-1]["ms"], float) and "time" in access[-1]
    text = "".join(orjson.dumps(rec).decode() for rec in _records(stream) if rec["logger"].startswith("shopmind"))
    assert "hunter2" not in text and "public-key" not in text and "/products/m1" not in text  # template only, no query, no key


def test_unsafe_or_missing_ids_are_replaced(logged):
    client, stream = logged
    made = client.get("/healthz").headers["x-request-id"]
    assert len(made) == 32 and made != client.get("/healthz").headers["x-request-id"]
    bad = client.get("/healthz", headers={"X-Request-ID": "x\" injected=1 " + "a" * 100}).headers["x-request-id"]
    assert "injected" not in bad and len(bad) == 32
    assert client.post("/products", content=b"x" * 10_000, headers={"X-Request-ID": "big-1"}).headers["x-request-id"] == "big-1"  # a 413 too
    assert {rec["request_id"] for rec in _records(stream)} >= {made, bad, "big-1"}


def test_request_id_validation_and_text_format():
    assert valid_request_id("req_1.2:3-x") == "req_1.2:3-x"
    assert valid_request_id("a" * 65) is None and valid_request_id("a b") is None and valid_request_id("") is None
    stream = io.StringIO()
    handler = setup_logging("warning", "text", stream=stream)
    try:
        logging.getLogger("shopmind.test").info("hidden")
        logging.getLogger("shopmind.test").warning("shown %d", 1, extra={"part": "search"})
        flush_logs()
    finally:
        logging.getLogger().removeHandler(handler)
    assert "hidden" not in stream.getvalue() and "WARNING shopmind.test shown 1 part=search" in stream.getvalue()
