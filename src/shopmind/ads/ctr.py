"""Click-through prediction: a fixed feature layout, a LightGBM classifier and a cross-fitted calibration map.

The same `FEATURES` layout is filled by the serving path (one row per candidate ad, vectorised) and by
training (one row per logged impression), so a model can never see features in a different order
than it was trained on. Calibration maps raw scores to click rates, fitted on out-of-fold scores (folds
by user, `user_folds`): Platt scaling (two parameters) below `isotonic_min_clicks` clicks, isotonic
regression (pool-adjacent-violators) above; stored as JSON next to the LightGBM text model.
`calibration_table` reports predicted vs observed CTR per decile with clicks and 95 % intervals; `hosmer_lemeshow`
tests whether the deciles' gaps as a whole are larger than binomial noise."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import orjson

FEATURES = (
    "position",  # 0-based slot the ad was shown in (served as 0: we predict the top slot's CTR)
    "placement",  # index of the placement in the config's placement list, -1 if unknown
    "relevance",  # cosine of ad product and user (mean of recent items) or query
    "item_popularity",  # log1p interactions with the product in the training events
    "item_ctr",  # smoothed ad CTR of the product in the training impressions
    "user_category_affinity",  # share of the user's recent items in the product's top category
    "campaign_ctr",  # smoothed CTR of the campaign in the training impressions
    "user_activity",  # log1p length of the user's recent history
    "has_query",  # 1 when the slot is on a search page
    "cf_affinity",  # cosine of product and user in the co-occurrence (truncated SVD) space of the event log
)
N_FEATURES = len(FEATURES)
CTR_FOLDS = 4
"""User folds of the cross-fitting: out-of-fold target statistics (model.py) and out-of-fold calibration scores."""


def user_folds(groups: np.ndarray, folds: int = CTR_FOLDS, seed: int = 7) -> np.ndarray:
    """Fold of each row, the same for every row of a user (a seeded draw per distinct user)."""
    _, inv = np.unique(np.asarray(groups), return_inverse=True)
    return np.random.default_rng(seed).integers(0, folds, inv.max() + 1 if len(inv) else 0)[inv]


def isotonic_fit(scores: np.ndarray, labels: np.ndarray, max_knots: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Pool-adjacent-violators: a non-decreasing map score → click rate, as knots for `np.interp`."""
    order = np.argsort(scores, kind="stable")
    x = scores[order].astype(np.float64)
    y = labels[order].astype(np.float64)
    # blocks: (sum_y, count, sum_x); merge while the previous mean exceeds the current one
    sums: list[float] = []
    counts: list[float] = []
    xs: list[float] = []
    for xi, yi in zip(x, y):
        sums.append(yi)
        counts.append(1.0)
        xs.append(xi)
        while len(sums) > 1 and sums[-2] / counts[-2] >= sums[-1] / counts[-1]:
            s, c, sx = sums.pop(), counts.pop(), xs.pop()
            sums[-1] += s
            counts[-1] += c
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
        row = {"n": len(chunk), "clicks": int(round(clicks)), "predicted": round(p, 5), "observed": round(o, 5),
               "rel_error": round(abs(p - o) / o, 4) if o > 0 else None, "ci95": [round(lo, 5), round(hi, 5)]}
        if boot_lo is not None:
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
    worst = float(max((abs(pi - oi) / oi for pi, oi in zip(p, o) if oi > 0), default=float("nan")))
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


