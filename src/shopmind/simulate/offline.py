"""Offline, vectorised sessions for validating the experiment machinery (A/A rate, A/B vs interleaving power).

Thousands of simulated experiments cannot go through HTTP on one small machine, so the two rankers' result lists are
computed once (through the facade: `ranked_lists`) and sessions are then drawn in numpy under the same click model
the HTTP simulator uses (`clickmodel.ClickModel`). A session = one shopper, one real query drawn uniformly from the
frozen query set, the top k shown. The A/B metric is clicks per session (= CTR × k: k results are always shown),
tested with `experiments.stats`; interleaving uses `experiments.interleave` (team_draft, credit, interleaving_test).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shopmind.simulate.clickmodel import ClickModel, clicks_pmf

__all__ = ["OfflineLab", "ranked_lists", "sessions_for_power"]
log = logging.getLogger(__name__)


def ranked_lists(search: Callable[..., Any], queries: Mapping[str, str], k: int, **switches: Any) -> dict[str, list[str]]:
    """Top-k ids per query from a search callable (e.g. the facade's built search part with per-request switches)."""
    return {qid: [h.id for h in search(text, per_page=k, explain=False, **switches).hits] for qid, text in queries.items()}


def _grades(lists: Sequence[Sequence[str]], judged: Sequence[Mapping[str, float]], k: int) -> np.ndarray:
    """(Q, k) grades of each shown result; unjudged = 0, no result at that position = NaN."""
    out = np.full((len(lists), k), np.nan)
    for q, (ids, qrel) in enumerate(zip(lists, judged, strict=True)):
        row = [float(qrel.get(i, 0.0)) for i in ids[:k]]
        out[q, : len(row)] = row
    return out


def sessions_for_power(n_grid: Sequence[int], power: Sequence[float], target: float = 0.8) -> float | None:
    """Sessions where the (monotone-smoothed) power curve reaches `target`, interpolated in log n; None if it never does."""
    n = np.asarray(n_grid, np.float64)
    p = np.maximum.accumulate(np.asarray(power, np.float64))
    if not len(p) or p[-1] < target:
        return None
    i = int(np.argmax(p >= target))
    if i == 0:
        return float(n[0])
    x0, x1, y0, y1 = np.log(n[i - 1]), np.log(n[i]), p[i - 1], p[i]
    return float(np.exp(x0 + (target - y0) * (x1 - x0) / max(y1 - y0, 1e-12)))


@dataclass
class OfflineLab:
    """Two rankers' top-k lists for the same queries, with their judgements; draws sessions under the click model."""

    lists_a: list[list[str]]
    lists_b: list[list[str]]
    judged: list[dict[str, float]]
    model: ClickModel = field(default_factory=ClickModel)
    draws: int = 32  # team-draft interleavings precomputed per query (sessions pick one at random)
    seed: int = 0

    def __post_init__(self) -> None:
        from shopmind.experiments.interleave import team_draft

        k = self.model.k
        self.grades_a = _grades(self.lists_a, self.judged, k)
        self.grades_b = _grades(self.lists_b, self.judged, k)
        self.probs_a = np.nan_to_num(self.model.click_probs(self.grades_a))
        self.probs_b = np.nan_to_num(self.model.click_probs(self.grades_b))
        self.cdf = {"A": np.cumsum(clicks_pmf(self.probs_a), axis=1), "B": np.cumsum(clicks_pmf(self.probs_b), axis=1)}
        rng = np.random.default_rng(self.seed)
        q, d = len(self.judged), self.draws
        il_grades = np.full((q, d, k), np.nan)
        il_teams = np.full((q, d, k), -1, np.int8)
        for i, (a, b, qrel) in enumerate(zip(self.lists_a, self.lists_b, self.judged, strict=True)):
            for j in range(d):
                ids, teams = team_draft(a, b, k, rng)
                il_grades[i, j, : len(ids)] = [float(qrel.get(x, 0.0)) for x in ids]
                il_teams[i, j, : len(teams)] = teams
        self.il_probs = np.nan_to_num(self.model.click_probs(il_grades))
        self.il_teams = il_teams

    @property
    def queries(self) -> int:
        return len(self.judged)

    def expected_clicks(self) -> dict[str, float]:
        """Exact mean clicks per session under each ranker (uniform over queries)."""
        return {"A": float(self.probs_a.sum(1).mean()), "B": float(self.probs_b.sum(1).mean())}

    def clicks(self, variant: str, query_idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Clicks per session for sessions on the given queries under ranker 'A' or 'B' (exact Poisson-binomial draws)."""
        cdf = self.cdf[variant][query_idx]
        return (rng.random(len(query_idx))[:, None] > cdf[:, :-1]).sum(axis=1).astype(np.float64)

    def interleaved(self, query_idx: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Per session: the interleaved list's teams (n, k) and the clicked positions (n, k) under the click model."""
        d = rng.integers(self.draws, size=len(query_idx))
        clicked = rng.random((len(query_idx), self.model.k)) < self.il_probs[query_idx, d]
        return self.il_teams[query_idx, d], clicked

    def outcomes(self, query_idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Interleaving outcome per session: +1 A wins, −1 B wins, 0 tie (`interleave.credit`, vectorised as `credit_batch`)."""
        from shopmind.experiments.interleave import credit_batch

        teams, clicked = self.interleaved(query_idx, rng)
        return credit_batch(teams, clicked)

    # -- A/A ---------------------------------------------------------------------------------------------
    def aa(self, runs: int, users: int, assign: Callable[[Sequence[str], str], np.ndarray], *, alpha: float = 0.05, looks: int = 10,
           seed: int = 1) -> dict[str, Any]:
        """`runs` A/A experiments (both arms serve ranker A), users split by `assign(user_ids, salt)` with a fresh salt each run.

        Counts rejections of the fixed-horizon Welch test, of mSPRT looked at `looks` times, and of a naive Welch test
        looked at as often (the peeking that mSPRT makes safe)."""
        from shopmind.experiments.stats import mean_test, msprt

        rng = np.random.default_rng(seed)
        ids = [f"sim-user-{i}" for i in range(users)]
        pmf = np.diff(self.cdf["A"], prepend=0.0, axis=1)  # the metric's spread is known before the test (as from a pre-period):
        k = np.arange(pmf.shape[1])
        sd2 = float((pmf @ k**2).mean() - ((pmf @ k).mean()) ** 2)
        tau2 = 0.01 * sd2  # mSPRT's mixing variance fixed up front, (0.1 sd)^2, for a strict always-valid guarantee
        cuts = np.unique(np.linspace(users / looks, users, looks).astype(int))
        fixed = seq = naive = 0
        srm_flags, shares = 0, []
        for run in range(runs):
            arm = np.asarray(assign(ids, f"aa-{seed}-{run}"))
            y = self.clicks("A", rng.integers(self.queries, size=users), rng)
            a, b = y[arm == 0], y[arm == 1]
            shares.append(float((arm == 1).mean()))
            fixed += mean_test(a, b, alpha).p_value < alpha
            seq_hit = naive_hit = False
            for c in cuts:
                ya, yb = y[:c][arm[:c] == 0], y[:c][arm[:c] == 1]
                if len(ya) < 2 or len(yb) < 2:
                    continue
                seq_hit = seq_hit or msprt(ya, yb, alpha, tau2=tau2).p_value < alpha
                naive_hit = naive_hit or mean_test(ya, yb, alpha).p_value < alpha
            seq += seq_hit
            naive += naive_hit
            srm_flags += _srm(int((arm == 0).sum()), int((arm == 1).sum())) < 0.001
        return {"runs": runs, "users_per_run": users, "alpha": alpha, "looks": len(cuts), "msprt_tau2": round(tau2, 6),
                "false_positive_rate": fixed / runs, "false_positive_ci95": _wilson(fixed, runs),
                "msprt_peeking_false_positive_rate": seq / runs, "naive_peeking_false_positive_rate": naive / runs,
                "share_b_mean": round(float(np.mean(shares)), 4), "srm_flags_at_0.001": srm_flags}

    # -- power ----------------------------------------------------------------------------------------------
    def ab_power(self, n_grid: Sequence[int], reps: int, *, alpha: float = 0.05, seed: int = 2) -> list[float]:
        """Power of an A/B test on clicks per session with n sessions in all (n/2 per arm): B detected as better."""
        from shopmind.experiments.stats import mean_test

        rng = np.random.default_rng(seed)
        out = []
        for n in n_grid:
            half = max(int(n) // 2, 2)
            hits = 0
            for _ in range(reps):
                a = self.clicks("A", rng.integers(self.queries, size=half), rng)
                b = self.clicks("B", rng.integers(self.queries, size=half), rng)
                r = mean_test(a, b, alpha)
                hits += r.p_value < alpha and r.effect > 0
            out.append(hits / reps)
        return out

    def interleaving_power(self, n_grid: Sequence[int], reps: int, *, alpha: float = 0.05, seed: int = 3) -> list[float]:
        """Power of team-draft interleaving with n sessions: B's share of wins detected above one half."""
        from shopmind.experiments.interleave import interleaving_test

        rng = np.random.default_rng(seed)
        out = []
        for n in n_grid:
            hits = 0
            for _ in range(reps):
                o = self.outcomes(rng.integers(self.queries, size=int(n)), rng)
                r = interleaving_test(o, alpha)
                hits += r.p_value < alpha and r.effect > 0
            out.append(hits / reps)
        return out

    def effect_sizes(self, sessions: int = 200_000, seed: int = 4) -> dict[str, float]:
        """Per-session moments both designs' power depends on (exact for A/B; Monte Carlo for interleaving)."""
        rng = np.random.default_rng(seed)
        q = rng.integers(self.queries, size=sessions)
        o = self.outcomes(q, rng)
        ya, yb = self.clicks("A", q, rng), self.clicks("B", q, rng)
        wins_a, wins_b = float((o == 1).mean()), float((o == -1).mean())
        return {"clicks_a": float(ya.mean()), "clicks_b": float(yb.mean()), "clicks_sd": float(np.sqrt((ya.var() + yb.var()) / 2)),
                "interleaving_a_wins": wins_a, "interleaving_b_wins": wins_b, "interleaving_ties": 1.0 - wins_a - wins_b}


def _srm(n0: int, n1: int) -> float:
    from shopmind.experiments.stats import srm_pvalue

    return float(srm_pvalue([n0, n1], [0.5, 0.5]))


def _wilson(k: int, n: int, z: float = 1.959964) -> list[float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(centre - half, 4), round(centre + half, 4)]
