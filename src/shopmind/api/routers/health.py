"""Liveness, readiness, metrics and shop statistics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from shopmind.api.deps import RequireRead, Shop

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(shop: Shop, response: Response) -> dict[str, Any]:
    """The store answers; 503 otherwise, so a load balancer takes the replica out."""
    try:
        with shop.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means not ready
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": "unavailable", "store": str(exc)}
    return {"status": "ready", "store": shop.store.dialect}


@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/stats", dependencies=[RequireRead])
def stats(shop: Shop) -> dict[str, Any]:
    """Counts of products, users and events, and what is built."""
    return shop.stats()
