"""422 responses that can always be sent: FastAPI's default echoes the bad input, which may not be valid text.

JSON allows `"\\ud800"` (a lone UTF-16 surrogate) and Python decodes it into a `str` that UTF-8 cannot encode.
Pydantic rejects such a string for every `str` field (`string_unicode`, naming the field), but the default
handler then puts the offending input into the response, and encoding that response fails: a 500 instead of
the 422. Here each lone surrogate in the echoed details becomes U+FFFD, so the caller gets the field's name.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.status import HTTP_422_UNPROCESSABLE_CONTENT

_SURROGATE = re.compile("[\ud800-\udfff]")


def encodable(value: Any) -> Any:
    """The JSON-ready `value` with every lone surrogate in its strings (keys too) replaced by U+FFFD."""
    if isinstance(value, str):
        return value if value.isascii() else _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {encodable(k): encodable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encodable(v) for v in value]
    return value


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """The default 422 body ({"detail": [{"loc", "msg", "type", "input"}, …]}), made encodable."""
    return JSONResponse({"detail": encodable(jsonable_encoder(exc.errors()))}, status_code=HTTP_422_UNPROCESSABLE_CONTENT)


def install(app: FastAPI) -> None:
    """Register the 422 handler on the app."""
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
