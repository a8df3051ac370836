"""Catalog: read, upsert (one or bulk) and delete products."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, Query, Request, status

from shopmind.api.deps import RequireIngest, RequireRead, Shop, audit, same_id
from shopmind.domain import Product
from shopmind.security.limits import ID_CHARS, LIST_CHARS, id_list

router = APIRouter(prefix="/products", tags=["catalog"])


@router.get("", dependencies=[RequireRead])
def get_products(shop: Shop, ids: Annotated[str, Query(max_length=LIST_CHARS, description="comma-separated ids, at most 200")]) -> dict[str, list[Product]]:
    """Several products at once, in the order asked (unknown ids are left out; 422 for over 200 ids)."""
    wanted = id_list(ids, "ids")
    found = shop.catalog.get_many(wanted)
    return {"products": [found[i] for i in wanted if i in found]}


@router.get("/{product_id}", dependencies=[RequireRead])
def get_product(product_id: Annotated[str, Path(max_length=ID_CHARS)], shop: Shop) -> Product:
    product = shop.catalog.get(product_id)
    if product is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no product {product_id!r}")
    return product


@router.put("/{product_id}", dependencies=[RequireIngest])
def put_product(product_id: Annotated[str, Path(max_length=ID_CHARS)], product: Product, shop: Shop, request: Request) -> dict[str, Any]:
    """Create or replace one product; the path id must match the body's."""
    same_id(product_id, product.id)
    shop.catalog.upsert([product])
    audit(request, "product.upsert", product_id)
    return {"upserted": 1, "id": product_id}


@router.post("", dependencies=[RequireIngest])
def upsert_products(products: Annotated[list[Product], Body(max_length=10_000)], shop: Shop, request: Request) -> dict[str, int]:
    """Create or replace many products in one transaction."""
    n = shop.catalog.upsert(products)
    audit(request, "product.upsert_many", "", count=len(products))
    return {"upserted": n}


@router.delete("/{product_id}", dependencies=[RequireIngest])
def delete_product(product_id: Annotated[str, Path(max_length=ID_CHARS)], shop: Shop, request: Request) -> dict[str, int]:
    """Remove one product from the catalog and the loaded indexes."""
    n = shop.catalog.delete([product_id])
    if not n:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no product {product_id!r}")
    audit(request, "product.delete", product_id)
    return {"deleted": n}
