"""Bulk import of products, users and events from JSONL, CSV and Parquet.

Files are streamed in batches (memory stays flat whatever the file size); each batch is validated, then
written in one transaction together with the import's checkpoint, so a process killed mid-import leaves
the store exactly at the last committed batch. Reading/validating runs in a thread beside the writer:
the database driver releases the GIL, so the two overlap on two cores.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import orjson
from pydantic import ValidationError

from shopmind.domain import RECORD_TYPES, Record
from shopmind.readers import READERS, Row, _open_text, detect_format, read_csv, read_jsonl, read_parquet  # noqa: F401  (their old home)
from shopmind.store import SqlStore

MAX_ERRORS_KEPT = 50
R = TypeVar("R", bound=Record)


class OnError(StrEnum):
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class RecordError:
    """One rejected record: where it is and which field is wrong."""

    source: str
    line: int
    field: str
    message: str
    record: Any = None

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.field}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "line": self.line, "field": self.field, "message": self.message, "record": self.record}


@dataclass
class ImportReport:
    """What an import did; `status` is `done` or `failed`."""

    kind: str
    source: str
    import_id: str = ""
    status: str = "running"
    read: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    batches: int = 0
    lines_committed: int = 0
    seconds: float = 0.0
    report_path: str | None = None
    errors: list[RecordError] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "errors"}
        out["per_second"] = round(self.per_second, 1)
        out["errors"] = [str(e) for e in self.errors[:MAX_ERRORS_KEPT]]
        return out


class ImportFailed(Exception):
    """An import stopped (`--on-error fail`); earlier batches stay committed, the failing one is not."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        first = report.errors[0] if report.errors else None
        more = f" (+{len(report.errors) - 1} more in that batch)" if len(report.errors) > 1 else ""
        super().__init__(
            f"import of {report.source} stopped at {first}{more}; nothing from that batch was stored, "
            f"{report.stored} records from {report.batches} earlier batches were"
        )


# -- validation --------------------------------------------------------------------------------------
def _errors_of(exc: ValidationError, source: str, line: int, raw: Any) -> list[RecordError]:
    out = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "(record)"
        msg = err["msg"].removeprefix("Value error, ")
        out.append(RecordError(source, line, loc, msg, raw))
    return out


def validate_rows(rows: list[Row], model: type[R], source: str) -> tuple[list[R], list[RecordError], int]:
    """Validate a batch: (records, errors, last line number)."""
    good: list[R] = []
    bad: list[RecordError] = []
    validate = model.model_validate
    for line, raw in rows:
        if isinstance(raw, Exception):
            bad.append(RecordError(source, line, "(line)", str(raw)))
        elif not isinstance(raw, dict):
            bad.append(RecordError(source, line, "(record)", f"expected an object, got {type(raw).__name__}", raw))
        else:
            try:
                good.append(validate(raw))
            except ValidationError as exc:
                bad.extend(_errors_of(exc, source, line, raw))
    return good, bad, rows[-1][0] if rows else 0


def _batches(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


_DONE = object()


@dataclass(slots=True)
class Prepared:
    """One validated batch, ready for the writer."""

    n_good: int
    good: list[Record] | None  # the records (None when prepared in another process: only params travel)
    bad: list[RecordError]
    last_line: int
    n_rows: int
    params: Any


def _threaded(rows: Iterator[Row], model: type[Record], source: str, size: int, prepare: Callable | None) -> Generator[Prepared, None, None]:
    """Validate in a thread beside the writer (the driver releases the GIL while SQLite works)."""
    q: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()
    threading.Thread(target=_produce, args=(rows, model, source, size, q, stop, prepare), daemon=True).start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


def _event_lines_worker(lines: list[bytes], first_line: int, source: str) -> tuple[int, list[RecordError], int, int, list[tuple]]:
    """In a worker process: parse and validate JSONL event lines, return row tuples (no models cross over)."""
    from shopmind.domain import Event
    from shopmind.store.sql import event_row

    rows: list[Row] = []
    for offset, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            rows.append((first_line + offset, orjson.loads(line)))
        except orjson.JSONDecodeError as exc:
            rows.append((first_line + offset, ValueError(f"not valid JSON: {exc}")))
    good, bad, _ = validate_rows(rows, Event, source)
    return len(good), bad, first_line + len(lines) - 1, len(rows), [event_row(e) for e in good]


def _die_with_parent() -> None:
    """Worker initializer: a killed importer must not leave its workers behind (Linux PR_SET_PDEATHSIG)."""
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):  # not Linux: workers still exit when their task pipe closes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before the signal was armed
        os._exit(1)


