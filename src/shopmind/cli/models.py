"""`shopmind models …`: list built versions, promote one, roll back; every switch is audited as "cli" and reaches every
worker within `cluster.follow_interval_s`."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from shopmind.cli.common import DEFAULT_HOME, HomeOpt, JsonOpt, emit_json, fail, shop_at

models_app = typer.Typer(name="models", help="The model registry: built versions of each part, promote, roll back.", no_args_is_help=True)
console = Console()
ReasonOpt = Annotated[str, typer.Option("--reason", help="why (kept in the promotion history)")]


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts)) if ts else ""


def _window(row: dict[str, Any]) -> str:
    first, last = row.get("first_event_ts"), row.get("last_event_ts")
    return f"{_when(first)[:10]} → {_when(last)[:10]}" if first and last else ""


@models_app.command("list")
def list_cmd(
    part: Annotated[str | None, typer.Argument(help="only this part (search, recommend, ads)")] = None,
    home: HomeOpt = DEFAULT_HOME,
    as_json: JsonOpt = False,
) -> None:
    """Each part's versions, newest first: status, data window, counts; and the latest promotions."""
    with shop_at(home) as shop:
        out = shop.models(part)
    if as_json:
        emit_json(out)
        return
    table = Table(title="model versions (promoted = served by every worker)")
    for col in ("part", "version", "status", "created (UTC)", "events window", "products", "events", "config"):
        table.add_column(col, no_wrap=col in ("version", "part"))
    for name, entry in out.items():
        for r in entry["versions"]:
            status = f"[bold green]{r['status']}[/]" if r["status"] == "promoted" else r["status"]
            table.add_row(name, r["version"], status, _when(r["created_at"]), _window(r), str(r["products"]), str(r["events"]), r["config_hash"])
    console.print(table)
    history = sorted((h for entry in out.values() for h in entry["history"]), key=lambda h: -h["ts"])
    for h in history[:10]:
        console.print(f"{_when(h['ts'])}  {h['part']}: {h['action']} {h['from_version'] or '-'} → {h['to_version']} by {h['who']}"
                      + (f" ({h['reason']})" if h["reason"] else ""))


def _switch(home: Any, part: str, version: str | None, reason: str, as_json: bool, action: str) -> None:
    from shopmind.security import audit

    with shop_at(home) as shop:
        try:
            if action == "promote":
                out = shop.promote(part, version or "", who="cli", reason=reason)
            else:
                out = shop.rollback(part, version, who="cli", reason=reason)
        except ValueError as exc:
            fail(str(exc))
        audit.record(shop.store.engine, "cli", f"model.{action}", f"{part}/{out['to']}", {"from": out["from"], "reason": reason})
    if as_json:
        emit_json(out)
        return
    what = f"{part}: {out['from'] or '-'} → {out['to']}" if out["changed"] else f"{part}: {out['to']} was already promoted"
    console.print(f"{action}: {what}")


@models_app.command("promote")
def promote_cmd(
    part: Annotated[str, typer.Argument(help="search | recommend | ads")],
    version: Annotated[str, typer.Argument(help="a version from `shopmind models list`")],
    reason: ReasonOpt = "",
    home: HomeOpt = DEFAULT_HOME,
    as_json: JsonOpt = False,
) -> None:
    """Serve VERSION of PART on every worker."""
    _switch(home, part, version, reason, as_json, "promote")


@models_app.command("rollback")
def rollback_cmd(
    part: Annotated[str, typer.Argument(help="search | recommend | ads")],
    version: Annotated[str | None, typer.Argument(help="a kept version (default: the one served before the current one)")] = None,
    reason: ReasonOpt = "",
    home: HomeOpt = DEFAULT_HOME,
    as_json: JsonOpt = False,
) -> None:
    """Serve an earlier kept version of PART again."""
    _switch(home, part, version, reason, as_json, "rollback")
