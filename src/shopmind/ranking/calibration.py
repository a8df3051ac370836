"""Calibration of model scores into probabilities, and how to check it.

Maps: isotonic regression (pool-adjacent-violators; many positives) and Platt scaling (two parameters; stable on
few), fitted on held-out or out-of-fold scores, stored as plain JSON (`fit_calibration` → dict, `calibrate`).
Checks: `calibration_table` (predicted vs observed rate per decile, with 95 % intervals), `calibration_error` and
the Hosmer–Lemeshow test. Moved here from ads (pCTR) so every model that outputs probabilities shares them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)


def isotonic_fit(scores: np.ndarray, labels: np.ndarray, max_knots: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Pool-adjacent-violators: a non-decreasing map score → click rate, as knots for `np.interp`."""
    order = np.argsort(scores, kind="stable")
    x = scores[order].astype(np.float64)
    y = labels[order].astype(np.float64)
    # blocks: (sum_y, count, sum_x); merge while the previous mean exceeds the current one
    sums: list[float] = []
    counts: list[float] = []
    xs: list[float] = []
    for xi, yi in zip(x, y, strict=True):
        sums.append(yi)
        counts.append(1.0)
        xs.append(xi)
        while len(sums) > 1 and sums[-2] / counts[-2] >= sums[-1] / counts[-1]:
            s, n, sx = sums.pop(), counts.pop(), xs.pop()
            sums[-1] += s
            counts[-1] += n
            xs[-1] += sx
    c = np.array(counts)
    knots_x = np.array(xs) / c
    knots_y = np.array(sums) / c
    if len(knots_x) > max_knots:  # thin evenly by mass; keeps the map monotone
        keep = np.unique(np.searchsorted(np.cumsum(c) / c.sum(), np.linspace(0, 1, max_knots), side="left").clip(0, len(c) - 1))
        knots_x, knots_y = knots_x[keep], knots_y[keep]
    return knots_x, knots_y


