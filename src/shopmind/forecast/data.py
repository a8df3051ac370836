"""Sales history as a dense panel: series × periods arrays of units and known covariates.

Every model and backtest works on one `Panel`: a regular grid of periods (a missing series-period is NaN, never
zero), so lags, windows and rolling origins are array slices. Files in any layout (one row per series and
period) are read with `read_sales` and turned into a panel by `build_panel`, which names the bad field.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from shopmind.errors import SalesDataError

log = logging.getLogger(__name__)

# Columns treated as known future covariates when none are named: prices and promotion flags. Columns that are
# derived from the outcome itself (log units, profit, revenue) must never be used, so detection is by name.
_COVARIATE_NAMES = re.compile(r"^(price\d*|deal|feat|feature|promo|promotion|display|discount|on_promotion|holiday)$", re.I)

MAX_HORIZON = 12  # periods ahead a forecast may ask for: one fit per level serves every horizon up to this


@dataclass
class Panel:
    """Series × periods: `y` units (NaN where not observed) and `x` covariates known in advance."""

    keys: list[tuple[str, ...]]  # one tuple of id values per series (row of y)
    id_cols: list[str]
    periods: np.ndarray  # the period label of each column (int week numbers, or ISO dates as strings)
    y: np.ndarray  # float64 (n_series, n_periods)
    x: dict[str, np.ndarray] = field(default_factory=dict)  # name → float64 (n_series, n_periods)
    season: int = 52  # periods per year (52 weekly, 7 daily-of-week)
    period_of_year: np.ndarray | None = None  # int (n_periods,) calendar position of each period

    @property
    def n_series(self) -> int:
        """Number of series (rows)."""
        return self.y.shape[0]

    @property
    def n_periods(self) -> int:
        """Number of periods (columns)."""
        return self.y.shape[1]

    def index_of(self, period: Any) -> int:
        """The column of a period label; raises naming the period when it is outside the history."""
        labels = self.periods
        target = _coerce_like(period, labels)
        hits = np.nonzero(labels == target)[0]
        if not len(hits):
            raise SalesDataError(f"period {period!r} is not within the history ({labels[0]} … {labels[-1]})")
        return int(hits[0])

    def group_codes(self, col: str) -> np.ndarray:
        """Integer code per series for one id column (used for group selection and categorical features)."""
        if col not in self.id_cols:
            raise SalesDataError(f"{col!r} is not an id column (id columns: {', '.join(self.id_cols)})")
        pos = self.id_cols.index(col)
        values = [k[pos] for k in self.keys]
        uniq = {v: i for i, v in enumerate(sorted(set(values)))}
        return np.array([uniq[v] for v in values], dtype=np.int32)


def _coerce_like(value: Any, labels: np.ndarray) -> Any:
    if labels.dtype.kind in "iu":
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise SalesDataError(f"period {value!r} must be a whole number like the time column's values") from exc
    return str(value)[:10]


def read_sales(path: Path) -> Any:
    """Read a CSV (optionally .gz), Parquet or JSONL file of sales rows into a pandas DataFrame."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise SalesDataError(f"no such sales file: {path}")
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return pd.read_parquet(path)
    if name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        return pd.read_json(path, lines=True)
    return pd.read_csv(path)


def default_covariates(columns: list[str], exclude: set[str]) -> list[str]:
    """The price and promotion columns of a frame, by name (never outcome-derived columns)."""
    return [c for c in columns if c not in exclude and _COVARIATE_NAMES.match(c)]


