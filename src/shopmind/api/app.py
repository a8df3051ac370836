"""The FastAPI application: routers over one ShopMind instance."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI

from shopmind.api import validation
from shopmind.api.hardening import harden
from shopmind.api.middleware import BodyLimit, RequestLog
from shopmind.api.routers import admin, events, experiments, health, models, products, profiles, reviews, users
from shopmind.engine import ShopMind
from shopmind.facade.drift import DriftMonitor
from shopmind.facade.training import Trainer
from shopmind.security.keys import KeyRing, keyring_for

API_VERSION = "1"  # the HTTP contract's version; the package version is not shown to callers


def load_keys(shop: ShopMind) -> KeyRing:
    """Keys from settings and the store; a shop with none at all gets a generated admin + storefront pair."""
    ring = keyring_for(shop.store.engine, shop.settings.api, Path(shop.home))
    ring.bootstrap()
    return ring


def create_app(shop: ShopMind) -> FastAPI:
    """Build the HTTP app for an open shop."""
    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        _ = shop.state  # touching the property builds online state before the first request, not during it
        shop.start_following()  # promotions and catalog changes made elsewhere, loaded off the request path
        background = [app.state.drift] + ([app.state.trainer] if shop.settings.training.enabled else [])  # facade/training.py
        for task in background:
            task.start()
        try:
            yield
        finally:
            for task in background:
                task.stop()
            shop.stop_following()

    app = FastAPI(
        lifespan=lifespan,
        title="ShopMind",
        version=API_VERSION,
        description="Search, recommendations, ads and a shopping assistant over your own catalog and events.",
    )
    app.state.shop = shop
    app.state.drift, app.state.trainer = DriftMonitor(shop, interval_s=shop.settings.training.drift_interval_s), Trainer(shop)
    app.state.keyring = load_keys(shop)
    validation.install(app)  # 422s that can always be encoded (bad input may not be valid text)
    for router in (health.router, products.router, reviews.router, users.router, events.router, profiles.router, admin.router, models.router,
                   experiments.router):
        app.include_router(router)
    app.state.capabilities = []
    for name, area in _optional_routers():
        app.include_router(area)
        app.state.capabilities.append(name)
    from shopmind import web

    web.mount(app)
    app.add_middleware(BodyLimit, max_bytes=shop.settings.api.max_body_bytes)
    app.add_middleware(RequestLog)  # around the others: a 413 carries the request id, is logged and counted too
    harden(app, shop.settings.api.cors_origins)  # outermost: every response, 413s included, carries the headers
    return app


OPTIONAL_AREAS = ("search", "recommend", "ads", "chat", "generate", "forecast", "images")


def _optional_routers() -> list[tuple[str, APIRouter]]:
    """Routers of capabilities that are installed (search, recommend…), mounted when importable."""
    import importlib

    out: list[tuple[str, APIRouter]] = []
    for name in OPTIONAL_AREAS:
        try:
            module = importlib.import_module(f"shopmind.api.routers.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"shopmind.api.routers.{name}":
                raise
            continue
        out.append((name, module.router))
    return out
