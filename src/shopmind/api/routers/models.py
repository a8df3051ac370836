"""The model registry over HTTP: list versions (analyst or admin: the dashboard's models panel), promote one and roll
back (admin); every switch is audited and reaches every worker within `cluster.follow_interval_s`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, status

from shopmind.api.deps import RequireAdmin, RequireAnalyst, Shop, audit
from shopmind.artifacts import RegistryError, VersionNotFound

router = APIRouter(prefix="/admin/models", tags=["admin"])

Part = Annotated[str, Path(max_length=64, pattern=r"^[a-z][a-z0-9_]*$", description="search | recommend | ads")]
Version = Annotated[str, Path(max_length=64, pattern=r"^[0-9A-Za-z._-]+$", description="a version from GET /admin/models")]
Reason = Annotated[str, Query(max_length=500, description="why (kept in the promotion history)")]


def _who(request: Request) -> str:
    principal = getattr(request.state, "principal", None)
    return principal.key_id if principal is not None else "anonymous"


def _switch(request: Request, action: str, call: Any) -> dict[str, Any]:
    try:
        out: dict[str, Any] = call()
    except VersionNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except RegistryError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    audit(request, f"model.{action}", f"{out['part']}/{out['to']}", **{"from": out["from"]})
    return out


@router.get("", dependencies=[RequireAnalyst])
def list_models(
    shop: Shop,
    part: Annotated[str | None, Query(max_length=64, description="only this part")] = None,
    history: Annotated[int, Query(ge=0, le=500, description="how many promotions and rollbacks, newest first")] = 20,
) -> dict[str, Any]:
    """Per part: the promoted (`current`) version, versions newest first (status, data window, counts, `meta` with the
    offline metrics) and the latest promotions and rollbacks."""
    return shop.models(part, history=history)


@router.get("/drift", dependencies=[RequireAnalyst])
def drift(request: Request, refresh: Annotated[bool, Query(description="recompute now")] = False) -> dict[str, Any]:
    """Drift figures (the dashboard's drift panel; also in /metrics): hourly event volume per type over the last 24 h,
    CTR by placement, this worker's served top-1 scores today against the promoted version's reference (PSI)."""
    out: dict[str, Any] = request.app.state.drift.current(0.0 if refresh else None)
    return out


@router.get("/training", dependencies=[RequireAnalyst])
def training(request: Request) -> dict[str, Any]:
    """Continuous training: settings, whether a build is due now, this worker's last check (see `shopmind train`)."""
    out: dict[str, Any] = request.app.state.trainer.status()
    return out


@router.post("/{part}/{version}/promote", dependencies=[RequireAdmin])
def promote(part: Part, version: Version, shop: Shop, request: Request, reason: Reason = "") -> dict[str, Any]:
    """Serve `version` of `part` on every worker (404: no such version; 409: its files were removed)."""
    return _switch(request, "promote", lambda: shop.promote(part, version, who=_who(request), reason=reason))


@router.post("/{part}/rollback", dependencies=[RequireAdmin])
def rollback(
    part: Part,
    shop: Shop,
    request: Request,
    version: Annotated[str | None, Query(max_length=64, pattern=r"^[0-9A-Za-z._-]+$", description="default: the one served before")] = None,
    reason: Reason = "",
) -> dict[str, Any]:
    """Serve an earlier kept version of `part` again (409 when there is none to go back to)."""
    return _switch(request, "rollback", lambda: shop.rollback(part, version, who=_who(request), reason=reason))
