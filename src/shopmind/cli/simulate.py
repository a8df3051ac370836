"""`shopmind simulate --url URL`: simulated shoppers from real data against a running server (all traffic labelled)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from shopmind.cli.common import JsonOpt, emit_json, fail

console = Console(stderr=True)


def simulate(
    url: Annotated[str, typer.Option("--url", help="the server, e.g. http://127.0.0.1:8000")],
    api_key: Annotated[str | None, typer.Option("--api-key", envvar="SHOPMIND_API_KEY", help="a storefront (or admin) key")] = None,
    sessions: Annotated[int, typer.Option("--sessions", min=1, max=1_000_000)] = 100,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    scenario: Annotated[str, typer.Option("--scenario", help="search | recommend | mixed")] = "mixed",
    rate: Annotated[float | None, typer.Option("--rate", min=0.01, help="sessions started per second (default: as fast as allowed)")] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=256, help="sessions in flight at once")] = 8,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="seconds per HTTP request")] = 10.0,
    queries: Annotated[Path | None, typer.Option("--queries", help="labelled search set folder (queries.tsv, qrels.tsv); "
                                                 "default: shared data search/homedepot")] = None,
    sequences: Annotated[str, typer.Option("--sequences", help="'ml100k' (the demo shop's ids), 'known-item' (movie titles as "
                                           "queries too) or an Amazon sequence file (user item1 item2 …)")] = "ml100k",
    placement: Annotated[str, typer.Option("--placement", help="recommendation placement the shoppers see")] = "product",
    as_json: JsonOpt = False,
) -> None:
    """Drive a server with simulated shoppers from real data: real queries clicked by a position-based model on graded
    judgements, real held-out next items for recommendations, carts and purchases with stated probabilities.
    Every event carries context.simulated = "1" and the run id."""
    from shopmind.simulate import sources
    from shopmind.simulate.driver import Plan, run_http

    data = sources.data_dir()
    search_tasks: list[sources.SearchTask] = []
    rec_tasks: list[sources.NextItemTask] = []
    try:
        if scenario in ("recommend", "mixed") or sequences == "known-item":
            if sequences in ("ml100k", "known-item"):
                rec_tasks = sources.next_items_ml100k(data / "ml-100k")
            else:
                rec_tasks = sources.next_items_seqrec(Path(sequences))
        if scenario in ("search", "mixed"):
            if sequences == "known-item" and queries is None:
                search_tasks = sources.known_item_tasks(data / "ml-100k", rec_tasks)
            else:
                search_tasks = sources.search_tasks(queries or data / "search" / "homedepot")
        plan = Plan(scenario, sessions, seed, search=search_tasks, recommend=rec_tasks, placement=placement)
    except (OSError, ValueError) as exc:
        fail(str(exc), 2)
    console.print(f"simulating {sessions} {scenario} sessions against {url} (run {plan.run_id}; every event labelled simulated)")
    summary = run_http(url, plan, api_key=api_key, concurrency=concurrency, rate=rate, timeout=timeout)
    if as_json:
        emit_json(summary)
    else:
        console.print(f"done: {summary['completed']} sessions, {summary['failed']} failed, {summary['wall_s']} s")
        for name, row in summary["by_scenario"].items():
            console.print(f"  {name}: {row}")
        console.print(f"  latency ms: {summary['latency_ms']}")
        if summary["experiments_seen"]:
            console.print(f"  experiments seen: {summary['experiments_seen']}")
        for err in summary["errors"]:
            console.print(f"  [yellow]{err}[/yellow]")
    if summary["completed"] == 0:
        raise typer.Exit(1)
