"""Logging: stdlib `logging`, one logger per module, a text or JSON-lines format, and the request id of the
HTTP request being served (a contextvar the API's middleware sets) on every record logged while serving it.

    setup_logging("INFO", "json")      # or [logging] level / format in shopmind.toml, SHOPMIND_LOGGING__FORMAT=json
    logger = logging.getLogger(__name__)
    logger.info("built %s", part, extra={"seconds": 1.2})   # extras become JSON fields
"""

from __future__ import annotations

import atexit
import copy
import logging
import queue
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from logging.handlers import QueueHandler, QueueListener
from typing import IO, Any, Literal

import orjson

request_id: ContextVar[str | None] = ContextVar("shopmind_request_id", default=None)

_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# attributes every LogRecord has: anything else on a record came from `extra=` and is logged as a field
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id", "taskName"}
_HANDLER_NAME = "shopmind"


def valid_request_id(value: str | None) -> str | None:
    """The caller's X-Request-ID if it is short and made of safe characters (it ends up in logs), else None."""
    return value if value and _SAFE_ID.fullmatch(value) else None


def new_request_id() -> str:
    """A fresh request id: 32 hex characters."""
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Puts the current request id (or None) on every record as `record.request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC ISO 8601), level, logger, message, request_id, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and key not in out:
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


class TextFormatter(logging.Formatter):
    """`time level logger [request id] message key=value …` for a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(rid)s %(message)s%(extras)s")

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None)
        record.rid = f" [{rid}]" if rid else ""
        extras = {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRS and k not in ("rid", "extras")}
        record.extras = "".join(f" {k}={v}" for k, v in extras.items())
        return super().format(record)


class _DroppingQueueHandler(QueueHandler):
    """Hands records to the writer thread without blocking: a request never waits on a slow or full stderr
    (a pipe nobody reads blocks a plain StreamHandler, and with it the event loop). Past `LOG_QUEUE` waiting
    records, new ones are dropped and counted (`dropped`) rather than stall the caller."""

    dropped = 0

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            type(self).dropped += 1

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        # the message is merged now (its args may change later); exc_info stays for the writer's formatter
        record = copy.copy(record)
        record.msg, record.args = record.getMessage(), None
        return record


LOG_QUEUE = 10_000
_listener: QueueListener | None = None
_listener_queue: queue.Queue[logging.LogRecord] | None = None


def setup_logging(level: str = "INFO", fmt: Literal["text", "json"] = "text", stream: IO[str] | None = None) -> logging.Handler:
    """Configure the root logger once (calling again replaces it): records carry the request id and are written
    by a background thread (`flush_logs` waits for it), in text or JSON lines."""
    global _listener, _listener_queue
    writer = logging.StreamHandler(stream or sys.stderr)
    writer.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    records: queue.Queue[logging.LogRecord] = queue.Queue(LOG_QUEUE)
    handler = _DroppingQueueHandler(records)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(RequestIdFilter())  # in the logging thread: the contextvar is the request's
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    if _listener is not None:
        _listener.stop()  # writes what it still holds
    _listener, _listener_queue = QueueListener(records, writer), records
    _listener.start()
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler


def flush_logs() -> None:
    """Wait until the writer thread has written every record logged so far."""
    if _listener_queue is not None:
        _listener_queue.join()


@atexit.register
def _stop_writer() -> None:
    if _listener is not None:
        _listener.stop()
