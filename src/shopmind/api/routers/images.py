"""Images: search by image (`POST /search/image`), visually similar products, and near-duplicate groups for hygiene.

`POST /search/image` takes the image as the raw body (`Content-Type: image/jpeg`, `image/png`, …) or as JSON
`{"image_base64": "...", "k": 10}`; at most 5 MB of image. Errors name the field (`image_base64`, `image`, `k`).
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.concurrency import run_in_threadpool

from shopmind.api.deps import RequireAnalyst, RequireRead, Shop
from shopmind.errors import NotBuilt
from shopmind.facade.images import MAX_K, MAX_QUERY_IMAGE_BYTES
from shopmind.security.limits import ID_CHARS
from shopmind.security.ratelimit import rate_limit

router = APIRouter(tags=["images"])
_MAX_JSON_BYTES = MAX_QUERY_IMAGE_BYTES * 4 // 3 + 4096  # base64 inflates by 4/3


def _bad(field: str, msg: str, where: str = "body") -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{"loc": [where, field], "msg": msg, "type": "value_error"}])


def _from_json(raw: bytes) -> tuple[bytes, int | None]:
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _bad("body", f"not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise _bad("body", 'must be a JSON object {"image_base64": "...", "k": 10}')
    unknown = sorted(set(doc) - {"image_base64", "k"})
    if unknown:
        raise _bad(unknown[0], "unknown field; expected image_base64 and optional k")
    b64 = doc.get("image_base64")
    if not isinstance(b64, str) or not b64:
        raise _bad("image_base64", "required: the image as a base64 string")
    if len(b64) > _MAX_JSON_BYTES:
        raise _bad("image_base64", f"the image is over the limit of {MAX_QUERY_IMAGE_BYTES} bytes")
    if b64.startswith("data:") and "," in b64:
        b64 = b64.split(",", 1)[1]
    try:
        data = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _bad("image_base64", f"not valid base64: {exc}") from exc
    k = doc.get("k")
    if k is not None and (not isinstance(k, int) or isinstance(k, bool)):
        raise _bad("k", "must be an integer")
    return data, k


@router.post("/search/image", dependencies=[RequireRead, rate_limit("search")])
async def search_image(request: Request, shop: Shop, k: Annotated[int | None, Query(ge=1, le=MAX_K)] = None) -> dict[str, Any]:
    """Products whose image is nearest to the uploaded one (EfficientNet-Lite0 embeddings, inner product)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > _MAX_JSON_BYTES:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"image: over the limit of {MAX_QUERY_IMAGE_BYTES} bytes")
    if ctype == "application/json":
        data, body_k = _from_json(bytes(raw))
        k = k if k is not None else body_k
    elif ctype.startswith("image/") or ctype == "application/octet-stream":
        data = bytes(raw)
    else:
        raise _bad("content-type", "send the image as the raw body (image/*) or as JSON {\"image_base64\": ...}", "header")
    if not data:
        raise _bad("image", "empty")
    if len(data) > MAX_QUERY_IMAGE_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"image: over the limit of {MAX_QUERY_IMAGE_BYTES} bytes")
    k = 10 if k is None else k
    if not 1 <= k <= MAX_K:
        raise _bad("k", f"must be 1–{MAX_K}")
    from shopmind.understand.images import ImageError

    try:
        return await run_in_threadpool(shop.search_image, data, k)
    except NotBuilt as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    except ImageError as exc:
        raise _bad("image", str(exc)) from exc
    except ImportError as exc:
        raise HTTPException(status.HTTP_501_NOT_IMPLEMENTED, str(exc)) from exc


@router.get("/products/{product_id}/similar-images", dependencies=[RequireRead, rate_limit("search")])
def similar_images(product_id: Annotated[str, Path(max_length=ID_CHARS)], shop: Shop,
                   k: Annotated[int, Query(ge=1, le=MAX_K)] = 10) -> dict[str, Any]:
    """Visually similar products: nearest image embeddings to the product's first image."""
    try:
        return shop.similar_images(product_id, k)
    except NotBuilt as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    except KeyError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"product_id: {product_id!r} has no image vector (no readable image, or unknown)") from exc


@router.get("/images/duplicates", dependencies=[RequireAnalyst])
def image_duplicates(shop: Shop) -> dict[str, Any]:
    """Catalog hygiene: groups of products whose images are near-duplicates (resized, recompressed, slightly cropped)."""
    try:
        return shop.image_duplicates()
    except NotBuilt as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
