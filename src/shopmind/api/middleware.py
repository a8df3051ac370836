"""ASGI middleware: request ids and the access log, request size limit (413), Prometheus request metrics."""

from __future__ import annotations

import contextlib
import logging
import time

import orjson
from prometheus_client import Counter, Histogram

from shopmind.logs import new_request_id, request_id, valid_request_id

access_log = logging.getLogger("shopmind.api.access")

REQUESTS = Counter("shopmind_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "shopmind_http_request_seconds", "HTTP request latency", ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Reject bodies over `max_bytes` with 413, by Content-Length or by counting a streamed body."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                return await self._reject(send)
        seen = 0
        too_large = False

        async def counted_receive():
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    too_large = True
                    raise _TooLarge
            return message

        async def guarded_send(message):
            if not too_large:  # once over the limit, the app's own (error) response is replaced by 413
                await send(message)

        with contextlib.suppress(_TooLarge):
            await self.app(scope, counted_receive, guarded_send)
        if too_large:
            await self._reject(send)

    async def _reject(self, send) -> None:
        body = orjson.dumps({"detail": f"request body larger than {self.max_bytes} bytes"})
        await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class RequestLog:
    """Give each request an id — the caller's `X-Request-ID` when short and safe, else a new one — that every log
    record made while serving it carries and the response echoes; then log one access line: method, route
    template, status and milliseconds (never the query string, the raw path or a key); and count and time the
    request in Prometheus by route template (not the raw path: bounded label cardinality). One wrap per request."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"x-request-id"), None)
        rid = valid_request_id(given) or new_request_id()
        token = request_id.set(rid)
        start = time.perf_counter()
        status = {"code": 500}

        async def tagged_send(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, tagged_send)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            seconds = time.perf_counter() - start
            REQUESTS.labels(scope["method"], route, str(status["code"])).inc()
            LATENCY.labels(scope["method"], route).observe(seconds)
            ms = round(seconds * 1000, 2)
            access_log.info("%s %s %s %.1fms", scope["method"], route, status["code"], ms,
                            extra={"method": scope["method"], "route": route, "status": status["code"], "ms": ms})
        request_id.reset(token)  # after an error the id stays set: the 500 handler (outside) answers with it
