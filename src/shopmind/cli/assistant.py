"""`shopmind assistant …`: chat with the shop's assistant in the terminal, generate product descriptions."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from shopmind.cli.common import (
    DEFAULT_HOME,
    HomeOpt,
    JsonOpt,
    emit_json,
    fail,
    shop_at,
)

assistant_app = typer.Typer(name="assistant", help="The shopping assistant: chat, descriptions, ad copy.", no_args_is_help=True)
console = Console()
LlmOpt = Annotated[str | None, typer.Option("--llm", help="none | llama-cpp:PATH.gguf | llama-cpp:smollm2 | openai://HOST:PORT/v1 (default: [assistant] llm)")]


def _assistant(shop: Any, llm: str | None) -> Any:
    """The shop's assistant, or a fresh one with another LLM (`--llm`)."""
    return shop.new_assistant(llm=llm) if llm else shop.assistant


@assistant_app.command("chat")
def chat(
    message: Annotated[str | None, typer.Argument(help="one message; omit for an interactive session (empty line quits)")] = None,
    home: HomeOpt = DEFAULT_HOME,
    session: Annotated[str | None, typer.Option("--session", help="session id: the same id resumes a conversation (default: a new one)")] = None,
    product: Annotated[str | None, typer.Option("--product", help="the product page the shopper is on")] = None,
    llm: LlmOpt = None,
    show_sources: Annotated[bool, typer.Option("--sources", help="print each sentence's source")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Chat with the assistant: answers come from the catalog and <home>/faq.md only."""
    with shop_at(home) as shop:
        try:
            bot = _assistant(shop, llm)
            sid = session or uuid.uuid4().hex[:12]
            messages = [message] if message is not None else None
            while True:
                text = messages.pop(0) if messages else (None if messages is not None else console.input("[bold]you>[/bold] "))
                if not text:
                    break
                r = bot.chat(sid, text, product_id=product)
                product = None
                if as_json:
                    emit_json(r.model_dump(mode="json"))
                else:
                    console.print(f"[bold green]assistant>[/bold green] {r.text}  [dim]({r.intent}, {r.took_ms:.0f} ms, {r.llm.backend})[/dim]")
                    for c in r.products:
                        price = f"  {c.price:.2f}" if c.price is not None else ""
                        console.print(f"   · {c.title}{price}  [dim]{c.id}[/dim]")
                    if show_sources:
                        for s in r.sentences:
                            console.print(f"   [dim]{s.source.label()}: {s.text}[/dim]")
                if messages is not None:
                    break
        except (EOFError, KeyboardInterrupt):
            pass
        except ValueError as exc:
            fail(str(exc), 2)


@assistant_app.command("generate-descriptions")
def generate_descriptions(
    home: HomeOpt = DEFAULT_HOME,
    ids: Annotated[list[str] | None, typer.Option("--id", help="product id (repeatable); default: every product")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="at most this many products")] = 100,
    kind: Annotated[str, typer.Option("--kind", help="description | ad")] = "description",
    llm: LlmOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="write JSONL here instead of stdout")] = None,
) -> None:
    """Fact-checked product descriptions (or ad lines) as JSONL: {product_id, text, sentences, llm}."""
    import contextlib
    import itertools

    import orjson

    from shopmind.assistant.generate import generator_for

    if kind not in ("description", "ad"):
        fail("--kind must be description or ad", 2)
    with shop_at(home) as shop:
        gen = generator_for(_assistant(shop, llm))
        products = list(shop.catalog.get_many(ids).values()) if ids else list(itertools.islice(iter(shop.catalog), limit))
        with contextlib.ExitStack() as stack:
            sink = stack.enter_context(open(out, "wb")) if out else sys.stdout.buffer
            for p in products[:limit]:
                g = gen.description(p) if kind == "description" else gen.ad_copy(p)
                sink.write(orjson.dumps(g.model_dump(mode="json")) + b"\n")
    if out:
        typer.echo(f"wrote {min(len(products), limit)} {kind}s to {out}", err=True)
