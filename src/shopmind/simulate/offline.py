"""Offline, vectorised sessions for validating the experiment machinery (A/A rate, A/B vs interleaving power).

Thousands of simulated experiments cannot go through HTTP on one small machine, so the two rankers' result lists are
computed once (through the facade: `ranked_lists`) and sessions are then drawn in numpy under the same click model
the HTTP simulator uses (`clickmodel.ClickModel`). A session = one shopper, one real query drawn uniformly from the
frozen query set, the top k shown. The A/B metric is clicks per session (= CTR × k: k results are always shown),
tested with `experiments.stats`; interleaving uses `experiments.interleave` (team_draft, credit, interleaving_test).
Every team draft a query can get is enumerated (`draft_coins`), so interleaved sessions follow team draft exactly, and
`exact_moments` gives each design's per-session moments with no Monte Carlo error (the normal-approximation check).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shopmind.simulate.clickmodel import ClickModel, clicks_pmf

__all__ = ["OfflineLab", "fit_sessions_for_power", "ranked_lists", "ratio_interval", "sessions_for_power"]
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


def _probit_fit(n_grid: np.ndarray, hits: np.ndarray, reps: np.ndarray, iterations: int = 100) -> tuple[float, float] | None:
    """Maximum-likelihood (a, b) of power(n) = Phi(a + b sqrt(n)) from `hits` rejections out of `reps` at each n
    (Fisher scoring / IRLS for a binomial GLM with probit link); None when it does not converge or b <= 0."""
    from scipy.stats import norm

    x = np.sqrt(np.asarray(n_grid, np.float64))
    h, r = np.asarray(hits, np.float64), np.asarray(reps, np.float64)
    design = np.column_stack([np.ones_like(x), x / x.max()])
    rate = np.clip(h / r, 0.5 / r, 1 - 0.5 / r)
    theta = np.linalg.lstsq(design, norm.ppf(rate), rcond=None)[0]  # start: least squares on the probit of the rates
    for _ in range(iterations):
        z = design @ theta
        mu = np.clip(norm.cdf(z), 1e-12, 1 - 1e-12)
        dens = np.maximum(norm.pdf(z), 1e-300)
        w = r * dens * dens / (mu * (1 - mu))
        work = z + (h / r - mu) / dens
        step = np.linalg.lstsq(design * np.sqrt(w)[:, None], work * np.sqrt(w), rcond=None)[0]
        if not np.all(np.isfinite(step)):
            return None
        done = np.max(np.abs(step - theta)) < 1e-8 * (1 + np.max(np.abs(theta)))
        theta = step
        if done:
            break
    else:
        return None
    a, b = float(theta[0]), float(theta[1]) / float(x.max())
    return (a, b) if b > 0 else None


def fit_sessions_for_power(n_grid: Sequence[int], rejections: np.ndarray, target: float = 0.8) -> float | None:
    """Sessions for `target` power from a probit curve fitted to every grid point's rejections (G, reps) at once.

    Under the normal approximation every test here has P(detect B) = Phi(a + b sqrt(n)) (a = -z_{alpha/2} for a
    z-test); fitting that curve to all points uses every repetition, where interpolating between two neighbouring
    noisy points (`sessions_for_power`) uses two: about half the Monte Carlo spread at the same cost. None if it fails."""
    from scipy.stats import norm

    rej = np.asarray(rejections, bool)
    fit = _probit_fit(np.asarray(n_grid, np.float64), rej.sum(axis=1), np.full(rej.shape[0], rej.shape[1]))
    if fit is None:
        return None
    a, b = fit
    return float(((norm.ppf(target) - a) / b) ** 2) if norm.ppf(target) > a else float(n_grid[0])


def ratio_interval(grid_ab: Sequence[int], rej_ab: np.ndarray, grid_il: Sequence[int], rej_il: np.ndarray, *, n_boot: int = 1000,
                   level: float = 0.95, seed: int = 0, how: str = "fit") -> dict[str, Any]:
    """Bootstrap over repetitions of the ratio A/B sessions / interleaving sessions for 80 % power (Monte Carlo error).

    Each bootstrap replicate resamples, at every grid point, that point's repeated experiments with replacement and
    recomputes both curves' 80 % point (`how`: "fit" = `fit_sessions_for_power`, "interp" = `sessions_for_power`)."""
    rng = np.random.default_rng(seed)
    find = fit_sessions_for_power if how == "fit" else (lambda g, r: sessions_for_power(g, np.asarray(r).mean(axis=1)))
    ra, ri = np.asarray(rej_ab, bool), np.asarray(rej_il, bool)

    def resample(r: np.ndarray) -> np.ndarray:
        return np.take_along_axis(r, rng.integers(r.shape[1], size=r.shape), axis=1)

    ratios = []
    for _ in range(n_boot):
        na, ni = find(grid_ab, resample(ra)), find(grid_il, resample(ri))
        ratios.append(na / ni if na and ni else np.nan)
    arr = np.asarray(ratios)
    ok = arr[np.isfinite(arr)]
    tail = (1 - level) / 2
    lo, hi = (np.quantile(ok, [tail, 1 - tail]).tolist() if ok.size else [None, None])
    return {"low": lo, "high": hi, "level": level, "n_boot": n_boot, "failed": int(arr.size - ok.size), "how": how}