def platt_fit(scores: np.ndarray, labels: np.ndarray, iters: int = 50) -> tuple[float, float]:
    """Platt scaling: (a, b) of p = sigmoid(a·score + b) by Newton steps on the log-loss (Platt's smoothed targets)."""
    n_pos, n_neg = labels.sum(), len(labels) - labels.sum()
    t = np.where(labels > 0, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    a, b = 1.0, 0.0
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(a * scores + b)))
        g = np.array([((p - t) * scores).sum(), (p - t).sum()])
        w = np.maximum(p * (1 - p), 1e-12)
        h = np.array([[(w * scores * scores).sum(), (w * scores).sum()], [(w * scores).sum(), w.sum()]]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(h, g)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-9:
            break
    return float(a), float(b)


def wilson_interval(clicks: float, n: float, z: float = 1.96) -> tuple[float, float]:
    """95 % (z = 1.96) Wilson score interval of a click rate from `clicks` out of `n` impressions."""
    if n <= 0:
        return 0.0, 1.0
    phat = clicks / n
    den = 1 + z * z / n
    mid = (phat + z * z / (2 * n)) / den
    half = z * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


def calibration_table(pred: np.ndarray, labels: np.ndarray, bins: int = 10, groups: np.ndarray | None = None,
                      boot: int = 1000, seed: int = 0) -> list[dict[str, Any]]:
    """Predicted vs observed CTR per decile of prediction (equal-count bins), with clicks, the relative
    error |predicted − observed| / observed, a 95 % interval of the observed CTR, whether the prediction lies
    inside it (the gap is within noise) and the relative error the interval allows (its half-width over the
    observed rate: a decile can only show ≤ 10 % error meaningfully when this is ≤ 0.10).

    The interval is Wilson's (impressions independent); with `groups` (the user of each impression) it is a
    bootstrap over users instead (`ci95_users`, used for `within_ci`), since one user's impressions are not
    independent of each other."""
    order = np.argsort(pred, kind="stable")
    chunks = [c for c in np.array_split(order, bins) if len(c)]
    boot_lo = boot_hi = None
    if groups is not None and len(pred):
        dec = np.empty(len(pred), np.int64)
        for j, c in enumerate(chunks):
            dec[c] = j
        _, inv = np.unique(np.asarray(groups), return_inverse=True)
        n_users = inv.max() + 1
        clk, imp = np.zeros((n_users, len(chunks))), np.zeros((n_users, len(chunks)))
        np.add.at(clk, (inv, dec), labels)
        np.add.at(imp, (inv, dec), 1.0)
        rng = np.random.default_rng(seed)
        w = np.stack([np.bincount(rng.integers(0, n_users, n_users), minlength=n_users) for _ in range(boot)]).astype(np.float64)
        rates = (w @ clk) / np.maximum(w @ imp, 1.0)
        boot_lo, boot_hi = np.percentile(rates, [2.5, 97.5], axis=0)
    out = []
    for j, chunk in enumerate(chunks):
        p, o = float(pred[chunk].mean()), float(labels[chunk].mean())
        clicks = float(labels[chunk].sum())
        lo, hi = wilson_interval(clicks, len(chunk))
        row = {"n": len(chunk), "clicks": round(clicks), "predicted": round(p, 5), "observed": round(o, 5),
               "rel_error": round(abs(p - o) / o, 4) if o > 0 else None, "ci95": [round(lo, 5), round(hi, 5)]}
        if boot_lo is not None and boot_hi is not None:
            lo, hi = float(boot_lo[j]), float(boot_hi[j])
            row["ci95_users"] = [round(lo, 5), round(hi, 5)]
        row["within_ci"] = bool(lo <= p <= hi)
        row["noise_rel"] = round((hi - lo) / 2 / o, 4) if o > 0 else None
        out.append(row)
    return out


def calibration_error(pred: np.ndarray, labels: np.ndarray, bins: int = 10) -> tuple[float, float]:
    """(weighted relative error, worst decile's relative error) of predicted vs observed CTR."""
    table = calibration_table(pred, labels, bins)
    n = np.array([r["n"] for r in table], float)
    p = np.array([r["predicted"] for r in table])
    o = np.array([r["observed"] for r in table])
    weighted = float((np.abs(p - o) * n).sum() / max((o * n).sum(), 1e-12))
    worst = float(max((abs(pi - oi) / oi for pi, oi in zip(p, o, strict=True) if oi > 0), default=float("nan")))
    return weighted, worst


def hosmer_lemeshow(pred: np.ndarray, labels: np.ndarray, bins: int = 10, fitted: int = 0, boot: int = 2000,
                    seed: int = 0) -> dict[str, Any]:
    """Hosmer–Lemeshow goodness of fit of predicted click rates over equal-count bins of prediction (the deciles
    of `calibration_table`): whether the per-bin gaps between predicted and observed clicks are larger than
    binomial noise would make them, so a decile's miss can be told from chance.

    statistic = Σ (O − E)² / (E · (1 − E/n)) over bins; p_value from χ² with df = bins − `fitted` (0 for held-out
    predictions, nothing fitted on them; 2 for the classic in-sample test). With few expected clicks per bin the
    χ² approximation is loose, so `p_value_bootstrap` also draws every label from its own prediction (a perfectly
    calibrated world) `boot` times and reports the share of statistics at least as large. Impressions are
    taken as independent (one user's are not quite: see `calibration_table`'s user bootstrap)."""
    from scipy.stats import chi2

    pred = np.asarray(pred, np.float64)
    labels = np.asarray(labels, np.float64)
    order = np.argsort(pred, kind="stable")
    p_sorted = pred[order]
    chunks = [c for c in np.array_split(np.arange(len(pred)), bins) if len(c)]
    starts = np.array([c[0] for c in chunks], np.int64)
    n = np.array([len(c) for c in chunks], np.float64)
    expected = np.add.reduceat(p_sorted, starts) if len(pred) else np.zeros(0)
    var = np.maximum(expected * (1 - expected / n), 1e-12)

    def stat(observed: np.ndarray) -> np.ndarray:
        return (((observed - expected) ** 2) / var).sum(axis=-1)

    observed = np.add.reduceat(labels[order], starts) if len(pred) else np.zeros(0)
    value = float(stat(observed))
    df = max(len(chunks) - fitted, 1)
    rng = np.random.default_rng(seed)
    sims = []
    step = max(1, min(boot, 20_000_000 // max(len(pred), 1)))
    for lo in range(0, boot, step):
        draws = rng.random((min(step, boot - lo), len(pred))) < p_sorted
        sims.append(stat(np.add.reduceat(draws, starts, axis=1).astype(np.float64)))
    sim = np.concatenate(sims) if sims else np.zeros(0)
    return {"statistic": round(value, 3), "df": df, "p_value": round(float(chi2.sf(value, df)), 4),
            "p_value_bootstrap": round(float((1 + (sim >= value).sum()) / (1 + len(sim))), 4), "bootstrap_draws": len(sim),
            "bins": len(chunks), "min_expected_clicks": round(float(expected.min()), 2) if len(expected) else 0.0}


def fit_calibration(scores: np.ndarray, labels: np.ndarray, isotonic_min_positives: int = 1000) -> dict[str, Any]:
    """The calibration map of raw scores to rates, as JSON-ready dict: isotonic with at least
    `isotonic_min_positives` positive labels, Platt (two parameters, stable on few) otherwise."""
    logger.debug("calibration on %d scores, %d positives", len(labels), int(labels.sum()))
    if labels.sum() >= isotonic_min_positives:
        kx, ky = isotonic_fit(scores, labels)
        return {"method": "isotonic", "x": kx.tolist(), "y": ky.tolist()}
    a, b = platt_fit(scores, labels)
    return {"method": "platt", "a": a, "b": b}


def calibrate(cal: Mapping[str, Any], raw: np.ndarray) -> np.ndarray:
    """Raw scores → probabilities with a map from `fit_calibration`."""
    if cal["method"] == "isotonic":
        return np.interp(raw, cal["x"], cal["y"])
    if cal["method"] == "platt":
        return 1 / (1 + np.exp(-(cal["a"] * raw + cal["b"])))
    raise ValueError(f"unknown calibration method {cal['method']!r}")
