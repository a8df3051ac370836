"""Generated product texts: a description and an ad line, written from the catalog fields, confident extracted values
and review aspect figures; every sentence carries its source (catalog, extracted or reviews) and passed the fact check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status

from shopmind.api.deps import RequireStorefront, Shop
from shopmind.assistant.models import GeneratedText
from shopmind.facade.generation import ProductNotFound
from shopmind.security.limits import ID_CHARS
from shopmind.security.ratelimit import rate_limit

router = APIRouter(prefix="/products", tags=["assistant"])


def _generated(shop: Shop, kind: str, product_id: str) -> GeneratedText:
    try:
        return shop.generate_text(kind, product_id)
    except ProductNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no product {product_id!r}") from None


@router.get("/{product_id}/description", dependencies=[RequireStorefront, rate_limit("chat")])
def product_description(product_id: Annotated[str, Path(max_length=ID_CHARS)], shop: Shop) -> GeneratedText:
    """A short, fact-checked description (the LLM when configured, else the template over the facts)."""
    return _generated(shop, "description", product_id)


@router.get("/{product_id}/ad", dependencies=[RequireStorefront, rate_limit("chat")])
def product_ad(product_id: Annotated[str, Path(max_length=ID_CHARS)], shop: Shop) -> GeneratedText:
    """One fact-checked ad line for a product."""
    return _generated(shop, "ad", product_id)
