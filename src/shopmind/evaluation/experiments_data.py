"""Loaders for the real experiment data in shared/data/experiments (Hillstrom's e-mail test, the Open Bandit sample)
as numpy arrays, and `hillstrom_cuped()`: CUPED's variance reduction on Hillstrom, the figure issue 17 asks for.

Plain csv + numpy (pandas is optional in this project). Paths: `SHOPMIND_SHARED_DATA`, else ../shared/data beside
the checkout, else /work/shared/data.
"""

from __future__ import annotations

import csv
import gzip
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shopmind.experiments.stats import cuped, cuped_multi, cuped_test, mean_test

log = logging.getLogger(__name__)

HILLSTROM_ARMS = ("No E-Mail", "Mens E-Mail", "Womens E-Mail")
HILLSTROM_NUMERIC = ("recency", "history", "mens", "womens", "newbie", "visit", "conversion", "spend")
OBD_POLICIES = ("random", "bts")
OBD_CAMPAIGNS = ("all", "men", "women")


def shared_data_dir() -> Path:
    """The shared real-data folder (env SHOPMIND_SHARED_DATA, ../shared/data beside the repo, or /work/shared/data)."""
    env = os.environ.get("SHOPMIND_SHARED_DATA")
    if env:
        return Path(env)
    beside = Path(__file__).resolve().parents[3].parent / "shared" / "data"
    return beside if beside.is_dir() else Path("/work/shared/data")


