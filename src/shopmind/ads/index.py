"""The campaign snapshot the ad server selects from: arrays over serving campaigns and targeting indices.

Rebuilt off the hot path when campaigns change (`AdsService._refresh`), so selection is numpy operations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from shopmind.ads.model import AdsModel
from shopmind.ads.models import BidType, Campaign, CampaignStatus

TARGET_DIMS = ("categories", "keywords", "segments", "locations", "devices")


def context_values(x: Any) -> list[str]:
    """A request context's value(s) for one targeting dimension, lower-cased (None → none)."""
    if x is None:
        return []
    if isinstance(x, (list, tuple, set)):
        return [str(v).strip().lower() for v in x if v is not None]
    return [str(x).strip().lower()]


def query_phrases(query: str | None) -> set[str]:
    """Words and 2-3 word phrases of a query (what keyword targeting matches against)."""
    if not query:
        return set()
    words = query.lower().split()
    out = set(words)
    for n in (2, 3):
        out.update(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    return out


class CampaignIndex:
    """Arrays over the serving campaigns and their (campaign, product) units, plus targeting inverted indices."""

    def __init__(self, campaigns: Sequence[Campaign], model: AdsModel, available: dict[str, bool]) -> None:
        self.campaigns = list(campaigns)
        self.ids = [c.id for c in self.campaigns]
        self.pos = {cid: j for j, cid in enumerate(self.ids)}
        C = len(self.campaigns)
        self.bid = np.array([c.bid for c in self.campaigns], np.float64)
        self.is_cpc = np.array([c.bid_type is BidType.CPC for c in self.campaigns], bool)
        self.daily = np.array([c.daily_budget for c in self.campaigns], np.float64)
        self.total = np.array([c.total_budget or math.inf for c in self.campaigns], np.float64)
        self.cap = np.array([c.frequency_cap or np.iinfo(np.int32).max for c in self.campaigns], np.int64)
        self.capped = any(c.frequency_cap for c in self.campaigns)  # no cap: serving never reads the counts
        self.active = np.array([c.status is CampaignStatus.ACTIVE for c in self.campaigns], bool)
        self.start = np.array([c.schedule.start.timestamp() if c.schedule.start else -math.inf for c in self.campaigns])
        self.end = np.array([c.schedule.end.timestamp() if c.schedule.end else math.inf for c in self.campaigns])
        self.hours = np.ones((C, 24), bool)
        for j, c in enumerate(self.campaigns):
            if c.schedule.hours:
                self.hours[j] = False
                self.hours[j, c.schedule.hours] = True
        self.any: dict[str, np.ndarray] = {}
        self.inverted: dict[str, dict[str, np.ndarray]] = {}
        for dim in TARGET_DIMS:
            self.any[dim] = np.array([not getattr(c.targeting, dim) for c in self.campaigns], bool)
            inv: dict[str, np.ndarray] = {}
            for j, c in enumerate(self.campaigns):
                for v in getattr(c.targeting, dim):
                    inv.setdefault(v, np.zeros(C, bool))[j] = True
            self.inverted[dim] = inv
        unit_camp, unit_item, unit_ok = [], [], []
        for j, c in enumerate(self.campaigns):
            for pid in c.products:
                unit_camp.append(j)
                unit_item.append(model.index.get(pid, -1))
                unit_ok.append(available.get(pid, False) and pid in model.index)
        self.unit_camp = np.array(unit_camp, np.int64)
        self.unit_item = np.array(unit_item, np.int64)
        self.unit_ok = np.array(unit_ok, bool)
        rows = np.where(self.unit_item >= 0, self.unit_item, 0)
        vec_dim = model.vectors.shape[1] if model.vectors.ndim == 2 and len(model.vectors) else 1
        self.unit_vecs = model.vectors[rows] if len(rows) and len(model.vectors) else np.zeros((len(rows), vec_dim), np.float32)
        self.campaign_ctr = model.campaign_ctr(self.ids)
        self.spend_day = np.zeros(C)
        self.spend_total = np.zeros(C)

    def __len__(self) -> int:
        return len(self.ids)

    def targeting_mask(self, values: dict[str, set[str]]) -> np.ndarray:
        """Campaigns whose targeting accepts the request: per dimension 'any' or a value hit, all dimensions."""
        mask = np.ones(len(self.ids), bool)
        for dim in TARGET_DIMS:
            hit = self.any[dim].copy()
            inv = self.inverted[dim]
            for v in values.get(dim, ()):
                m = inv.get(v)
                if m is not None:
                    hit |= m
            mask &= hit
        return mask
