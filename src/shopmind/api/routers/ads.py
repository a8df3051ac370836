"""Ads: campaign CRUD (admin), ad selection and campaign reports."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, HTTPException, Query, status

from shopmind.ads.models import AdsResponse, Campaign, CampaignSpec, CampaignUpdate
from shopmind.ads.service import AdsService
from shopmind.ads.store import CampaignNotFound
from shopmind.api.deps import RequireAdmin, RequireRead, Shop

router = APIRouter(tags=["ads"])


def _ads(shop: Any) -> AdsService:
    return shop.ads_service


@router.post("/campaigns", dependencies=[RequireAdmin], status_code=status.HTTP_201_CREATED)
def create_campaign(shop: Shop, spec: CampaignSpec, campaign_id: Annotated[str | None, Query(max_length=200)] = None) -> Campaign:
    """Create a campaign (validated: bids, budgets, schedule, targeting, frequency cap)."""
    try:
        return _ads(shop).create_campaign(spec, campaign_id)
    except ValueError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc


@router.get("/campaigns", dependencies=[RequireAdmin])
def list_campaigns(shop: Shop, advertiser: str | None = None, status_: Annotated[str | None, Query(alias="status")] = None) -> list[Campaign]:
    """Campaigns, optionally of one advertiser or status."""
    return _ads(shop).list_campaigns(advertiser, status_)


@router.get("/campaigns/{campaign_id}", dependencies=[RequireAdmin])
def get_campaign(shop: Shop, campaign_id: str) -> Campaign:
    try:
        return _ads(shop).get_campaign(campaign_id)
    except CampaignNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no campaign {campaign_id!r}") from exc


@router.patch("/campaigns/{campaign_id}", dependencies=[RequireAdmin])
def update_campaign(shop: Shop, campaign_id: str, changes: CampaignUpdate) -> Campaign:
    """Change some fields; the result is validated as a whole campaign."""
    from pydantic import ValidationError

    try:
        return _ads(shop).update_campaign(campaign_id, changes)
    except CampaignNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no campaign {campaign_id!r}") from exc
    except ValidationError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, orjson.loads(exc.json(include_url=False))) from exc


@router.delete("/campaigns/{campaign_id}", dependencies=[RequireAdmin])
def delete_campaign(shop: Shop, campaign_id: str) -> dict[str, Any]:
    if not _ads(shop).delete_campaign(campaign_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no campaign {campaign_id!r}")
    return {"deleted": campaign_id}


@router.get("/ads", dependencies=[RequireRead])
def select_ads(
    shop: Shop,
    placement: Annotated[str, Query(max_length=64)],
    user_id: str | None = None,
    q: Annotated[str | None, Query(max_length=500)] = None,
    item_id: str | None = None,
    k: Annotated[int, Query(ge=1, le=10)] = 2,
    device: str | None = None,
    location: str | None = None,
    segment: str | None = None,
) -> AdsResponse:
    """Sponsored products for a slot; send each ad's `token` back as context.ad on impression and click events."""
    context = {k_: v for k_, v in {"device": device, "location": location, "segment": segment}.items() if v}
    return _ads(shop).select(placement, user_id=user_id, query=q, item_id=item_id, k=k, context=context)


@router.get("/ads/report", dependencies=[RequireAdmin])
def ads_report(shop: Shop, campaign_id: str | None = None, start: str | None = None, end: str | None = None) -> list[dict[str, Any]]:
    """Per campaign and day: impressions, clicks, CTR, spend, CPC, conversions, ROAS (spend synced from events first)."""
    svc = _ads(shop)
    svc.catch_up(shop.store)
    return svc.report(campaign_id, start, end)



@router.get("/ads/pacing", dependencies=[RequireAdmin])
def ads_pacing(shop: Shop, day: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None) -> dict[str, Any]:
    """Cumulative spend by UTC hour per campaign for one day (default today), with each daily budget."""
    import time as _time

    svc = _ads(shop)
    svc.catch_up(shop.store)
    day = day or _time.strftime("%Y-%m-%d", _time.gmtime())
    budgets = {c.id: c.daily_budget for c in svc.list_campaigns()}
    return {"day": day, "curves": svc.store.pacing_curve(day), "daily_budgets": budgets}
