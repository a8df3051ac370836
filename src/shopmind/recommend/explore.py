"""Exploration share: serve recommendations with a known propensity, so logged traffic can be evaluated off-policy.

With `epsilon` > 0 in a placement's config, each slot of the ranked list is, independently with probability ε,
filled by an item drawn uniformly (without replacement) from the pool P = eligible items not already in the list;
pinned slots are never replaced. Position-wise propensities (as in the Open Bandit Dataset): the ranked item keeps
its slot with probability 1 − ε; any item of P lands in a given slot with probability ε / |P| (the draws are
exchangeable). Each item carries `propensity`, `policy` ("greedy", "explore" or "pinned") and `pool` (|P|): the
client echoes them as `context.propensity` / `context.policy` / `context.pool` on impression and click events, and
`experiments.ope_log` turns such a log back into a `LoggedBandit`. ε = 0 (the default) returns the response untouched.
"""

from __future__ import annotations

import threading

import numpy as np
from pydantic import Field

from shopmind.recommend.config import RecommendedItem, RecommendResponse

EXPLORE_REASON = "picked at random among items you may not have seen (exploration)"
_rng = np.random.default_rng()
_lock = threading.Lock()


class ExploredItem(RecommendedItem):
    """A recommended item served under an exploration share, with the probability it had of being in its slot."""

    propensity: float = Field(description="probability of this item in this slot under the serving policy")
    policy: str = Field(description="greedy (the ranked item kept its slot), explore (a uniform draw) or pinned")
    pool: int = Field(description="how many eligible items a uniform draw picked from")


def seed(value: int | None) -> None:
    """Reseed the exploration draws (tests, reproducible simulations)."""
    global _rng
    with _lock:
        _rng = np.random.default_rng(value)


def explore_slots(response: RecommendResponse, allowed: np.ndarray, item_ids: list[str], epsilon: float,
                  rng: np.random.Generator | None = None) -> RecommendResponse:
    """Replace each unpinned slot with probability ε by a uniform draw from the eligible items not in the list."""
    if epsilon <= 0 or not response.items:
        return response
    rng = rng or _rng
    index = {s: i for i, s in enumerate(item_ids)}
    shown = np.array([index[it.id] for it in response.items], dtype=np.int64)
    pool_mask = allowed.copy()
    pool_mask[shown] = False
    pool = np.flatnonzero(pool_mask)
    pinned = np.array([it.reason_code == "pinned" for it in response.items])
    with _lock:
        hit = (rng.random(len(shown)) < epsilon) & ~pinned
        n_explore = min(int(hit.sum()), len(pool))
        hit[np.flatnonzero(hit)[n_explore:]] = False  # a pool smaller than the explored slots: the rest stay ranked
        drawn = rng.choice(pool, size=n_explore, replace=False) if n_explore else np.zeros(0, np.int64)
    size = len(pool)
    items: list[RecommendedItem] = []
    d = iter(drawn.tolist())
    for j, it in enumerate(response.items):
        if pinned[j]:
            items.append(ExploredItem(**it.model_dump(), propensity=1.0, policy="pinned", pool=size))
        elif hit[j]:
            items.append(ExploredItem(id=item_ids[next(d)], score=0.0, reason=EXPLORE_REASON, reason_code="explore",
                                      propensity=round(epsilon / size, 12), policy="explore", pool=size))
        else:
            items.append(ExploredItem(**it.model_dump(), propensity=round(1.0 - epsilon if size else 1.0, 12), policy="greedy", pool=size))
    return response.model_copy(update={"items": items})
