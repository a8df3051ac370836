"""Statistics of A/B tests: Welch and delta-method tests, CUPED, sample-ratio mismatch, guardrails, multiple variants.

Conventions: the effect is always B − A (treatment minus control); `rel_effect` is mean_B / mean_A − 1 with a
log-scale delta-method interval. The formulas match tea-tasting's `Mean` / `RatioOfMeans` (Welch t, per-arm sample
variances with ddof=1, CUPED's theta from both arms pooled); tests/experiments/test_stats.py checks them against it.
Degenerate data never yields NaN: an arm with fewer than two units gives the "no evidence" result (interval
(−inf, inf), p = 1; `to_dict()` writes inf as None); zero variance in both arms gives a point interval with p = 1
when the means are equal and p = 0 otherwise (fixed-horizon tests; the mSPRT treats zero spread as no evidence yet).
Mismatched or non-finite inputs raise ValueError. `msprt` / `msprt_path`: the always-valid sequential test.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import numpy as np
from scipy import stats as sps

ArrayLike = Sequence[float] | np.ndarray
Verdict = Literal["pass", "fail", "inconclusive"]


@dataclass(frozen=True)
class TestResult:
    """One comparison B − A: effect with its (1 − alpha) interval, p-value, arm sizes and the relative effect."""

    __test__ = False  # not a pytest test class

    effect: float
    ci_low: float
    ci_high: float
    p_value: float
    n_a: int
    n_b: int
    rel_effect: float | None = None
    method: str = ""
    rel_ci_low: float | None = None
    rel_ci_high: float | None = None
    mean_a: float | None = None
    mean_b: float | None = None
    alpha: float = 0.05

    @property
    def significant(self) -> bool:
        """True when the p-value is at most the alpha the test was run with."""
        return self.p_value <= self.alpha

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: infinite bounds (no evidence yet) become None."""
        out = asdict(self)
        for key, val in out.items():
            if isinstance(val, float) and not math.isfinite(val):
                out[key] = None
        return out


def _arr(x: ArrayLike, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64).ravel()
    if a.size and not np.all(np.isfinite(a)):
        raise ValueError(f"{name} has non-finite values")
    return a


def _moments(x: np.ndarray) -> tuple[int, float, float]:
    n = int(x.size)
    mean = float(x.mean()) if n else 0.0
    var = float(x.var(ddof=1)) if n > 1 else 0.0
    return n, mean, var


def _welch_df(sa: float, sb: float, n_a: int, n_b: int) -> float:
    return (sa + sb) ** 2 / (sa * sa / (n_a - 1) + sb * sb / (n_b - 1))


def _relative(
    mean_a: float, var_a: float, n_a: int, mean_b: float, var_b: float, n_b: int, alpha: float
) -> tuple[float | None, float | None, float | None]:
    """mean_B / mean_A − 1 and its interval from the log ratio's delta-method variance (as tea-tasting does)."""
    if mean_a <= 0:
        return None, None, None  # relative change undefined (zero control) or misleading (negative control)
    rel = mean_b / mean_a - 1.0
    if mean_b <= 0 or n_a < 2 or n_b < 2:
        return rel, None, None
    sa, sb = var_a / mean_a**2 / n_a, var_b / mean_b**2 / n_b
    if sa + sb == 0:
        return rel, rel, rel
    half = float(sps.t.ppf(1 - alpha / 2, _welch_df(sa, sb, n_a, n_b))) * math.sqrt(sa + sb)
    ratio = rel + 1.0
    return rel, ratio / math.exp(half) - 1.0, ratio * math.exp(half) - 1.0


