"""Search and suggestions."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, HTTPException, Query, status

from shopmind.api.deps import RequireRead, Shop
from shopmind.api.simulated import SimLabel
from shopmind.errors import NotBuilt
from shopmind.facade.drift import observe_response
from shopmind.search.models import SearchResponse
from shopmind.security.limits import FACETS, FILTERS_CHARS, ID_CHARS, QUERY_CHARS, SUGGEST_CHARS, FacetName
from shopmind.security.ratelimit import rate_limit

router = APIRouter(tags=["search"])


def parse_filters(filters: str | None) -> dict[str, Any] | None:
    """`filters` travels as a JSON object in the query string: {"brand": ["A"], "price": {"max": 50}}."""
    if not filters:
        return None
    try:
        value = orjson.loads(filters)
    except orjson.JSONDecodeError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{"loc": ["query", "filters"], "msg": f"not valid JSON: {exc}", "type": "value_error"}]) from exc
    if not isinstance(value, dict):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{"loc": ["query", "filters"], "msg": "must be a JSON object", "type": "value_error"}])
    return value


@router.get("/search", dependencies=[RequireRead, rate_limit("search")])
def search(
    shop: Shop,
    label: SimLabel,
    q: Annotated[str, Query(max_length=QUERY_CHARS, description="the shopper's query, any language")],
    user_id: Annotated[str | None, Query(max_length=ID_CHARS)] = None,
    session_id: Annotated[str | None, Query(max_length=ID_CHARS)] = None,
    filters: Annotated[str | None, Query(max_length=FILTERS_CHARS, description='JSON object, e.g. {"brand":["Acme"],"price":{"max":50}}')] = None,
    facets: Annotated[list[FacetName] | None, Query(max_length=FACETS, description="facet names: brand, category, price, attributes.<name>")] = None,
    sort: Annotated[str, Query(pattern="^(relevance|price_asc|price_desc|newest|popularity)$")] = "relevance",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
    explain: bool = True,
    track: Annotated[bool | None, Query(description="log the search event; default: when user_id is given")] = None,
) -> SearchResponse:
    """Hybrid (BM25 + dense) search with query understanding, filters, facets, learned ranking and `why`."""
    try:
        response = shop.search(q, user_id=user_id, session_id=session_id, filters=parse_filters(filters), facets=facets, sort=sort,
                               page=page, per_page=per_page, explain=explain, track=user_id is not None if track is None else track,
                               context=label or None)  # X-Simulated: the search event and exposures are marked simulated
    except NotBuilt as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    if page == 1 and sort == "relevance":  # drift: served top-1 scores (facade/drift.py)
        observe_response("search", response)
    return response


@router.get("/suggest", dependencies=[RequireRead, rate_limit("suggest")])
def suggest(shop: Shop, q: Annotated[str, Query(max_length=SUGGEST_CHARS)], k: Annotated[int, Query(ge=1, le=50)] = 10) -> dict[str, list[str]]:
    """Prefix completions from titles and popular queries."""
    try:
        return {"suggestions": shop.suggest(q, k)}
    except NotBuilt as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
