"""`shopmind keys …`: create (secret printed once), list, revoke API keys; each change is audited as "cli"."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from shopmind.cli.common import DEFAULT_HOME, HomeOpt, JsonOpt, emit_json, fail, shop_at

keys_app = typer.Typer(name="keys", help="API keys with roles: create (shown once), list, revoke. Without a subcommand: list.")
console = Console()


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts)) if ts else ""


def _list(home, as_json: bool) -> None:
    from shopmind.security import keys

    with shop_at(home) as shop:
        rows = keys.list_keys(shop.store.engine)
        configured = {name: len(getattr(shop.settings.api, name)) for name in ("admin_keys", "public_keys", "ingest_keys", "analyst_keys")}
        demo_file = (shop.home / keys.KEYS_FILE) if (shop.home / keys.KEYS_FILE).is_file() else None
    if as_json:
        emit_json({"keys": rows, "configured": configured, "demo_keys_file": str(demo_file) if demo_file else None})
        return
    table = Table(title="API keys (secrets are never stored: only their sha256)")
    table.add_column("id", no_wrap=True)  # copied into `shopmind keys revoke`: never cut
    for col in ("role", "scopes", "label", "created (UTC)", "revoked (UTC)"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["id"], r["role"], ",".join(r["scopes"]), r["label"], _when(r["created_at"]), _when(r["revoked_at"]))
    console.print(table)
    if any(configured.values()):
        console.print("also configured in settings: " + ", ".join(f"{n} × {k}" for k, n in configured.items() if n))
    if demo_file:
        console.print(f"the demo's generated keys are in {demo_file} (mode 0600)")


@keys_app.callback(invoke_without_command=True)
def keys_main(ctx: typer.Context, home: HomeOpt = DEFAULT_HOME, as_json: JsonOpt = False) -> None:
    """Without a subcommand: list the keys (ids, roles, dates; never secrets)."""
    if ctx.invoked_subcommand is None:
        _list(home, as_json)


@keys_app.command("list")
def list_cmd(home: HomeOpt = DEFAULT_HOME, as_json: JsonOpt = False) -> None:
    """Every key's id, role, scopes, label, and when it was created or revoked."""
    _list(home, as_json)


@keys_app.command("create")
def create_cmd(
    role: Annotated[str, typer.Option("--role", help="admin | ingest | storefront | analyst")],
    scope: Annotated[list[str] | None, typer.Option("--scope", help="extra scope (repeatable), e.g. users:read")] = None,
    label: Annotated[str, typer.Option("--label", help="what the key is for (shown in lists)")] = "",
    home: HomeOpt = DEFAULT_HOME,
    as_json: JsonOpt = False,
) -> None:
    """Make a key and print its secret once: it cannot be shown again (only its hash is kept)."""
    from shopmind.security import audit, keys

    with shop_at(home) as shop:
        try:
            key_id, secret = keys.create(shop.store.engine, role, scope or (), label)
        except ValueError as exc:
            fail(str(exc), 2)
        audit.record(shop.store.engine, "cli", "key.create", key_id, {"role": role, "scopes": sorted(scope or []), "label": label})
    if as_json:
        emit_json({"id": key_id, "role": role, "scopes": sorted(scope or []), "secret": secret})
        return
    console.print(f"created {role} key {key_id}")
    console.print(f"secret (shown once, store it now): {secret}", soft_wrap=True)


@keys_app.command("revoke")
def revoke_cmd(key_id: Annotated[str, typer.Argument(help="the key's id (from `shopmind keys list`)")], home: HomeOpt = DEFAULT_HOME,
               as_json: JsonOpt = False) -> None:
    """Revoke a key: running servers refuse it within seconds (no restart)."""
    from shopmind.security import audit, keys

    with shop_at(home) as shop:
        try:
            changed = keys.revoke(shop.store.engine, key_id)
        except keys.UnknownKey as exc:
            fail(str(exc), 2)
        audit.record(shop.store.engine, "cli", "key.revoke", key_id, {"was_active": changed})
    if as_json:
        emit_json({"id": key_id, "revoked": True, "was_active": changed})
    else:
        console.print(f"revoked {key_id}" if changed else f"{key_id} was already revoked")
