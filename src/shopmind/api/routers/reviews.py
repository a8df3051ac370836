"""Reviews: add (ingest), list a product's (public, without author ids) and its aspect summary."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request

from shopmind.api.deps import RequireIngest, RequireRead, Shop, audit
from shopmind.domain import Review
from shopmind.security.limits import ID_CHARS

router = APIRouter(tags=["reviews"])
PUBLIC_FIELDS = ("id", "product_id", "rating", "title", "text", "language", "time")  # the author is personal data


@router.post("/reviews", dependencies=[RequireIngest])
def add_reviews(reviews: Annotated[list[Review], Body(max_length=10_000)], shop: Shop, request: Request) -> dict[str, int]:
    """Store reviews (one or many; a replayed id replaces the stored review). Aspect summaries follow the next build."""
    n = shop.add_reviews(reviews)
    audit(request, "review.add_many", "", count=len(reviews))
    return {"stored": n}


@router.get("/products/{product_id}/reviews", dependencies=[RequireRead])
def product_reviews(product_id: Annotated[str, Path(max_length=ID_CHARS)], shop: Shop,
                    limit: Annotated[int, Query(ge=1, le=100)] = 20, offset: Annotated[int, Query(ge=0, le=100_000)] = 0) -> dict[str, Any]:
    """A product's reviews, newest first, with their count and mean rating (author ids are not shown)."""
    page = shop.product_reviews(product_id, limit=limit, offset=offset)
    page["reviews"] = [r.model_dump(mode="json", include=set(PUBLIC_FIELDS)) for r in page["reviews"]]
    return page


@router.get("/products/{product_id}/reviews/summary", dependencies=[RequireRead])
def review_summary(product_id: Annotated[str, Path(max_length=ID_CHARS)], shop: Shop) -> dict[str, Any]:
    """What reviewers say per aspect ("battery: 82 % positive over 57 mentions") with quoted sentences."""
    return shop.review_summary(product_id)
