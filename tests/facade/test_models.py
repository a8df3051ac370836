"""The model registry through the facade, the CLI and the API: a build registers its version with its data window and
metrics; promote and rollback switch what serves (audited); `auto_promote = false` holds a build back; a home made
before the registry opens and serves. One real demo-slice shop (MovieLens titles, its first 5,000 events), search only.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from typer.testing import CliRunner

from shopmind.api.app import create_app
from shopmind.artifacts import RegistryError, VersionNotFound
from shopmind.cli.main import app as cli
from shopmind.engine import ShopMind
from shopmind.store.schema import model_promotions, model_versions

pytestmark = pytest.mark.integration  # whole-part builds

SETTINGS = {"search": {"stages": {"dense": False}}, "api": {"admin_keys": ["admin-key"], "public_keys": ["public-key"], "analyst_keys": ["analyst-key"]}}
ADMIN = {"X-API-Key": "admin-key"}


def _open(home: Path, **extra: dict) -> ShopMind:
    return ShopMind.open(home, **SETTINGS, **extra)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, demo_data: Path) -> tuple[Path, pq.ParquetFile]:
    """A home with the demo products and 5,000 events, search built twice (two kept versions, the second promoted)."""
    home = tmp_path_factory.mktemp("models") / "home"
    shop = _open(home)
    shop.import_file("products", demo_data / "products.jsonl")
    events = pq.read_table(demo_data / "events.parquet").slice(0, 5000)
    pq.write_table(events, home / "events.parquet")
    shop.import_file("events", home / "events.parquet")
    shop.build(["search"])
    shop.build(["search"])
    shop.close()
    return home, events


def _serving(shop: ShopMind) -> str | None:
    return shop.models("search")["search"]["loaded"]


def test_a_build_registers_its_version_with_data_window_and_metrics(built) -> None:
    home, events = built
    with _open(home) as shop:
        rows = shop.models("search")["search"]["versions"]
        assert [r["status"] for r in rows] == ["promoted", "built"]
        new = rows[0]
        ts = events.column("timestamp").to_pylist()  # epoch seconds
        assert (new["first_event_ts"], new["last_event_ts"]) == (float(min(ts)), float(max(ts)))
        assert (new["products"], new["events"], new["last_event_seq"]) == (1682, 5000, 5000)
        assert new["last_change_seq"] >= 1682  # the import's catalog changes were in its snapshot
        assert new["uri"] == str(shop.artifacts_dir("search") / new["version"])
        assert new["meta"] == orjson.loads((Path(new["uri"]) / "meta.json").read_bytes())
        assert new["config_hash"] and new["config_hash"] == rows[1]["config_hash"]
        assert shop.artifact_version("search") == new["version"] == (shop.artifacts_dir("search") / "current").read_text()
        history = shop.models("search")["search"]["history"]
        assert [(h["who"], h["to_version"]) for h in history] == [("build", rows[0]["version"]), ("build", rows[1]["version"])]


def test_promote_and_rollback_through_the_facade(built) -> None:
    home, _ = built
    with _open(home) as shop:
        newest, older = (r["version"] for r in shop.models("search")["search"]["versions"])
        assert shop.search("star wars").hits[0].title == "Star Wars"
        assert _serving(shop) == newest
        out = shop.rollback("search", who="test", reason="bad ndcg")
        assert out == {"part": "search", "from": newest, "to": older, "changed": True}
        assert _serving(shop) == older and shop.artifact_version("search") == older  # swapped here at once
        assert shop.search("star wars").hits[0].title == "Star Wars"
        assert shop.promote("search", newest, who="test")["changed"]
        assert _serving(shop) == newest
        with pytest.raises(VersionNotFound):
            shop.promote("search", "19990101-000000-000")
        last = shop.models("search")["search"]["history"][:2]
        assert [(h["action"], h["reason"]) for h in last] == [("promote", ""), ("rollback", "bad ndcg")]


def test_a_build_waits_for_promotion_when_auto_promote_is_off(built, tmp_path: Path) -> None:
    home = tmp_path / "copy"
    shutil.copytree(built[0], home)
    with _open(home, cluster={"auto_promote": False}) as shop:
        before = shop.artifact_version("search")
        _ = shop.search("star wars")
        time.sleep(1.1)  # versions are named to the second
        version = shop.build(["search"])["search"]["version"]
        assert shop.artifact_version("search") == before and _serving(shop) == before
        assert shop.registry.get("search", version)["status"] == "built"
        shop.promote("search", version, who="test")
        assert _serving(shop) == version


def test_cli_lists_promotes_and_rolls_back(built, tmp_path: Path) -> None:
    home = tmp_path / "copy"
    shutil.copytree(built[0], home)
    runner = CliRunner()
    listed = runner.invoke(cli, ["models", "list", "--home", str(home), "--json"])
    assert listed.exit_code == 0, listed.output
    newest, older = (r["version"] for r in orjson.loads(listed.stdout)["search"]["versions"])
    back = runner.invoke(cli, ["models", "rollback", "search", "--home", str(home), "--json", "--reason", "cli test"])
    assert back.exit_code == 0, back.output
    assert orjson.loads(back.stdout)["to"] == older
    again = runner.invoke(cli, ["models", "promote", "search", newest, "--home", str(home)])
    assert again.exit_code == 0 and f"{older} → {newest}" in again.stdout
    bad = runner.invoke(cli, ["models", "promote", "search", "nope", "--home", str(home)])
    assert bad.exit_code == 1 and "no search version 'nope'" in bad.output
    table = runner.invoke(cli, ["models", "list", "--home", str(home)])
    assert newest in table.stdout and "promoted" in table.stdout
    time.sleep(1.1)  # versions are named to the second
    held = runner.invoke(cli, ["build", "--part", "search", "--no-promote", "--home", str(home), "--json"])
    assert held.exit_code == 0, held.output
    version = orjson.loads(held.stdout.splitlines()[-1])["search"]["version"]
    listed = orjson.loads(runner.invoke(cli, ["models", "list", "search", "--home", str(home), "--json"]).stdout)["search"]
    assert listed["current"] == newest and listed["versions"][0]["version"] == version and listed["versions"][0]["status"] == "built"
    with _open(home) as shop:
        from shopmind.security import audit

        actions = [(e["action"], e["key_id"], e["target"]) for e in audit.entries(shop.store.engine, action=None) if e["action"].startswith("model.")]
        assert actions == [("model.promote", "cli", f"search/{newest}"), ("model.rollback", "cli", f"search/{older}")]


def test_api_lists_promotes_and_rolls_back_with_an_admin_key(built, tmp_path: Path) -> None:
    home = tmp_path / "copy"
    shutil.copytree(built[0], home)
    shop = _open(home)
    with TestClient(create_app(shop)) as client:
        assert client.get("/admin/models").status_code == 401
        assert client.get("/admin/models", headers={"X-API-Key": "public-key"}).status_code == 403
        assert client.post("/admin/models/search/rollback", headers={"X-API-Key": "analyst-key"}).status_code == 403
        listed = client.get("/admin/models", headers=ADMIN).json()
        newest, older = (r["version"] for r in listed["search"]["versions"])
        assert client.get("/search", params={"q": "star wars"}, headers=ADMIN).json()["hits"][0]["title"] == "Star Wars"
        back = client.post("/admin/models/search/rollback", params={"reason": "api test"}, headers=ADMIN)
        assert back.status_code == 200 and back.json()["to"] == older
        assert shop.models("search")["search"]["loaded"] == older
        assert client.post(f"/admin/models/search/{newest}/promote", headers=ADMIN).json()["to"] == newest
        assert client.post("/admin/models/search/19990101-000000-000/promote", headers=ADMIN).status_code == 404
        assert client.post("/admin/models/search/bad%20version/promote", headers=ADMIN).status_code == 422
        audit = client.get("/admin/audit", params={"limit": 2}, headers=ADMIN).json()["entries"]
        assert [(e["action"], e["target"]) for e in audit] == [("model.promote", f"search/{newest}"), ("model.rollback", f"search/{older}")]
    shop.close()


def test_a_home_from_before_the_registry_opens_and_serves(built, tmp_path: Path) -> None:
    home = tmp_path / "old"
    shutil.copytree(built[0], home)
    with _open(home) as shop:  # forget the registry: only the folders and their `current` files remain
        current = (shop.artifacts_dir("search") / "current").read_text()
        with shop.store.transaction() as conn:
            conn.execute(delete(model_promotions))
            conn.execute(delete(model_versions))
    with _open(home) as shop:
        assert shop.search("star wars").hits[0].title == "Star Wars"
        search = shop.models()["search"]
        assert search["current"] == current and len(search["versions"]) == 2
        assert search["history"][0]["who"] == "register"
        with pytest.raises(RegistryError, match="no earlier kept version"):
            shop.rollback("search")
