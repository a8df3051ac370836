"""Validated ads records: campaigns (bid, budget, schedule, targeting, frequency cap) and ad responses.

A bad campaign is rejected at the door with the field that is wrong (pydantic error locations), so the
auction never has to second-guess a record it reads back from the store.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, field_validator, model_validator

from shopmind.domain import _check_id, parse_time


class BidType(StrEnum):
    CPC = "cpc"  # pay per click
    CPM = "cpm"  # pay per thousand impressions


class CampaignStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _clean_list(v: Any, field: str) -> list[str]:
    if v is None or v == "":
        return []
    if isinstance(v, str):
        v = v.split(",")
    if not isinstance(v, (list, tuple, set)):
        raise ValueError(f"{field} must be a list of strings")
    out = []
    for x in v:
        if not isinstance(x, (str, int)) or isinstance(x, bool):
            raise ValueError(f"{field} entries must be strings")
        s = str(x).strip()
        if s and s.lower() not in out:
            out.append(s.lower())
    return out


class Targeting(_Model):
    """Who and where an ad may show; an empty list means 'anyone'. Matching is case-insensitive."""

    categories: list[str] = Field(default_factory=list, description="category names of the page, query or user interest")
    keywords: list[str] = Field(default_factory=list, description="words or phrases the query must contain (any)")
    segments: list[str] = Field(default_factory=list, description="user segments (context.segment or user attribute 'segment')")
    locations: list[str] = Field(default_factory=list, description="context.location values")
    devices: list[str] = Field(default_factory=list, description="context.device values (mobile, desktop, app…)")

    @field_validator("categories", "keywords", "segments", "locations", "devices", mode="before")
    @classmethod
    def _lists(cls, v: Any, info: Any) -> list[str]:
        return _clean_list(v, info.field_name)


class Schedule(_Model):
    """When a campaign may serve: an optional [start, end) window and optional UTC hours of the day."""

    start: datetime | None = None
    end: datetime | None = None
    hours: list[int] = Field(default_factory=list, description="UTC hours 0-23 when the ad may show; empty = all day")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _time(cls, v: Any) -> datetime | None:
        return None if v in (None, "") else parse_time(v)

    @field_validator("hours")
    @classmethod
    def _hours(cls, v: list[int]) -> list[int]:
        bad = [h for h in v if not 0 <= h <= 23]
        if bad:
            raise ValueError(f"hours must be within 0-23, got {bad}")
        return sorted(set(v))

    @model_validator(mode="after")
    def _order(self) -> Schedule:
        if self.start and self.end and self.end <= self.start:
            raise ValueError("end must be after start")
        return self

    def active_at(self, ts: float) -> bool:
        """True if the schedule allows serving at epoch second `ts`."""
        if self.start and ts < self.start.timestamp():
            return False
        if self.end and ts >= self.end.timestamp():
            return False
        return not self.hours or int(ts % 86400 // 3600) in self.hours


class CampaignSpec(_Model):
    """What an advertiser submits: a campaign without server-assigned fields."""

    advertiser: str = Field(min_length=1, max_length=200)
    name: str = Field(default="", max_length=500)
    products: list[str] = Field(min_length=1, max_length=10_000, description="promoted product ids")
    bid_type: BidType = BidType.CPC
    bid: float = Field(gt=0, description="per click (cpc) or per thousand impressions (cpm), in shop currency")
    daily_budget: float = Field(gt=0)
    total_budget: float | None = Field(default=None, gt=0)
    schedule: Schedule = Field(default_factory=Schedule)
    targeting: Targeting = Field(default_factory=Targeting)
    frequency_cap: int | None = Field(default=None, ge=1, le=10_000, description="max impressions per user per day")
    status: CampaignStatus = CampaignStatus.ACTIVE

    @field_validator("products", mode="before")
    @classmethod
    def _products(cls, v: Any) -> list[str]:
        if isinstance(v, str):
            v = v.split(",")
        if not isinstance(v, (list, tuple)):
            raise ValueError("products must be a list of product ids")
        out: list[str] = []
        for i, x in enumerate(v):
            pid = _check_id(x, f"products[{i}]")
            if pid not in out:
                out.append(pid)
        return out

    @field_validator("bid", "daily_budget", "total_budget")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError("must be a finite number")
        return v

    @model_validator(mode="after")
    def _budgets(self) -> CampaignSpec:
        if self.total_budget is not None and self.total_budget < self.daily_budget:
            raise ValueError("total_budget must be at least daily_budget")
        return self


class Campaign(CampaignSpec):
    """A stored campaign: the spec plus its id and timestamps."""

    id: str
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, v: Any) -> str:
        return _check_id(v, "id")


class CampaignUpdate(_Model):
    """A partial update: only the fields given change; the result is validated as a whole campaign."""

    advertiser: str | None = None
    name: str | None = None
    products: list[str] | None = None
    bid_type: BidType | None = None
    bid: float | None = None
    daily_budget: float | None = None
    total_budget: float | None = None
    schedule: Schedule | None = None
    targeting: Targeting | None = None
    frequency_cap: int | None = None
    status: CampaignStatus | None = None


class AdSlot(BaseModel):
    """One won ad: what to show, what it will cost when charged, and why it won."""

    campaign_id: str
    advertiser: str
    item_id: str
    position: int
    bid_type: BidType
    bid: float
    price: float = Field(description="GSP price: per click (cpc) or per thousand impressions (cpm)")
    pctr: float
    ecpm: float
    relevance: float
    token: str = Field(description="send back as context.ad on the impression and click events")
    expires_at: float | None = Field(default=None, description="epoch seconds after which the token is no longer charged")
    sponsored: bool = True
    reason: str


class AdsResponse(BaseModel):
    """Ads for one slot request, best first, with the candidate funnel for debugging."""

    placement: str
    ads: list[SerializeAsAny[AdSlot]]  # explored answers carry ads.explore.ExploredAd (propensity, pacing_p)
    candidates: int
    eligible: int
    took_ms: float
    experiment: dict[str, Any] | None = Field(default=None, description="{id, variant} of the experiment this answer was served in")


class BlendedItem(BaseModel):
    """An entry of a results list after ads are blended in at fixed slots."""

    item_id: str
    position: int
    sponsored: bool
    ad: AdSlot | None = None
    organic: Any = None
