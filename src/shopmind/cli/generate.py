"""`shopmind generate …`: a product's fact-checked description or ad line, each sentence with its source."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from shopmind.cli.common import DEFAULT_HOME, HomeOpt, JsonOpt, emit_json, fail, shop_at

generate_app = typer.Typer(name="generate", help="Generated texts: product descriptions and ad lines (fact-checked).", no_args_is_help=True)
console = Console()
LlmOpt = Annotated[str | None, typer.Option("--llm", help="none | llama-cpp:PATH.gguf | llama-cpp:smollm2 | openai://HOST:PORT/v1 (default: [assistant] llm)")]
SourcesOpt = Annotated[bool, typer.Option("--sources", help="print each sentence's source")]


def _run(kind: str, product_id: str, home: HomeOpt, llm: str | None, show_sources: bool, as_json: bool) -> None:
    from shopmind.facade.generation import ProductNotFound

    with shop_at(home) as shop:
        try:
            g = shop.generate_text(kind, product_id, llm=llm)
        except ProductNotFound:
            fail(f"no product {product_id!r}", 2)
    if as_json:
        emit_json(g.model_dump(mode="json"))
        return
    console.print(g.text)
    if show_sources:
        for s in g.sentences:
            console.print(f"  [dim]{s.source.label()}: {s.text}[/dim]")
    if g.llm.fallback:
        console.print(f"[dim]template used: {g.llm.fallback}[/dim]")


@generate_app.command("describe")
def describe(product_id: Annotated[str, typer.Argument(help="product id")], home: HomeOpt = DEFAULT_HOME, llm: LlmOpt = None,
             show_sources: SourcesOpt = False, as_json: JsonOpt = False) -> None:
    """A short description from the catalog fields, confident extracted values and review aspects."""
    _run("description", product_id, home, llm, show_sources, as_json)


@generate_app.command("ad")
def ad(product_id: Annotated[str, typer.Argument(help="product id")], home: HomeOpt = DEFAULT_HOME, llm: LlmOpt = None,
       show_sources: SourcesOpt = False, as_json: JsonOpt = False) -> None:
    """One ad line from the same facts."""
    _run("ad", product_id, home, llm, show_sources, as_json)
