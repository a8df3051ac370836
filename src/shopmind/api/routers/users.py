"""Users: read (personal data: admin or `users:read`), upsert (admin, ingest), and delete everywhere (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, status

from shopmind.api.deps import RequireAdmin, RequireIngest, RequireUsersRead, Shop, audit, same_id
from shopmind.domain import User
from shopmind.security.limits import ID_CHARS

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", dependencies=[RequireUsersRead])
def list_users(shop: Shop, limit: Annotated[int, Query(ge=1, le=1000)] = 100, after: Annotated[str, Query(max_length=ID_CHARS)] = "") -> dict[str, Any]:
    """User ids, paged: pass the last id as `after` for the next page."""
    ids = shop.store.list_users(limit, after)
    return {"users": ids, "next": ids[-1] if len(ids) == limit else None}


@router.get("/{user_id}", dependencies=[RequireUsersRead])
def get_user(user_id: Annotated[str, Path(max_length=ID_CHARS)], shop: Shop) -> User:
    """One user's record and attributes."""
    user = shop.users.get(user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no user {user_id!r}")
    return user


@router.put("/{user_id}", dependencies=[RequireIngest])
def put_user(user_id: Annotated[str, Path(max_length=ID_CHARS)], user: User, shop: Shop, request: Request) -> dict[str, Any]:
    """Create or replace one user (audited without the id: the audit log holds no personal data)."""
    same_id(user_id, user.id)
    shop.users.upsert([user])
    audit(request, "user.upsert", "", count=1)
    return {"upserted": 1, "id": user_id}


@router.delete("/{user_id}", dependencies=[RequireAdmin])
def delete_user(user_id: Annotated[str, Path(max_length=ID_CHARS)], shop: Shop, request: Request) -> dict[str, Any]:
    """Remove the user's record, events and everything derived from them; report what was removed."""
    removed = shop.delete_user(user_id)
    receipt = removed.get("receipt_id", "") if isinstance(removed, dict) else ""
    audit(request, "user.delete", str(receipt or ""))
    return {"user_id": user_id, "removed": removed}