def auc(pred: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (rank statistic, ties averaged)."""
    from scipy.stats import rankdata

    labels = labels.astype(bool)
    n_pos, n_neg = labels.sum(), (~labels).sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(pred)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


class CtrModel:
    """LightGBM pCTR with an isotonic calibration map; `predict` takes an (n, N_FEATURES) float array."""

    PARAMS: ClassVar[dict[str, Any]] = {
        "objective": "binary", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 100,
        "feature_fraction": 0.9, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
        "num_threads": 1, "verbose": -1, "seed": 7,
    }

    def __init__(self, booster: Any, calibration: dict[str, Any], metrics: dict[str, Any] | None = None) -> None:
        self.booster = booster
        self.calibration = calibration  # {"method": "platt", "a", "b"} or {"method": "isotonic", "x", "y"}
        self.metrics = metrics or {}

    @classmethod
    def fit(cls, X: np.ndarray, y: np.ndarray, *, groups: np.ndarray | None = None, rounds: int = 200, folds: int = CTR_FOLDS,
            isotonic_min_clicks: int = 1000, seed: int = 7) -> CtrModel:
        """Cross-fitted calibration: out-of-fold scores (folds split by `groups`, i.e. users, so each score is for a
        user the trees never saw — as at serving) fit the calibration map; the served trees use every row. (Checked on
        the ads bench: the full-data trees' held-out raw scores have the same spread and logistic slope as the average
        of the fold models', so the map fitted on fold scores applies to them; serving the fold models gained nothing.)
        Isotonic with plenty of clicks, Platt (two parameters, stable on few clicks) otherwise."""
        import lightgbm as lgb

        if groups is not None:
            fold = user_folds(groups, folds, seed)
        else:
            fold = np.random.default_rng(seed).integers(0, folds, len(y))
        params = dict(cls.PARAMS, seed=seed)

        def train(rows: np.ndarray) -> Any:
            return lgb.train(params, lgb.Dataset(X[rows], label=y[rows], feature_name=list(FEATURES)), num_boost_round=rounds)

        oof = np.empty(len(y))
        for f in range(folds):
            held = fold == f
            oof[held] = train(~held).predict(X[held], raw_score=True)
        if y.sum() >= isotonic_min_clicks:
            kx, ky = isotonic_fit(oof, y)
            cal: dict[str, Any] = {"method": "isotonic", "x": kx.tolist(), "y": ky.tolist()}
        else:
            a, b = platt_fit(oof, y)
            cal = {"method": "platt", "a": a, "b": b}
        model = cls(train(np.ones(len(y), bool)), cal)
        pred = model.calibrate(oof)
        weighted, worst = calibration_error(pred, y)
        model.metrics = {"calibration": cal["method"], "impressions": len(y), "clicks": int(y.sum()), "folds": folds,
                         "oof_auc": round(auc(pred, y), 4), "oof_calibration_error": round(weighted, 4),
                         "oof_calibration_worst_decile": round(worst, 4)}
        return model

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Calibrated click probabilities for feature rows."""
        if len(X) == 0:
            return np.zeros(0)
        raw = self.booster.predict(np.ascontiguousarray(X, np.float64), raw_score=True, num_threads=1)
        return self.calibrate(raw)

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        """Raw tree scores → click probabilities with the fitted calibration map."""
        cal = self.calibration
        if cal["method"] == "isotonic":
            return np.interp(raw, cal["x"], cal["y"])
        return 1 / (1 + np.exp(-(cal["a"] * raw + cal["b"])))

    def save(self, out_dir: Path) -> None:
        """Write `ctr_model.txt` (LightGBM text) and `ctr_calibration.json`."""
        self.booster.save_model(str(out_dir / "ctr_model.txt"))
        (out_dir / "ctr_calibration.json").write_bytes(orjson.dumps(
            {"features": list(FEATURES), "calibration": self.calibration, "metrics": self.metrics}, default=float))

    @classmethod
    def load(cls, out_dir: Path) -> CtrModel | None:
        """Read a saved model, or None where the directory holds none."""
        path = out_dir / "ctr_model.txt"
        if not path.is_file():
            return None
        import lightgbm as lgb

        cal = orjson.loads((out_dir / "ctr_calibration.json").read_bytes())
        if cal["features"] != list(FEATURES):
            raise ValueError(f"ctr model in {out_dir} was trained on features {cal['features']}, this code uses {list(FEATURES)}")
        return cls(lgb.Booster(model_file=str(path)), cal["calibration"], cal.get("metrics"))
