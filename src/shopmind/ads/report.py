"""Campaign reports from the ledger: impressions, clicks, CTR, spend, CPC, conversions, value and ROAS per day."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from shopmind.ads.store import AdsStore


class CampaignDay(BaseModel):
    """One campaign on one UTC day (or `day="total"` for the whole range)."""

    campaign_id: str
    day: str
    impressions: int
    clicks: int
    ctr: float | None
    spend: float
    cpc: float | None
    conversions: int
    conversion_value: float
    roas: float | None
    invalid_clicks: int = 0  # clicks refused (forged, replayed, expired, bots, over an address's rate): never charged


def _row(campaign_id: str, day: str, agg: dict[str, Any]) -> CampaignDay:
    imp, clk, conv = agg.get("impression", 0), agg.get("click", 0), agg.get("conversion", 0)
    spend, value = round(agg.get("cost", 0.0), 6), round(agg.get("value", 0.0), 6)
    return CampaignDay(campaign_id=campaign_id, day=day, impressions=imp, clicks=clk, ctr=round(clk / imp, 6) if imp else None,
                       spend=spend, cpc=round(spend / clk, 6) if clk else None, conversions=conv, conversion_value=value,
                       roas=round(value / spend, 4) if spend > 0 else None, invalid_clicks=agg.get("invalid_click", 0))


def campaign_report(store: AdsStore, campaign_id: str | None = None, start: str | None = None, end: str | None = None,
                    totals: bool = True) -> list[dict[str, Any]]:
    """Rows per (campaign, day), then one `day="total"` row per campaign; days are YYYY-MM-DD (UTC)."""
    days: dict[tuple[str, str], dict[str, Any]] = {}
    for r in store.daily(campaign_id, start, end):
        agg = days.setdefault((r["campaign_id"], r["day"]), {})
        agg[r["kind"]] = agg.get(r["kind"], 0) + r["n"]
        agg["cost"] = agg.get("cost", 0.0) + r["cost"]
        agg["value"] = agg.get("value", 0.0) + r["value"]
    out = [_row(cid, day, agg).model_dump() for (cid, day), agg in sorted(days.items())]
    if totals:
        per: dict[str, dict[str, Any]] = {}
        for (cid, _), agg in days.items():
            t = per.setdefault(cid, {})
            for key, v in agg.items():
                t[key] = t.get(key, 0) + v
        out += [_row(cid, "total", agg).model_dump() for cid, agg in sorted(per.items())]
    return out
