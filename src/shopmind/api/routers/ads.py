"""Ads: campaign CRUD (admin), ad selection and campaign reports."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, HTTPException, Path, Query, Request, status

from shopmind.ads.models import AdsResponse, Campaign, CampaignSpec, CampaignUpdate
from shopmind.api.deps import RequireAdmin, RequireAnalyst, RequireStorefront, Shop, audit
from shopmind.api.simulated import SimLabel
from shopmind.errors import CampaignNotFound
from shopmind.experiments.exposures import labelled
from shopmind.security.limits import ID_CHARS, PLACEMENT_CHARS, QUERY_CHARS
from shopmind.security.ratelimit import client_ip, rate_limit

router = APIRouter(tags=["ads"])


def _ads(shop: Any) -> Any:
    """The shop's campaign manager (the facade holds one per process)."""
    return shop.ads_service


@router.post("/campaigns", dependencies=[RequireAdmin], status_code=status.HTTP_201_CREATED)
def create_campaign(shop: Shop, spec: CampaignSpec, request: Request, campaign_id: Annotated[str | None, Query(max_length=ID_CHARS)] = None) -> Campaign:
    """Create a campaign (validated: bids, budgets, schedule, targeting, frequency cap)."""
    try:
        created = _ads(shop).create_campaign(spec, campaign_id)
        audit(request, "campaign.create", created.id)
        return created
    except ValueError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc


@router.get("/campaigns", dependencies=[RequireAdmin])
def list_campaigns(shop: Shop, advertiser: Annotated[str | None, Query(max_length=ID_CHARS)] = None, status_: Annotated[str | None, Query(alias="status")] = None) -> list[Campaign]:
    """Campaigns, optionally of one advertiser or status."""
    return _ads(shop).list_campaigns(advertiser, status_)


@router.get("/campaigns/{campaign_id}", dependencies=[RequireAdmin])
def get_campaign(shop: Shop, campaign_id: Annotated[str, Path(max_length=ID_CHARS)]) -> Campaign:
    try:
        return _ads(shop).get_campaign(campaign_id)
    except CampaignNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no campaign {campaign_id!r}") from exc


@router.patch("/campaigns/{campaign_id}", dependencies=[RequireAdmin])
def update_campaign(shop: Shop, campaign_id: Annotated[str, Path(max_length=ID_CHARS)], changes: CampaignUpdate, request: Request) -> Campaign:
    """Change some fields; the result is validated as a whole campaign."""
    from pydantic import ValidationError

    try:
        updated = _ads(shop).update_campaign(campaign_id, changes)
        audit(request, "campaign.update", campaign_id, fields=sorted(changes.model_dump(exclude_unset=True)))
        return updated
    except CampaignNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no campaign {campaign_id!r}") from exc
    except ValidationError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, orjson.loads(exc.json(include_url=False))) from exc


@router.delete("/campaigns/{campaign_id}", dependencies=[RequireAdmin])
def delete_campaign(shop: Shop, campaign_id: Annotated[str, Path(max_length=ID_CHARS)], request: Request) -> dict[str, Any]:
    """Remove a campaign (audited)."""
    if not _ads(shop).delete_campaign(campaign_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no campaign {campaign_id!r}")
    audit(request, "campaign.delete", campaign_id)
    return {"deleted": campaign_id}


@router.get("/ads", dependencies=[RequireStorefront, rate_limit("ads")])
def select_ads(
    shop: Shop,
    request: Request,
    label: SimLabel,
    placement: Annotated[str, Query(max_length=PLACEMENT_CHARS)],
    user_id: Annotated[str | None, Query(max_length=ID_CHARS)] = None,
    q: Annotated[str | None, Query(max_length=QUERY_CHARS)] = None,
    item_id: Annotated[str | None, Query(max_length=ID_CHARS)] = None,
    k: Annotated[int, Query(ge=1, le=10)] = 2,
    device: Annotated[str | None, Query(max_length=PLACEMENT_CHARS)] = None,
    location: Annotated[str | None, Query(max_length=PLACEMENT_CHARS)] = None,
    segment: Annotated[str | None, Query(max_length=PLACEMENT_CHARS)] = None,
    session_id: Annotated[str | None, Query(max_length=ID_CHARS)] = None,
) -> AdsResponse:
    """Sponsored products for a slot; send each ad's `token` back as context.ad on impression and click events.

    A token is charged once, only for a click by the `user_id` (else `session_id`) it was served to, before
    `expires_at`, while the address it was served to is under its click rate (`ads.max_clicks_per_ip`)."""
    context = {k_: v for k_, v in {"device": device, "location": location, "segment": segment}.items() if v}
    ip = client_ip(request, shop.settings.api.trusted_proxies)  # as the server sees it, not as the client claims
    with labelled(label):  # X-Simulated: the experiment exposure of this request is marked simulated
        return shop.ads(placement, user_id=user_id, query=q, item_id=item_id, k=k, context=context, session_id=session_id, client_ip=ip)


@router.get("/ads/report", dependencies=[RequireAnalyst])
def ads_report(shop: Shop, campaign_id: Annotated[str | None, Query(max_length=ID_CHARS)] = None,
               start: Annotated[str | None, Query(max_length=10)] = None, end: Annotated[str | None, Query(max_length=10)] = None) -> list[dict[str, Any]]:
    """Per campaign and day: impressions, clicks, CTR, spend, CPC, conversions, ROAS (spend synced from events first)."""
    return shop.ads_report(campaign_id, start, end)



@router.get("/ads/pacing", dependencies=[RequireAnalyst])
def ads_pacing(shop: Shop, day: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None) -> dict[str, Any]:
    """Cumulative spend by UTC hour per campaign for one day (default today), with each daily budget."""
    return shop.ads_pacing(day)