def compare_moments(
    mean_a: float, var_a: float, n_a: int, mean_b: float, var_b: float, n_b: int, alpha: float = 0.05, method: str = "welch"
) -> TestResult:
    """Welch t-test of B − A from per-arm mean, sample variance (ddof=1) and size; the core of every test here."""
    if not 0 < alpha < 1:
        raise ValueError("alpha must be in (0, 1)")
    effect = (mean_b - mean_a) if n_a and n_b else 0.0
    rel, rel_lo, rel_hi = _relative(mean_a, var_a, n_a, mean_b, var_b, n_b, alpha) if n_a and n_b else (None, None, None)

    def result(low: float, high: float, p: float, how: str) -> TestResult:
        return TestResult(effect, low, high, p, int(n_a), int(n_b), rel, how, rel_lo, rel_hi,
                          mean_a if n_a else None, mean_b if n_b else None, alpha)

    if n_a < 2 or n_b < 2:
        return result(-math.inf, math.inf, 1.0, f"{method} (too few units)")
    sa, sb = max(var_a, 0.0) / n_a, max(var_b, 0.0) / n_b
    se = math.sqrt(sa + sb)
    if se == 0:
        return result(effect, effect, 1.0 if effect == 0 else 0.0, f"{method} (zero variance)")
    df = _welch_df(sa, sb, n_a, n_b)
    half = float(sps.t.ppf(1 - alpha / 2, df)) * se
    p = float(2 * sps.t.sf(abs(effect) / se, df))
    return result(effect - half, effect + half, min(p, 1.0), method)


def mean_test(a: ArrayLike, b: ArrayLike, alpha: float = 0.05) -> TestResult:
    """Welch's t-test for the difference of means B − A (per-unit metrics: conversion, revenue per user)."""
    na, ma, va = _moments(_arr(a, "a"))
    nb, mb, vb = _moments(_arr(b, "b"))
    return compare_moments(ma, va, na, mb, vb, nb, alpha, "welch")


def _ratio_moments(num: np.ndarray, den: np.ndarray) -> tuple[int, float, float]:
    if num.shape != den.shape:
        raise ValueError("numerator and denominator must have the same length")
    n = int(num.size)
    if n == 0:
        return 0, 0.0, 0.0
    mn, md = float(num.mean()), float(den.mean())
    if md == 0:
        return 0, 0.0, 0.0  # no denominator yet (no impressions): treated as an empty arm
    ratio = mn / md
    if n < 2:
        return n, ratio, 0.0
    vn, vd = float(num.var(ddof=1)), float(den.var(ddof=1))
    cov = float(np.cov(num, den, ddof=1)[0, 1])
    var = (vn - 2 * cov * ratio + vd * ratio * ratio) / (md * md)
    return n, ratio, max(var, 0.0)


def ratio_test(
    num_a: ArrayLike, den_a: ArrayLike, num_b: ArrayLike, den_b: ArrayLike, alpha: float = 0.05
) -> TestResult:
    """Ratio of sums per arm (CTR = clicks / impressions over users) with the delta-method variance, Welch t."""
    na, ra, va = _ratio_moments(_arr(num_a, "num_a"), _arr(den_a, "den_a"))
    nb, rb, vb = _ratio_moments(_arr(num_b, "num_b"), _arr(den_b, "den_b"))
    return compare_moments(ra, va, na, rb, vb, nb, alpha, "delta-ratio")


def cuped_theta(y: ArrayLike, x: ArrayLike) -> float:
    """CUPED coefficient cov(y, x) / var(x); 0 when the covariate is constant or there are fewer than two units."""
    yy, xx = _arr(y, "y"), _arr(x, "x")
    if yy.shape != xx.shape:
        raise ValueError("y and x must have the same length")
    if yy.size < 2:
        return 0.0
    vx = float(xx.var(ddof=1))
    return float(np.cov(yy, xx, ddof=1)[0, 1] / vx) if vx > 0 else 0.0


def cuped(y: ArrayLike, x: ArrayLike) -> tuple[np.ndarray, float]:
    """CUPED (Deng et al. 2013): y − theta·(x − mean x) keeps the mean and removes the variance x explains."""
    yy, xx = _arr(y, "y"), _arr(x, "x")
    theta = cuped_theta(yy, xx)
    return yy - theta * (xx - (xx.mean() if xx.size else 0.0)), theta


