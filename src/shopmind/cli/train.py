"""`shopmind train`: a build behind the promotion gate, now (`--if-due`: only when `[training]` says one is due) or as a
daemon (`--watch`, the alternative to the k8s build CronJob); one process of the cluster builds at a time."""

from __future__ import annotations

import signal
import threading
from typing import Annotated, Any

import typer
from rich.console import Console

from shopmind.cli.common import DEFAULT_HOME, HomeOpt, JsonOpt, emit_json, fail, shop_at

console = Console()


def _show(out: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(out)
        return
    console.print(f"{out['status']}" + (f" ({out['why']})" if out.get("why") else ""))
    for part, d in (out.get("decisions") or {}).items():
        verdict = "[bold green]promoted[/]" if d["promoted"] else f"[bold yellow]held[/] ({d['against']} serves on)"
        console.print(f"  {part} {d['version']}: {verdict} — {d['reason']}", soft_wrap=True)
    if out.get("error"):
        console.print(f"  [red]{out['error']}[/]")


def train_cmd(
    home: HomeOpt = DEFAULT_HOME,
    part: Annotated[list[str] | None, typer.Option("--part", help="build only this part (repeatable); default: [training] parts")] = None,
    if_due: Annotated[bool, typer.Option("--if-due", help="build only when the schedule or after_events says so")] = False,
    watch: Annotated[bool, typer.Option("--watch", help="keep checking every [training] check_interval_s (until SIGTERM/Ctrl-C)")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Build new versions and promote each only if its offline metrics do not regress beyond [training] tolerance
    (else it is kept, held, with the reason: `shopmind models list`; `shopmind models promote` overrides)."""
    from shopmind.engine import PARTS
    from shopmind.facade.training import Trainer

    unknown = [p for p in part or [] if p not in PARTS]
    if unknown:
        fail(f"unknown part(s) {unknown}; known: {', '.join(PARTS)}", 2)
    with shop_at(home) as shop:
        config = shop.settings.training.model_copy(update={"parts": part}) if part else shop.settings.training
        trainer = Trainer(shop, config)
        if not watch:
            out = trainer.run_once(force=not if_due)
            _show(out, as_json)
            if out["status"] == "failed":
                raise typer.Exit(1)
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        console.print(f"watching (schedule {config.schedule}, after_events {config.after_events}, every {config.check_interval_s:g} s)")
        trainer.watch(stop)
