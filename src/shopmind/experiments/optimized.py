"""Optimized interleaving (Radlinski & Craswell, WSDM 2013): a fair distribution over merged lists, rank-difference credit.

Team draft credits a click to whichever ranker happened to pick the clicked item, so every click on an item both rankers
want is a coin flip's worth of noise. Optimized interleaving instead credits each click with how much higher one ranker
put the item than the other, ``credit(d) = c(rank_B(d)) - c(rank_A(d))`` (positive = B, the non-control arm), and shows
a list drawn from a distribution chosen so that clicking *at random* gives zero expected credit at every depth:

* allowed lists: each position holds the best item of A or of B not shown yet (every prefix is a union of prefixes of
  the two rankings, so the shopper never sees an item neither ranker wants that high);
* fairness: for every depth n, sum_L p(L) * sum_{i <= n} credit(L_i) = 0 (a random clicker prefers neither arm);
* sensitivity: among fair distributions, the one minimising the expected spread of the two arms' credit under clicks
  at 1/rank (the objective of Schuth et al., CIKM 2014, "Multileaved comparisons for fast online evaluation"), a
  linear program solved with scipy's HiGHS. A vertex solution puts weight on at most depth + 1 lists.

`c` is -rank ("negative", the default: bench/experiments.py chose it on VALID queries and measured it), 1 / rank
("inverse"), -ln rank ("log") or -rank² ("squared"); an item missing from a ranking's top k has rank k + 1,
just past what was merged (also when that ranking returned fewer than k: it did not rank the item at all).
When no fair distribution exists (rare: lists with few items in common at a short depth) the deepest constraints
are dropped until one does, and `Design.fair_depth` says to which depth the design is fair.

The per-impression statistic is the summed credit of the clicked positions; `interleave.interleaving_t_test` tests its
mean (per unit). Under A/A both rankings are equal, every credit is 0 and nothing can be rejected.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
from cachetools import LRUCache

__all__ = ["CREDITS", "Design", "allowed_lists", "credit_of_clicks", "design", "optimized_merge"]
log = logging.getLogger(__name__)
Credit = Literal["inverse", "log", "negative", "squared"]  # an experiment definition's `credit` (experiments.model)
CREDITS: tuple[str, ...] = get_args(Credit)
_CREDIT_OF: dict[str, Callable[[np.ndarray], np.ndarray]] = {  # c(rank) per credit name; a click earns c(rank_B) - c(rank_A)
    "inverse": lambda r: 1.0 / r, "log": lambda r: -np.log(r), "negative": lambda r: -r, "squared": lambda r: -r * r}
MAX_LISTS = 2048  # enumerate every allowed list up to this many; beyond, sample this many distinct ones
_CACHE: LRUCache[tuple[tuple[str, ...], tuple[str, ...], int, str], Design] = LRUCache(maxsize=4096)
_CACHE_LOCK = threading.Lock()


@dataclass(frozen=True)
class Design:
    """The lists an optimized interleaving of A and B may show, with their probabilities and per-position credits."""

    lists: tuple[tuple[str, ...], ...]
    probs: np.ndarray  # (L,), sums to 1
    credits: np.ndarray  # (L, k): credit of each shown position (B - A), 0 past a short list
    fair_depth: int  # depths 1..fair_depth satisfy the fairness constraint

    def scale(self) -> float:
        """The design's credit scale sqrt(sum_k (1/k) E[credit_k^2]): about the score's standard deviation when rare clicks
        blind to relevance fall at 1/rank (0 when the rankings agree). Dividing by it puts every query on one scale."""
        if not self.credits.size:
            return 0.0
        look = 1.0 / np.arange(1, self.credits.shape[1] + 1)
        return float(np.sqrt(self.probs @ (self.credits**2 @ look)))

    def draw(self, rng: np.random.Generator) -> tuple[list[str], list[float]]:
        """One list to show, and the credit a click on each of its positions earns (positive = B)."""
        j = int(rng.choice(len(self.lists), p=self.probs))
        ids = list(self.lists[j])
        return ids, [float(c) for c in self.credits[j, : len(ids)]]


def _ranks(ranking: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r, i in enumerate(ranking, start=1):
        out.setdefault(i, r)
    return out


def _credit_values(ids: Sequence[str], rank: dict[str, int], missing: int, how: str) -> np.ndarray:
    if how not in _CREDIT_OF:
        raise ValueError(f"credit: {how!r} is not one of {', '.join(CREDITS)}")
    return _CREDIT_OF[how](np.array([rank.get(i, missing) for i in ids], dtype=np.float64))


def allowed_lists(a: Sequence[str], b: Sequence[str], k: int, *, limit: int = MAX_LISTS,
                  rng: np.random.Generator | None = None) -> list[tuple[str, ...]]:
    """Every list of at most k ids whose each position is the best not-yet-shown id of A or of B (deduplicated, sorted);
    when there are more than `limit`, `limit` distinct ones drawn by picking A or B with a fair coin at each position."""
    a, b = list(dict.fromkeys(a)), list(dict.fromkeys(b))
    found: set[tuple[str, ...]] = set()
    stack: list[tuple[tuple[str, ...], int, int]] = [((), 0, 0)]  # (prefix, next index into a, next into b)
    while stack:
        prefix, ia, ib = stack.pop()
        seen = set(prefix)
        while ia < len(a) and a[ia] in seen:
            ia += 1
        while ib < len(b) and b[ib] in seen:
            ib += 1
        options = list(dict.fromkeys([x[i] for x, i in ((a, ia), (b, ib)) if i < len(x)]))
        if len(prefix) == k or not options:
            found.add(prefix)
            if len(found) > limit:
                return _sampled_lists(a, b, k, limit, rng or np.random.default_rng(0))
            continue
        stack.extend(((*prefix, o), ia, ib) for o in options)
    return sorted(found)


def _sampled_lists(a: list[str], b: list[str], k: int, limit: int, rng: np.random.Generator) -> list[tuple[str, ...]]:
    """`limit` distinct allowed lists by prefix-constrained sampling (a fair coin picks A or B at each position)."""
    found: set[tuple[str, ...]] = set()
    for _ in range(limit * 20):
        shown: list[str] = []
        seen: set[str] = set()
        ia = ib = 0
        coins = rng.random(k) < 0.5
        for pick_a in coins:
            while ia < len(a) and a[ia] in seen:
                ia += 1
            while ib < len(b) and b[ib] in seen:
                ib += 1
            if ia >= len(a) and ib >= len(b):
                break
            use_a = (pick_a and ia < len(a)) or ib >= len(b)
            item = a[ia] if use_a else b[ib]
            shown.append(item)
            seen.add(item)
        found.add(tuple(shown))
        if len(found) >= limit:
            break
    return sorted(found)


def design(a: Sequence[str], b: Sequence[str], k: int, credit: str = "negative") -> Design:
    """The optimized-interleaving distribution for rankings A (control) and B (cached: a repeated query costs nothing)."""
    key = (tuple(a), tuple(b), int(k), credit)
    with _CACHE_LOCK:  # request threads share the cache; cachetools' LRU is not thread-safe
        hit = _CACHE.get(key)
    if hit is None:
        hit = _solve(list(a), list(b), int(k), credit)  # outside the lock: a slow solve never holds up other queries
        with _CACHE_LOCK:
            _CACHE[key] = hit
    return hit


def _solve(a: list[str], b: list[str], k: int, credit: str) -> Design:
    from scipy.optimize import linprog

    lists = allowed_lists(a, b, k)
    ra, rb = _ranks(a), _ranks(b)
    width = max((len(x) for x in lists), default=0)
    ca = np.zeros((len(lists), width))
    cb = np.zeros((len(lists), width))
    for j, ids in enumerate(lists):
        ca[j, : len(ids)] = _credit_values(ids, ra, k + 1, credit)
        cb[j, : len(ids)] = _credit_values(ids, rb, k + 1, credit)
    delta = cb - ca
    if len(lists) == 1 or not np.any(delta):
        return Design(tuple(lists), np.full(len(lists), 1.0 / len(lists)), delta, width)
    look = 1.0 / np.arange(1, width + 1)  # the objective's clicks at 1/rank
    va, vb = ca @ look, cb @ look
    spread = (va - vb) ** 2 / 2.0  # sum over both arms of (v_x - mean)^2
    fair = np.cumsum(delta, axis=1).T  # (width, L): expected credit under a click at each depth n
    for depth in range(width, -1, -1):
        a_eq = np.vstack([np.ones(len(lists)), fair[:depth]])
        b_eq = np.r_[1.0, np.zeros(depth)]
        res = linprog(spread, A_eq=a_eq, b_eq=b_eq, bounds=(0.0, 1.0), method="highs")
        if res.success:
            p = np.clip(res.x, 0.0, None)
            keep = p > 1e-12
            if depth < width:
                log.debug("optimized interleaving: fair to depth %d of %d", depth, width)
            return Design(tuple(x for x, on in zip(lists, keep, strict=True) if on), p[keep] / p[keep].sum(), delta[keep], depth)
    raise AssertionError("the LP with only the sum-to-one constraint is always feasible")


def optimized_merge(a: Sequence[str], b: Sequence[str], k: int, rng: np.random.Generator,
                    credit: str = "negative") -> tuple[list[str], list[float], int]:
    """Draw the list to show for rankings A (control) and B: (ids, credit per position, depth to which it is fair)."""
    d = design(a, b, k, credit)
    ids, credits = d.draw(rng)
    return ids, credits, d.fair_depth


def credit_of_clicks(ids: Sequence[str], credits: Sequence[float], clicked_ids: Sequence[str]) -> float:
    """One impression's score: the summed credit of the distinct shown ids that were clicked (positive = B preferred);
    ids not in the impression are ignored."""
    where = {i: p for p, i in enumerate(ids)}
    return float(sum(credits[where[c]] for c in set(clicked_ids) if c in where and where[c] < len(credits)))
