"""Exploration share in recommendations (real ML-100k shop): stated probability, propensities, logs, ε = 0 unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats
from typer.testing import CliRunner

from shopmind.cli.main import app
from shopmind.domain import Event
from shopmind.engine import ShopMind
from shopmind.experiments.ope_log import bandit_from_events, evaluate_placement
from shopmind.recommend import explore
from shopmind.recommend.config import BusinessRules, PlacementConfig, RecommendConfig
from shopmind.recommend.datasets import ml100k
from shopmind.recommend.service import RecommendService

EPS = 0.3
K = 10


@pytest.fixture(scope="module")
def shop(shared_data: Path, tmp_path_factory: pytest.TempPathFactory):
    products, events = ml100k(shared_data / "ml-100k", max_users=150)
    placements = {"plain": PlacementConfig(sources={"itemknn": 1.0, "popular": 0.2}),
                  "explored": PlacementConfig(sources={"itemknn": 1.0, "popular": 0.2}, epsilon=EPS)}
    cfg = RecommendConfig(models=["popular", "itemknn"], content_encoder="none", evaluate=False, rising=False, placements=placements,
                          rules=BusinessRules(pin={"explored": ["181"], "plain": ["181"]}))
    svc = RecommendService.build(products, events, tmp_path_factory.mktemp("explore"), cfg)
    users = list(dict.fromkeys(events["user_id"].to_pylist()))
    return svc, users


def test_epsilon_zero_is_byte_identical(shop) -> None:
    svc, users = shop
    state = explore._rng.bit_generator.state
    for user in users[:20]:
        plain = svc.recommend(user_id=user, placement="plain", k=K)
        again = explore.explore_slots(plain, np.ones(svc.n_items, bool), svc.item_ids, 0.0)
        assert again is plain  # ε = 0: the very same response object, no draw made
        body = json.loads(plain.model_dump_json())
        assert all(set(it) == {"id", "score", "reason", "reason_code", "source_item"} for it in body["items"])
    assert explore._rng.bit_generator.state == state
    # the explored placement serves the same ranked list when no slot is explored
    explore.seed(0)
    r = svc.recommend(user_id=users[0], placement="explored", k=K)
    p = svc.recommend(user_id=users[0], placement="plain", k=K)
    for a, b in zip(r.items, p.items, strict=True):
        if a.policy != "explore":  # type: ignore[attr-defined]
            assert a.model_dump(include={"id", "score", "reason", "reason_code", "source_item"}) == b.model_dump()


def test_exploration_share_and_propensities(shop) -> None:
    svc, users = shop
    explore.seed(1234)
    explored = slots = pins = 0
    for user in users * 2:
        greedy = {it.id: j for j, it in enumerate(svc.recommend(user_id=user, placement="plain", k=K).items)}
        r = svc.recommend(user_id=user, placement="explored", k=K)
        body = json.loads(r.model_dump_json())["items"]
        for j, it in enumerate(body):
            if it["reason_code"] == "pinned":  # merchandising pins are never explored
                assert it["policy"] == "pinned" and it["propensity"] == 1.0 and greedy[it["id"]] == j
                pins += 1
                continue
            slots += 1
            if it["policy"] == "explore":
                explored += 1
                assert it["id"] not in greedy and it["reason_code"] == "explore"
                assert it["propensity"] == pytest.approx(EPS / it["pool"])
                assert it["pool"] > len(greedy)  # the draw's pool: every eligible item outside the ranked list
            else:
                assert it["policy"] == "greedy" and greedy[it["id"]] == j and it["propensity"] == pytest.approx(1 - EPS)
    assert pins > 0 and stats.binomtest(explored, slots, EPS).pvalue > 1e-3, (explored, slots, pins)


def test_draws_are_uniform_over_the_pool(shop) -> None:
    svc, users = shop
    explore.seed(7)
    counts: dict[str, int] = {}
    pool = 0
    for _ in range(1500):
        for it in svc.recommend(user_id=users[3], placement="explored", k=K).items:
            if it.policy == "explore":  # type: ignore[attr-defined]
                counts[it.id] = counts.get(it.id, 0) + 1
                pool = it.pool  # type: ignore[attr-defined]
    observed = np.zeros(pool)
    observed[: len(counts)] = list(counts.values())
    assert stats.chisquare(observed).pvalue > 1e-4  # every pool item equally likely: the stated ε / |P| holds


def test_logged_propensities_round_trip_to_ope(shop, tmp_path: Path) -> None:
    svc, users = shop
    explore.seed(99)
    rng = np.random.default_rng(5)
    rows, served, n_pinned, tracked = [], [], 0, []
    ts = 1.7e9
    for user in users:
        r = svc.recommend(user_id=user, placement="explored", k=K)
        for pos, it in enumerate(r.items):
            ctx = {"placement": "explored", "position": pos, "propensity": it.propensity, "policy": it.policy,  # type: ignore[attr-defined]
                   "pool": it.pool, "simulated": "1"}  # type: ignore[attr-defined]
            ev = Event(type="impression", user_id=user, item_id=it.id, timestamp=ts, context=ctx)  # the event model keeps them
            rows.append(("impression", user, it.id, ts, ev.context.model_dump_json()))  # type: ignore[union-attr]
            tracked.append(ev)
            served.append(it.propensity)  # type: ignore[attr-defined]
            n_pinned += it.policy == "pinned"  # type: ignore[attr-defined]
            if rng.random() < 0.1 / (1 + pos):  # simulated clicks, position-based, labelled simulated
                rows.append(("click", user, it.id, ts + 5, json.dumps({"simulated": "1"})))
                tracked.append(Event(type="click", user_id=user, item_id=it.id, timestamp=ts + 5, context={"simulated": "1"}))
            ts += 1
    table = pa.table({k: list(v) for k, v in zip(("type", "user_id", "item_id", "ts", "context"), zip(*rows, strict=True), strict=True)})
    data, pinned, info = bandit_from_events(table, "explored")
    assert info["impressions"] == len(served) and info["simulated"] == len(served)
    assert pinned.sum() == n_pinned > 0 and info["epsilon_logged"] == pytest.approx(EPS)
    expected = np.where(data.actions == 1, EPS, np.where(pinned, 1.0, 1 - EPS))
    assert np.allclose(data.pscore, expected)
    assert data.rewards.sum() == sum(1 for r in rows if r[0] == "click")
    out = evaluate_placement(table, "explored", epsilons=(EPS, 0.0))
    for est in out[f"epsilon={EPS:g}"].values():  # the served policy itself: weights 1, the on-policy CTR
        assert est["value"] == pytest.approx(out["served_ctr"], rel=0.05, abs=1e-9)
    # the same log through a shop's store and `shopmind eval ope`
    with ShopMind.open(tmp_path / "shop") as store_shop:
        store_shop.events.track_many(tracked)
    res = CliRunner().invoke(app, ["eval", "ope", "--placement", "explored", "--epsilon", str(EPS), "--epsilon", "0",
                                   "--home", str(tmp_path / "shop"), "--json"])
    assert res.exit_code == 0, res.output
    cli = json.loads(res.output.strip().splitlines()[-1])
    assert cli["impressions"] == len(served) and cli["served_ctr"] == pytest.approx(out["served_ctr"])
    assert cli["epsilon=0"]["ips"]["value"] == pytest.approx(out["epsilon=0"]["ips"]["value"])
