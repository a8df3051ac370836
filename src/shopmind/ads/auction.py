"""The auction: rank candidates by eCPM behind a relevance gate, charge generalised second price (GSP).

Everything here works on arrays over the candidates of one request; the only Python loop is over the
`k` winners when the response is built (elsewhere).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(slots=True)
class AuctionResult:
    """Winners (indices into the candidate arrays, best first) and the GSP price each pays."""

    winners: np.ndarray
    prices: np.ndarray  # per click for CPC winners, per thousand impressions for CPM winners
    ecpm: np.ndarray  # eCPM of every candidate (0 where gated out)


def ecpm(pctr: np.ndarray, bid: np.ndarray, is_cpc: np.ndarray, gate: np.ndarray) -> np.ndarray:
    """Expected revenue per thousand impressions: pCTR × bid × 1000 for CPC, the bid for CPM, × the gate."""
    return np.where(is_cpc, pctr * bid * 1000.0, bid) * gate


def one_per_campaign(score: np.ndarray, campaign: np.ndarray) -> np.ndarray:
    """Indices of each campaign's best-scoring candidate, best first (a campaign wins one slot at most)."""
    order = np.argsort(-score, kind="stable")
    _, first = np.unique(campaign[order], return_index=True)
    keep = order[np.sort(first)]
    return keep


def gsp(score: np.ndarray, pctr_rank: np.ndarray, bid: np.ndarray, is_cpc: np.ndarray, campaign: np.ndarray, k: int,
        reserve_cpc: float = 0.01, reserve_cpm: float = 0.1) -> AuctionResult:
    """Rank by `score` (eCPM; zeros are out), one slot per campaign, and price each winner at the
    eCPM of the candidate below it: CPC pays next_ecpm / (1000 × own pCTR), CPM pays next_ecpm,
    floored at the reserve and never above its own bid."""
    live = np.flatnonzero(score > 0)
    if len(live) == 0 or k <= 0:
        return AuctionResult(np.zeros(0, np.int64), np.zeros(0), score)
    ranked = live[one_per_campaign(score[live], campaign[live])]
    winners = ranked[:k]
    nxt = np.zeros(len(winners))
    below = score[ranked[1 : k + 1]]
    nxt[: len(below)] = below
    w_cpc = is_cpc[winners]
    cpc_price = nxt / (1000.0 * np.maximum(pctr_rank[winners], 1e-12))
    price = np.where(w_cpc, np.maximum(cpc_price, reserve_cpc), np.maximum(nxt, reserve_cpm))
    price = np.minimum(price, bid[winners])
    return AuctionResult(winners, price, score)
