"""Dependencies shared by routers: the shop, who is calling (role-checked API keys) and the audit helper.

Each route names what it needs (the table is in SECURITY.md):
- RequireAdmin: admin keys only (deletions, campaigns, keys, rebuilds, the audit log).
- RequireIngest: admin or ingest (catalog and user writes).
- RequirePublic: admin, ingest or storefront (sending events).
- RequireStorefront: admin or storefront, or no key while `api.open_reads` (ads, chat).
- RequireRead: any valid key, or no key while `api.open_reads` (catalog reads, search, recommend).
- RequireAnalyst: admin or analyst (stats, aggregate reports, metrics).
- RequireUsersRead: admin, or a non-storefront key with the `users:read` scope; never open (personal data).
The caller's Principal goes to `request.state.principal` (None for a request without a key).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request, status

from shopmind.engine import ShopMind
from shopmind.security import audit as audit_log
from shopmind.security.roles import ANONYMOUS, Principal, Role

log = logging.getLogger(__name__)


def get_shop(request: Request) -> ShopMind:
    """The app's open shop."""
    return request.app.state.shop


Shop = Annotated[ShopMind, Depends(get_shop)]

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def _key_from(request: Request, x_api_key: str | None) -> str | None:
    """The key from X-API-Key or `Authorization: Bearer`; never from a cookie, which a cross-site form would send (CSRF)."""
    if x_api_key:
        return x_api_key
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return None


def principal_of(request: Request, x_api_key: str | None) -> Principal | None:
    """The caller's Principal (None without a key); 401 for a key that is unknown or revoked."""
    key = _key_from(request, x_api_key)
    request.state.principal = None
    if not key:
        return None
    principal = request.app.state.keyring.resolve(key)
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown or revoked API key", headers=_CHALLENGE)
    request.state.principal = principal
    return principal


def _require(roles: frozenset[Role], what: str, *, open_reads: bool = False, users_read: bool = False) -> Callable[..., Principal]:
    def check(request: Request, x_api_key: Annotated[str | None, Header()] = None) -> Principal:
        principal = principal_of(request, x_api_key)
        if principal is None:
            if open_reads and request.app.state.shop.settings.api.open_reads:
                return ANONYMOUS
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"this call needs {what} (X-API-Key header)", headers=_CHALLENGE)
        allowed = principal.role in roles
        if users_read:
            allowed = principal.role is not Role.STOREFRONT and principal.can_read_users()
        if not allowed:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this call needs {what}; this key's role is {principal.role.value}")
        return principal

    return check


ALL_ROLES = frozenset(Role)
RequireAdmin = Depends(_require(frozenset({Role.ADMIN}), "an admin key"))
RequireIngest = Depends(_require(frozenset({Role.ADMIN, Role.INGEST}), "an admin or ingest key"))
RequirePublic = Depends(_require(frozenset({Role.ADMIN, Role.INGEST, Role.STOREFRONT}), "a storefront, ingest or admin key"))
RequireStorefront = Depends(_require(frozenset({Role.ADMIN, Role.STOREFRONT}), "a storefront or admin key", open_reads=True))
RequireRead = Depends(_require(ALL_ROLES, "an API key", open_reads=True))
RequireAnalyst = Depends(_require(frozenset({Role.ADMIN, Role.ANALYST}), "an analyst or admin key"))
RequireUsersRead = Depends(_require(frozenset(), "an admin key or one with the 'users:read' scope", users_read=True))


def audit(request: Request, action: str, target: str = "", **detail: Any) -> None:
    """Log an admin action as the request's principal (key id only); never put a user id in target or detail."""
    principal = getattr(request.state, "principal", None)
    try:
        audit_log.record(request.app.state.shop.store.engine, principal.key_id if principal else "anonymous", action, target, detail)
    except Exception:  # the action is done; a failed audit write is logged loudly, not turned into a 500
        log.exception("audit log write failed for %s on %r", action, target)


def same_id(path_id: str, body_id: str) -> None:
    """A PUT's body must describe the resource its path names: 422 on the body's `id` otherwise."""
    if path_id != body_id:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"loc": ["body", "id"], "msg": f"id {body_id!r} differs from the path's {path_id!r}", "type": "value_error"}],
        )