def cuped_multi(y: ArrayLike, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CUPED with several pre-period covariates (columns of x): least-squares thetas on centred data (Deng et al. §3.3)."""
    yy, xx = _arr(y, "y"), np.asarray(x, dtype=np.float64).reshape(len(y), -1)
    if yy.size < 2 or not np.all(np.isfinite(xx)):
        return yy.copy(), np.zeros(xx.shape[1])
    xc = xx - xx.mean(axis=0)
    theta = np.linalg.lstsq(xc, yy - yy.mean(), rcond=None)[0]
    return yy - xc @ theta, theta


def cuped_test(y_a: ArrayLike, x_a: ArrayLike, y_b: ArrayLike, x_b: ArrayLike, alpha: float = 0.05) -> TestResult:
    """Welch test on CUPED-adjusted outcomes, theta estimated on both arms pooled (x: the pre-period covariate,
    or a 2-D array of several covariates, one row per unit)."""
    ya, yb = _arr(y_a, "y_a"), _arr(y_b, "y_b")
    xa, xb = np.asarray(x_a, dtype=np.float64), np.asarray(x_b, dtype=np.float64)
    if len(xa) != ya.size or len(xb) != yb.size or xa.ndim != xb.ndim or xa.ndim > 2:
        raise ValueError("each arm needs one covariate value (or row) per unit")
    y_all, x_all = np.concatenate([ya, yb]), np.concatenate([xa, xb])
    adj = cuped_multi(y_all, x_all)[0] if x_all.ndim == 2 else cuped(y_all, x_all)[0]
    res = mean_test(adj[: ya.size], adj[ya.size :], alpha)
    return replace(res, method=res.method.replace("welch", "cuped"))


def variance_reduction(y: ArrayLike, x: ArrayLike) -> float:
    """Share of var(y) CUPED removes with covariate x: 1 − var(adjusted) / var(y) (= corr² in-sample)."""
    yy = _arr(y, "y")
    vy = float(yy.var(ddof=1)) if yy.size > 1 else 0.0
    if vy == 0:
        return 0.0
    adj, _ = cuped(yy, x)
    return float(1.0 - adj.var(ddof=1) / vy)


def srm_pvalue(counts: Sequence[int], shares: Sequence[float]) -> float:
    """Sample-ratio-mismatch p-value: chi-square goodness of fit of the arm counts to the configured shares."""
    c = np.asarray(counts, dtype=np.float64)
    s = np.asarray(shares, dtype=np.float64)
    if c.shape != s.shape or c.ndim != 1 or c.size < 2:
        raise ValueError("need one share per arm and at least two arms")
    if np.any(s <= 0) or np.any(c < 0) or not np.all(np.isfinite(s)):
        raise ValueError("shares must be positive and counts non-negative")
    total = c.sum()
    if total == 0:
        return 1.0
    expected = total * s / s.sum()
    chi2 = float(((c - expected) ** 2 / expected).sum())
    return float(sps.chi2.sf(chi2, c.size - 1))


def guardrail_check(result: TestResult, max_harm: float, *, relative: bool = False, higher_is_better: bool = True) -> Verdict:
    """Non-inferiority verdict for a guardrail metric: "pass" when the interval rules out a harm of max_harm or more,
    "fail" when the harm is significant and its estimate exceeds max_harm, "inconclusive" otherwise."""
    if max_harm < 0:
        raise ValueError("max_harm is a size (>= 0)")
    if relative:
        if result.rel_effect is None or result.rel_ci_low is None or result.rel_ci_high is None:
            return "inconclusive"
        eff, lo, hi = result.rel_effect, result.rel_ci_low, result.rel_ci_high
    else:
        eff, lo, hi = result.effect, result.ci_low, result.ci_high
    if not higher_is_better:
        eff, lo, hi = -eff, -hi, -lo
    if lo > -max_harm:
        return "pass"
    if hi < 0 and -eff > max_harm:
        return "fail"
    return "inconclusive"


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values (family-wise error control for several variants against one control)."""
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p)
    adj = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m))))
    out = np.empty(m)
    out[order] = adj
    return out


def each_vs_control(
    control: ArrayLike | tuple[ArrayLike, ...],
    variants: Mapping[str, ArrayLike | tuple[ArrayLike, ...]],
    test: Callable[..., TestResult] = mean_test,
    alpha: float = 0.05,
    correction: Literal["holm", "bonferroni", "none"] = "holm",
) -> dict[str, TestResult]:
    """Test every variant against the control. Tuples are spread into `test` (ratio_test: (num, den); cuped_test:
    (y, x)). With k > 1 variants the p-values are adjusted (Holm or Bonferroni) and intervals use alpha / k."""
    k = len(variants)
    level = alpha / k if correction != "none" and k > 1 else alpha
    args = lambda d: d if isinstance(d, tuple) else (d,)
    results = {name: test(*args(control), *args(data), alpha=level) for name, data in variants.items()}
    if correction == "none" or k < 2:
        return results
    raw = [r.p_value for r in results.values()]
    adj = holm(raw) if correction == "holm" else np.minimum(1.0, np.asarray(raw) * k)
    return {name: replace(r, p_value=float(p), alpha=alpha, method=f"{r.method}+{correction}")
            for (name, r), p in zip(results.items(), adj, strict=True)}


