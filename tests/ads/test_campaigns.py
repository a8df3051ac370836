"""Campaign validation (errors name the field) and CRUD on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shopmind.ads.models import CampaignSpec
from shopmind.ads.store import AdsStore, CampaignNotFound
from shopmind.store import SqlStore


@pytest.mark.parametrize("over, field", [
    ({"bid": 0}, "bid"),
    ({"bid": float("inf")}, "bid"),
    ({"daily_budget": -1}, "daily_budget"),
    ({"products": []}, "products"),
    ({"bid_type": "cpa"}, "bid_type"),
    ({"frequency_cap": 0}, "frequency_cap"),
    ({"schedule": {"hours": [25]}}, "schedule"),
    ({"schedule": {"start": "2024-01-02", "end": "2024-01-01"}}, "schedule"),
    ({"targeting": {"devices": "mobile", "colour": ["red"]}}, "targeting"),
    ({"nope": 1}, "nope"),
])
def test_invalid_campaigns_name_the_field(over, field, campaign):
    with pytest.raises(ValidationError) as err:
        CampaignSpec.model_validate(campaign(**over))
    assert field in {str(e["loc"][0]) for e in err.value.errors()}


def test_total_budget_below_daily_is_rejected(campaign):
    with pytest.raises(ValidationError, match="total_budget must be at least daily_budget"):
        CampaignSpec.model_validate(campaign(total_budget=5.0))


def test_targeting_is_normalised(campaign):
    spec = CampaignSpec.model_validate(campaign(targeting={"devices": "Mobile, desktop", "keywords": ["Red Shoes", "red shoes"]}))
    assert spec.targeting.devices == ["mobile", "desktop"]
    assert spec.targeting.keywords == ["red shoes"]


def test_crud_on_both_stores(store_url, campaign):
    store = SqlStore.open(store_url)
    try:
        ads = AdsStore(store.engine)
        c = ads.create(campaign(schedule={"hours": [9, 10]}, targeting={"categories": ["Action"]}), "c1")
        assert ads.get("c1") == c
        with pytest.raises(ValueError, match="already exists"):
            ads.create(campaign(), "c1")
        ads.create(campaign(advertiser="other"), "c2")
        assert [x.id for x in ads.list()] == ["c1", "c2"]
        assert [x.id for x in ads.list(advertiser="other")] == ["c2"]
        up = ads.update("c1", {"bid": 2.5, "status": "paused"})
        assert (up.bid, up.status.value, up.schedule.hours) == (2.5, "paused", [9, 10])
        assert [x.id for x in ads.list(status="active")] == ["c2"]
        with pytest.raises(ValidationError):
            ads.update("c1", {"total_budget": 1.0})  # below the daily budget: the merged campaign is invalid
        assert ads.get("c1").total_budget is None
        assert ads.delete("c1") and not ads.delete("c1")
        with pytest.raises(CampaignNotFound):
            ads.get("c1")
    finally:
        store.close()


def test_ledger_is_keyed_by_event_id(store_url):
    store = SqlStore.open(store_url)
    try:
        ads = AdsStore(store.engine)
        row = {"event_id": "e1", "kind": "click", "campaign_id": "c1", "user_id": "u1", "item_id": "m1", "placement": "home",
               "ts": 0.0, "day": "1970-01-01", "cost": 0.5, "value": 0.0}
        assert ads.record([row]) == {"e1"}
        assert ads.record([row, {**row, "event_id": "e2"}]) == {"e2"}
        assert ads.spend() == {"c1": 1.0}
    finally:
        store.close()
