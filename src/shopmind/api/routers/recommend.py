"""Recommendations for every placement."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status

from shopmind.api.deps import RequireRead, Shop
from shopmind.engine import NotBuilt
from shopmind.recommend.service import RecommendResponse

router = APIRouter(tags=["recommend"])


@router.get("/recommend", dependencies=[RequireRead])
def recommend(
    request: Request,
    shop: Shop,
    placement: Annotated[str, Query(description="home, product, cart, search, new, substitute, promotion (or your own)")] = "home",
    user_id: str | None = None,
    item_id: str | None = None,
    cart: Annotated[str | None, Query(description="comma-separated product ids in the cart")] = None,
    k: Annotated[int, Query(ge=1, le=100)] = 20,
    device: str | None = None,
    location: str | None = None,
    query: str | None = None,
) -> RecommendResponse:
    """Items for a placement, each with the reason that put it there; reflects the user's latest events."""
    context = {key: value for key, value in (("device", device), ("location", location), ("query", query)) if value}
    try:
        return shop.recommend(user_id=user_id, placement=placement, item_id=item_id, cart=[c for c in (cart or "").split(",") if c], k=k, context=context)
    except NotBuilt as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    except KeyError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc.args[0] if exc.args else exc)) from exc
