"""Ads served with a known propensity: an exploration share over the auction's slots, and the pacing draw logged.

With `ads.explore` = ε > 0, each slot the auction filled is, independently with probability ε, given to a uniform
draw (without replacement) from the pool P of eligible candidates — each other campaign's best unit after targeting,
pacing and the relevance gate — that did not win a slot. An explored ad is charged the reserve price (capped at its
bid): exploration traffic is the shop's cost of learning, not the advertiser's. Propensities are position-wise and
conditional on the request's eligible set (pacing draws included): the auction's ad keeps its slot with probability
1 − ε, any ad of P lands in a given slot with probability ε / |P|. Each served ad also carries `pacing_p`, the
probability its campaign took part in this auction at all (`ads.pacing`; 1 with pacing off). ε = 0 (the default)
leaves the auction and the response untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import Field

from shopmind.ads.auction import AuctionResult, one_per_campaign
from shopmind.ads.models import AdSlot


class ExploredAd(AdSlot):
    """A served ad with the probability it had of this slot under the serving policy."""

    propensity: float = Field(description="probability of this ad in this slot, given the request's eligible candidates")
    policy: str = Field(description="auction (the auction's winner kept its slot) or explore (a uniform draw)")
    pool: int = Field(description="eligible candidates a uniform draw picked from")
    pacing_p: float = Field(description="probability the campaign took part in this auction (pacing)")


@dataclass(frozen=True)
class Exploration:
    """Per served slot: the policy that filled it, its propensity, and the draw's pool size."""

    policy: list[str]
    propensity: list[float]
    pool: int


def explore_auction(result: AuctionResult, score: np.ndarray, campaign: np.ndarray, bid: np.ndarray, is_cpc: np.ndarray,
                    epsilon: float, rng: np.random.Generator, reserve_cpc: float = 0.01,
                    reserve_cpm: float = 0.1) -> tuple[AuctionResult, Exploration | None]:
    """Replace each won slot with probability ε by a uniform draw among the other campaigns' best eligible candidates
    (ε = 0: the result as it is, no draw made)."""
    if epsilon <= 0 or not len(result.winners):
        return result, None
    winners = result.winners.copy()
    prices = result.prices.copy()
    live = np.flatnonzero(score > 0)
    best = live[one_per_campaign(score[live], campaign[live])] if len(live) else live
    pool = np.setdiff1d(best, winners)
    hit = rng.random(len(winners)) < epsilon
    n = min(int(hit.sum()), len(pool))
    hit[np.flatnonzero(hit)[n:]] = False
    if n:
        drawn = rng.choice(pool, size=n, replace=False)
        winners[hit] = drawn
        prices[hit] = np.minimum(np.where(is_cpc[drawn], reserve_cpc, reserve_cpm), bid[drawn])
    size = len(pool)
    propensity = np.where(hit, epsilon / max(size, 1), 1.0 - epsilon if size else 1.0)
    policy = np.where(hit, "explore", "auction").tolist()
    return AuctionResult(winners, prices, result.ecpm), Exploration(policy, [round(float(p), 12) for p in propensity], size)


def tag_ads(ads: list[AdSlot], exploration: Exploration | None, campaigns: np.ndarray, pacing_p: np.ndarray | None) -> list[AdSlot]:
    """The served ads with their propensity, policy, pool and their campaigns' pacing probability (`campaigns`: each
    ad's index into the pacer's array; None: pacing off, p = 1); unchanged when not exploring."""
    if exploration is None:
        return ads
    p = np.ones(len(ads)) if pacing_p is None else np.asarray(pacing_p, np.float64)[np.asarray(campaigns, np.int64)]
    out: list[AdSlot] = []
    for j, a in enumerate(ads):
        fields = a.model_dump()
        if exploration.policy[j] == "explore":
            fields["reason"] = f"exploration: a uniform draw among {exploration.pool} eligible ads"
        out.append(ExploredAd(**fields, propensity=exploration.propensity[j], policy=exploration.policy[j], pool=exploration.pool,
                              pacing_p=round(float(p[j]), 6)))
    return out
