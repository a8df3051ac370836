"""User profiles, trending, and behaviour reports for the dashboard."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, status

from shopmind.api.deps import RequireAdmin, RequireAnalyst, RequireRead, RequireUsersRead, Shop, audit
from shopmind.profiles.profile import UserProfile
from shopmind.security.limits import ID_CHARS

router = APIRouter(tags=["profiles"])

# reports that quote what individual shoppers typed: personal data, like /users (admin or `users:read`)
PERSONAL_REPORTS = frozenset({"queries"})


@router.get("/users/{user_id}/profile", dependencies=[RequireUsersRead])
def user_profile(user_id: Annotated[str, Path(max_length=ID_CHARS)], shop: Shop) -> UserProfile:
    """Top interests with weights, segment, recent activity, heat by weekday × hour, value and churn risk (personal data)."""
    return shop.profile(user_id)


@router.get("/trending", dependencies=[RequireRead])
def trending(shop: Shop, k: Annotated[int, Query(ge=1, le=200)] = 20, category: Annotated[str | None, Query(max_length=500)] = None) -> dict[str, Any]:
    """Items and queries with the most recent activity (bots excluded)."""
    return shop.trending(k, category)


@router.get("/reports/{name}", dependencies=[RequireAnalyst])
def report(name: Annotated[str, Path(max_length=32)], shop: Shop, request: Request, by: Annotated[str, Query(pattern="^(category|day)$")] = "category") -> Any:
    """funnel (by category or day), rfm, cohorts, items, placements (analyst); queries quotes shoppers (admin or users:read)."""
    principal = request.state.principal
    if name in PERSONAL_REPORTS and not principal.can_read_users():
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"the {name!r} report quotes shoppers' own words: it needs an admin key or the 'users:read' scope")
    try:
        return shop.report(name, **({"by": by} if name == "funnel" else {}))
    except ValueError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc


@router.post("/admin/rebuild-state", dependencies=[RequireAdmin])
def rebuild_state(shop: Shop, request: Request) -> dict[str, Any]:
    """Recompute online state from the event log."""
    result = shop.rebuild_state()
    audit(request, "state.rebuild", "", events=result.get("events"))
    return result


@router.get("/admin/live", dependencies=[RequireAnalyst])
def live(shop: Shop, minutes: Annotated[int, Query(ge=1, le=1440)] = 60) -> dict[str, Any]:
    """Events per minute (by event time) up to now, for the dashboard's live chart."""
    return shop.live(minutes)

# GET /admin/models (versions, the promoted one, metrics) is the model registry's: api/routers/models.py
