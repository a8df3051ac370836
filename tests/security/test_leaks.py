"""Attack: learn about the server from its answers (paths, stack traces, versions), frame its pages, call it
cross-origin. Tried: /stats and /readyz with a failing store, an internal error, the OpenAPI document,
headers of every kind of response, CORS preflights from a foreign origin.
"""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

import shopmind
from shopmind.api import create_app

from .conftest import AS, open_demo


def test_stats_never_show_the_shop_path(client, shop):
    for role in ("admin", "analyst"):
        r = client.get("/stats", headers=AS[role])
        assert r.status_code == 200 and r.json()["products"] == 1682
        assert "home" not in r.json() and str(shop.home) not in r.text and shop.home.name not in r.text
    assert client.get("/stats").status_code == 401 and client.get("/stats", headers=AS["storefront"]).status_code == 403


def test_an_internal_error_says_only_internal_error_and_a_request_id(shop, caplog, monkeypatch):
    def broken() -> dict:
        raise RuntimeError(f"disk trouble under {shop.home}")

    monkeypatch.setattr(shop, "stats", broken)
    with TestClient(create_app(shop), raise_server_exceptions=False) as client, caplog.at_level(logging.ERROR, logger="shopmind.api"):
        r = client.get("/stats", headers=AS["admin"])
    body = r.json()
    assert r.status_code == 500 and set(body) == {"detail", "request_id"} and body["detail"] == "internal error"
    for leak in ("Traceback", "RuntimeError", str(shop.home), "disk trouble", shopmind.__version__, ".py"):
        assert leak not in r.text
    assert r.headers["x-request-id"] == body["request_id"] and r.headers["x-content-type-options"] == "nosniff"
    logged = [rec for rec in caplog.records if body["request_id"] in rec.getMessage()]
    assert logged and logged[0].exc_info and "disk trouble" in str(logged[0].exc_info[1])  # the operator still sees it


def test_readyz_hides_why_the_store_is_down(client, shop, monkeypatch):
    def down(*a, **k):
        raise OperationalError("SELECT 1", {}, Exception(f"unable to open database file {shop.home}/shop.db"))

    monkeypatch.setattr(shop.store.engine, "connect", down)
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json() == {"status": "unavailable"}


def test_no_package_version_in_answers(client):
    info = client.get("/openapi.json").json()["info"]
    assert info["version"] != shopmind.__version__
    for path in ("/healthz", "/readyz", "/products/m1", "/web/config.js", "/"):
        r = client.get(path)
        assert r.status_code == 200 and shopmind.__version__ not in r.text and shopmind.__version__ not in str(r.headers), path


@pytest.mark.parametrize("path,headers,status", [
    ("/", {}, 200), ("/admin", {}, 200), ("/web/config.js", {}, 200), ("/static/app.js", {}, 200),
    ("/products/m1", {}, 200), ("/products/none", {}, 404), ("/stats", {}, 401), ("/stats", AS["storefront"], 403),
    ("/users/u1", AS["admin"], 200), ("/nowhere", {}, 404),
])
def test_security_headers_on_every_response(client, path, headers, status):
    r = client.get(path, headers=headers)
    assert r.status_code == status
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "script-src 'self';" in csp
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_headers_on_oversized_bodies_and_docs(client):
    r = client.post("/events/batch", headers={**AS["storefront"], "content-length": str(100 * 1024 * 1024)}, content=b"[]")
    assert r.status_code == 413 and r.headers["x-frame-options"] == "DENY"
    docs = client.get("/docs")
    assert docs.status_code == 200 and "frame-ancestors 'none'" in docs.headers["content-security-policy"]


def test_cors_is_closed_by_default(client):
    pre = client.options("/search?q=x", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET",
                                                 "Access-Control-Request-Headers": "x-api-key"})
    assert "access-control-allow-origin" not in pre.headers
    r = client.get("/products/m1", headers={"Origin": "https://evil.example"})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers


def test_cors_opens_to_configured_origins_only(tmp_path, demo_data):
    shop = open_demo(tmp_path / "shop", demo_data, n_events=10, cors_origins=["https://shop.example"])
    with TestClient(create_app(shop)) as client:
        ok = client.options("/products/m1", headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "GET",
                                                     "Access-Control-Request-Headers": "x-api-key"})
        assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "https://shop.example"
        assert "x-api-key" in ok.headers["access-control-allow-headers"].lower()
        other = client.options("/products/m1", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
        assert other.headers.get("access-control-allow-origin") != "https://evil.example"
        got = client.get("/products/m1", headers={"Origin": "https://shop.example"})
        assert got.headers["access-control-allow-origin"] == "https://shop.example"
    shop.close()
