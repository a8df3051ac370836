"""Storefront (`/`) and dashboard (`/admin`): static pages over the public API, no build step."""

from __future__ import annotations

from pathlib import Path

import orjson
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
router = APIRouter(include_in_schema=False)


@router.get("/")
def storefront() -> FileResponse:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


@router.get("/admin")
def dashboard() -> FileResponse:
    return FileResponse(STATIC / "admin.html", headers={"Cache-Control": "no-cache"})


@router.get("/web/config.js")
def config(request: Request) -> Response:
    """What the pages need: the storefront key (public by definition: see SECURITY.md) and which areas exist."""
    app = request.app
    body = {"publicKey": app.state.keyring.browser_key(), "capabilities": list(app.state.capabilities)}
    shoppers = app.state.shop.settings.api.demo_shoppers
    if shoppers:  # a demo aid only: ids a visitor may claim to be (a claimed id opens no personal data)
        body["demoShoppers"] = app.state.shop.store.list_users(shoppers, "")
    return Response(f"window.SHOPMIND_CONFIG = {orjson.dumps(body).decode()};", media_type="text/javascript", headers={"Cache-Control": "no-cache"})


def mount(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
