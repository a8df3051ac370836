"""Team-draft interleaving (Radlinski, Kurup & Joachims, CIKM 2008): merge two rankings, credit clicks, test.

One impression shows a single list drafted from rankers A and B; each position remembers the team that picked it.
`credit` turns one impression's clicks into a preference (+1 A, -1 B, 0 tie: the paper's per-impression winner),
`interleaving_test` is the sign test over those preferences (ties dropped), `interleaving_msprt` its always-valid
twin, and the power helpers let the simulator compare the sessions interleaving needs with those an A/B test needs.

The unit of analysis is whatever `outcomes` holds one entry per; pass `units=` (user or session ids) to first
aggregate impressions per unit (sign of the summed preferences): one user's impressions are not independent, so
testing impressions of repeat users would be pseudo-replication and overstate significance.

Serving (R2 wires it into the facade for `kind="interleave"` experiments)::

    mixed = merge_for_response(hits_a, hits_b, k=per_page, rng=session_rng(exp.salt, session_id, query))
    mixed.hits   # the served list: each hit is the contributing team's own object (its score/why explain it)
    mixed.teams  # 0 = A, 1 = B per position: log it with the exposure; clicks are credited with `credit_ids`
    mixed.rows() # [{id, team, rank_a, rank_b, score_a, score_b}] for the response's explanation

For page p, draft k = p * per_page from both rankers' top p * per_page with the same seed and serve the last slice.
"""

from __future__ import annotations

import hashlib
import logging
import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np
from scipy import stats

from shopmind.experiments.stats import TestResult

__all__ = [
    "Interleaved", "ab_power", "ab_sessions_for_power", "aggregate_by_unit", "click_difference_batch", "credit", "credit_batch",
    "credit_ids", "draft_coins", "interleaved_power", "interleaving_msprt", "interleaving_sessions_for_power", "interleaving_t_test",
    "interleaving_test",
    "merge_for_response", "session_rng", "sessions_for_power", "sum_by_unit", "team_draft",
]
log = logging.getLogger(__name__)
H = TypeVar("H")


