"""`shopmind experiments …`: create an A/B test or interleaving from a JSON file, start, stop, list, show, report.

Writes are audited as "cli"; a start or stop reaches every worker within a few seconds (the running set is re-read)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from shopmind.cli.common import DEFAULT_HOME, HomeOpt, JsonOpt, emit_json, fail, shop_at

experiments_app = typer.Typer(name="experiments", help="A/B tests and interleaving: define, start, stop, report.", no_args_is_help=True)
console = Console()
IdArg = Annotated[str, typer.Argument(help="an experiment id (see `shopmind experiments list`)")]


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts)) if ts else ""


def _fmt(x: float | None, digits: int = 4) -> str:
    return "–" if x is None else f"{x:.{digits}g}"


def _lifecycle(home: Path, action: str, experiment_id: str, as_json: bool, definition: dict[str, Any] | None = None) -> None:
    from shopmind.experiments.model import ExperimentError, ExperimentNotFound
    from shopmind.security import audit

    with shop_at(home) as shop:
        try:
            verb = {"create": lambda: shop.experiments.create(definition or {}), "start": lambda: shop.experiments.start(experiment_id),
                    "stop": lambda: shop.experiments.stop(experiment_id)}[action]
            exp = verb()
        except (ExperimentError, ExperimentNotFound) as exc:
            fail(str(exc).strip("'\""))
        audit.record(shop.store.engine, "cli", f"experiment.{action}", exp.id, {"surface": exp.surface})
    if as_json:
        emit_json(exp.model_dump(mode="json"))
        return
    console.print(f"experiment {exp.id} ({exp.surface}, {exp.kind}): {exp.status}")


@experiments_app.command("create")
def create_cmd(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="the definition as JSON")],
               home: HomeOpt = DEFAULT_HOME, as_json: JsonOpt = False) -> None:
    """Store an experiment from FILE.json as a draft (variants, surface, unit, metrics, guardrails)."""
    try:
        definition = orjson.loads(file.read_bytes())
    except orjson.JSONDecodeError as exc:
        fail(f"{file}: not JSON ({exc})")
    _lifecycle(home, "create", "", as_json, definition)


@experiments_app.command("start")
def start_cmd(experiment_id: IdArg, home: HomeOpt = DEFAULT_HOME, as_json: JsonOpt = False) -> None:
    """Start a draft: units are assigned and their exposures logged from now on."""
    _lifecycle(home, "start", experiment_id, as_json)


@experiments_app.command("stop")
def stop_cmd(experiment_id: IdArg, home: HomeOpt = DEFAULT_HOME, as_json: JsonOpt = False) -> None:
    """Stop a running experiment (every unit gets the default again; the report stays)."""
    _lifecycle(home, "stop", experiment_id, as_json)


@experiments_app.command("list")
def list_cmd(status: Annotated[str | None, typer.Option("--status", help="draft | running | stopped")] = None,
             home: HomeOpt = DEFAULT_HOME, as_json: JsonOpt = False) -> None:
    """Experiments, newest first."""
    with shop_at(home) as shop:
        rows = shop.experiments.list(status)
    if as_json:
        emit_json([e.model_dump(mode="json") for e in rows])
        return
    table = Table(title="experiments")
    for col in ("id", "surface", "kind", "unit", "status", "variants", "started (UTC)", "ended (UTC)"):
        table.add_column(col)
    for e in rows:
        table.add_row(e.id, e.surface, e.kind, e.unit, e.status, ", ".join(f"{v.name}{'*' if v.control else ''}" for v in e.variants),
                      _when(e.started_at), _when(e.ended_at))
    console.print(table)


@experiments_app.command("show")
def show_cmd(experiment_id: IdArg, home: HomeOpt = DEFAULT_HOME, as_json: JsonOpt = False) -> None:
    """One experiment's definition."""
    from shopmind.experiments.model import ExperimentNotFound

    with shop_at(home) as shop:
        try:
            exp = shop.experiments.get(experiment_id)
        except ExperimentNotFound as exc:
            fail(str(exc).strip("'\""))
    out = exp.model_dump(mode="json")
    if as_json:
        emit_json(out)
        return
    console.print_json(orjson.dumps(out).decode())


@experiments_app.command("report")
def report_cmd(experiment_id: IdArg,
               traffic: Annotated[str, typer.Option("--traffic", help="auto | real | simulated | all")] = "auto",
               home: HomeOpt = DEFAULT_HOME, as_json: JsonOpt = False) -> None:
    """Per-variant metrics, effects with fixed-horizon and always-valid intervals, SRM and guardrails."""
    from shopmind.experiments.model import ExperimentError, ExperimentNotFound

    with shop_at(home) as shop:
        try:
            report = shop.experiment_report(experiment_id, traffic)
        except (ExperimentError, ExperimentNotFound) as exc:
            fail(str(exc).strip("'\""))
    if as_json:
        emit_json(report)
        return
    _print_report(report)


def _print_report(r: dict[str, Any]) -> None:
    label = " [bold red](SIMULATED traffic)[/]" if r["simulated"] else ""
    console.print(f"experiment {r['experiment']} on {r['surface']} ({r['kind']}, unit {r['unit']}, {r['status']}){label}")
    console.print("units: " + ", ".join(f"{v['name']} {v['units']}" for v in r["variants"]))
    if "srm" in r:
        srm = r["srm"]
        flag = "[bold red]SAMPLE RATIO MISMATCH[/]" if srm["flag"] else "ok"
        console.print(f"sample ratio: p = {_fmt(srm['p_value'])} {flag}")
    if "interleaving" in r:
        il = r["interleaving"]
        t, s = il["test"], il["always_valid"]
        console.print(f"interleaving {il['other']} vs {il['control']}: {il['impressions']} impressions, {il['effect_label']} = "
                      f"{_fmt(t['effect'])} [{_fmt(t['ci_low'])}, {_fmt(t['ci_high'])}] p = {_fmt(t['p_value'])}; always-valid p = {_fmt(s['p_value'])}")
        return
    table = Table(title="effects vs control (fixed-horizon CI; always-valid CI and p)")
    for col in ("metric", "variant", "control", "variant mean", "effect", "CI", "p", "always-valid CI", "always-valid p", "CUPED var. red."):
        table.add_column(col)
    for metric, entry in r["metrics"].items():
        for name, c in entry["comparisons"].items():
            t, s = c["test"], c["always_valid"]
            vr = c["cuped"]["variance_reduction"] if c.get("cuped") else None
            table.add_row(metric, name, _fmt(t["mean_a"]), _fmt(t["mean_b"]), _fmt(t["effect"]), f"[{_fmt(t['ci_low'])}, {_fmt(t['ci_high'])}]",
                          _fmt(t["p_value"]), f"[{_fmt(s['ci_low'])}, {_fmt(s['ci_high'])}]", _fmt(s["p_value"]),
                          "–" if vr is None else f"{vr:.1%}")
    console.print(table)
    for g in r.get("guardrails", []):
        console.print(f"guardrail {g['metric']} (max drop {g['max_drop']:.1%}) for {g['variant']}: {g['verdict']}")
