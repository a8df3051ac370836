"""Off-policy evaluation of a shop's own logged traffic: impressions served with a known propensity, and their clicks.

A recommendation served with an exploration share (`recommend.explore`) carries per item `propensity`, `policy`
(greedy | explore | pinned) and `pool`; the client echoes them in the impression event's context
(`context.placement`, `context.position`, `context.propensity`, `context.policy`, `context.pool`). An impression's
reward is 1 when the same user clicks the same item within `window_s` after it. Policies evaluated: the exploration
mixture with another share ε' (ε' = 0: the ranked list alone; ε' = 1: uniform draws in every unpinned slot). Against
such targets, the item-level propensities reduce to two abstract actions per slot, 0 = "the ranked item" and
1 = "a uniform draw" (logged probability 1 − ε and ε; pinned slots: action 0 with probability 1), which gives the same
importance weights as the item level and lets DR model the reward of each abstract action per slot.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shopmind.experiments.ope import LoggedBandit, OPEEstimate, evaluate

log = logging.getLogger(__name__)
MAX_POSITIONS = 50  # slots beyond this share one reward-model level


def _context(raw: Any) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _rewards(imp_key: np.ndarray, imp_ts: np.ndarray, clk_key: np.ndarray, clk_ts: np.ndarray, window_s: float) -> np.ndarray:
    """1 where a click with the same key falls within [ts, ts + window_s] of the impression (vectorised)."""
    if not len(imp_key) or not len(clk_key):
        return np.zeros(len(imp_key))
    _, codes = np.unique(np.concatenate([imp_key, clk_key]), return_inverse=True)
    t0 = min(float(imp_ts.min()), float(clk_ts.min()))
    to_ms = (lambda t: np.round((t - t0) * 1000.0).astype(np.int64))
    shift = np.int64(1) << np.int64(41)  # ~70 years of milliseconds per key
    ik = codes[: len(imp_key)].astype(np.int64) * shift + to_ms(imp_ts)
    ck = np.sort(codes[len(imp_key) :].astype(np.int64) * shift + to_ms(clk_ts))
    j = np.searchsorted(ck, ik, side="left")
    hit = j < len(ck)
    out = np.zeros(len(ik))
    out[hit] = (ck[j[hit]] <= ik[hit] + int(window_s * 1000)).astype(np.float64)
    return out


def bandit_from_events(events: pa.Table, placement: str, *,
                       window_s: float = 1800.0) -> tuple[LoggedBandit, np.ndarray, dict[str, Any]]:
    """The placement's impressions with a logged propensity as a two-action LoggedBandit, its pinned rows, and counts."""
    imp = events.filter(pc.equal(events["type"], "impression"))
    clk = events.filter(pc.equal(events["type"], "click"))
    ctx = [_context(c) for c in imp["context"].to_pylist()]
    keep = np.array([c.get("placement") == placement and c.get("propensity") not in (None, "") for c in ctx], dtype=bool)
    rows = np.flatnonzero(keep)
    ctx = [ctx[i] for i in rows]
    users = np.asarray(imp["user_id"].to_pylist(), dtype=object)[rows]
    items = np.asarray(imp["item_id"].to_pylist(), dtype=object)[rows]
    key = np.array([f"{u}\x1f{i}" for u, i in zip(users, items, strict=True)], dtype=str)
    ckey = np.array([f"{u}\x1f{i}" for u, i in zip(clk["user_id"].to_pylist(), clk["item_id"].to_pylist(), strict=True)], dtype=str)
    rewards = _rewards(key, imp["ts"].to_numpy()[rows], ckey, clk["ts"].to_numpy(), window_s)
    prop = np.array([float(c["propensity"]) for c in ctx])
    policy = np.array([str(c.get("policy", "greedy")) for c in ctx])
    pool = np.array([float(c.get("pool") or 0) for c in ctx])
    explored = policy == "explore"
    actions = explored.astype(np.int64)
    pscore = np.where(explored, prop * pool, prop)  # P(abstract action): 1 − ε for the ranked item, ε for a draw
    pos = np.minimum(np.array([int(c.get("position") or 0) for c in ctx], dtype=np.int64), MAX_POSITIONS - 1)
    n_pos = int(pos.max()) + 1 if len(pos) else 1
    pinned = policy == "pinned"
    data = LoggedBandit(actions, pos, rewards, np.clip(pscore, 1e-12, 1.0), 2, n_pos)
    info = {"impressions": len(rows), "clicks_matched": int(rewards.sum()), "explored": int(explored.sum()),
            "pinned": int(pinned.sum()), "simulated": int(sum(str(c.get("simulated", "")) == "1" for c in ctx)),
            "epsilon_logged": round(float(np.median(1.0 - prop[~explored & ~pinned])), 6) if (~explored & ~pinned).any() else None}
    return data, pinned, info


def mixture(data: LoggedBandit, pinned: np.ndarray, epsilon: float) -> np.ndarray:
    """(n, 2) target distribution over (ranked item, uniform draw) for exploration share `epsilon` (pins stay)."""
    dist = np.empty((data.n, 2))
    dist[:, 0], dist[:, 1] = 1.0 - epsilon, epsilon
    dist[pinned] = (1.0, 0.0)
    return dist


def evaluate_placement(events: pa.Table, placement: str, *, epsilons: tuple[float, ...] = (0.0, 1.0), window_s: float = 1800.0,
                       alpha: float = 0.05, clip: float | None = None) -> dict[str, Any]:
    """IPS, SNIPS and DR of the ranked list (ε' = 0), uniform exploration (ε' = 1) and any other shares, from the log."""
    data, pinned, info = bandit_from_events(events, placement, window_s=window_s)
    out: dict[str, Any] = {"placement": placement, **info}
    if data.n < 2:
        out["error"] = f"no impressions with a logged propensity for placement {placement!r}"
        return out
    out["served_ctr"] = round(float(data.rewards.mean()), 6)
    if not info["explored"]:
        out["note"] = "no explored impressions: only the served share itself is identifiable from this log"
        log.warning("placement %s: %s", placement, out["note"])
    for eps in epsilons:
        est: dict[str, OPEEstimate] = evaluate(data, mixture(data, pinned, eps), alpha=alpha, clip=clip)
        out[f"epsilon={eps:g}"] = {name: e.to_dict() for name, e in est.items()}
    return out
