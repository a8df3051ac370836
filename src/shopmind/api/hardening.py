"""What the app tells strangers, and no more: security headers, a generic 500, CORS closed unless configured."""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from shopmind.logs import request_id as current_request_id

log = logging.getLogger("shopmind.api")

# The pages load only their own scripts and styles (inline style attributes aside), talk only to this origin,
# and may not be framed by anyone (clickjacking). The API docs pages load Swagger UI / ReDoc from their CDN.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; font-src 'self' https://fonts.gstatic.com; worker-src 'self' blob:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
DOCS_PATHS = ("/docs", "/redoc")

COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def security_headers(path: str) -> list[tuple[bytes, bytes]]:
    """The headers every response carries (CSP relaxed only for the API docs pages)."""
    csp = DOCS_CSP if path.startswith(DOCS_PATHS) else PAGE_CSP
    return [*COMMON_HEADERS, (b"content-security-policy", csp.encode())]


class SecurityHeaders:
    """ASGI middleware adding security headers to every HTTP response (pure ASGI: no per-request task)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        extra = security_headers(scope.get("path", ""))

        async def with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []), *((n, v) for n, v in extra if n not in present)]}
            await send(message)

        await self.app(scope, receive, with_headers)


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    """Any unhandled error: logged with a request id; the caller gets only that id (no trace, path or version)."""
    request_id = current_request_id.get() or uuid.uuid4().hex[:16]  # the id RequestLog gave this request
    log.error("internal error, request_id=%s %s %s", request_id, request.method, request.url.path, exc_info=exc)
    headers = {n.decode(): v.decode() for n, v in security_headers(request.url.path)}
    return JSONResponse({"detail": "internal error", "request_id": request_id}, status_code=500, headers={**headers, "X-Request-ID": request_id})


def harden(app: FastAPI, cors_origins: list[str]) -> None:
    """Install the 500 handler, the security headers, and CORS for the configured origins only (none by default)."""
    app.add_exception_handler(Exception, internal_error)
    if cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=cors_origins, allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                           allow_headers=["content-type", "x-api-key", "authorization"], max_age=600)
    app.add_middleware(SecurityHeaders)