def _line_chunks(path: Path, size: int) -> Iterator[tuple[list[bytes], int]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        chunk: list[bytes] = []
        first = 1
        for line in fh:
            chunk.append(line)
            if len(chunk) >= size:
                yield chunk, first
                first += len(chunk)
                chunk = []
        if chunk:
            yield chunk, first


def _pooled_events(path: Path, source: str, size: int, adapt: Callable[[list[tuple]], Any], workers: int) -> Generator[Prepared, None, None]:
    """JSONL events validated in worker processes, results in file order, at most 2 batches per worker ahead."""
    import multiprocessing as mp
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"), initializer=_die_with_parent) as pool:
        pending: deque = deque()
        chunks = _line_chunks(path, size)
        for lines, first in chunks:
            pending.append(pool.submit(_event_lines_worker, lines, first, source))
            if len(pending) >= 2 * workers:
                break
        while pending:
            n_good, bad, last, n_rows, rows = pending.popleft().result()
            nxt = next(chunks, None)
            if nxt is not None:
                pending.append(pool.submit(_event_lines_worker, nxt[0], nxt[1], source))
            yield Prepared(n_good, None, bad, last, n_rows, adapt(rows))


def _produce(
    rows: Iterator[Row], model: type[Record], source: str, size: int, out: queue.Queue, stop: threading.Event,
    prepare: Callable[[list[Record]], Any] | None,
) -> None:
    try:
        for batch in _batches(rows, size):
            good, bad, last = validate_rows(batch, model, source)
            item = Prepared(len(good), good, bad, last, len(batch), prepare(good) if prepare else good)
            while not stop.is_set():
                try:
                    out.put(item, timeout=0.2)
                    break
                except queue.Full:
                    continue
            if stop.is_set():
                return
        out.put(_DONE)
    except BaseException as exc:  # noqa: BLE001  (not swallowed: _threaded re-raises it in the writer thread, so any reader crash ends the import)
        out.put(exc)


# kind → (store method preparing parameters in the reader thread or None, store method writing them)
_WRITERS: dict[str, tuple[str | None, str]] = {
    "products": (None, "upsert_products"),
    "users": (None, "upsert_users"),
    "events": ("event_params", "add_event_params"),
    "sales": (None, "upsert_sales"),
    "reviews": (None, "upsert_reviews"),
}


def import_file(
    store: SqlStore,
    kind: str,
    path: Path,
    *,
    fmt: str | None = None,
    on_error: OnError = OnError.FAIL,
    batch_size: int = 5000,
    report_path: Path | None = None,
    on_batch: Callable[[str, list[Record]], None] | None = None,
    workers: int = 1,
    enrich: Callable[[list[Any]], list[Any]] | None = None,
) -> ImportReport:
    """Import one file of `kind` (products|users|events) into the store; see the module docstring."""
    if kind not in RECORD_TYPES:
        raise ValueError(f"unknown record kind {kind!r}; use one of {', '.join(RECORD_TYPES)}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    fmt = fmt or detect_format(path)
    reader = READERS[fmt]
    model = RECORD_TYPES[kind]
    prepare_name, write_name = _WRITERS[kind]
    prepare = getattr(store, prepare_name) if prepare_name else None
    if enrich is not None and kind == "products":  # extracted attribute values, in the reader thread (shopmind.understand.enrich)
        prepare = enrich
    write = getattr(store, write_name)
    source = str(path)
    report = ImportReport(kind=kind, source=source)
    report.import_id = store.begin_import(kind, source)
    rejected_fh: BinaryIO | None = None
    started = time.perf_counter()
    if kind == "events" and fmt in ("jsonl", "ndjson", "json") and workers > 1:
        batches = _pooled_events(path, source, batch_size, store.adapt_event_rows, workers)
    else:
        batches = _threaded(reader(path), model, source, batch_size, prepare)
    with contextlib.ExitStack() as files:  # the rejected-records report, opened on the first bad record
        try:
            for item in batches:
                good, bad, last_line, n_rows, params = item.good, item.bad, item.last_line, item.n_rows, item.params
                report.read += n_rows
                if bad:
                    if on_error is OnError.FAIL:
                        report.errors.extend(bad)
                        report.status = "failed"
                        raise ImportFailed(report)
                    rejected_lines = {e.line for e in bad}
                    report.rejected += len(rejected_lines)
                    if len(report.errors) < MAX_ERRORS_KEPT:
                        report.errors.extend(bad[: MAX_ERRORS_KEPT - len(report.errors)])
                    if rejected_fh is None:
                        report_path = report_path or path.with_name(path.name + ".rejected.jsonl")
                        report.report_path = str(report_path)
                        rejected_fh = files.enter_context(open(report_path, "wb"))
                    for err in bad:
                        rejected_fh.write(orjson.dumps(err.to_json(), default=str) + b"\n")
                with store.transaction() as conn:
                    written = write(params, conn=conn)
                    store.record_import_progress(conn, report.import_id, lines=last_line, records=written, rejected=report.rejected)
                report.stored += written
                if kind == "events":
                    report.duplicates += item.n_good - written
                report.batches += 1
                report.lines_committed = last_line
                if on_batch is not None and good:
                    on_batch(kind, good)
            report.status = "done"
        except ImportFailed as exc:
            store.finish_import(report.import_id, "failed", str(exc))
            raise
        except BaseException as exc:
            report.status = "failed"
            store.finish_import(report.import_id, "failed", f"{type(exc).__name__}: {exc}")
            raise
        finally:
            batches.close()  # stops the reader thread or worker pool on any exit
            report.seconds = time.perf_counter() - started
    store.finish_import(report.import_id, "done")
    return report
