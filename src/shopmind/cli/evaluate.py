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


def _flat(result: dict, prefix: str = "") -> dict:
    """Nested figures as `served.ndcg@10` rows for the table."""
    out: dict = {}
    for key, value in result.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


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
    served: Annotated[bool, typer.Option("--served", help="measure what `recommend` serves: build the shop at --home on its past "
                                         "events through the facade, ask it for each held-out user (temporal)")] = False,
    placement: Annotated[str, typer.Option("--placement", help="with --served: the placement asked")] = "home",
    users: Annotated[int | None, typer.Option("--users", help="with --served: at most this many held-out users (a fixed sample)")] = None,
    home: HomeOpt = DEFAULT_HOME,
    as_json: JsonOpt = False,
) -> None:
    """Offline recommendation evaluation ranking against all items; last line is one JSON object with --json."""
    if served:
        from shopmind.evaluation.served import evaluate_served

        with shop_at(home) as shop:
            events = shop.store.scan_events()
            products = list(shop.store.iter_products())
            settings = {s: getattr(shop.settings, s) for s in ("recommend", "search") if getattr(shop.settings, s, None)}
        if not events.num_rows:
            fail(f"the shop at {home} has no events to evaluate", 2)
        out = evaluate_served(products, events, settings=settings, placement=placement, max_users=users, seed=seed)
        out.pop("card", None)
        _print(_flat(out) if not as_json else out, as_json)
        return
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

from shopmind.cli.ope import eval_ope  # noqa: E402  (off-policy evaluation of logged traffic: its own module)

eval_app.command("ope")(eval_ope)

from shopmind.cli.absa import eval_absa  # noqa: E402  (aspect-based sentiment of reviews: its own module)

eval_app.command("absa")(eval_absa)

from shopmind.cli.understand import eval_extract  # noqa: E402  (attribute-value extraction: its own module)

eval_app.command("extract")(eval_extract)
