"""Options and helpers every command shares."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import orjson
import typer

HomeOpt = Annotated[
    Path,
    typer.Option("--home", envvar="SHOPMIND_HOME", help="Folder holding the shop's store, indexes and models."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")]
DEFAULT_HOME = Path("shop")


def open_shop(home: Path):
    from shopmind.config import ConfigError
    from shopmind.engine import ShopMind
    from shopmind.store import StoreError

    try:
        return ShopMind.open(home)
    except (ConfigError, StoreError) as exc:
        fail(str(exc))


@contextmanager
def shop_at(home: Path) -> Iterator[Any]:
    """The shop at `home`, closed when the command is done."""
    shop = open_shop(home)
    try:
        yield shop
    finally:
        shop.close()


def emit_json(obj: Any) -> None:
    sys.stdout.write(orjson.dumps(obj, default=str).decode() + "\n")
    sys.stdout.flush()


def fail(message: str, code: int = 1) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)
