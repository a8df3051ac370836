"""Logging: stdlib `logging`, one logger per module, a text or JSON-lines format, and the request id of the
HTTP request being served (a contextvar the API's middleware sets) on every record logged while serving it.

    setup_logging("INFO", "json")      # or [logging] level / format in shopmind.toml, SHOPMIND_LOGGING__FORMAT=json
    logger = logging.getLogger(__name__)
    logger.info("built %s", part, extra={"seconds": 1.2})   # extras become JSON fields
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
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


def setup_logging(level: str = "INFO", fmt: Literal["text", "json"] = "text", stream: IO[str] | None = None) -> logging.Handler:
    """Configure the `shopmind` logger tree (and the root level) once; calling again replaces the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler
