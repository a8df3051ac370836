"""Sponsored products: campaigns, targeting, pCTR × bid auctions with GSP prices, budgets, pacing and reports.

Entry points for the facade: `AdsService.open(...)` (the engine wires one per open shop: `ShopMind.ads_service`),
`AdsModel` (the built artifact, a facade Part), `blend` and `campaign_report`.
"""

from shopmind.ads.blend import blend
from shopmind.ads.model import AdsConfig, AdsModel
from shopmind.ads.models import (
           AdSlot,
           AdsResponse,
           BlendedItem,
           Campaign,
           CampaignSpec,
           CampaignUpdate,
)
from shopmind.ads.report import campaign_report
from shopmind.ads.service import AdsService

__all__ = ["AdSlot", "AdsConfig", "AdsModel", "AdsResponse", "AdsService", "BlendedItem", "Campaign", "CampaignSpec",
           "CampaignUpdate", "blend", "campaign_report"]
