"""The ASGI factory every API worker process calls: `uvicorn --factory shopmind.api.asgi:app --workers N`.

Each worker opens the shop named by the environment (`SHOPMIND_HOME`, every other setting from `SHOPMIND_*`
variables and the home's shopmind.toml, as `ShopMind.open` reads them), builds its own online state before its
first request and closes the shop when it stops. What must happen once per shop — store migrations and the API
keys generated on a first start — is done by `shopmind serve` in the parent before any worker starts
(`prepare`); in a worker both are no-ops.

Every response carries `X-Worker`: a random id this worker drew at start (no pid, host name or address), so an
operator (and the tests) can see how a load balancer spreads requests; it says nothing an attacker can use.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from shopmind.api.app import create_app, load_keys
from shopmind.engine import ShopMind
from shopmind.logs import setup_logging

__all__ = ["WORKER_ID", "app", "prepare"]
log = logging.getLogger(__name__)

WORKER_ID = secrets.token_hex(4)  # drawn once per process


def prepare(shop: ShopMind) -> dict[str, str] | None:
    """What must run once before workers start: migrations happened when the shop opened; the keys of a shop's
    first start are generated here. Returns the generated keys (None when the shop already had keys)."""
    return load_keys(shop).generated


class WorkerHeader:
    """Adds `X-Worker: <this worker's random id>` to every HTTP response."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.header = (b"x-worker", WORKER_ID.encode())

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def tagged(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], self.header]
            await send(message)

        await self.app(scope, receive, tagged)


def app() -> FastAPI:
    """One worker's app over the shop in `SHOPMIND_HOME` (the factory uvicorn calls in each worker process)."""
    shop = ShopMind.open(os.environ.get("SHOPMIND_HOME"))
    setup_logging(shop.settings.logging.level, shop.settings.logging.format)
    application = create_app(shop)
    inner = application.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: FastAPI) -> AsyncIterator[None]:
        async with inner(a):
            yield
        shop.close()

    application.router.lifespan_context = lifespan
    application.add_middleware(WorkerHeader)
    log.info("worker %s (pid %d) serving %s", WORKER_ID, os.getpid(), shop.home)
    return application