def power_sample_size(mde: float, sd: float, alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0) -> int:
    """Units needed in the control arm (treatment: ratio × that) for a two-sided z-test to detect an absolute
    difference `mde` with the given power, `sd` being the per-unit standard deviation."""
    if mde == 0 or sd < 0 or ratio <= 0:
        raise ValueError("need mde != 0, sd >= 0 and ratio > 0")
    z = sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(power)
    return max(2, math.ceil(z * z * sd * sd * (1 + 1 / ratio) / (mde * mde)))


# -- always-valid sequential test (mSPRT, normal mixture) ------------------------------------------------------
@dataclass(frozen=True)
class MsprtPath:
    """mSPRT over cumulative looks: arm sizes per look and, per look (last axis), the effect, the running-minimum
    always-valid p-value and the running intersection of the confidence sequence."""

    n_a: np.ndarray
    n_b: np.ndarray
    effect: np.ndarray
    p_value: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray


def msprt_tau2(a: ArrayLike | np.ndarray, b: ArrayLike | np.ndarray, scale: float = 0.1) -> np.ndarray | float:
    """Default mixing variance: (scale · pooled within-arm sd)², i.e. the mixture centres on effects of about a tenth
    of a standard deviation. Uses only within-arm spread, not the difference; works per row for 2-D input."""
    xa, xb = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    na, nb = xa.shape[-1], xb.shape[-1]
    if na + nb < 3:
        return 0.0 if xa.ndim == 1 else np.zeros(xa.shape[:-1])
    ss = (xa.var(axis=-1) * na if na else 0.0) + (xb.var(axis=-1) * nb if nb else 0.0)
    pooled = ss / max(na + nb - (na > 0) - (nb > 0), 1)
    out = scale * scale * pooled
    return float(out) if np.ndim(out) == 0 else np.asarray(out)


def _msprt_core(d: np.ndarray, v: np.ndarray, tau2: np.ndarray | float, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Always-valid p-value 1/Λ and confidence-sequence half-width for effect d with sampling variance v (vectorised).
    Λ = sqrt(v / (v + τ²)) · exp(τ² d² / (2 v (v + τ²))) (Johari, Pekelis & Walsh); v NaN or 0 = no estimate yet."""
    d, v = np.broadcast_arrays(np.asarray(d, dtype=np.float64), np.asarray(v, dtype=np.float64))
    t2 = np.broadcast_to(np.asarray(tau2, dtype=np.float64), d.shape)
    known = np.isfinite(v)
    pos = known & (v > 0) & (t2 > 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        vs, ts = np.where(pos, v, 1.0), np.where(pos, t2, 1.0)
        log_lam = 0.5 * np.log(vs / (vs + ts)) + ts * d * d / (2 * vs * (vs + ts))
        half = np.sqrt(vs * (vs + ts) / ts * (np.log((vs + ts) / vs) - 2 * math.log(alpha)))
    log_lam = np.where(pos, log_lam, 0.0)  # no spread yet (e.g. no purchase so far): no evidence, not a point interval
    half = np.where(pos, half, np.inf)
    return np.minimum(1.0, np.exp(-log_lam)), half


def _cum_moments(x: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sample variance (NaN below two units) of the first `ends[k]` units, along the last axis."""
    zero = np.zeros((*x.shape[:-1], 1))
    s1 = np.concatenate([zero, np.cumsum(x, axis=-1)], axis=-1)[..., ends]
    s2 = np.concatenate([zero, np.cumsum(x * x, axis=-1)], axis=-1)[..., ends]
    n = ends.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n > 0, s1 / np.maximum(n, 1), 0.0)
        var = np.where(n > 1, np.maximum(s2 - n * mean * mean, 0.0) / (n - 1), np.nan)
    return mean, var