@dataclass
class OfflineLab:
    """Two rankers' top-k lists for the same queries, with their judgements; draws sessions under the click model."""

    lists_a: list[list[str]]
    lists_b: list[list[str]]
    judged: list[dict[str, float]]
    model: ClickModel = field(default_factory=ClickModel)
    draws: int | None = None  # None: every team draft of each query (exact); an int: that many sampled ones
    seed: int = 0

    def __post_init__(self) -> None:
        from shopmind.experiments.interleave import draft_coins, team_draft

        k = self.model.k
        self.grades_a = _grades(self.lists_a, self.judged, k)
        self.grades_b = _grades(self.lists_b, self.judged, k)
        self.probs_a = np.nan_to_num(self.model.click_probs(self.grades_a))
        self.probs_b = np.nan_to_num(self.model.click_probs(self.grades_b))
        self.cdf = {"A": np.cumsum(clicks_pmf(self.probs_a), axis=1), "B": np.cumsum(clicks_pmf(self.probs_b), axis=1)}
        rng = np.random.default_rng(self.seed)
        coins = draft_coins(k) if self.draws is None else None
        q, d = len(self.judged), (len(coins) if coins is not None else int(self.draws or 0))
        il_grades = np.full((q, d, k), np.nan)
        il_teams = np.full((q, d, k), -1, np.int8)
        for i, (a, b, qrel) in enumerate(zip(self.lists_a, self.lists_b, self.judged, strict=True)):
            for j in range(d):
                ids, teams = team_draft(a, b, k, rng) if coins is None else team_draft(a, b, k, coins=coins[j])
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
        d = rng.integers(self.il_teams.shape[1], size=len(query_idx))
        clicked = rng.random((len(query_idx), self.model.k)) < self.il_probs[query_idx, d]
        return self.il_teams[query_idx, d], clicked

    def outcomes(self, query_idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Interleaving outcome per session: +1 A wins, −1 B wins, 0 tie (`interleave.credit`, vectorised as `credit_batch`)."""
        from shopmind.experiments.interleave import credit_batch

        teams, clicked = self.interleaved(query_idx, rng)
        return credit_batch(teams, clicked)

    def differences(self, query_idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Per session: B-team clicks − A-team clicks (`interleave.click_difference_batch`); its sign is −`outcomes`."""
        from shopmind.experiments.interleave import click_difference_batch

        teams, clicked = self.interleaved(query_idx, rng)
        return click_difference_batch(teams, clicked)

    def exact_moments(self) -> dict[str, float]:
        """Per-session moments of both designs, exactly (no sampling): clicks per session under A and B (uniform over
        queries), and the distribution of the team click difference D = B − A over queries and every team draft."""
        pa, pb = (np.diff(self.cdf[v], prepend=0.0, axis=1) for v in "AB")
        c = np.arange(pa.shape[1], dtype=np.float64)
        out = {}
        for v, pmf in (("a", pa), ("b", pb)):
            m1, m2 = float((pmf @ c).mean()), float((pmf @ c**2).mean())
            out[f"clicks_{v}"], out[f"clicks_var_{v}"] = m1, m2 - m1 * m1
            out[f"clicks_var_between_queries_{v}"] = float((pmf @ c).var())  # the part of the A/B variance interleaving removes
        k = self.il_probs.shape[-1]
        p = self.il_probs.reshape(-1, k)
        step = np.where(self.il_teams.reshape(-1, k) == 1, 1, np.where(self.il_teams.reshape(-1, k) == 0, -1, 0))
        dist = np.zeros((p.shape[0], 2 * k + 1))
        dist[:, k] = 1.0  # D = 0 before any position
        for j in range(k):
            moved = np.where((step[:, j] == 1)[:, None], np.roll(dist, 1, axis=1), np.roll(dist, -1, axis=1))
            pj = np.where(step[:, j] == 0, 0.0, p[:, j])[:, None]
            dist = dist * (1 - pj) + moved * pj  # no wrap-around: |D| <= j + 1 <= k before the roll
        mean_dist = dist.mean(axis=0)  # uniform over queries, and over the equally likely drafts of each query
        values = np.arange(-k, k + 1, dtype=np.float64)
        d1, d2 = float(mean_dist @ values), float(mean_dist @ values**2)
        out.update(diff_mean=d1, diff_var=d2 - d1 * d1, b_wins=float(mean_dist[k + 1 :].sum()), a_wins=float(mean_dist[:k].sum()))
        out["ties"] = 1.0 - out["a_wins"] - out["b_wins"]
        return out

    def normal_sessions_for_power(self, alpha: float = 0.05, power: float = 0.8) -> dict[str, float | None]:
        """Sessions for `power` under the normal approximation from `exact_moments` (the simulation's cross-check):
        A/B Welch with n/2 per arm; the sign test on decided sessions; the t-test of the mean click difference."""
        from scipy.stats import norm

        m = self.exact_moments()
        za, zb = norm.ppf(1 - alpha / 2), norm.ppf(power)
        delta = m["clicks_b"] - m["clicks_a"]
        ab = 2 * (za + zb) ** 2 * (m["clicks_var_a"] + m["clicks_var_b"]) / delta**2 if delta > 0 else None
        decided = m["a_wins"] + m["b_wins"]
        q = m["b_wins"] / decided if decided else 0.5
        sign = ((za * 0.5 + zb * np.sqrt(q * (1 - q))) / (q - 0.5)) ** 2 / decided if q > 0.5 else None
        t = (za + zb) ** 2 * m["diff_var"] / m["diff_mean"] ** 2 if m["diff_mean"] > 0 else None
        return {"ab": None if ab is None else float(ab), "interleaving_sign": None if sign is None else float(sign),
                "interleaving_t": None if t is None else float(t)}

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
    def ab_rejections(self, n_grid: Sequence[int], reps: int, *, alpha: float = 0.05, seed: int = 2) -> np.ndarray:
        """(len(n_grid), reps): did an A/B test on clicks per session with n sessions in all (n/2 per arm, each
        session its own uniform query) find B better (Welch p < alpha, effect > 0)?"""
        from shopmind.experiments.stats import mean_test

        rng = np.random.default_rng(seed)
        out = np.zeros((len(n_grid), reps), bool)
        for g, n in enumerate(n_grid):
            half = max(int(n) // 2, 2)
            for r in range(reps):
                a = self.clicks("A", rng.integers(self.queries, size=half), rng)
                b = self.clicks("B", rng.integers(self.queries, size=half), rng)
                res = mean_test(a, b, alpha)
                out[g, r] = res.p_value < alpha and res.effect > 0
        return out

    def interleaving_rejections(self, n_grid: Sequence[int], reps: int, *, alpha: float = 0.05, seed: int = 3) -> dict[str, np.ndarray]:
        """(len(n_grid), reps) per statistic, on the same simulated sessions: "sign" = the exact sign test on decided
        sessions (`interleaving_test`), "t" = the t-test of the mean click difference (`interleaving_t_test`)."""
        from shopmind.experiments.interleave import click_difference_batch, interleaving_t_test, interleaving_test

        rng = np.random.default_rng(seed)
        out = {"sign": np.zeros((len(n_grid), reps), bool), "t": np.zeros((len(n_grid), reps), bool)}
        for g, n in enumerate(n_grid):
            for r in range(reps):
                teams, clicked = self.interleaved(rng.integers(self.queries, size=int(n)), rng)
                diff = click_difference_batch(teams, clicked)
                sign, t = interleaving_test(-np.sign(diff), alpha), interleaving_t_test(diff, alpha)
                out["sign"][g, r] = sign.p_value < alpha and sign.effect > 0
                out["t"][g, r] = t.p_value < alpha and t.effect > 0
        return out

    def ab_power(self, n_grid: Sequence[int], reps: int, *, alpha: float = 0.05, seed: int = 2) -> list[float]:
        """Power of an A/B test on clicks per session with n sessions in all (n/2 per arm): B detected as better."""
        return self.ab_rejections(n_grid, reps, alpha=alpha, seed=seed).mean(axis=1).tolist()

    def interleaving_power(self, n_grid: Sequence[int], reps: int, *, alpha: float = 0.05, seed: int = 3, statistic: str = "sign") -> list[float]:
        """Power of team-draft interleaving with n sessions (`statistic` "sign": B's share of wins above one half)."""
        return self.interleaving_rejections(n_grid, reps, alpha=alpha, seed=seed)[statistic].mean(axis=1).tolist()

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
