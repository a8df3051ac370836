"""The query lane: where a search runs its model calls (query and passage encoding, the vector search after it).

One call at a time per service, in the calling thread, with the configured OpenMP team (`search.query_threads`).
It replaced a one-thread pool: handing each query to a worker thread and back cost 1–2 ms of the p50 on Home Depot
(hybrid, 400 dev queries, 2 cores: 15.1–15.9 ms through the worker, 13.8–13.9 ms in the calling thread; bench/search.py
has the served figures). The lock keeps what the worker gave: concurrent requests never run two OpenMP teams at once
(two teams spinning on 2 cores made one query take seconds; docs/scaling.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

from shopmind.text.encoders import query_team

T = TypeVar("T")


class QueryLane(Executor):
    """An Executor that runs each submitted call at once in the caller's thread, under a lock, with `threads`
    OpenMP threads; the returned future is already done (so `submit(...).result()` call sites need no change)."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._lock = threading.RLock()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Run fn(*args, **kwargs) now; its result or exception is in the returned (done) future."""
        fut: Future[T] = Future()
        with self._lock, query_team(self.threads):
            try:
                fut.set_result(fn(*args, **kwargs))
            except Exception as exc:  # noqa: BLE001  # the caller gets any exception from .result(), as from a pool
                fut.set_exception(exc)
        return fut

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to stop: no thread is owned."""
