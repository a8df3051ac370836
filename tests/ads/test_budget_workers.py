"""A budget holds across worker processes on PostgreSQL: 4 processes settle 100 concurrent clicks on distinct
served ads of a campaign whose budget covers exactly 10 clicks; every process's serving side then sees the spend."""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from shopmind.store.schema import ad_ledger

from .conftest import hash_encode

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

OPEN = {"min_relevance": -1.0, "pacing": {"enabled": False}, "reserve_cpc": 0.5, "campaign_refresh_s": 0.0}
N_ADS, WORKERS, AFFORDABLE = 100, 4, 10


def _worker(home: str, store: dict, clicks: list[tuple[str, str, str, str]], barrier) -> None:
    """One API worker: its own ShopMind on the shared store, sending its share of the clicks one event at a time."""
    from shopmind.engine import ShopMind

    shop = ShopMind.open(Path(home), store=store, state={"bots": {"enabled": False}})
    try:
        shop._ads = shop.new_ads_service(encode=hash_encode, config=OPEN)
        barrier.wait(timeout=120)
        for eid, token, user, item in clicks:
            shop.events.track_many([{"id": eid, "type": "click", "user_id": user, "item_id": item, "context": {"ad": token}}])
    finally:
        shop.close()


def test_hundred_clicks_on_four_workers_charge_exactly_the_budget(tmp_path, demo_data, postgres_url, campaign):
    from shopmind.engine import ShopMind

    store = {"url": postgres_url}
    home = tmp_path / "shop"
    shop = ShopMind.open(home, store=store)
    try:
        shop.import_file("products", demo_data / "products.jsonl")
        svc = shop.new_ads_service(encode=hash_encode, config=OPEN)
        svc.create_campaign(campaign(products=["m1", "m2", "m3"], bid=1.0, daily_budget=1000.0), "a")
        now = time.time()
        ads = [svc.select("home", user_id=f"u{i}", k=1, now=now).ads[0] for i in range(N_ADS)]
        price = ads[0].price
        assert {a.campaign_id for a in ads} == {"a"} and {a.price for a in ads} == {price} and price > 0
        budget = AFFORDABLE * price  # exactly 10 clicks (the price is a binary fraction: no rounding at the edge)
        svc.update_campaign("a", {"daily_budget": budget})
        clicks = [(f"click-{i}", a.token, f"u{i}", a.item_id) for i, a in enumerate(ads)]
        ctx = mp.get_context("spawn")
        barrier = ctx.Barrier(WORKERS)
        procs = [ctx.Process(target=_worker, args=(str(home), store, clicks[w::WORKERS], barrier)) for w in range(WORKERS)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(timeout=300)
        assert [p.exitcode for p in procs] == [0] * WORKERS
        with shop.store.engine.connect() as conn:
            rows = conn.execute(select(ad_ledger.c.kind, ad_ledger.c.cost).where(ad_ledger.c.kind.in_(["click", "invalid_click"]))).all()
        costs = sorted(c for k, c in rows if k == "click")
        assert len(rows) == N_ADS and len(costs) == N_ADS  # every click recorded once, none refused as a replay
        assert costs.count(price) == AFFORDABLE and costs.count(0.0) == N_ADS - AFFORDABLE  # 10 charged, 90 capped at 0
        assert svc.spend("a") == pytest.approx(budget) and svc.spend("a") <= budget + 1e-9
        # this process charged none of it: its serving side reads what the workers charged, and stops serving "a"
        assert svc.select("home", user_id="late", k=1).ads == []
        assert svc._index is not None and svc._index.spend_day[svc._index.pos["a"]] == pytest.approx(budget)
    finally:
        shop.close()
