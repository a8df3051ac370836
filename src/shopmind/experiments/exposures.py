"""The exposure log: one row per response that showed a variant, written by a bounded background batch writer.

`ExposureWriter.log` never blocks a request: it puts the row on a bounded queue (full: the row is dropped and
counted in `dropped`). A daemon thread writes up to `batch_size` rows per transaction, at least every `interval_s`.
A crash loses at most the rows still queued or in flight (≤ `max_queue` + one batch); `close()` flushes everything.
`simulated_label` holds the simulation label of the request being served (the API sets it from `X-Simulated`), so an
exposure logged anywhere while serving it is marked simulated.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import SQLAlchemyError

from shopmind.store.schema import exposures

__all__ = ["Exposure", "ExposureWriter", "forget_user", "labelled", "read_exposures", "sim_label", "simulated_label"]
log = logging.getLogger(__name__)

# {"simulated": "1", "sim_run": run} while serving a request that said it is simulated; None for real traffic
simulated_label: ContextVar[dict[str, str] | None] = ContextVar("shopmind_simulated", default=None)


def sim_label(context: Mapping[str, object] | None) -> dict[str, str]:
    """The simulation label of a request: from its context (`simulated`, `sim_run`), else the current request's; {} if real."""
    if context and str(context.get("simulated", "")).lower() in ("1", "true", "yes"):
        run = context.get("sim_run")
        return {"simulated": "1", **({"sim_run": str(run)} if run else {})}
    return dict(simulated_label.get() or {})


@contextmanager
def labelled(label: Mapping[str, str] | None) -> Iterator[None]:
    """Serve what runs inside as simulated traffic when `label` is non-empty (exposures logged there carry it)."""
    token = simulated_label.set(dict(label) if label else None)
    try:
        yield
    finally:
        simulated_label.reset(token)


@dataclass(frozen=True)
class Exposure:
    """A variant actually shown to a unit (written as one `exposures` row)."""

    experiment_id: str
    variant: str
    unit_id: str
    surface: str
    user_id: str | None = None
    session_id: str | None = None
    request_id: str | None = None
    ts: float = field(default_factory=time.time)
    extra: dict[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """The table row."""
        return {"experiment_id": self.experiment_id, "variant": self.variant, "unit_id": self.unit_id, "user_id": self.user_id,
                "session_id": self.session_id, "ts": self.ts, "surface": self.surface, "request_id": self.request_id,
                "extra": orjson.dumps(self.extra).decode()}


class ExposureWriter:
    """Batches exposures into the store off the request path (see the module doc for what a crash can lose)."""

    def __init__(self, engine: Engine, *, batch_size: int = 500, interval_s: float = 0.5, max_queue: int = 50_000) -> None:
        self.engine = engine
        self.batch_size = batch_size
        self.interval_s = interval_s
        self._queue: queue.Queue[Exposure | None] = queue.Queue(maxsize=max_queue)
        self._pending = 0  # queued or being written
        self._done = threading.Condition()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.written = 0
        self.dropped = 0

    def log(self, exposure: Exposure) -> None:
        """Queue one exposure (never blocks; dropped and counted when the queue is full)."""
        self._ensure_thread()
        with self._done:
            self._pending += 1
        try:
            self._queue.put_nowait(exposure)
        except queue.Full:
            self._settled(1)
            self.dropped += 1
            if self.dropped in (1, 100) or self.dropped % 10_000 == 0:
                log.warning("exposure queue full: %d exposures dropped so far", self.dropped)

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="shopmind-exposures", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        stop = False
        while not stop:
            batch: list[Exposure] = []
            try:
                item = self._queue.get(timeout=self.interval_s)
            except queue.Empty:
                continue
            deadline = time.monotonic() + self.interval_s
            while item is not None:
                batch.append(item)
                if len(batch) >= self.batch_size:
                    break
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
            stop = item is None
            try:
                self._write(batch)
            finally:  # flush() never waits for a batch that failed
                self._settled(len(batch))

    def _settled(self, n: int) -> None:
        with self._done:
            self._pending -= n
            if self._pending <= 0:
                self._done.notify_all()

    def _write(self, batch: list[Exposure]) -> None:
        if not batch:
            return
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(exposures), [e.row() for e in batch])
            self.written += len(batch)
        except SQLAlchemyError as exc:  # a store error must not kill the writer: the batch is lost, said once per batch
            log.error("could not write %d exposures: %s", len(batch), str(exc).splitlines()[0][:300])

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued exposure is written (True) or `timeout` passes (False)."""
        with self._done:
            return self._done.wait_for(lambda: self._pending <= 0, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return
        self._queue.put(None)
        thread.join(timeout)
        self._thread = None


def read_exposures(engine: Engine, experiment_id: str) -> list[tuple[str, str, float, str | None, str | None, str]]:
    """(variant, unit_id, ts, user_id, session_id, extra JSON) of every exposure of an experiment, in time order."""
    q = (select(exposures.c.variant, exposures.c.unit_id, exposures.c.ts, exposures.c.user_id, exposures.c.session_id, exposures.c.extra)
         .where(exposures.c.experiment_id == experiment_id).order_by(exposures.c.ts, exposures.c.seq))
    with engine.connect() as conn:
        return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in conn.execute(q)]


def forget_user(engine: Engine, user_id: str, sessions: Iterable[str] = ()) -> int:
    """Delete a user's exposures (by user id, and by the session ids given); the number of rows removed."""
    with engine.begin() as conn:
        n = conn.execute(delete(exposures).where(exposures.c.user_id == user_id)).rowcount or 0
        ids = sorted({s for s in sessions if s})
        if ids:
            n += conn.execute(delete(exposures).where(exposures.c.session_id.in_(ids))).rowcount or 0
    return int(n)
