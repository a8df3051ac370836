"""Section of bench/experiments.py: off-policy evaluation on the Open Bandit Dataset sample, CUPED on Hillstrom.

OPE (real logs, ../shared/data/experiments/obd): the Bernoulli-TS policy's CTR is estimated from the uniform-random
log with IPS, SNIPS and DR and compared with BTS's own on-policy CTR in the sample (and obp's README anchor, IPW at
1.198× random). BTS's action distribution: obp draws it by Monte-Carlo of BTS with the ZOZOTOWN prior, which is not in
the data files; what the files give is the BTS log itself, so the target is BTS's empirical item share per slot over
the 7 days (`ope.empirical_policy`: unbiased for its time-averaged action distribution; BTS is context-free in OBD).
A secondary target keeps BTS's drift over the week (`timed_bts_policy`). The reverse check evaluates the uniform
policy from the BTS log with BTS's logged propensities. (Checked outside the repo: with obp's ZOZOTOWN prior for
BTS, st-tech/zr-obp obp/policy/conf/prior_bts.yaml, and obp's Monte-Carlo of 100,000 draws, `ope.ips` on
random/all gives 1.198× random's CTR, obp's README figure; the prior is not committed here.)
CUPED (real, ../shared/data/experiments/hillstrom): outcome visit, conversion, spend; covariates history alone, a
regression-adjusted covariate from history + recency (out-of-fold OLS prediction, 5 folds; the headline) and all
pre-period columns (CUPAC). Headline `cuped_variance_reduction`: visit, history + recency, the variance reduction of
the Mens − No E-Mail effect estimate, 1 − (se_cuped / se_plain)².
Run alone: `python bench/_exp_ope.py [--data ../shared/data] [--json]`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from shopmind.experiments import ope
from shopmind.experiments.stats import cuped_test, mean_test, variance_reduction

REPO = Path(__file__).resolve().parents[1]
CAMPAIGNS = ("all", "men", "women")
ANCHOR_OBP_IPW = 1.198  # obp README: BernoulliTS estimated from random/all with IPW, relative to random's CTR


def _data_dir(args: Any) -> Path:
    d = getattr(args, "data", None)
    return Path(d) if d else REPO.parent / "shared" / "data"


def _read_obd(root: Path, policy: str, campaign: str) -> tuple[Any, int]:
    """The log (an Arrow table) and the campaign's number of items."""
    from pyarrow import csv

    base = root / "experiments" / "obd" / policy / campaign
    return csv.read_csv(base / f"{campaign}.csv.gz"), csv.read_csv(base / "item_context.csv").num_rows


def _ts(frame: Any) -> np.ndarray:
    """Seconds of each row's timestamp (the logs share one week)."""
    import pyarrow as pa

    return np.asarray(frame["timestamp"].cast(pa.timestamp("us", tz="UTC"))).astype("datetime64[us]").astype(np.int64) / 1e6


def timed_bts_policy(rnd: ope.LoggedBandit, rnd_ts: np.ndarray, bts: ope.LoggedBandit, bts_ts: np.ndarray) -> np.ndarray:
    """(n, A) BTS distribution in each random-log round's slot at its time: per (item, slot), the BTS log's propensity
    logged nearest in time (0 for an item BTS never showed there), normalised over items. BTS's parameters moved
    during the week; this keeps that drift, which the time-averaged `empirical_policy` loses (secondary variant)."""
    out = np.zeros((rnd.n, rnd.n_actions))
    for k in range(rnd.n_positions):
        rows = np.flatnonzero(rnd.positions == k)
        for a in range(rnd.n_actions):
            sel = np.flatnonzero((bts.actions == a) & (bts.positions == k))
            if not len(sel):
                continue
            order = sel[np.argsort(bts_ts[sel])]
            t = bts_ts[order]
            j = np.clip(np.searchsorted(t, rnd_ts[rows]), 1, max(len(t) - 1, 1)) if len(t) > 1 else np.zeros(len(rows), np.int64)
            if len(t) > 1:
                j = np.where(np.abs(t[j - 1] - rnd_ts[rows]) <= np.abs(t[j] - rnd_ts[rows]), j - 1, j)
            out[rows, a] = bts.pscore[order[j]]
    return out / np.maximum(out.sum(axis=1, keepdims=True), 1e-12)


