"""Recommendations for every placement."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status

from shopmind.api.deps import RequireRead, Shop
from shopmind.api.simulated import SimLabel
from shopmind.errors import NotBuilt
from shopmind.facade.drift import observe_response
from shopmind.recommend.config import RecommendResponse
from shopmind.security.limits import ID_CHARS, LIST_CHARS, PLACEMENT_CHARS, QUERY_CHARS, id_list
from shopmind.security.ratelimit import rate_limit

router = APIRouter(tags=["recommend"])


@router.get("/recommend", dependencies=[RequireRead, rate_limit("recommend")])
def recommend(
    request: Request,
    shop: Shop,
    label: SimLabel,
    placement: Annotated[str, Query(max_length=PLACEMENT_CHARS, description="home, product, cart, search, new, substitute, promotion (or your own)")] = "home",
    user_id: Annotated[str | None, Query(max_length=ID_CHARS)] = None,
    session_id: Annotated[str | None, Query(max_length=ID_CHARS, description="the unit of session-split experiments")] = None,
    item_id: Annotated[str | None, Query(max_length=ID_CHARS)] = None,
    cart: Annotated[str | None, Query(max_length=LIST_CHARS, description="comma-separated product ids in the cart (at most 200)")] = None,
    k: Annotated[int, Query(ge=1, le=100)] = 20,
    device: Annotated[str | None, Query(max_length=PLACEMENT_CHARS)] = None,
    location: Annotated[str | None, Query(max_length=PLACEMENT_CHARS)] = None,
    query: Annotated[str | None, Query(max_length=QUERY_CHARS)] = None,
    language: Annotated[str | None, Query(max_length=16, description="the shopper's language (en, zh…): reasons that cite reviews use it")] = None,
) -> RecommendResponse:
    """Items for a placement, each with the reason that put it there; reflects the user's latest events."""
    context = {key: value for key, value in (("device", device), ("location", location), ("query", query), ("session_id", session_id),
                                                           ("language", language)) if value}
    context.update(label)  # X-Simulated: exposures logged for this request are marked simulated
    try:
        response = shop.recommend(user_id=user_id, placement=placement, item_id=item_id, cart=id_list(cart, "cart"), k=k, context=context)
    except NotBuilt as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    except KeyError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc.args[0] if exc.args else exc)) from exc
    observe_response("recommend", response)  # drift: served top-1 scores (facade/drift.py)
    return response
