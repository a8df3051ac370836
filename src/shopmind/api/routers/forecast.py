"""Demand forecasting: sales history in (ingest keys), forecasts, rising lists, stock-out alerts and what-if (analysts)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from shopmind.api.deps import RequireAnalyst, RequireIngest, Shop, audit
from shopmind.domain import Sales
from shopmind.errors import ForecastPending, SalesDataError
from shopmind.forecast.data import MAX_HORIZON
from shopmind.security.limits import ID_CHARS

router = APIRouter(tags=["forecast"])
LEVEL = "^(item|category|brand|query)$"
MAX_SALES_ROWS = 5000


class WhatIf(BaseModel):
    """A price scenario for one item (or store/item) with sales history."""

    key: str = Field(min_length=1, max_length=ID_CHARS * 2 + 1)
    price: float = Field(gt=0, allow_inf_nan=False)
    promotion: bool = False
    feature: bool = False


def _run(call: Any) -> Any:
    """Map forecasting errors to HTTP: bad or missing history → 422 naming the field, unknown series → 404,
    a first forecast still being fitted in the background → 202 with Retry-After (requests never wait on a fit)."""
    try:
        return call()
    except ForecastPending as exc:
        return JSONResponse({"status": "computing", "detail": str(exc)}, status_code=status.HTTP_202_ACCEPTED, headers={"Retry-After": "30"})
    except SalesDataError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    except KeyError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc.args[0] if exc.args else exc)) from exc


@router.post("/sales", dependencies=[RequireIngest])
def post_sales(shop: Shop, request: Request, rows: Annotated[list[Sales], Body(max_length=MAX_SALES_ROWS)]) -> dict[str, Any]:
    """Store sales rows (one per store, item and period; a replayed row replaces the stored one)."""
    written = shop.store.upsert_sales(rows)
    audit(request, "sales.upsert", "", rows=written)
    return {"stored": written}


@router.get("/forecast/series/{key:path}", dependencies=[RequireAnalyst])
def forecast_series(shop: Shop, key: Annotated[str, Path(max_length=ID_CHARS * 2 + 1)],
                    level: Annotated[str, Query(pattern=LEVEL)] = "item", horizon: Annotated[int, Query(ge=1, le=MAX_HORIZON)] = 4) -> Any:
    """History and forecast (with conformal intervals) of one item, category, brand or query."""
    return _run(lambda: shop.forecast_service.series(key, level=level, horizon=horizon, wait=False))


@router.get("/forecast/rising", dependencies=[RequireAnalyst])
def forecast_rising(shop: Shop, level: Annotated[str, Query(pattern=LEVEL)] = "item", k: Annotated[int, Query(ge=1, le=200)] = 20,
                    horizon: Annotated[int, Query(ge=1, le=MAX_HORIZON)] = 2) -> Any:
    """Items, categories, brands or queries whose forecast grows faster than their history."""
    return _run(lambda: shop.forecast_service.rising(level, horizon=horizon, k=k, wait=False))


@router.get("/forecast/stockouts", dependencies=[RequireAnalyst])
def forecast_stockouts(shop: Shop, horizon: Annotated[int, Query(ge=1, le=MAX_HORIZON)] = 4) -> Any:
    """Items whose forecast demand reaches their stock within the horizon, with in-stock substitutes."""
    return _run(lambda: shop.forecast_service.stockouts(horizon, wait=False))


@router.get("/forecast/report", dependencies=[RequireAnalyst])
def forecast_report(shop: Shop, horizon: Annotated[int, Query(ge=1, le=MAX_HORIZON)] = 4) -> Any:
    """Everything `shopmind report forecast` prints: category forecasts, rising lists, stock-out alerts."""
    return _run(lambda: shop.forecast_service.report(horizon=horizon, wait=False))


@router.get("/forecast/elasticity/{key:path}", dependencies=[RequireAnalyst])
def forecast_elasticity(shop: Shop, key: Annotated[str, Path(max_length=ID_CHARS * 2 + 1)]) -> dict[str, Any]:
    """Price elasticity, promotion and feature-ad lift of an item, estimated from its sales history."""
    return _run(lambda: shop.forecast_service.elasticity(key))


@router.post("/forecast/whatif", dependencies=[RequireAnalyst])
def forecast_whatif(shop: Shop, scenario: WhatIf) -> dict[str, Any]:
    """Expected units and revenue of an item at a price, with or without promotion and feature ad."""
    return _run(lambda: shop.forecast_service.whatif(scenario.key, scenario.price, scenario.promotion, scenario.feature))
