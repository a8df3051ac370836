"""The FastAPI application: routers over one ShopMind instance."""

from __future__ import annotations

import secrets
from contextlib import asynccontextmanager
from pathlib import Path

import orjson
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from shopmind import __version__
from shopmind.api.middleware import BodyLimit, Metrics
from shopmind.api.routers import events, health, products, profiles, users
from shopmind.engine import ShopMind

KEYS_FILE = "api_keys.json"


def load_keys(shop: ShopMind) -> dict[str, list[str]]:
    """Keys from settings; if none are configured, a generated pair kept in <home>/api_keys.json."""
    api = shop.settings.api
    if api.admin_keys or api.public_keys:
        return {"admin": list(api.admin_keys), "public": list(api.public_keys)}
    path = Path(shop.home) / KEYS_FILE
    if path.is_file():
        data = orjson.loads(path.read_bytes())
        return {"admin": list(data.get("admin", [])), "public": list(data.get("public", []))}
    keys = {"admin": ["sk_admin_" + secrets.token_urlsafe(24)], "public": ["pk_" + secrets.token_urlsafe(24)]}
    path.write_bytes(orjson.dumps(keys, option=orjson.OPT_INDENT_2))
    path.chmod(0o600)
    return keys


def create_app(shop: ShopMind) -> FastAPI:
    """Build the HTTP app for an open shop."""
    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        shop.state  # build online state before the first request, not during it
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="ShopMind",
        version=__version__,
        description="Search, recommendations, ads and a shopping assistant over your own catalog and events.",
    )
    app.state.shop = shop
    app.state.keys = load_keys(shop)
    for router in (health.router, products.router, users.router, events.router, profiles.router):
        app.include_router(router)
    app.state.capabilities = []
    for name, area in _optional_routers():
        app.include_router(area)
        app.state.capabilities.append(name)
    from shopmind import web

    web.mount(app)
    if shop.settings.api.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=shop.settings.api.cors_origins, allow_methods=["*"], allow_headers=["*"])
    app.add_middleware(BodyLimit, max_bytes=shop.settings.api.max_body_bytes)
    app.add_middleware(Metrics)
    return app


OPTIONAL_AREAS = ("search", "recommend", "ads", "chat")


def _optional_routers() -> list[tuple[str, object]]:
    """Routers of capabilities that are installed (search, recommend…), mounted when importable."""
    import importlib

    out = []
    for name in OPTIONAL_AREAS:
        try:
            module = importlib.import_module(f"shopmind.api.routers.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"shopmind.api.routers.{name}":
                raise
            continue
        out.append((name, module.router))
    return out
