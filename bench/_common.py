"""What every bench script shares: a free loopback port, the machine line, the table + JSON output, and the
section runner of the aggregating benches."""

from __future__ import annotations

import importlib
import os
import platform
import socket
import sys
import time
import traceback
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


def data_dir(arg: Path | None) -> Path:
    """The shared data folder: --data, else $SHOPMIND_SHARED_DATA, else ../shared/data beside the checkout."""
    if arg is not None:
        return arg
    env = os.environ.get("SHOPMIND_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


def run_section(prefix: str, name: str, args: Any, result: dict[str, Any]) -> None:
    """Import bench/<prefix><name>.py and run it; a missing module or a failure is recorded and the next section
    still runs (the aggregators bench/experiments.py and bench/understanding.py)."""
    t0 = time.perf_counter()
    module_name = f"{prefix}{name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        result[f"{name}.status"] = (f"missing: bench/{module_name}.py not found" if exc.name == module_name
                                    else f"failed: {type(exc).__name__}: {str(exc)[:300]}")
        return
    except Exception as exc:  # noqa: BLE001 — a section that cannot even import is reported, not fatal
        traceback.print_exc(file=sys.stderr)
        result[f"{name}.status"] = f"failed: {type(exc).__name__}: {str(exc)[:300]}"
        return
    print(f"[{name}] running …", file=sys.stderr, flush=True)
    try:
        result.update(module.run(args))
        result[f"{name}.status"] = "ok"
    except Exception as exc:  # noqa: BLE001 — the report says which section failed and why
        traceback.print_exc(file=sys.stderr)
        result[f"{name}.status"] = f"failed: {type(exc).__name__}: {str(exc)[:300]}"
    result[f"{name}.seconds"] = round(time.perf_counter() - t0, 1)
