"""The ASGI factory every API worker process calls: `uvicorn --factory shopmind.api.asgi:app --workers N`.

Each worker opens the shop named by the environment (`SHOPMIND_HOME`, every other setting from `SHOPMIND_*`
variables and the home's shopmind.toml, as `ShopMind.open` reads them), builds its own online state before its
first request and closes the shop when it stops. What must happen once per shop — store migrations and the API
keys generated on a first start — is done by `shopmind serve` in the parent before any worker starts
(`prepare`); in a worker both are no-ops.

Several workers on one host share its CPUs: `worker_environment` gives each an OpenMP budget (OMP_NUM_THREADS = its share
of the CPUs, unless the operator set one) so that N workers' query encoders, faiss and LightGBM never run more OpenMP
threads than there are cores (oversubscribed OpenMP teams spin at barriers: search fell from 49 to 0.4 req/s with two
workers on 2 cores, docs/scaling.md). `shopmind serve --workers N` sets it before the workers start; a worker started
by gunicorn/uvicorn directly applies it itself from WEB_CONCURRENCY (what both read for their worker count) or
`server.workers`; a pod with one worker gets its CPU limit from its cgroup. Each worker loads its built parts and
its query encoder before it accepts a connection (`warm`), so no request waits for a load.

Every response carries `X-Worker`: a random id this worker drew at start (no pid, host name or address), so an
operator (and the tests) can see how a load balancer spreads requests; it says nothing an attacker can use.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from shopmind.api.app import create_app, load_keys
from shopmind.engine import PARTS, ShopMind
from shopmind.logs import setup_logging
from shopmind.text.encoders import worker_share

__all__ = ["WORKER_ID", "app", "prepare", "warm", "worker_environment"]
log = logging.getLogger(__name__)

WORKER_ID = secrets.token_hex(4)  # drawn once per process


def prepare(shop: ShopMind) -> dict[str, str] | None:
    """What must run once before workers start: migrations happened when the shop opened; the keys of a shop's
    first start are generated here. Returns the generated keys (None when the shop already had keys)."""
    return load_keys(shop).generated


def worker_environment(workers: int, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables each of `workers` API processes on this host needs (to add to its environment): WEB_CONCURRENCY,
    and OMP_NUM_THREADS = its share of the CPUs where several share them and the operator set none (theirs is kept)."""
    env = os.environ if environ is None else environ
    out = {"WEB_CONCURRENCY": str(max(1, int(workers)))}
    if workers > 1 and not env.get("OMP_NUM_THREADS", "").strip():
        out["OMP_NUM_THREADS"] = str(worker_share(workers))
    return out


def _workers_here(shop: ShopMind) -> int:
    """How many API workers share this host: WEB_CONCURRENCY (gunicorn, uvicorn, `shopmind serve`), else server.workers."""
    raw = os.environ.get("WEB_CONCURRENCY", "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else shop.settings.server.workers


def warm(shop: ShopMind) -> list[str]:
    """Load every built part and the query encoder before this worker takes traffic (uvicorn accepts only after the
    lifespan starts): otherwise each of N workers loads them during its first requests, which wait seconds. The
    parts loaded; one that fails to load is logged and left to the request path, which reports it."""
    loaded = []
    for name in PARTS:
        try:
            if shop.built_part(name) is not None:
                loaded.append(name)
        except Exception:  # a broken artifact must not keep the worker down: its requests say what is wrong
            log.exception("worker %s: could not load %s before serving", WORKER_ID, name)
    search = shop.built_part("search") if "search" in loaded else None
    if search is not None:  # the query thread: its OpenMP limit and the encoder's model load on its first task
        search.pool.submit(search.encoder.encode_queries, ["warm up"]).result()
    return loaded


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
    os.environ.update(worker_environment(_workers_here(shop)))  # before any OpenMP runtime loads (they load lazily)
    application = create_app(shop)
    inner = application.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: FastAPI) -> AsyncIterator[None]:
        async with inner(a):
            log.info("worker %s: loaded %s before serving", WORKER_ID, ", ".join(warm(shop)) or "nothing (not built)")
            yield
        shop.close()

    application.router.lifespan_context = lifespan
    application.add_middleware(WorkerHeader)
    log.info("worker %s (pid %d) serving %s; OpenMP threads per team: %s", WORKER_ID, os.getpid(), shop.home,
             os.environ.get("OMP_NUM_THREADS", "default"))
    return application
