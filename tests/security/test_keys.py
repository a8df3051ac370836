"""Keys: stored only hashed, generated once for a shop without any, and rotated without a restart.

Attacks tried: read a key out of the database file (it holds only sha256 digests); keep using a key after
it was revoked by the CLI in another process (refused within the cache's 2 s); guess a key (401).
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from shopmind.api import create_app
from shopmind.engine import ShopMind
from shopmind.security import audit, keys
from shopmind.security.keys import CACHE_TTL_S

from .conftest import AS

BIN = Path(sys.executable).parent / "shopmind"


def _cli(home: Path, *args: str) -> dict:
    proc = subprocess.run([str(BIN), "keys", *args, "--home", str(home), "--json"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "SHOPMIND_HOME": str(home)})
    assert proc.returncode == 0, proc.stderr
    return orjson.loads(proc.stdout.splitlines()[-1])


def _db_bytes(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in home.glob("shop.db*"))  # the WAL too: a fresh secret may sit there


def test_keys_are_stored_only_as_hashes(tmp_path):
    shop = ShopMind.open(tmp_path / "shop")
    made = [keys.create(shop.store.engine, role, label=f"{role} test") for role in ("admin", "ingest", "storefront", "analyst")]
    listed = keys.list_keys(shop.store.engine)
    assert [r["id"] for r in listed] == [key_id for key_id, _ in made]
    for (key_id, secret), role in zip(made, ("admin", "ingest", "storefront", "analyst"), strict=True):
        assert secret.startswith(f"sm_{role}_") and len(secret) > 40
        assert keys.lookup(shop.store.engine, secret).key_id == key_id
        assert secret not in orjson.dumps(listed).decode()
    shop.close()
    raw = _db_bytes(tmp_path / "shop")
    for _, secret in made:
        assert secret.encode() not in raw  # not the secret…
        assert hashlib.sha256(secret.encode()).hexdigest().encode() in raw  # …only its digest


def test_a_shop_without_keys_gets_a_pair_once_in_a_private_file(tmp_path):
    home = tmp_path / "shop"
    shop = ShopMind.open(home)
    app = create_app(shop)
    generated = app.state.keyring.generated
    path = home / keys.KEYS_FILE
    assert generated and stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = path.read_bytes()
    with TestClient(app) as client:
        assert generated["storefront"] in client.get("/web/config.js").text  # the browser's (public) key
        assert generated["admin"] not in client.get("/web/config.js").text
        assert client.get("/stats", headers={"X-API-Key": generated["admin"]}).status_code == 200
        assert client.get("/stats", headers={"X-API-Key": generated["storefront"]}).status_code == 403
    again = create_app(shop)  # a second start generates nothing and rewrites nothing
    assert again.state.keyring.generated is None and path.read_bytes() == saved
    assert [r["role"] for r in keys.list_keys(shop.store.engine)] == ["admin", "storefront"]
    shop.close()
    raw = _db_bytes(home)
    assert generated["admin"].encode() not in raw and generated["storefront"].encode() not in raw


def test_configured_keys_may_be_given_as_digests(tmp_path):
    digest = hashlib.sha256(b"deploy-admin-secret").hexdigest()
    shop = ShopMind.open(tmp_path / "shop", api={"admin_keys": [f"sha256:{digest}"]})
    with TestClient(create_app(shop)) as client:
        assert client.get("/stats", headers={"X-API-Key": "deploy-admin-secret"}).status_code == 200
        assert client.get("/stats", headers={"X-API-Key": f"sha256:{digest}"}).status_code == 401  # the digest is not a key
    bad = ShopMind.open(tmp_path / "shop2", api={"analyst_keys": ["sha256:nothex"]})
    try:
        create_app(bad)
    except ValueError as exc:
        assert "api.analyst_keys[0]" in str(exc)
    else:
        raise AssertionError("a malformed digest must be refused at start, naming the setting")
    shop.close()
    bad.close()


@pytest.mark.integration
def test_cli_creates_and_revokes_keys_honoured_by_a_running_server_within_seconds(shop, client):
    """Two ShopMind instances on one store: the server's, and the CLI's in another process."""
    home = Path(shop.home)
    made = _cli(home, "create", "--role", "analyst", "--label", "rotation test")
    key = {"X-API-Key": made["secret"]}
    deadline = time.monotonic() + CACHE_TTL_S + 5  # the cache's TTL, plus room for a loaded machine
    while client.get("/stats", headers=key).status_code != 200:  # honoured without a restart
        assert time.monotonic() < deadline, "a key created by the CLI was not honoured within the cache's TTL"
        time.sleep(0.1)
    listed = _cli(home, "list")["keys"]
    assert [k["id"] for k in listed] == [made["id"]] and "secret" not in listed[0]
    revoked_at = time.monotonic()
    assert _cli(home, "revoke", made["id"])["was_active"] is True
    while True:
        status = client.get("/stats", headers=key).status_code
        if status == 401:
            break
        assert status == 200 and time.monotonic() - revoked_at < CACHE_TTL_S + 5, "a revoked key still works"
        time.sleep(0.1)
    assert client.get("/stats", headers=AS["analyst"]).status_code == 200  # configured keys are untouched
    actions = [(e["key_id"], e["action"], e["target"]) for e in audit.entries(shop.store.engine)]
    assert actions[:2] == [("cli", "key.revoke", made["id"]), ("cli", "key.create", made["id"])]
    proc = subprocess.run([str(BIN), "keys", "revoke", "key_nope", "--home", str(home)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "key_id" in proc.stderr


@pytest.mark.integration
def test_keys_without_subcommand_lists_them(shop):
    from typer.testing import CliRunner

    from shopmind.cli.main import app

    keys.create(shop.store.engine, "ingest", label="nightly feed")
    result = CliRunner().invoke(app, ["keys", "--home", str(shop.home), "--json"])
    assert result.exit_code == 0
    listed = orjson.loads(result.stdout)
    assert [(k["role"], k["label"], k["active"]) for k in listed["keys"]] == [("ingest", "nightly feed", True)]
    assert "hash" not in listed["keys"][0] and "secret" not in listed["keys"][0]
    table = CliRunner().invoke(app, ["keys", "--home", str(shop.home)])
    assert table.exit_code == 0 and listed["keys"][0]["id"] in table.stdout  # ids are never cut: they are typed into revoke
    result = CliRunner().invoke(app, ["keys", "create", "--role", "wizard", "--home", str(shop.home)])
    assert result.exit_code == 2 and "role" in result.output
