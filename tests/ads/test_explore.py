"""Ads served with a known propensity: the exploration share over auction slots, its prices, and the logged fields."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from shopmind.ads.auction import ecpm, gsp
from shopmind.ads.explore import ExploredAd, explore_auction
from shopmind.ads.models import AdSlot

from .conftest import hash_encode

DAY = 19_000 * 86400.0
HISTORY = ["m50", "m181", "m172"]


def _auction():
    bid = np.array([2.0, 1.0, 3.0, 0.5, 0.8])
    pctr = np.array([0.1, 0.3, 0.05, 0.2, 0.1])
    cpc = np.ones(5, bool)
    score = ecpm(pctr, bid, cpc, np.ones(5))
    camp = np.arange(5)
    return gsp(score, pctr, bid, cpc, camp, k=2), score, camp, bid, cpc


def test_zero_share_leaves_the_auction_alone() -> None:
    result, score, camp, bid, cpc = _auction()
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    same, exploration = explore_auction(result, score, camp, bid, cpc, 0.0, rng)
    assert same is result and exploration is None and rng.bit_generator.state == state


def test_explored_slots_state_their_probability_and_pay_the_reserve() -> None:
    result, score, camp, bid, cpc = _auction()
    rng = np.random.default_rng(3)
    eps, n, hits = 0.25, 4000, 0
    drawn: list[int] = []
    for _ in range(n):
        out, ex = explore_auction(result, score, camp, bid, cpc, eps, rng, reserve_cpc=0.05)
        assert ex is not None and ex.pool == 3  # five campaigns, two winners
        for j, pol in enumerate(ex.policy):
            if pol == "explore":
                hits += 1
                w = int(out.winners[j])
                drawn.append(w)
                assert w not in result.winners and out.prices[j] == 0.05 and ex.propensity[j] == pytest.approx(eps / 3)
            else:
                assert out.winners[j] == result.winners[j] and out.prices[j] == result.prices[j] and ex.propensity[j] == 0.75
        assert len(set(out.winners.tolist())) == len(out.winners)
    assert stats.binomtest(hits, 2 * n, eps).pvalue > 1e-3
    assert stats.chisquare(np.bincount(drawn, minlength=5)[[i for i in range(5) if i not in result.winners]]).pvalue > 1e-3


def test_served_ads_carry_propensity_and_pacing(shop, campaign) -> None:
    svc = shop.new_ads_service(encode=hash_encode, config={"min_relevance": -1.0, "pacing": {"enabled": False}, "explore": 0.5})
    svc.rng = np.random.default_rng(1)
    for i, item in enumerate(["m1", "m2", "m3", "m4"]):
        svc.create_campaign(campaign(products=[item], bid=1.0 - 0.1 * i), f"c{i}")
    seen = set()
    for t in range(40):
        r = svc.select("home", user_id=f"u{t}", user_history=HISTORY, k=2, now=DAY + t)
        assert r.ads and all(isinstance(a, ExploredAd) for a in r.ads)
        body = r.model_dump(mode="json")["ads"]
        for a in body:
            seen.add(a["policy"])
            assert a["pacing_p"] == 1.0 and a["pool"] == 2
            assert a["propensity"] == pytest.approx(0.5 if a["policy"] == "auction" else 0.25)
    assert seen == {"auction", "explore"}
    plain = shop.new_ads_service(encode=hash_encode, config={"min_relevance": -1.0, "pacing": {"enabled": False}})
    r = plain.select("home", user_id="u1", user_history=HISTORY, k=2, now=DAY)
    assert r.ads and all(type(a) is AdSlot for a in r.ads)  # ε = 0: plain slots, the response as before
