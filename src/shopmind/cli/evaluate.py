"""`shopmind eval …`: the offline-evaluation contract used by benchmarks and outside checks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shopmind.cli.common import DEFAULT_HOME, HomeOpt, JsonOpt, emit_json, fail, shop_at

eval_app = typer.Typer(help="Offline evaluation of search and recommendations.", no_args_is_help=True)


def _print(result: dict, as_json: bool) -> None:
    if as_json:
        emit_json(result)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table()
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in result.items():
        table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    Console().print(table)


@eval_app.command("search")
def eval_search(
    products: Annotated[Path, typer.Option("--products", help="products in the import format (JSONL)")],
    queries: Annotated[Path, typer.Option("--queries", help="query_id<TAB>query")],
    qrels: Annotated[Path, typer.Option("--qrels", help="query_id<TAB>product_id<TAB>grade")],
    train_qrels: Annotated[Path | None, typer.Option("--train-qrels", help="judgments the ranker may learn from")] = None,
    no_train: Annotated[bool, typer.Option("--no-train", help="evaluate without a learned ranker")] = False,
    mode: Annotated[str, typer.Option("--mode", help="hybrid | bm25 | dense")] = "hybrid",
    as_json: JsonOpt = False,
) -> None:
    """Index the products in a temporary folder, run every query, print nDCG@10, MRR@10, recall@100, latency."""
    for p in (products, queries, qrels, train_qrels):
        if p is not None and not p.is_file():
            fail(f"no such file: {p}", 2)
    from shopmind.evaluation.search_eval import evaluate_search

    _print(evaluate_search(products, queries, qrels, train_qrels=train_qrels, no_train=no_train, mode=mode), as_json)


@eval_app.command("recs")
def eval_recs(
    sequences: Annotated[Path | None, typer.Option("--sequences", help="one user per line: user item1 item2 … in time order")] = None,
    model: Annotated[str, typer.Option("--model", help="a model name, or auto (chosen on the validation item)")] = "auto",
    protocol: Annotated[str, typer.Option("--protocol", help="loo-full (a --sequences file) or temporal (the shop's own events, --home)")] = "loo-full",
    seed: Annotated[int, typer.Option("--seed")] = 0,
    max_train_s: Annotated[float | None, typer.Option("--max-train-s", help="training-time budget per model (sequential models stop early)")] = None,
    home: HomeOpt = DEFAULT_HOME,
    as_json: JsonOpt = False,
) -> None:
    """Offline recommendation evaluation ranking against all items; last line is one JSON object with --json."""
    if protocol == "temporal":
        from shopmind.evaluation.recs_eval import evaluate_recs_events

        with shop_at(home) as shop:
            events = shop.store.scan_events()
        if not events.num_rows:
            fail(f"the shop at {home} has no events to evaluate", 2)
        _print(evaluate_recs_events(events, "itemknn" if model == "auto" else model), as_json)
        return
    if sequences is None or not sequences.is_file():
        fail(f"--sequences must name a file for --protocol {protocol}", 2)
    from shopmind.evaluation.recs_eval import evaluate_recs

    _print(evaluate_recs(sequences, model=model, protocol=protocol, seed=seed, max_train_s=max_train_s), as_json)


from shopmind.cli.forecast import eval_forecast  # noqa: E402  (forecast commands live in their own module)

eval_app.command("forecast")(eval_forecast)
