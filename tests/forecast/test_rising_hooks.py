"""The rising signal where it changes things: recommendations and search on the demo shop, with an injected surge."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from shopmind.domain import Product
from shopmind.forecast.boosts import rising_scores_from_events, rising_table

pytestmark = pytest.mark.integration  # builds search and recommendations with forecasts

WEEK = 7 * 86400.0
SURGED = "m300"  # "Air Force One": an ordinary film of the demo shop, not rising on its own
SURGE = [20, 45, 80]  # extra favourites in the log's last three weeks


def _store_layout(t: pa.Table) -> pa.Table:
    """Demo events in the store's scan_events layout."""
    n = t.num_rows
    return pa.table({"id": t["id"], "type": t["type"], "user_id": t["user_id"], "session_id": t["session_id"],
                     "item_id": t["item_id"], "query": pa.nulls(n, pa.string()), "ts": t["timestamp"].cast(pa.float64()),
                     "quantity": pa.array(np.ones(n, np.int32)), "price": pa.nulls(n, pa.float64()),
                     "context": pa.array(["{}"] * n)})


def _surge(events: pa.Table, item: str, per_week: list[int]) -> pa.Table:
    """Extra favourites of `item` by new shoppers in the last len(per_week) weeks of the log (as test_signals does)."""
    ts = events["ts"].to_numpy()
    start = np.floor(ts.min() / WEEK) * WEEK
    last_week = start + np.floor((ts.max() - start) / WEEK) * WEEK
    rows = [last_week - (len(per_week) - 1 - k) * WEEK + 3600.0 * (j + 1) for k, n in enumerate(per_week) for j in range(n)]
    rows = [min(r, ts.max()) for r in rows]
    n = len(rows)
    extra = pa.table({"id": [f"surge-{j}" for j in range(n)], "type": ["favorite"] * n, "user_id": [f"surge-u{j}" for j in range(n)],
                      "session_id": [f"surge-s{j}" for j in range(n)], "item_id": [item] * n, "query": pa.nulls(n, pa.string()),
                      "ts": pa.array(rows, pa.float64()), "quantity": pa.array(np.ones(n, np.int32)),
                      "price": pa.nulls(n, pa.float64()), "context": pa.array(["{}"] * n)})
    return pa.concat_tables([events, extra.cast(events.schema)]).sort_by("ts")


@pytest.fixture(scope="module")
def demo_products(demo_data: Path) -> list[Product]:
    with open(demo_data / "products.jsonl", encoding="utf-8") as f:
        return [Product(**json.loads(line)) for line in f]


@pytest.fixture(scope="module")
def plain_events(demo_data: Path) -> pa.Table:
    return _store_layout(pq.read_table(demo_data / "events.parquet")).sort_by("ts")


@pytest.fixture(scope="module")
def surged_events(plain_events: pa.Table) -> pa.Table:
    return _surge(plain_events, SURGED, SURGE)


def test_rising_scores_are_neutral_without_history_or_surge(plain_events, surged_events):
    assert SURGED not in rising_scores_from_events(plain_events)
    surged = rising_scores_from_events(surged_events)
    assert max(surged, key=surged.get) == SURGED and surged[SURGED] >= 1.0
    ts = plain_events["ts"].to_numpy()
    five_weeks = surged_events.filter(pc.less(surged_events["ts"], ts.min() + 5 * WEEK))
    assert rising_scores_from_events(five_weeks) == {}  # too little history: nothing is called rising
    assert rising_scores_from_events(None) == {}


def test_recommendations_show_a_rising_item_with_its_reason(tmp_path, demo_products, plain_events, surged_events):
    from shopmind.recommend.service import RecommendConfig, RecommendService

    config = RecommendConfig(models=["popular", "trending", "itemknn"], content_encoder="none", evaluate=False)
    plain = RecommendService.build(demo_products, plain_events, tmp_path / "plain", config)
    surged = RecommendService.build(demo_products, surged_events, tmp_path / "surged", config)
    assert "home" in config.placements and config.placements["home"].sources["rising"] > 0
    assert not plain.rising[plain.index[SURGED]]
    assert surged.rising[surged.index[SURGED]] == surged.rising.max() > 0
    reloaded = RecommendService.load(tmp_path / "surged")  # the table is a build artifact: no fit on the request path
    np.testing.assert_array_equal(reloaded.rising, surged.rising)

    top = reloaded.recommend(placement="home", k=10).items  # a new visitor: rising leads, popular fills in
    assert top[0].id == SURGED and top[0].reason == "demand rising" and top[0].reason_code == "demand_rising"
    assert "forecast" in reloaded.recommend(placement="home", k=10).models
    before = list(plain.recommend(placement="home", k=10).items)
    assert all(i.reason_code != "demand_rising" for i in before)

    user = next(u for u in reloaded.user_ids() if not u.startswith("surge"))
    mine = reloaded.recommend(user_id=user, placement="home", k=20).items  # personal sources still lead
    assert mine[0].reason_code == "because_you_viewed"

    off = RecommendConfig(models=["popular", "trending", "itemknn"], content_encoder="none", evaluate=False, rising=False)
    svc = RecommendService.build(demo_products, surged_events, tmp_path / "off", off)
    assert not svc.rising.any() and svc.recommend(placement="home", k=10).items[0].reason_code != "demand_rising"


def test_search_rising_features_and_tie_break(tmp_path, demo_products, plain_events, surged_events):
    from shopmind.search.config import SearchConfig, StageSwitches
    from shopmind.search.ranker import FEATURES
    from shopmind.search.service import SearchService

    config = SearchConfig(stages=StageSwitches(dense=False))
    plain = SearchService.build(demo_products, plain_events, tmp_path / "plain", config)
    surged = SearchService.build(demo_products, surged_events, tmp_path / "surged", config)
    query = "action thriller"  # matches Air Force One's genres, and dozens of other films tied with it
    X, _, r, _, order = surged.candidates_for_training(query, {}, mode="bm25")
    ids = [surged.table.ids[int(x)] for x in r.cand[order]]
    col = X[:, FEATURES.index("rising_item")]
    assert SURGED in ids and col[ids.index(SURGED)] >= 1.0 and len(np.unique(col)) > 1  # non-constant on the surged build
    Xp, *_ = plain.candidates_for_training(query, {}, mode="bm25")
    assert not Xp[:, FEATURES.index("rising_item")].any()

    def rank(svc: SearchService) -> int:
        hits = svc.search(query, mode="bm25", per_page=50).hits
        return [h.id for h in hits].index(SURGED)

    assert rank(SearchService.load(tmp_path / "surged")) < rank(plain)  # the surged film moves up (saved and reloaded)
    hit = next(h for h in surged.search(query, mode="bm25", per_page=50).hits if h.id == SURGED)
    assert hit.why.boosts.get("rising", 0) > 0
    no_boost = SearchService.load(tmp_path / "surged", config.model_copy(update={"rising_boost": 0.0}))
    assert rank(no_boost) == rank(plain)  # the learned-ranker-free order is the tie-breaker alone


def test_no_events_means_zero_features(demo_products):
    table = rising_table(demo_products, None)
    assert table.shape == (len(demo_products), 2) and not table.any()
