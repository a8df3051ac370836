"""Forecast commands: `shopmind eval forecast`, `shopmind report forecast` and `shopmind import sales`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from shopmind.cli.common import DEFAULT_HOME, JsonOpt, emit_json, fail, shop_at


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def eval_forecast(
    sales: Annotated[Path, typer.Option("--sales", help="CSV, Parquet or JSONL: one row per series and period")],
    id_cols: Annotated[str, typer.Option("--id-cols", help="comma-separated columns naming a series, e.g. store,brand")],
    time_col: Annotated[str, typer.Option("--time-col", help="period column: whole numbers (weeks) or dates")],
    target: Annotated[str, typer.Option("--target", help="the units column to forecast")],
    test_from: Annotated[str, typer.Option("--test-from", help="first test period; nothing from it on is used for selection")],
    horizon: Annotated[int, typer.Option("--horizon", min=1, max=52, help="each origin forecasts 1…H periods ahead (after --gap)")] = 1,
    gap: Annotated[int, typer.Option("--gap", min=0, max=52, help="periods skipped between origin and first forecast (TSPerf: 1)")] = 0,
    step: Annotated[int, typer.Option("--step", min=1, max=52, help="periods between origins (TSPerf: 2)")] = 1,
    covariates: Annotated[str | None, typer.Option("--covariates", help="known-in-advance columns (default: price*, deal, feat, promo… by name)")] = None,
    models: Annotated[str, typer.Option("--models", help="candidates: naive,seasonal_naive,ets,theta,arima,lightgbm")] = "naive,seasonal_naive,ets,theta,lightgbm",
    select_by: Annotated[str, typer.Option("--select-by", help="global | series | an id column (choose a model per group)")] = "global",
    validation: Annotated[int, typer.Option("--validation", min=2, max=104, help="periods before --test-from used for selection and calibration")] = 12,
    level: Annotated[float, typer.Option("--level", min=1, max=99, help="nominal interval coverage, percent")] = 80.0,
    score_all: Annotated[bool, typer.Option("--score-all", help="also score every candidate on the test window")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Rolling-origin backtest from --test-from on; the last JSON line holds mape, wape, smape, coverage, model."""
    from shopmind.forecast.data import SalesDataError, build_panel, read_sales
    from shopmind.forecast.selection import evaluate

    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        frame = read_sales(sales)
        panel = build_panel(frame, id_cols=_split(id_cols), time_col=time_col, target=target,
                            covariates=_split(covariates) if covariates is not None else None)
        result = evaluate(panel, test_from=test_from, horizon=horizon, gap=gap, step=step, models=tuple(_split(models)),
                          select_by=select_by, validation=validation, level=level, score_all=score_all)
    except (SalesDataError, ValueError, OSError) as exc:
        fail(str(exc), 2)
    if as_json:
        emit_json(result)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"forecast backtest from {result['test_from']} (model: {result['model']})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("mape", "wape", "smape", "coverage", "rows", "seconds"):
        table.add_row(key, str(result[key]))
    Console().print(table)


def report_forecast(home: Path = DEFAULT_HOME, horizon: int = 4) -> None:
    """Print forecasts per category, rising items/categories/queries and stock-out alerts as JSON."""
    from shopmind.errors import SalesDataError

    with shop_at(home) as shop:
        try:
            emit_json(shop.forecast_service.report(horizon=horizon))
        except SalesDataError as exc:
            fail(str(exc), 2)
