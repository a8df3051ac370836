"""`shopmind enrich` (extracted attribute values for the stored catalog) and `shopmind eval extract` (their quality)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shopmind.cli.common import DEFAULT_HOME, HomeOpt, JsonOpt, emit_json, fail, shop_at


def enrich_cmd(
    min_confidence: Annotated[float | None, typer.Option("--min-confidence", min=0.0, max=1.0,
                                                          help="keep values at least this confident (default: the model's)")] = None,
    home: HomeOpt = DEFAULT_HOME,
    as_json: JsonOpt = False,
) -> None:
    """Extract attribute values from every product's title and description into attributes_extracted (then `build`)."""
    with shop_at(home) as shop:
        try:
            result = shop.enrich(min_confidence=min_confidence)
        except FileNotFoundError as exc:
            fail(str(exc))
    if as_json:
        emit_json(result)
        return
    typer.echo(f"enriched {result['enriched']} of {result['products']} products with {result['values']} values "
               f"in {result['seconds']:.1f}s ({result['products_per_second']:,.0f}/s); run `shopmind build` to serve them in facets")


def eval_extract(
    data: Annotated[Path, typer.Option("--data", help="labelled JSONL: ExtractGPT (OA-Mine, AE-110k), WDC-PAVE or MEPAVE")],
    model: Annotated[str, typer.Option("--model", help="a shipped model name or a .crfsuite path; auto picks by the file's categories")] = "auto",
    threshold: Annotated[float | None, typer.Option("--threshold", min=0.0, max=1.0, help="confidence threshold (default: the model's)")] = None,
    per_slot: Annotated[bool, typer.Option("--per-slot", help="also print the per category-attribute figures")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Precision, recall and F1 (micro, macro, per attribute) of attribute-value extraction; MEPAVE: its test part only."""
    if not data.is_file():
        fail(f"no such file: {data}", 2)
    from shopmind.evaluation.extract_eval import evaluate_extraction

    try:
        result = evaluate_extraction(data, model=model, threshold=threshold)
    except (ValueError, FileNotFoundError) as exc:
        fail(str(exc), 2)
    if not per_slot:
        result.pop("per_slot", None)
    if as_json:
        emit_json(result)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{data.name}: {result['offers']} offers, model {result['model']}, {result['slots']} slots")
    for col in ("attribute", "precision", "recall", "f1"):
        table.add_column(col, justify="right" if col != "attribute" else "left")
    for name, m in result["per_attribute"].items():
        table.add_row(name, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}")
    table.add_row("[b]macro[/b]", f"{result['macro']['precision']:.3f}", f"{result['macro']['recall']:.3f}", f"{result['macro']['f1']:.3f}")
    table.add_row("[b]micro[/b]", f"{result['precision']:.3f}", f"{result['recall']:.3f}", f"{result['f1']:.3f}")
    Console().print(table)
