"""Users: read, upsert, and delete everywhere (privacy)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status

from shopmind.api.deps import RequireAdmin, RequireRead, Shop, same_id
from shopmind.domain import User

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", dependencies=[RequireRead])
def list_users(shop: Shop, limit: Annotated[int, Query(ge=1, le=1000)] = 100, after: str = "") -> dict[str, Any]:
    """User ids, paged: pass the last id as `after` for the next page."""
    ids = shop.store.list_users(limit, after)
    return {"users": ids, "next": ids[-1] if len(ids) == limit else None}


@router.get("/{user_id}", dependencies=[RequireRead])
def get_user(user_id: str, shop: Shop) -> User:
    user = shop.users.get(user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no user {user_id!r}")
    return user


@router.put("/{user_id}", dependencies=[RequireAdmin])
def put_user(user_id: str, user: User, shop: Shop) -> dict[str, Any]:
    same_id(user_id, user.id)
    shop.users.upsert([user])
    return {"upserted": 1, "id": user_id}


@router.delete("/{user_id}", dependencies=[RequireAdmin])
def delete_user(user_id: str, shop: Shop) -> dict[str, Any]:
    """Remove the user's record, events and everything derived from them; report what was removed."""
    return {"user_id": user_id, "removed": shop.delete_user(user_id)}
