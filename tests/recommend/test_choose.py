"""Serve what you measure: each placement serves the blend validation chose at build, scored exactly as validated.

Real slices only: the demo shop (MovieLens titles and events) through the facade; ML-100k and Amazon Beauty as two
shops where different models win. Beauty has no time: its users' sequences end on one day (`seqrec(align="end")`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from shopmind.engine import ShopMind
from shopmind.recommend.base import Interactions
from shopmind.recommend.blend import Blend
from shopmind.recommend.config import PlacementConfig, RecommendConfig
from shopmind.recommend.datasets import ml100k, seqrec
from shopmind.recommend.service import RecommendService

pytestmark = pytest.mark.integration  # builds whole shops

CANDIDATES = ["popular", "itemknn", "rules", "als", "ease", "sasrec"]
DEMO_EVENTS = 20_000
# Real slices sized for CPU (~4x less than 40,000 demo events, 400 ML and 3,000 Beauty users): every candidate is still
# validated within the tuning budget, and the two shops still disagree on the best model (rules vs popular).
ML_USERS, BEAUTY_USERS = 200, 1000
SETTINGS = {"recommend": {"content_encoder": "none", "rising": False, "select": {"candidates": CANDIDATES}},
            "search": {"stages": {"dense": False}}}


@pytest.fixture(scope="module")
def demo_shop(tmp_path_factory: pytest.TempPathFactory, demo_data: Path):
    """The demo products and the first 20,000 demo events in time (enough validation users for every `choose`
    placement to be chosen), recommend built through the facade once for the module."""
    home = tmp_path_factory.mktemp("choose") / "home"
    shop = ShopMind.open(home, **SETTINGS)
    shop.import_file("products", demo_data / "products.jsonl")
    events = pq.read_table(demo_data / "events.parquet").sort_by("timestamp").slice(0, DEMO_EVENTS)
    pq.write_table(events, home / "events.parquet")
    shop.import_file("events", home / "events.parquet")
    shop.build(["recommend"])
    yield shop
    shop.close()


def _blend(svc: RecommendService, placement: str) -> Blend:
    sources = svc.placements[placement].sources
    return Blend().with_models([svc.models[m] for m in sources], list(sources.values()))


def _histories(shop: ShopMind, svc: RecommendService) -> Interactions:
    """Each user's history straight from the store's event log (not from the built artifact)."""
    return Interactions.from_events(shop.store.scan_events(), item_ids=svc.item_ids, event_weights=svc.config.event_weights)


def test_served_scores_equal_the_chosen_blend(demo_shop: ShopMind) -> None:
    shop = demo_shop
    svc = shop.service("recommend")
    card = svc.meta["card"]["placements"]["home"]
    assert card["mode"] == "chosen" and svc.placements["home"].blend
    assert svc.placements["home"].sources == card["sources"]
    blend, inter = _blend(svc, "home"), _histories(shop, svc)
    bots = set(shop.state.flagged_users())  # their events never train a model
    users = [u for u in range(inter.n_users) if len(inter.sequence(u)) >= 5 and inter.user_ids[u] not in bots][:8]
    assert len(users) == 8
    for u in users:
        hist = inter.sequence(u)
        served = shop.recommend(user_id=inter.user_ids[u], placement="home", k=20).items
        expected = blend.score([hist])[0]
        assert len(served) == 20 and not {i.id for i in served} & {svc.item_ids[j] for j in hist}  # seen items filtered
        np.testing.assert_allclose([i.score for i in served], expected[[svc.index[i.id] for i in served]], rtol=1e-5, atol=1e-6)
    # without diversity the served order is the blend's own top 20 over unseen items
    pc_home = svc.placements["home"]
    svc.placements["home"] = pc_home.model_copy(update={"diversity": 0.0})
    try:
        hist = inter.sequence(users[0])
        s = blend.score([hist])[0].copy()
        s[hist] = -np.inf
        top = [svc.item_ids[j] for j in np.argsort(-s, kind="stable")[:20]]
        assert [i.id for i in shop.recommend(user_id=inter.user_ids[users[0]], placement="home", k=20).items] == top
    finally:
        svc.placements["home"] = pc_home


def test_product_page_serves_its_blend_of_the_item_shown(demo_shop: ShopMind) -> None:
    svc = demo_shop.service("recommend")
    assert svc.placements["product"].blend and svc.placements["product"].view == "item"
    blend = _blend(svc, "product")
    for item in ("m50", "m181", "m1"):
        served = demo_shop.recommend(placement="product", item_id=item, k=10).items
        expected = blend.score([np.array([svc.index[item]])])[0]
        assert served and item not in {i.id for i in served}
        np.testing.assert_allclose([i.score for i in served], expected[[svc.index[i.id] for i in served]], rtol=1e-5, atol=1e-6)


def test_the_card_is_present_and_complete(demo_shop: ShopMind) -> None:
    svc = demo_shop.service("recommend")
    card = svc.meta["card"]
    events = demo_shop.store.scan_events()
    bounds = pc.min_max(events["ts"]).as_py()
    assert card["data"]["first_event_ts"] == bounds["min"] and card["data"]["last_event_ts"] == bounds["max"]
    assert card["data"]["events"] == events.num_rows and card["data"]["items"] == len(svc.item_ids)
    assert card["split"]["validation_users"] >= 20 and card["split"]["cut_ts"] < bounds["max"]
    assert set(card["candidates"]) == set(CANDIDATES)
    for name, entry in card["candidates"].items():
        assert ("val_ndcg@10" in entry and "params" in entry) or entry["skipped"], name
    assert card["candidates"]["sasrec"]["skipped"].startswith(("budget", "torch not installed"))
    for name in ("home", "product", "cart"):
        c = card["placements"][name]
        assert c["mode"] == "chosen" and c["why"] and c["runner_up"] and isinstance(c["margin"], float)
        best = max(c["val_by_model"].values())
        assert c["val_ndcg@10"] >= best - 1e-5 and c["val_ndcg@10"] - c["margin"] <= best + 1e-4
        assert set(c["sources"]) <= {n for n, e in card["candidates"].items() if "params" in e}
    for name in ("search", "new", "substitute", "promotion"):
        assert card["placements"][name]["mode"] == "configured" and "by hand" in card["placements"][name]["why"]
    row = demo_shop.models("recommend")["recommend"]["versions"][0]  # what GET /admin/models returns
    assert row["meta"]["card"] == card and row["config_hash"] == card["config_hash"]


def test_a_placement_configured_by_hand_is_served_as_configured(shared_data: Path, tmp_path: Path) -> None:
    products, events = ml100k(shared_data / "ml-100k", max_users=200)
    cfg = RecommendConfig(models=["popular", "trending", "itemknn", "rules"], content_encoder="none", rising=False,
                          placements={"home": PlacementConfig(sources={"itemknn": 1.0, "trending": 0.2}),
                                      "cart": PlacementConfig(sources={"rules": 1.0}, choose=True, view="basket")},
                          select={"candidates": ["popular", "itemknn", "rules"]})
    svc = RecommendService.build(products, events, tmp_path, cfg)
    card = svc.meta["card"]["placements"]
    assert card["home"]["mode"] == "configured" and "by hand" in card["home"]["why"]
    assert not svc.placements["home"].blend and svc.placements["home"].sources == {"itemknn": 1.0, "trending": 0.2}
    assert card["cart"]["mode"] == "chosen" and svc.placements["cart"].blend
    back = RecommendService.load(tmp_path)  # the choice is part of the version
    assert back.placements["cart"].sources == svc.placements["cart"].sources and not back.placements["home"].blend


def test_the_choice_follows_the_data(shared_data: Path, tmp_path: Path) -> None:
    """Two real shops, one procedure: what wins on MovieLens is not what wins on Amazon Beauty."""
    cfg = RecommendConfig(models=["popular", "itemknn"], content_encoder="none", rising=False,
                          select={"candidates": ["popular", "itemknn", "rules", "als"]})
    chosen = {}
    for name, (products, events) in {"ml": ml100k(shared_data / "ml-100k", max_users=ML_USERS),
                                     "beauty": seqrec(shared_data / "seqrec" / "Beauty.txt", align="end", max_users=BEAUTY_USERS)}.items():
        svc = RecommendService.build(products, events, tmp_path / name, cfg)
        home = svc.meta["card"]["placements"]["home"]
        assert home["mode"] == "chosen"
        assert set(home["val_by_model"]) >= {"popular", "itemknn"}, home  # at least these were validated
        chosen[name] = (home["chosen"], max(home["val_by_model"], key=home["val_by_model"].get))
    assert chosen["ml"][1] != chosen["beauty"][1], chosen  # the best single model differs
    assert chosen["ml"][0] != chosen["beauty"][0], chosen
