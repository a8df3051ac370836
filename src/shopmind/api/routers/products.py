"""Catalog: read, upsert (one or bulk) and delete products."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, status

from shopmind.api.deps import RequireAdmin, RequireRead, Shop, same_id
from shopmind.domain import Product

router = APIRouter(prefix="/products", tags=["catalog"])


@router.get("", dependencies=[RequireRead])
def get_products(shop: Shop, ids: Annotated[str, Query(description="comma-separated ids, at most 200")]) -> dict[str, list[Product]]:
    """Several products at once, in the order asked (unknown ids are left out)."""
    wanted = [i for i in ids.split(",") if i][:200]
    found = shop.catalog.get_many(wanted)
    return {"products": [found[i] for i in wanted if i in found]}


@router.get("/{product_id}", dependencies=[RequireRead])
def get_product(product_id: str, shop: Shop) -> Product:
    product = shop.catalog.get(product_id)
    if product is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no product {product_id!r}")
    return product


@router.put("/{product_id}", dependencies=[RequireAdmin])
def put_product(product_id: str, product: Product, shop: Shop) -> dict[str, Any]:
    """Create or replace one product; the path id must match the body's."""
    same_id(product_id, product.id)
    shop.catalog.upsert([product])
    return {"upserted": 1, "id": product_id}


@router.post("", dependencies=[RequireAdmin])
def upsert_products(products: Annotated[list[Product], Body(max_length=10_000)], shop: Shop) -> dict[str, int]:
    """Create or replace many products in one transaction."""
    return {"upserted": shop.catalog.upsert(products)}


@router.delete("/{product_id}", dependencies=[RequireAdmin])
def delete_product(product_id: str, shop: Shop) -> dict[str, int]:
    n = shop.catalog.delete([product_id])
    if not n:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no product {product_id!r}")
    return {"deleted": n}