def obd_campaign(root: Path, campaign: str, alpha: float = 0.05) -> dict[str, Any]:
    """BTS from the random log (and uniform from the BTS log) with every estimator, against the on-policy CTRs."""
    rnd_frame, n_items = _read_obd(root, "random", campaign)
    bts_frame, _ = _read_obd(root, "bts", campaign)
    rnd = ope.from_obd_frame(rnd_frame, n_actions=n_items)
    bts = ope.from_obd_frame(bts_frame, n_actions=n_items)
    truth_rnd, truth_bts = ope.on_policy(rnd.rewards, alpha), ope.on_policy(bts.rewards, alpha)
    out: dict[str, Any] = {"n_random": rnd.n, "n_bts": bts.n, "ctr_random": truth_rnd.value, "ctr_bts": truth_bts.value,
                           "ctr_bts_ci": [truth_bts.ci_low, truth_bts.ci_high], "on_policy_ratio": truth_bts.value / truth_rnd.value}
    est = ope.evaluate(rnd, ope.empirical_policy(bts), alpha=alpha)
    for name, row in ope.summary(est, truth_bts.value).items():
        row["ratio_vs_random"] = round(row["value"] / truth_rnd.value, 4)
        out[f"bts_from_random.{name}"] = row
    timed = ope.evaluate(rnd, timed_bts_policy(rnd, _ts(rnd_frame), bts, _ts(bts_frame)), alpha=alpha)
    for name, row in ope.summary(timed, truth_bts.value).items():
        row["ratio_vs_random"] = round(row["value"] / truth_rnd.value, 4)
        out[f"bts_timed_from_random.{name}"] = row
    back = ope.evaluate(bts, ope.uniform_policy(bts.n_actions, bts.n_positions), alpha=alpha)
    for name, row in ope.summary(back, truth_rnd.value).items():
        out[f"random_from_bts.{name}"] = row
    return out


def _onehot(values: np.ndarray) -> np.ndarray:
    uniq, inv = np.unique(values.astype(str), return_inverse=True)
    return np.eye(len(uniq))[inv][:, 1:]


def _oof_ols(X: np.ndarray, y: np.ndarray, folds: int = 5, seed: int = 0) -> np.ndarray:
    """Out-of-fold OLS predictions of y from X (with intercept): a covariate made from the pre-period only."""
    X = np.hstack([np.ones((len(X), 1)), X])
    fold = np.random.default_rng(seed).permutation(len(y)) % folds
    pred = np.empty(len(y))
    for f in range(folds):
        test = fold == f
        beta, *_ = np.linalg.lstsq(X[~test], y[~test], rcond=None)
        pred[test] = X[test] @ beta
    return pred


def cuped_hillstrom(root: Path, alpha: float = 0.05) -> dict[str, Any]:
    """Variance reduction per metric and covariate: pooled over customers and of the effect estimates vs No E-Mail."""
    import pandas as pd

    df = pd.read_csv(root / "experiments" / "hillstrom" / "hillstrom.csv")
    hist = df["history"].to_numpy(np.float64)
    base = np.column_stack([hist, np.log1p(hist), _onehot(df["recency"].to_numpy())])
    pre_all = np.column_stack([base, df[["mens", "womens", "newbie"]].to_numpy(np.float64),
                               _onehot(df["zip_code"].to_numpy()), _onehot(df["channel"].to_numpy())])
    arm = df["segment"].to_numpy()
    control = arm == "No E-Mail"
    out: dict[str, Any] = {"n": len(df)}
    for metric in ("visit", "conversion", "spend"):
        y = df[metric].to_numpy(np.float64)
        covariates = {"history": hist, "history_recency": _oof_ols(base, y), "all_pre": _oof_ols(pre_all, y)}
        for cov, x in covariates.items():
            row: dict[str, Any] = {"pooled": round(variance_reduction(y, x), 5)}
            for treat, label in (("Mens E-Mail", "mens"), ("Womens E-Mail", "womens")):
                t = arm == treat
                plain = mean_test(y[control], y[t], alpha)
                adj = cuped_test(y[control], x[control], y[t], x[t], alpha)
                w_p, w_c = (plain.ci_high - plain.ci_low), (adj.ci_high - adj.ci_low)  # interval widths
                row[f"{label}_effect"] = round(plain.effect, 6)
                row[f"{label}_effect_cuped"] = round(adj.effect, 6)
                row[f"{label}_ci_cuped"] = [round(adj.ci_low, 6), round(adj.ci_high, 6)]
                row[f"{label}_se_reduction"] = round(1.0 - (w_c / w_p) ** 2, 5)
            out[f"{metric}.{cov}"] = row
    return out


def run(args: Any) -> dict[str, Any]:
    """The section's figures: `ope.*`, `cuped.*` and the headline `cuped_variance_reduction`."""
    root = _data_dir(args)
    t0 = time.perf_counter()
    result: dict[str, Any] = {"ope.anchor_obp_ipw_ratio": ANCHOR_OBP_IPW,
                              "ope.target": "BTS empirical item share per slot from the BTS log (time-averaged); data real"}
    for campaign in CAMPAIGNS:
        for key, value in obd_campaign(root, campaign).items():
            result[f"ope.{campaign}.{key}"] = value
    for key, value in cuped_hillstrom(root).items():
        result[f"cuped.{key}"] = value
    result["cuped_variance_reduction"] = result["cuped.visit.history_recency"]["mens_se_reduction"]
    result["cuped_variance_reduction_metric"] = "visit, history+recency OOF-OLS covariate, Mens vs No E-Mail effect"
    result["ope_cuped_seconds"] = round(time.perf_counter() - t0, 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="the shared data folder (default ../shared/data)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    import orjson

    result = run(args)
    for key, value in result.items():
        print(f"{key}: {value}")
    if args.json:
        print(orjson.dumps(result).decode())


if __name__ == "__main__":
    main()
