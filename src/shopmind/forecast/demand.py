"""Demand series from the shop's own events and stored sales: per item, category, brand or query.

Purchases (units = quantity, revenue = quantity × price) are demand; a shop without purchases yet (the demo
shop has views and favourites only) falls back to its strongest signal, named in every result, so forecasts,
rising lists and stock-out risk work from day one and switch to purchases once they arrive.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from shopmind.forecast.data import Panel, SalesDataError, build_panel

log = logging.getLogger(__name__)

SIGNALS = ("purchase", "add_to_cart", "favorite", "click", "view")  # strongest first
LEVELS = ("item", "category", "brand", "query")
FREQS = {"day": 86400.0, "week": 7 * 86400.0}


MIN_SIGNAL_EVENTS = 100  # fewer events of a type than this make no series worth forecasting
MIN_SIGNAL_SHARE = 0.05  # nor does a type with under 5 % of the most frequent demand type's events


def demand_signal(type_counts: dict[str, int], wanted: str | None = None) -> str:
    """The event type demand is counted from: `wanted` if given, else the strongest type the shop has."""
    if wanted is not None:
        if wanted not in SIGNALS and wanted != "search":
            raise SalesDataError(f"signal: unknown event type {wanted!r}; use one of {', '.join(SIGNALS)}")
        return wanted
    counts = {name: type_counts.get(name, 0) for name in SIGNALS}
    top = max(counts.values(), default=0)
    if top == 0:
        raise SalesDataError("the shop has no item events to count demand from")
    for name in SIGNALS:  # a stronger type only once it has enough events to make series of (a few test carts do not)
        if counts[name] >= max(MIN_SIGNAL_EVENTS, MIN_SIGNAL_SHARE * top):
            return name
    return max(counts, key=lambda n: counts[n])


def event_demand(
    events: Any,
    *,
    level: str = "item",
    freq: str = "week",
    signal: str = "purchase",
    item_meta: Mapping[str, Any] | None = None,
    min_total: float = 0.0,
) -> Panel:
    """Units per series and period from an Arrow events table (the store's scan_events contract).

    `level` item|category|brand|query; `freq` day|week (weeks start on the first event's week). Periods with no
    event are zero (an absent event is no demand), unlike imported sales where an absent row is unknown.
    """
    import pandas as pd

    if level not in LEVELS:
        raise SalesDataError(f"level: use one of {', '.join(LEVELS)}, not {level!r}")
    if freq not in FREQS:
        raise SalesDataError(f"freq: use one of {', '.join(FREQS)}, not {freq!r}")
    cols = ["type", "item_id", "query", "ts", "quantity"]
    df = events.select(cols).to_pandas() if hasattr(events, "select") else pd.DataFrame(events)[cols]
    kind = "search" if level == "query" else signal
    df = df[df["type"] == kind]
    if df.empty:
        raise SalesDataError(f"no {kind} events to count {level} demand from")
    width = FREQS[freq]
    start = np.floor(df["ts"].min() / width) * width
    df = df.assign(period=((df["ts"] - start) // width).astype(np.int64))
    last_end = start + (df["period"].max() + 1) * width
    if df["ts"].max() < last_end - 0.1 * width and df["period"].max() > 0:  # the log stops mid-period: drop it
        df = df[df["period"] < df["period"].max()]
    units = df["quantity"].fillna(1).astype(float) if kind == "purchase" else pd.Series(1.0, index=df.index)
    df = df.assign(units=units)
    if level == "query":
        df = df.assign(key=df["query"].fillna("").str.strip().str.lower())
        df = df[df["key"] != ""]
    elif level == "item":
        df = df.assign(key=df["item_id"])
    else:
        meta = item_meta or {}
        attr = "top" if level == "category" else "brand"
        lookup = {i: getattr(m, attr, None) for i, m in meta.items()}
        df = df.assign(key=df["item_id"].map(lookup))
        df = df[df["key"].notna() & (df["key"] != "")]
    grouped = df.groupby(["key", "period"], as_index=False)["units"].sum()
    totals = grouped.groupby("key")["units"].sum()
    keep = totals[totals >= min_total].index
    grouped = grouped[grouped["key"].isin(keep)].rename(columns={"key": level})
    if grouped.empty:
        raise SalesDataError(f"no {level} has at least {min_total:g} {kind} events")
    panel = build_panel(grouped, id_cols=[level], time_col="period", target="units", covariates=[])
    panel.y = np.nan_to_num(panel.y, nan=0.0)
    first_seen = np.argmax(panel.y > 0, axis=1)  # before its first event a series did not exist yet
    panel.y[np.arange(panel.n_periods)[None, :] < first_seen[:, None]] = np.nan
    dates = pd.to_datetime(start + panel.periods.astype(float) * width, unit="s", utc=True)
    panel.periods = np.array([d.strftime("%Y-%m-%d") for d in dates])
    panel.season = 52 if freq == "week" else 7
    panel.period_of_year = (dates.isocalendar().week.to_numpy().astype(np.int32) - 1) % 52 if freq == "week" else dates.dayofweek.to_numpy().astype(np.int32)
    log.info("%s demand (%s, per %s): %d series × %d periods", level, kind, freq, panel.n_series, panel.n_periods)
    return panel


def sales_panel(frame: Any, *, level: str = "item") -> Panel:
    """Stored sales rows as a panel per store × item (or summed per item, category or brand)."""
    if frame.empty:
        raise SalesDataError("the shop holds no sales rows (import some with `shopmind import sales FILE`)")
    df = frame.copy()
    periods = df["period"].astype(str)
    if periods.str.fullmatch(r"-?\d+").all():  # week numbers are stored as text next to ISO dates
        df["period"] = periods.astype(np.int64)
    df["promotion"] = df["promotion"].astype(float)
    df["feature"] = df["feature"].astype(float)
    if level == "item" and df["store"].nunique() > 1:
        return build_panel(df, id_cols=["store", "item_id"], time_col="period", target="units", covariates=["price", "promotion", "feature"])
    key = {"item": "item_id", "category": "category", "brand": "brand"}.get(level)
    if key is None:
        raise SalesDataError(f"level: sales history is per item, category or brand, not {level!r}")
    df = df[df[key].notna() & (df[key] != "")]
    agg = df.groupby([key, "period"], as_index=False).agg(units=("units", "sum"), price=("price", "mean"), promotion=("promotion", "max"), feature=("feature", "max"))
    return build_panel(agg, id_cols=[key], time_col="period", target="units", covariates=["price", "promotion", "feature"])