# ------------------------------------------------------------------------------------------------ drafting
def team_draft(a: Sequence[str], b: Sequence[str], k: int, rng: np.random.Generator | None = None, *,
               coins: Sequence[bool] | np.ndarray | None = None) -> tuple[list[str], list[int]]:
    """Team-draft merge of rankings `a` and `b` into at most `k` ids; returns (ids, team per position, 0 = A, 1 = B).

    Each round a fair coin decides which team picks first; the team with fewer picks always picks next, so team
    sizes differ by at most one in every prefix; a team picks its highest-ranked id not yet shown (an id both
    rankers want goes to whichever picks it first). When one ranking runs out the other fills the remaining slots,
    so a short list never shortens the page; it stops at `k` or when both are exhausted. The draft for k is a
    prefix of the draft for a larger k with an equally seeded `rng`: page p is slice p of the draft for p pages.
    `coins` (True = A picks first in round r) replaces `rng`: `draft_coins(k)` lists every draw, each equally likely.
    """
    a = list(dict.fromkeys(a))  # an id repeated inside one ranking counts once, at its best rank
    b = list(dict.fromkeys(b))
    if coins is None:
        if rng is None:
            raise ValueError("team_draft needs rng or coins")
        coins = rng.random(k // 2 + 1) < 0.5  # one per round, drawn at once (prefix-stable: a longer k keeps the prefix)
    elif len(coins) < (k + 1) // 2:
        raise ValueError(f"coins: {len(coins)} given, {(k + 1) // 2} rounds needed for k={k}")
    ids: list[str] = []
    teams: list[int] = []
    seen: set[str] = set()
    ia = ib = na = nb = 0
    len_a, len_b = len(a), len(b)
    while len(ids) < k:
        while ia < len_a and a[ia] in seen:
            ia += 1
        while ib < len_b and b[ib] in seen:
            ib += 1
        left_a, left_b = ia < len_a, ib < len_b
        if left_a and left_b:
            pick_a = na < nb or (na == nb and bool(coins[na]))
        elif left_a or left_b:
            pick_a = left_a
        else:
            break
        item = a[ia] if pick_a else b[ib]
        seen.add(item)
        ids.append(item)
        teams.append(0 if pick_a else 1)
        if pick_a:
            na += 1
        else:
            nb += 1
    return ids, teams


def draft_coins(k: int) -> np.ndarray:
    """Every coin sequence a team draft of k positions can use, (2^rounds, rounds) bool: each equally likely, so
    drafting with each one gives the exact distribution of the interleaved list (rounds = ceil(k / 2))."""
    rounds = (k + 1) // 2
    if rounds > 16:
        raise ValueError(f"k={k}: 2^{rounds} coin sequences is too many to enumerate; sample with rng instead")
    return ((np.arange(2**rounds)[:, None] >> np.arange(rounds)) & 1).astype(bool)


def session_rng(*parts: object) -> np.random.Generator:
    """A generator seeded from the parts (salt, session id, query): the same visitor sees the same interleaving."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return np.random.default_rng(int.from_bytes(digest, "little"))


def _getter(hits: Sequence[Any], name: str) -> Callable[[Any], Any]:
    """Read `name` by key from mappings or by attribute from objects (judged on the first hit)."""
    return operator.itemgetter(name) if hits and isinstance(hits[0], dict) else operator.attrgetter(name)


@dataclass(frozen=True)
class Interleaved(Generic[H]):
    """A served interleaved list: the hits, the team per position, and each id's rank and score in both rankings."""

    hits: list[H]
    ids: list[str]
    teams: list[int]
    rank_a: list[int | None] = field(default_factory=list)
    rank_b: list[int | None] = field(default_factory=list)
    score_a: list[float | None] = field(default_factory=list)
    score_b: list[float | None] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per position for the response/explanation (ranks 0-based; None where that ranker lacks the id)."""
        return [{"id": i, "team": t, "rank_a": ra, "rank_b": rb, "score_a": sa, "score_b": sb}
                for i, t, ra, rb, sa, sb in zip(self.ids, self.teams, self.rank_a, self.rank_b, self.score_a, self.score_b,
                                                strict=True)]


def merge_for_response(a_hits: Sequence[H], b_hits: Sequence[H], k: int, rng: np.random.Generator, *,
                       id_of: Callable[[H], str] | None = None, score_of: Callable[[H], float] | None = None) -> Interleaved[H]:
    """Team-draft two hit lists (objects or dicts with `id` and `score`) into the list to serve, with its explanation.

    Each served hit is the object from the team that picked it (scores of the two rankers are on different scales,
    so neither is rescaled); `rank_*`/`score_*` say where each id stood in both rankings.
    """
    ids_a = list(map(id_of or _getter(a_hits, "id"), a_hits))
    ids_b = list(map(id_of or _getter(b_hits, "id"), b_hits))
    score_a_of, score_b_of = score_of or _getter(a_hits, "score"), score_of or _getter(b_hits, "score")
    pos_a: dict[str, int] = {}
    pos_b: dict[str, int] = {}
    for pos, own in ((pos_a, ids_a), (pos_b, ids_b)):
        for r, i in enumerate(own):
            pos.setdefault(i, r)  # first occurrence wins, as in team_draft
    ids, teams = team_draft(ids_a, ids_b, k, rng)
    rank_a, rank_b = [pos_a.get(i) for i in ids], [pos_b.get(i) for i in ids]
    hits = [a_hits[pos_a[i]] if t == 0 else b_hits[pos_b[i]] for i, t in zip(ids, teams, strict=True)]
    score_a = [None if r is None else float(score_a_of(a_hits[r])) for r in rank_a]
    score_b = [None if r is None else float(score_b_of(b_hits[r])) for r in rank_b]
    return Interleaved(hits, ids, teams, rank_a, rank_b, score_a, score_b)


# ------------------------------------------------------------------------------------------------ credit
def credit(teams: Sequence[int], clicked: Sequence[int]) -> int:
    """Per-impression winner from clicked positions: +1 A has more clicks, -1 B has more, 0 tie (or no click).

    A click counts for the team that contributed the clicked position, also when the id is in both rankings;
    repeated clicks on one position count once.
    """
    t = np.asarray(teams, dtype=np.int64)
    pos = np.unique(np.asarray(clicked, dtype=np.int64))
    if pos.size and (pos.min() < 0 or pos.max() >= t.size):
        raise ValueError(f"clicked positions {pos.tolist()} outside the {t.size} shown")
    on = t[pos]
    return int(np.sign(np.count_nonzero(on == 0) - np.count_nonzero(on == 1)))


def credit_ids(ids: Sequence[str], teams: Sequence[int], clicked_ids: Sequence[str]) -> int:
    """`credit` from clicked product ids (as events carry them); ids not in the impression are ignored."""
    where = {i: p for p, i in enumerate(ids)}
    return credit(teams, [where[c] for c in clicked_ids if c in where])


def credit_batch(teams: np.ndarray, clicks: np.ndarray) -> np.ndarray:
    """`credit` for many impressions at once: teams (n, k) with -1 for empty slots, clicks (n, k) bool; returns (n,)."""
    t, c = np.asarray(teams), np.asarray(clicks, dtype=bool)
    return np.sign((c & (t == 0)).sum(axis=1) - (c & (t == 1)).sum(axis=1)).astype(np.int64)


def click_difference_batch(teams: np.ndarray, clicks: np.ndarray) -> np.ndarray:
    """Per impression: clicks on B's team minus clicks on A's (positive = B preferred; 0 for ties and no click).

    The unweighted per-query score of Yue, Gao, Chapelle, Zhang & Joachims (SIGIR 2010), whose mean is tested by
    `interleaving_t_test`; `credit_batch` is its sign with the opposite orientation (+1 = A)."""
    t, c = np.asarray(teams), np.asarray(clicks, dtype=bool)
    return ((c & (t == 1)).sum(axis=1) - (c & (t == 0)).sum(axis=1)).astype(np.int64)


def aggregate_by_unit(outcomes: np.ndarray, units: Sequence[Any] | np.ndarray) -> np.ndarray:
    """One preference per unit (user or session): the sign of its summed impression outcomes, in first-seen order."""
    o = np.asarray(outcomes, dtype=np.int64)
    _, first, inverse = np.unique(np.asarray(units), return_index=True, return_inverse=True)
    sums = np.bincount(inverse.ravel(), weights=o, minlength=first.size)
    return np.sign(sums[np.argsort(first)]).astype(np.int64)


def sum_by_unit(values: np.ndarray, units: Sequence[Any] | np.ndarray) -> np.ndarray:
    """One summed value per unit (a user's or session's impressions are not independent; order is by unit id)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    u = np.asarray(units)
    if u.shape[0] != v.size:
        raise ValueError("units: one per impression")
    _, inverse = np.unique(u, return_inverse=True)
    return np.bincount(inverse.ravel(), weights=v, minlength=int(inverse.max(initial=-1)) + 1).astype(np.float64)


# ------------------------------------------------------------------------------------------------ tests
def _counts(outcomes: np.ndarray, units: Sequence[Any] | np.ndarray | None) -> tuple[np.ndarray, int, int, int]:
    """Per-unit outcomes and (A wins, B wins, ties); outcomes must be in {-1, 0, +1}."""
    o = np.asarray(outcomes, dtype=np.int64).ravel()
    if o.size and (o.min() < -1 or o.max() > 1):
        raise ValueError("interleaving outcomes must be -1, 0 or +1")
    if units is not None:
        o = aggregate_by_unit(o, units)
    return o, int(np.count_nonzero(o == 1)), int(np.count_nonzero(o == -1)), int(np.count_nonzero(o == 0))


def _sign_pvalues(wins_b: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Exact two-sided binomial p-values against 1/2 (vectorised; 1 where there is no decisive unit)."""
    x = np.asarray(wins_b)
    n = np.asarray(n)
    return np.where(n > 0, np.minimum(1.0, 2.0 * stats.binom.cdf(np.minimum(x, n - x), np.maximum(n, 1), 0.5)), 1.0)


def _clopper_pearson(x: int, n: int, alpha: float) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval for a binomial proportion."""
    if n == 0:
        return 0.0, 1.0
    lo = 0.0 if x == 0 else float(stats.beta.ppf(alpha / 2, x, n - x + 1))
    hi = 1.0 if x == n else float(stats.beta.ppf(1 - alpha / 2, x + 1, n - x))
    return lo, hi


def interleaving_test(outcomes: np.ndarray, alpha: float = 0.05, units: Sequence[Any] | np.ndarray | None = None) -> TestResult:
    """Sign test of interleaving preferences (+1 A, -1 B, 0 tie), ties dropped: effect = share of B wins - 0.5.

    Exact binomial p-value and Clopper-Pearson interval (consistent at 1/2: the CI excludes 0 iff p < alpha).
    n_a/n_b are the A and B wins; with `units` the outcomes are first aggregated per unit.
    """
    _, wins_a, wins_b, ties = _counts(outcomes, units)
    n = wins_a + wins_b
    lo, hi = _clopper_pearson(wins_b, n, alpha)
    effect = wins_b / n - 0.5 if n else 0.0
    p = float(_sign_pvalues(np.array(wins_b), np.array(n)))
    return TestResult(effect=effect, ci_low=lo - 0.5, ci_high=hi - 0.5, p_value=p, n_a=wins_a, n_b=wins_b,
                      method=f"team-draft interleaving, exact sign test (Clopper-Pearson CI), ties={ties}")


def interleaving_t_test(differences: np.ndarray, alpha: float = 0.05,
                        units: Sequence[Any] | np.ndarray | None = None) -> TestResult:
    """One-sample t-test that the mean per-impression click difference (B − A, ties kept as 0) is zero.

    The statistic of Yue et al. (SIGIR 2010) with every click weighted 1: unlike the sign test it keeps how many more
    clicks a team won. With `units` the differences are summed per unit first (one value per user or session).
    n_a/n_b are the units A and B won; effect = mean B − A clicks per unit."""
    d = np.asarray(differences, dtype=np.float64).ravel()
    if units is not None:
        d = sum_by_unit(d, units)
    n = d.size
    wins_b, wins_a = int(np.count_nonzero(d > 0)), int(np.count_nonzero(d < 0))
    method = f"team-draft interleaving, t-test of per-unit click difference B - A, ties={n - wins_a - wins_b}"
    if n < 2:
        return TestResult(0.0, -math.inf, math.inf, 1.0, wins_a, wins_b, method=method + " (too few units)")
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    if sd == 0:
        return TestResult(mean, mean, mean, 1.0 if mean == 0 else 0.0, wins_a, wins_b, method=method + " (zero variance)")
    se = sd / math.sqrt(n)
    p = float(2 * stats.t.sf(abs(mean) / se, n - 1))
    half = float(stats.t.ppf(1 - alpha / 2, n - 1)) * se
    return TestResult(mean, mean - half, mean + half, p, wins_a, wins_b, method=method)


def interleaving_msprt(outcomes: np.ndarray, alpha: float = 0.05, tau2: float = 0.01,
                       units: Sequence[Any] | np.ndarray | None = None) -> TestResult:
    """Always-valid sign test: normal-mixture SPRT (Johari et al.) on the +-1 preferences of decisive units.

    Under H0 a decisive unit is +-1 with probability 1/2, which is 1-sub-Gaussian, so Lambda_n (mixing variance
    `tau2` over the mean preference 2*(share of B wins) - 1) is a nonnegative supermartingale: p = 1/Lambda_n and the
    confidence-sequence interval stay valid at whatever time one stops, however often one looked before.
    """
    o, wins_a, wins_b, ties = _counts(outcomes, units)
    x = -o[o != 0].astype(np.float64)  # +1 = B wins, so the mean is 2 * effect
    method = f"team-draft interleaving, mSPRT sign test (tau2={tau2}), ties={ties}"
    if x.size == 0:
        return TestResult(0.0, -0.5, 0.5, 1.0, wins_a, wins_b, method=method)
    n = float(x.size)
    mean = float(x.mean())
    v = 1.0 + n * tau2
    log_lambda = -0.5 * math.log(v) + tau2 * (n * mean) ** 2 / (2.0 * v)
    p = min(1.0, math.exp(-log_lambda))
    half = math.sqrt(2.0 * v / tau2 * (0.5 * math.log(v) - math.log(alpha))) / n
    lo, hi = max(mean - half, -1.0), min(mean + half, 1.0)
    return TestResult(mean / 2, lo / 2, hi / 2, p, wins_a, wins_b, method=method)


# ------------------------------------------------------------------------------------------------ power
def interleaved_power(outcomes: np.ndarray, n: int, alpha: float = 0.05, n_boot: int = 2000,
                      rng: np.random.Generator | None = None) -> float:
    """Bootstrap power of `interleaving_test` with `n` sessions resampled from per-session outcomes (+1/0/-1).

    Resampling n sessions with replacement is a multinomial draw over (A win, tie, B win), so this is exact and
    vectorised: no loop over replicates.
    """
    rng = rng or np.random.default_rng(0)
    o = np.asarray(outcomes, dtype=np.int64).ravel()
    probs = np.array([np.mean(o == 1), np.mean(o == 0), np.mean(o == -1)])
    draws = rng.multinomial(int(n), probs / probs.sum(), size=n_boot)
    return float(np.mean(_sign_pvalues(draws[:, 2], draws[:, 0] + draws[:, 2]) < alpha))


def _resampled_moments(values: np.ndarray, m: int, n_boot: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Means and sample variances of `n_boot` resamples of size m (multinomial over distinct values when few)."""
    uniq, counts = np.unique(values, return_counts=True)
    if uniq.size <= 1024:
        c = rng.multinomial(m, counts / counts.sum(), size=n_boot).astype(np.float64)
        s1, s2 = c @ uniq, c @ (uniq * uniq)
    else:
        chunk = max(1, 4_000_000 // max(m, 1))
        parts = [values[rng.integers(0, values.size, size=(min(chunk, n_boot - i), m))] for i in range(0, n_boot, chunk)]
        s1 = np.concatenate([p.sum(axis=1) for p in parts])
        s2 = np.concatenate([(p * p).sum(axis=1) for p in parts])
    mean = s1 / m
    var = np.maximum(s2 - m * mean * mean, 0.0) / max(m - 1, 1)
    return mean, var


def ab_power(metric_a: np.ndarray, metric_b: np.ndarray, n: int, alpha: float = 0.05, n_boot: int = 2000,
             rng: np.random.Generator | None = None) -> float:
    """Bootstrap power of a Welch test with `n` sessions in all (n // 2 per arm) resampled from per-session metrics."""
    rng = rng or np.random.default_rng(0)
    m = max(int(n) // 2, 2)
    mean_a, var_a = _resampled_moments(np.asarray(metric_a, dtype=np.float64).ravel(), m, n_boot, rng)
    mean_b, var_b = _resampled_moments(np.asarray(metric_b, dtype=np.float64).ravel(), m, n_boot, rng)
    se2 = (var_a + var_b) / m
    ok = se2 > 0
    safe = np.where(ok, se2, 1.0)
    t = np.abs(mean_b - mean_a) / np.sqrt(safe)
    df = safe * safe / np.maximum((var_a / m) ** 2 / (m - 1) + (var_b / m) ** 2 / (m - 1), 1e-300)
    p = np.where(ok, 2.0 * stats.t.sf(t, df), np.where(mean_a == mean_b, 1.0, 0.0))
    return float(np.mean(p < alpha))


def sessions_for_power(power_at: Callable[[int], float], target: float = 0.8, n_min: int = 10,
                       n_max: int = 10_000_000, rel_tol: float = 0.02) -> int | None:
    """Smallest n (within rel_tol) with power_at(n) >= target: doubling, then bisection; None if n_max is not enough.

    `power_at` should use common random numbers (a fixed seed per call) so that it is close to monotone in n.
    """
    lo, hi = 0, max(int(n_min), 1)
    while power_at(hi) < target:
        lo, hi = hi, hi * 2
        if hi > n_max:
            log.info("power %.2f not reached with %d sessions", target, n_max)
            return None
    while hi - lo > max(1, int(rel_tol * hi)):
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if power_at(mid) >= target else (mid, hi)
    return hi


def interleaving_sessions_for_power(outcomes: np.ndarray, target: float = 0.8, alpha: float = 0.05,
                                    n_boot: int = 2000, seed: int = 0) -> int | None:
    """Sessions an interleaving experiment needs for `target` power, bootstrapped from per-session outcomes."""
    return sessions_for_power(lambda n: interleaved_power(outcomes, n, alpha, n_boot, np.random.default_rng(seed)), target)


def ab_sessions_for_power(metric_a: np.ndarray, metric_b: np.ndarray, target: float = 0.8, alpha: float = 0.05,
                          n_boot: int = 2000, seed: int = 0) -> int | None:
    """Sessions (both arms together) an A/B test needs for `target` power, bootstrapped from per-session metrics."""
    return sessions_for_power(lambda n: ab_power(metric_a, metric_b, n, alpha, n_boot, np.random.default_rng(seed)), target)
