"""Experiments over the API and the CLI, round trip on a real demo-slice shop (search built, dense off): admin creates,
starts and stops (audited), analysts read reports, storefront searches carry the variant and are exposed, errors name
the field (422) or the state (409); the CLI does the same through `shopmind experiments …`."""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shopmind.api.app import create_app
from shopmind.cli.main import app as cli
from shopmind.engine import ShopMind

pytestmark = pytest.mark.integration  # a part build

SETTINGS = {"search": {"stages": {"dense": False}}, "api": {"admin_keys": ["admin-key"], "public_keys": ["public-key"], "analyst_keys": ["analyst-key"]}}
ADMIN, ANALYST, PUBLIC = ({"X-API-Key": k} for k in ("admin-key", "analyst-key", "public-key"))
DEFINITION = {"id": "ranker-ab", "surface": "search", "variants": [{"name": "control", "control": True},
                                                                     {"name": "bm25", "overrides": {"stages": {"spelling": False}}}]}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, demo_data: Path) -> Path:
    home = tmp_path_factory.mktemp("exp-api") / "home"
    with ShopMind.open(home, **SETTINGS) as shop:
        shop.import_file("products", demo_data / "products.jsonl")
        pq.write_table(pq.read_table(demo_data / "events.parquet").slice(0, 3000), home / "events.parquet")
        shop.import_file("events", home / "events.parquet")
        shop.build(["search"])
    return home


def test_api_round_trip(home: Path) -> None:
    with ShopMind.open(home, **SETTINGS) as shop, TestClient(create_app(shop)) as client:
        assert client.post("/admin/experiments", json=DEFINITION, headers=ANALYST).status_code == 403
        bad = client.post("/admin/experiments", json={**DEFINITION, "variants": DEFINITION["variants"][:1]}, headers=ADMIN)
        assert bad.status_code == 422 and "variants" in bad.json()["detail"] and "at least 2" in bad.json()["detail"]
        made = client.post("/admin/experiments", json=DEFINITION, headers=ADMIN)
        assert made.status_code == 201 and made.json()["status"] == "draft"
        assert client.post("/admin/experiments", json=DEFINITION, headers=ADMIN).status_code == 409
        assert client.post("/admin/experiments/nope/start", headers=ADMIN).status_code == 404
        assert client.post("/admin/experiments/ranker-ab/start", headers=ADMIN).json()["status"] == "running"
        assert client.post("/admin/experiments/ranker-ab/start", headers=ADMIN).status_code == 409
        seen = {}
        for u in (f"u{i}" for i in range(1, 13)):  # under the storefront rate limit
            r = client.get("/search", params={"q": "star wars", "user_id": u}, headers=PUBLIC)
            assert r.status_code == 200
            seen[u] = r.json()["experiment"]["variant"]
        assert set(seen.values()) == {"control", "bm25"}
        report = client.get("/admin/experiments/ranker-ab/report", headers=ANALYST).json()
        units = {v["name"]: v["units"] for v in report["variants"]}
        assert units == {name: sum(v == name for v in seen.values()) for name in ("control", "bm25")}
        assert set(report["metrics"]) == {"ctr", "add_to_cart_rate", "conversion", "revenue_per_user"} and "p_value" in report["srm"]
        assert client.get("/admin/experiments/ranker-ab/report", params={"traffic": "fake"}, headers=ANALYST).status_code == 422
        assert [e["id"] for e in client.get("/admin/experiments", headers=ANALYST).json()] == ["ranker-ab"]
        assert client.post("/admin/experiments/ranker-ab/stop", headers=ADMIN).json()["status"] == "stopped"
        assert client.post("/admin/experiments/ranker-ab/stop", headers=ADMIN).status_code == 409
        assert client.get("/search", params={"q": "star wars", "user_id": "u1"}, headers=PUBLIC).json()["experiment"] is None
        audited = [(e["action"], e["target"]) for e in client.get("/admin/audit", headers=ADMIN).json()["entries"]]
        assert [a for a in audited if a[0].startswith("experiment.")] == [("experiment.stop", "ranker-ab"), ("experiment.start", "ranker-ab"),
                                                                          ("experiment.create", "ranker-ab")]


def test_cli_round_trip(home: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    path = tmp_path / "exp.json"
    path.write_bytes(orjson.dumps({**DEFINITION, "id": "cli-ab"}))
    base = ["--home", str(home)]
    made = runner.invoke(cli, ["experiments", "create", str(path), *base, "--json"])
    assert made.exit_code == 0, made.output
    assert orjson.loads(made.stdout)["status"] == "draft"
    assert runner.invoke(cli, ["experiments", "start", "cli-ab", *base]).exit_code == 0
    listed = orjson.loads(runner.invoke(cli, ["experiments", "list", *base, "--json"]).stdout)
    assert {e["id"]: e["status"] for e in listed}["cli-ab"] == "running"
    with ShopMind.open(home, **SETTINGS) as shop:
        for u in ("u1", "u2", "u3", "u4"):
            shop.search("star wars", user_id=u)
    report = orjson.loads(runner.invoke(cli, ["experiments", "report", "cli-ab", *base, "--json"]).stdout)
    assert sum(v["units"] for v in report["variants"]) == 4 and report["traffic"] == "real"
    table = runner.invoke(cli, ["experiments", "report", "cli-ab", *base])
    assert table.exit_code == 0 and "sample ratio" in table.output
    assert runner.invoke(cli, ["experiments", "stop", "cli-ab", *base]).exit_code == 0
    again = runner.invoke(cli, ["experiments", "stop", "cli-ab", *base])
    assert again.exit_code == 1 and "only a running experiment can stop" in again.output
    shown = orjson.loads(runner.invoke(cli, ["experiments", "show", "cli-ab", *base, "--json"]).stdout)
    assert shown["status"] == "stopped" and shown["ended_at"] >= shown["started_at"]
    bad = tmp_path / "bad.json"
    bad.write_bytes(orjson.dumps({**DEFINITION, "id": "bad", "surface": "checkout"}))
    out = runner.invoke(cli, ["experiments", "create", str(bad), *base])
    assert out.exit_code == 1 and "surface:" in out.output
