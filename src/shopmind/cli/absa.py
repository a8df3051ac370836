"""`shopmind eval absa`: aspect extraction and aspect sentiment of the shipped models on a labelled JSONL file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shopmind.cli.common import JsonOpt, emit_json, fail


def eval_absa(
    data: Annotated[Path, typer.Option("--data", help="JSONL in the reviews-absa train.jsonl format (sentence, aspects)")],
    as_json: JsonOpt = False,
) -> None:
    """Aspect F1 (exact spans) and polarity accuracy / macro F1 on gold aspects; the last JSON line holds them."""
    from shopmind.understand.absa import AbsaModelMissing
    from shopmind.understand.absa_data import AbsaDataError
    from shopmind.understand.absa_eval import evaluate_absa

    if not data.is_file():
        fail(f"--data: no such file {data}", 2)
    try:
        result = evaluate_absa(data)
    except (AbsaDataError, AbsaModelMissing, ValueError, OSError) as exc:
        fail(str(exc), 2)
    if as_json:
        emit_json(result)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"ABSA on {data}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in result.items():
        table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    Console().print(table)