def _look_ends(n: int, looks: int | Sequence[float]) -> np.ndarray:
    fracs = np.arange(1, looks + 1) / looks if isinstance(looks, int) else np.asarray(looks, dtype=np.float64)
    if fracs.size == 0 or np.any(fracs <= 0) or np.any(fracs > 1) or np.any(np.diff(fracs) <= 0):
        raise ValueError("looks: a positive count, or increasing fractions in (0, 1]")
    return np.ceil(fracs * n - 1e-9).astype(np.int64)


def msprt_path(
    a: ArrayLike | np.ndarray, b: ArrayLike | np.ndarray, looks: int | Sequence[float] = 20, alpha: float = 0.05,
    tau2: float | np.ndarray | None = None,
) -> MsprtPath:
    """mSPRT at cumulative looks over units in arrival order (`looks` equal steps or fractions of each arm).
    2-D input = many experiments at once (rows); the p-value never increases and the interval never widens."""
    xa, xb = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if xa.shape[:-1] != xb.shape[:-1] or not (np.all(np.isfinite(xa)) and np.all(np.isfinite(xb))):
        raise ValueError("a and b need the same leading shape and finite values")
    ea, eb = _look_ends(xa.shape[-1], looks), _look_ends(xb.shape[-1], looks)
    t2 = np.asarray(msprt_tau2(xa, xb) if tau2 is None else tau2, dtype=np.float64)
    t2 = t2[..., None] if t2.ndim else t2  # one mixing variance per experiment (row), shared by its looks
    ma, va = _cum_moments(xa, ea)
    mb, vb = _cum_moments(xb, eb)
    d = mb - ma
    p, half = _msprt_core(d, va / np.maximum(ea, 1) + vb / np.maximum(eb, 1), t2, alpha)
    return MsprtPath(ea, eb, d, np.minimum.accumulate(p, axis=-1),
                     np.maximum.accumulate(d - half, axis=-1), np.minimum.accumulate(d + half, axis=-1))


def msprt(a: ArrayLike, b: ArrayLike, alpha: float = 0.05, tau2: float | None = None) -> TestResult:
    """Always-valid p-value and confidence sequence for B − A at the current look (safe to recompute after every
    batch: rejecting whenever p ≤ alpha keeps the error ≤ alpha). Fix tau2 at the start for a strict guarantee."""
    xa, xb = _arr(a, "a"), _arr(b, "b")
    t2 = float(msprt_tau2(xa, xb)) if tau2 is None else float(tau2)
    base = mean_test(xa, xb, alpha)
    na, nb = xa.size, xb.size
    v = (xa.var(ddof=1) / na + xb.var(ddof=1) / nb) if na > 1 and nb > 1 else math.nan
    p, half = _msprt_core(np.asarray(base.effect), np.asarray(v), t2, alpha)
    h = float(half)
    return replace(base, ci_low=base.effect - h, ci_high=base.effect + h, p_value=float(p), rel_ci_low=None, rel_ci_high=None,
                   method=f"msprt(tau2={t2:.4g})")


def msprt_mean(x: ArrayLike, alpha: float = 0.05, tau2: float | None = None) -> TestResult:
    """Always-valid test that the mean of `x` is 0 (one sample: e.g. per-unit interleaving scores); tau2 defaults to
    (0.1 sd)². n_a / n_b count the units below / above 0."""
    v = _arr(x, "x")
    n, mean, var = _moments(v)
    t2 = 0.01 * var if tau2 is None else float(tau2)
    p, half = _msprt_core(np.asarray(mean), np.asarray(var / n if n > 1 else math.nan), t2, alpha)
    h = float(half)
    return TestResult(mean, mean - h, mean + h, float(p), int((v < 0).sum()), int((v > 0).sum()),
                      method=f"msprt one-sample (tau2={t2:.4g})", alpha=alpha)


__all__ = [
    "MsprtPath", "TestResult", "compare_moments", "cuped", "cuped_multi", "cuped_test", "cuped_theta", "each_vs_control", "guardrail_check",
    "holm", "mean_test", "msprt", "msprt_mean", "msprt_path", "msprt_tau2", "power_sample_size", "ratio_test", "srm_pvalue",
    "variance_reduction",
]
