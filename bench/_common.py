"""What every bench script shares: a free loopback port, the machine line, and the table + JSON output."""

from __future__ import annotations

import importlib
import os
import platform
import socket
import sys
from pathlib import Path
from typing import Any

import orjson


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require(*modules: str, extra: str = "bench") -> None:
    """Exit with one line naming the extra to install when an optional dependency is missing, never a traceback.

    Every bench script calls this first thing in main(), so a missing package fails in a second, not after the build.
    """
    missing = []
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        script = Path(sys.argv[0]).name or "bench"
        raise SystemExit(f"{script}: needs {', '.join(missing)} from the '{extra}' extra: pip install -e '.[{extra}]' (or: make bench)")


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
