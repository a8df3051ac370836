"""The executor contract: where a build's tasks run (in this process, or as parallel tasks on a Ray cluster).

An `Executor` runs module-level functions on picklable arguments: `submit` one call (a `Pending` result), or
`starmap` a function over argument tuples. A function that writes files takes a folder as its first argument:
given `out_dir`, what it writes lands in `out_dir` — directly in process, or (on a cluster, where a worker may sit
on another host) written into a node-local temporary folder and shipped back to the driver as bytes.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

__all__ = ["Executor", "Pending", "collect_files", "run_task", "write_files"]


class Pending(Protocol[T_co]):
    """A submitted call: `result()` waits for it (and writes its files into its `out_dir`); `cancel()` drops it."""

    def result(self) -> T_co: ...

    def cancel(self) -> None: ...


class Executor(Protocol):
    """Runs a build's tasks. `in_process`: calls run here, in turn (parts keep today's sequential build)."""

    url: str
    in_process: bool

    def submit(self, fn: Callable[..., T], args: tuple[Any, ...], *, out_dir: Path | None = None) -> Pending[T]: ...

    def starmap(self, fn: Callable[..., T], args: Sequence[tuple[Any, ...]], *, out_dir: Path | None = None) -> list[T]: ...

    def close(self) -> None: ...


def collect_files(root: Path) -> dict[str, bytes]:
    """Every file under `root` by its relative POSIX path (a task's output, shipped to the driver)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def write_files(out_dir: Path, files: dict[str, bytes]) -> None:
    """Write shipped files under `out_dir`; a path that would leave it is refused."""
    root = Path(out_dir).resolve()
    for rel, data in files.items():
        path = (root / rel).resolve()
        if not path.is_relative_to(root):
            raise ValueError(f"task file {rel!r} is outside the version folder")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _limit_threads(threads: int) -> Any:
    """Cap BLAS/OpenMP pools (threadpoolctl) and torch at the task's CPUs, so parallel tasks do not oversubscribe."""
    from threadpoolctl import threadpool_limits

    os.environ["OMP_NUM_THREADS"] = str(threads)  # libraries that read it on first load (faiss, lightgbm, torch)

    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
    return threadpool_limits(limits=threads)


def run_task(fn: Callable[..., T], threads: int, ship: bool, *args: Any) -> tuple[T, dict[str, bytes] | None]:
    """A task's body on a worker: `fn(*args)` within `threads` CPUs; with `ship`, fn writes into a temporary folder
    whose files are returned with its result."""
    with _limit_threads(threads):
        if not ship:
            return fn(*args), None
        with tempfile.TemporaryDirectory(prefix="shopmind-task-") as tmp:
            value = fn(Path(tmp), *args)
            return value, collect_files(Path(tmp))