def load_hillstrom(path: Path | str | None = None) -> dict[str, np.ndarray]:
    """Hillstrom's 64,000 customers as column arrays: numeric columns as float64, the others (segment = the arm,
    history_segment, zip_code, channel) as str arrays."""
    p = Path(path) if path else shared_data_dir() / "experiments" / "hillstrom" / "hillstrom.csv"
    with p.open(newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    cols = list(zip(*body, strict=True)) if body else [() for _ in header]
    out: dict[str, np.ndarray] = {}
    for name, values in zip(header, cols, strict=True):
        out[name] = np.asarray(values, dtype=np.float64) if name in HILLSTROM_NUMERIC else np.asarray(values, dtype=str)
    log.debug("hillstrom: %d rows from %s", len(body), p)
    return out


def hillstrom_arm(data: dict[str, np.ndarray], arm: str, column: str) -> np.ndarray:
    """One column's values for the customers of one arm ("No E-Mail", "Mens E-Mail", "Womens E-Mail")."""
    if arm not in HILLSTROM_ARMS:
        raise ValueError(f"unknown arm {arm!r}; one of {HILLSTROM_ARMS}")
    return data[column][data["segment"] == arm]


def hillstrom_covariates(data: dict[str, np.ndarray]) -> np.ndarray:
    """All pre-period columns as a design matrix: recency, history, mens, womens, newbie and one-hot zip area,
    channel and history segment (first level dropped)."""
    cols = [data[c] for c in ("recency", "history", "mens", "womens", "newbie")]
    for name in ("zip_code", "channel", "history_segment"):
        levels = np.unique(data[name])
        cols += [(data[name] == lv).astype(np.float64) for lv in levels[1:]]
    return np.column_stack(cols)


def hillstrom_cuped(
    metrics: Sequence[str] = ("visit", "conversion", "spend"),
    covariate: str = "history",
    control: str = "No E-Mail",
    treatment: str = "Mens E-Mail",
    data: dict[str, np.ndarray] | None = None,
) -> dict[str, dict[str, Any]]:
    """Per metric: the plain Welch test and the CUPED test of treatment − control on Hillstrom, and CUPED's variance
    reduction of the effect estimate, 1 − se²(CUPED) / se²(plain). covariate: a column (default `history`, the
    pre-period spend) or "all" (every pre-period column). The pre-period data explain little here (a few %)."""
    d = data if data is not None else load_hillstrom()
    x = hillstrom_covariates(d) if covariate == "all" else d[covariate]
    in_a, in_b = d["segment"] == control, d["segment"] == treatment
    if not in_a.any() or not in_b.any():
        raise ValueError(f"arms must be two of {HILLSTROM_ARMS}")
    xa, xb = x[in_a], x[in_b]
    se2 = lambda a, b: a.var(ddof=1) / a.size + b.var(ddof=1) / b.size
    out: dict[str, dict[str, Any]] = {}
    for metric in metrics:
        ya, yb = d[metric][in_a], d[metric][in_b]
        plain, adj = mean_test(ya, yb), cuped_test(ya, xa, yb, xb)
        y_all, x_all = np.concatenate([ya, yb]), np.concatenate([xa, xb])
        adjusted, theta = cuped_multi(y_all, x_all) if x_all.ndim == 2 else cuped(y_all, x_all)
        reduction = float(1.0 - se2(adjusted[: ya.size], adjusted[ya.size :]) / se2(ya, yb))
        out[metric] = {
            "metric": metric, "covariate": covariate, "control": control, "treatment": treatment,
            "n_a": plain.n_a, "n_b": plain.n_b, "theta": np.atleast_1d(theta).tolist(), "variance_reduction": reduction,
            "ci_width_ratio": (adj.ci_high - adj.ci_low) / (plain.ci_high - plain.ci_low),
            "plain": plain.to_dict(), "cuped": adj.to_dict(),
        }
    return out


@dataclass(frozen=True)
class ObdLog:
    """One Open Bandit log: per impression the item shown, its slot (1–3 as in the file), click, the logging policy's
    propensity, hashed user features (int codes) and user–item affinities; `item_context` per item."""

    policy: str
    campaign: str
    timestamp: np.ndarray  # datetime64[us], UTC
    item_id: np.ndarray  # int64, 0 .. n_items − 1
    position: np.ndarray  # int64, 1 .. 3
    click: np.ndarray  # int64, 0/1
    propensity: np.ndarray  # float64
    user_features: np.ndarray  # (n, 4) int64 codes of the hashed user_feature_0..3
    affinity: np.ndarray  # (n, n_items) float64, user-item_affinity_<item>
    item_features: np.ndarray  # (n_items, 4): item_feature_0 as is, item_feature_1..3 as int codes (float64)

    @property
    def n_items(self) -> int:
        """Number of items in the campaign (80 / 34 / 46)."""
        return int(self.item_features.shape[0])

    def __len__(self) -> int:
        return int(self.item_id.size)


def _codes(values: np.ndarray) -> np.ndarray:
    return np.unique(np.asarray(values, dtype=str), return_inverse=True)[1].astype(np.int64)


def load_obd(policy: str = "random", campaign: str = "all", path: Path | str | None = None) -> ObdLog:
    """The Open Bandit sample of one logging policy ("random" | "bts") and campaign ("all" | "men" | "women")."""
    if policy not in OBD_POLICIES or campaign not in OBD_CAMPAIGNS:
        raise ValueError(f"policy in {OBD_POLICIES}, campaign in {OBD_CAMPAIGNS}")
    folder = Path(path) if path else shared_data_dir() / "experiments" / "obd" / policy / campaign
    with gzip.open(folder / f"{campaign}.csv.gz", "rt", newline="") as fh:
        rows = list(csv.reader(fh))
    header, cols = rows[0], list(zip(*rows[1:], strict=True))
    col = {name: np.asarray(cols[i]) for i, name in enumerate(header) if name}
    aff = sorted((c for c in col if c.startswith("user-item_affinity_")), key=lambda c: int(c.rsplit("_", 1)[1]))
    with (folder / "item_context.csv").open(newline="") as fh:
        items = list(csv.reader(fh))
    ih, icols = items[0], list(zip(*items[1:], strict=True))
    icol = {name: np.asarray(icols[i]) for i, name in enumerate(ih) if name}
    order = np.argsort(icol["item_id"].astype(np.int64))
    item_features = np.column_stack(
        [icol["item_feature_0"].astype(np.float64)] + [_codes(icol[f"item_feature_{k}"]).astype(np.float64) for k in (1, 2, 3)]
    )[order]
    stamps = np.char.replace(col["timestamp"].astype(str), "+00:00", "")
    logged = ObdLog(
        policy=policy, campaign=campaign,
        timestamp=stamps.astype("datetime64[us]"),
        item_id=col["item_id"].astype(np.int64), position=col["position"].astype(np.int64),
        click=col["click"].astype(np.int64), propensity=col["propensity_score"].astype(np.float64),
        user_features=np.column_stack([_codes(col[f"user_feature_{k}"]) for k in range(4)]),
        affinity=np.column_stack([col[c].astype(np.float64) for c in aff]) if aff else np.zeros((len(rows) - 1, 0)),
        item_features=item_features,
    )
    if logged.affinity.shape[1] != logged.n_items:
        raise ValueError(f"{folder}: affinity columns do not match the item context")
    return logged
