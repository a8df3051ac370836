"""Liveness, readiness, metrics and shop statistics."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from shopmind.api.deps import RequireAnalyst, Shop

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)

STATS_HIDDEN = ("home",)  # where the shop lives on disk is nobody's business over HTTP


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(shop: Shop, response: Response) -> dict[str, Any]:
    """The store answers; 503 otherwise, so a load balancer takes the replica out (the reason goes to the log only)."""
    try:
        with shop.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # any driver error means not ready; its text may hold hosts or paths, so it is only logged
        log.exception("readiness check: the store does not answer")
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": "unavailable"}
    return {"status": "ready", "store": shop.store.dialect}


@router.get("/metrics", include_in_schema=False, dependencies=[RequireAnalyst])
def metrics() -> Response:
    """Prometheus metrics (analyst or admin key: they include the runtime's version)."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/stats", dependencies=[RequireAnalyst])
def stats(shop: Shop) -> dict[str, Any]:
    """Counts of products, users and events, and what is built (never the shop's filesystem path)."""
    return {k: v for k, v in shop.stats().items() if k not in STATS_HIDDEN}