def build_panel(
    frame: Any,
    *,
    id_cols: list[str],
    time_col: str,
    target: str,
    covariates: list[str] | None = None,
) -> Panel:
    """Pivot long sales rows (one per series and period) into a dense `Panel`; errors name the column."""
    import pandas as pd

    cols = list(frame.columns)
    for name, what in [(c, "id column") for c in id_cols] + [(time_col, "time column"), (target, "target")]:
        if name not in cols:
            raise SalesDataError(f"{what} {name!r} is not in the file (columns: {', '.join(map(str, cols))})")
    if not id_cols:
        raise SalesDataError("id columns: name at least one column that identifies a series (e.g. store,item)")
    covariates = default_covariates(cols, {*id_cols, time_col, target}) if covariates is None else list(covariates)
    for c in covariates:
        if c not in cols:
            raise SalesDataError(f"covariate {c!r} is not in the file")
    df = frame[[*id_cols, time_col, target, *covariates]].copy()
    y = pd.to_numeric(df[target], errors="coerce")
    if y.isna().any():
        bad = df.loc[y.isna(), target].iloc[0]
        raise SalesDataError(f"target {target!r} must be numeric; got {bad!r}")
    if (y < 0).any():
        raise SalesDataError(f"target {target!r} must not be negative (row {int(np.argmax((y < 0).to_numpy()))})")
    df[target] = y.astype(float)
    for c in covariates:
        v = pd.to_numeric(df[c], errors="coerce")
        if v.isna().all():
            raise SalesDataError(f"covariate {c!r} has no numeric values")
        df[c] = v.astype(float)
    t = df[time_col]
    if pd.api.types.is_integer_dtype(t) or (pd.api.types.is_float_dtype(t) and np.all(np.mod(t.dropna(), 1) == 0)):
        pos = t.astype(np.int64).to_numpy()
        first = int(pos.min())
        pos = pos - first
        labels = np.arange(first, first + int(pos.max()) + 1, dtype=np.int64)
        season, poy = 52, labels % 52
    else:
        try:
            try:
                when = pd.to_datetime(t, utc=True, format="ISO8601")
            except (ValueError, TypeError):
                when = pd.to_datetime(t, utc=True, format="mixed")
        except (ValueError, TypeError) as exc:
            raise SalesDataError(f"time column {time_col!r} must hold whole period numbers or dates: {exc}") from exc
        days = when.dt.normalize()
        uniq = np.sort(days.unique())
        step = np.diff(uniq).min() if len(uniq) > 1 else np.timedelta64(1, "D")
        step_days = max(1, int(step / np.timedelta64(1, "D")))
        start = uniq[0]
        pos = ((days - start) / pd.Timedelta(days=step_days)).round().astype(np.int64).to_numpy()
        dates = pd.DatetimeIndex([start + pd.Timedelta(days=step_days * i) for i in range(int(pos.max()) + 1)])
        labels = np.array([d.strftime("%Y-%m-%d") for d in dates])
        if step_days == 1:
            season, poy = 7, dates.dayofweek.to_numpy()
        else:
            season, poy = 52, (dates.isocalendar().week.to_numpy().astype(int) - 1) % 52
    keys_frame = df[id_cols].astype(str)
    key_tuples = list(map(tuple, keys_frame.to_numpy()))
    codes, uniq_keys = pd.factorize(pd.Series(key_tuples, dtype=object), sort=True)
    n, m = len(uniq_keys), len(labels)
    dup = pd.Series(codes.astype(np.int64) * m + pos).duplicated()
    if dup.any():
        row = int(np.argmax(dup.to_numpy()))
        raise SalesDataError(f"two rows for series {key_tuples[row]} at {time_col}={t.iloc[row]!r}: one row per series and period")
    ymat = np.full((n, m), np.nan)
    ymat[codes, pos] = df[target].to_numpy()
    xs = {}
    for c in covariates:
        mat = np.full((n, m), np.nan)
        mat[codes, pos] = df[c].to_numpy()
        xs[c] = mat
    log.info("sales panel: %d series × %d periods, %d observed, covariates %s", n, m, len(df), covariates)
    return Panel(keys=[tuple(k) for k in uniq_keys], id_cols=list(id_cols), periods=labels, y=ymat, x=xs, season=season,
                 period_of_year=np.asarray(poy, dtype=np.int32))


def ffill(a: np.ndarray) -> np.ndarray:
    """Carry each row's last observed value forward over NaN gaps (leading NaNs stay NaN)."""
    mask = np.isnan(a)
    idx = np.where(~mask, np.arange(a.shape[1]), 0)
    np.maximum.accumulate(idx, axis=1, out=idx)
    out = a[np.arange(a.shape[0])[:, None], idx]
    out[np.cumsum(~mask, axis=1) == 0] = np.nan
    return out


def extend(panel: Panel, periods: int, future: dict[str, np.ndarray] | None = None) -> Panel:
    """The panel with `periods` future columns: units unknown (NaN), covariates as planned or else held flat."""
    if periods < 1:
        return panel
    n, m = panel.y.shape
    y = np.concatenate([panel.y, np.full((n, periods), np.nan)], axis=1)
    xs = {}
    for name, x in panel.x.items():
        plan = (future or {}).get(name)
        tail = np.repeat(ffill(x)[:, -1:], periods, axis=1) if plan is None else np.asarray(plan, dtype=float).reshape(n, periods)
        xs[name] = np.concatenate([x, tail], axis=1)
    if panel.periods.dtype.kind in "iu":
        labels = np.concatenate([panel.periods, panel.periods[-1] + np.arange(1, periods + 1)])
    else:
        import pandas as pd

        last = pd.Timestamp(str(panel.periods[-1]))
        step = (last - pd.Timestamp(str(panel.periods[-2]))) if m > 1 else pd.Timedelta(days=7)
        labels = np.concatenate([panel.periods, [(last + step * (i + 1)).strftime("%Y-%m-%d") for i in range(periods)]])
    poy = None
    if panel.period_of_year is not None:
        poy = np.concatenate([panel.period_of_year, (panel.period_of_year[-1] + np.arange(1, periods + 1)) % panel.season]).astype(np.int32)
    return Panel(keys=panel.keys, id_cols=panel.id_cols, periods=labels, y=y, x=xs, season=panel.season, period_of_year=poy)
