"""Admin-only views of the shop's own security: the audit log of admin actions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from shopmind.api.deps import RequireAdmin, Shop
from shopmind.security import audit

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/audit", dependencies=[RequireAdmin])
def audit_entries(
    shop: Shop,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[int | None, Query(ge=1, le=2**62, description="page on: the `next` of the previous page")] = None,
    action: Annotated[str | None, Query(max_length=64, description="only this action, e.g. key.create")] = None,
) -> dict[str, Any]:
    """Who (key id) did what to which target, newest first; `next` pages on to older entries."""
    rows = audit.entries(shop.store.engine, limit=limit, before=before, action=action)
    return {"entries": rows, "next": rows[-1]["seq"] if len(rows) == limit else None}
