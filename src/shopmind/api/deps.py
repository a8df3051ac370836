"""Dependencies shared by routers: the shop and API-key checks."""

from __future__ import annotations

import secrets
from enum import IntEnum
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status

from shopmind.engine import ShopMind


class Access(IntEnum):
    NONE = 0
    PUBLIC = 1  # send events, read
    ADMIN = 2  # everything


def get_shop(request: Request) -> ShopMind:
    return request.app.state.shop


Shop = Annotated[ShopMind, Depends(get_shop)]


def _key_from(request: Request, x_api_key: str | None) -> str | None:
    if x_api_key:
        return x_api_key
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.cookies.get("shopmind_key")


def access_of(request: Request, x_api_key: str | None) -> Access:
    key = _key_from(request, x_api_key)
    if not key:
        return Access.NONE
    keys = request.app.state.keys
    if any(secrets.compare_digest(key, k) for k in keys["admin"]):
        return Access.ADMIN
    if any(secrets.compare_digest(key, k) for k in keys["public"]):
        return Access.PUBLIC
    raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown API key", headers={"WWW-Authenticate": "Bearer"})


def _require(level: Access):
    def check(request: Request, x_api_key: Annotated[str | None, Header()] = None) -> Access:
        got = access_of(request, x_api_key)
        if got < level:
            if got is Access.NONE:
                raise HTTPException(status.HTTP_401_UNAUTHORIZED, "this call needs an API key (X-API-Key header)", headers={"WWW-Authenticate": "Bearer"})
            raise HTTPException(status.HTTP_403_FORBIDDEN, "this call needs an admin key")
        return got

    return check


def _require_read(request: Request, x_api_key: Annotated[str | None, Header()] = None) -> Access:
    if request.app.state.shop.settings.api.open_reads:
        return Access.PUBLIC
    return _require(Access.PUBLIC)(request, x_api_key)


RequireAdmin = Depends(_require(Access.ADMIN))
RequirePublic = Depends(_require(Access.PUBLIC))
RequireRead = Depends(_require_read)


def same_id(path_id: str, body_id: str) -> None:
    """A PUT's body must describe the resource its path names: 422 on the body's `id` otherwise."""
    if path_id != body_id:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"loc": ["body", "id"], "msg": f"id {body_id!r} differs from the path's {path_id!r}", "type": "value_error"}],
        )
