"""What every bench script shares: a free loopback port, the machine line, and the table + JSON output."""

from __future__ import annotations

import os
import platform
import socket
from pathlib import Path
from typing import Any

import orjson


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def report(result: dict[str, Any], *, title: str, bars: dict[str, str], out: Path, as_json: bool) -> None:
    """Write the result to `out`, print a table (to stderr with --json) and, with --json, one JSON line last."""
    from rich.console import Console
    from rich.table import Table

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    table = Table(title=title)
    for col in ("metric", "value", "bar"):
        table.add_column(col)
    for key, value in result.items():
        table.add_row(key, f"{value:,}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value), bars.get(key, ""))
    Console(stderr=as_json).print(table)
    if as_json:
        print(orjson.dumps(result).decode(), flush=True)
