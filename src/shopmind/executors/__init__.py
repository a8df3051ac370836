"""Where a build runs: in this process (the default) or as parallel tasks on Ray (`auto`, `ray://host:port`).

Executors are chosen by URL through `EXECUTORS` (scheme → factory); `open_executor` makes one for a build and
releases it after. Ray is imported only by the Ray backend, when asked for.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from shopmind.executors.base import Executor, Pending
from shopmind.executors.build import BuildFailed, BuildPlan, build_parts
from shopmind.executors.local import LocalExecutor

__all__ = ["EXECUTORS", "BuildFailed", "BuildPlan", "Executor", "LocalExecutor", "Pending", "build_parts", "open_executor"]


def _ray(url: str, **options: Any) -> Executor:
    from shopmind.executors.raycluster import RayExecutor

    return RayExecutor(url, **options)


EXECUTORS: dict[str, Callable[..., Executor]] = {"local": LocalExecutor, "auto": _ray, "ray": _ray}
"""URL scheme (or the bare word) → executor factory: `local`, `auto` (a local Ray, or RAY_ADDRESS's), `ray://host:port`."""


@contextlib.contextmanager
def open_executor(url: str | None = None, **options: Any) -> Iterator[Executor]:
    """The executor `url` names (None: in process), closed when the block ends."""
    url = url or "local"
    scheme = url.split("://", 1)[0] if "://" in url else url
    factory = EXECUTORS.get(scheme)
    if factory is None:
        raise ValueError(f"executor {url!r} is not known: use one of {', '.join(EXECUTORS)} (ray://host:port for Ray Client)")
    executor = factory(url, **options)
    try:
        yield executor
    finally:
        executor.close()
