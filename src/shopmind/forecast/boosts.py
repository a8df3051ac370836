"""Rising scores for ranking: computed once at build time from the event log, looked up on the request path.

Search and recommendation builds call `rising_scores_from_events` with the same events snapshot; it counts
weekly demand per item (or category) from the shop's strongest signal, forecasts the next `horizon` weeks
(the global LightGBM model when there are enough weeks, the naive model otherwise) and keeps the series
whose forecast beats their own history by at least one noise unit (`signals.rising`). The result is a plain
{key: z} table, so nothing is fitted while a shopper waits. A shop with fewer than `min_periods` weeks of
history, no item events, or without the `forecast` extra gets an empty table: the signal is then neutral.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import numpy as np

from shopmind.forecast.data import SalesDataError

log = logging.getLogger(__name__)

MIN_PERIODS = 8  # weeks of history below which nothing is called rising
GBM_PERIODS = 12  # from this many weeks on the global model forecasts (as in ForecastService)

_cache: dict[tuple, dict[str, float]] = {}
_cache_lock = threading.Lock()


def _fingerprint(events: Any) -> tuple:
    """Cheap identity of an events snapshot: rows and time span (the search and recommend builds share one)."""
    ts = events.column("ts").to_numpy(zero_copy_only=False) if events.num_rows else np.zeros(0)
    return (events.num_rows, float(ts.min()) if len(ts) else 0.0, float(ts.max()) if len(ts) else 0.0, float(np.nansum(ts)))


def rising_scores_from_events(
    events: Any,
    *,
    level: str = "item",
    categories: Mapping[str, str] | None = None,
    signal: str | None = None,
    horizon: int = 2,
    min_periods: int = MIN_PERIODS,
) -> dict[str, float]:
    """Growth z-score per rising item id (level "item") or category (level "category", via `categories`).

    Empty when the history is too short or cannot be counted; never raises for a shop without data.
    """
    if level not in ("item", "category"):
        raise SalesDataError(f"level: rising scores are per item or category, not {level!r}")
    if events is None or events.num_rows == 0:
        return {}
    if level == "category" and not categories:
        return {}
    key = (_fingerprint(events), level, signal, horizon, min_periods,
           hash(frozenset(categories.items())) if categories else None)
    with _cache_lock:
        if key in _cache:
            return dict(_cache[key])
    try:
        scores = _compute(events, level, categories, signal, horizon, min_periods)
    except ImportError as exc:  # the forecast extra (pandas) is not installed: the signal stays neutral
        log.info("rising %s scores skipped: %s (install shopmind[forecast])", level, exc)
        scores = {}
    except SalesDataError as exc:
        log.info("rising %s scores skipped: %s", level, exc)
        scores = {}
    except Exception:
        log.exception("rising %s scores failed; the signal is neutral for this build", level)
        scores = {}
    with _cache_lock:
        if len(_cache) > 8:
            _cache.clear()
        _cache[key] = scores
    return dict(scores)


def _compute(events: Any, level: str, categories: Mapping[str, str] | None, signal: str | None, horizon: int,
             min_periods: int) -> dict[str, float]:
    from shopmind.forecast.data import extend
    from shopmind.forecast.demand import demand_signal, event_demand
    from shopmind.forecast.gbm import GBMForecaster
    from shopmind.forecast.models import NaiveForecaster
    from shopmind.forecast.signals import rising

    types, counts = np.unique(np.asarray(events.column("type").to_numpy(zero_copy_only=False), dtype=object).astype(str), return_counts=True)
    kind = demand_signal(dict(zip(types.tolist(), counts.tolist(), strict=True)), signal)
    cols = [c for c in ("type", "item_id", "query", "ts", "quantity") if c in events.column_names]
    table = events.select(cols)
    if "query" not in cols or "quantity" not in cols:  # the store's layout has both; test slices may not
        import pyarrow as pa

        n = table.num_rows
        if "query" not in cols:
            table = table.append_column("query", pa.nulls(n, pa.string()))
        if "quantity" not in cols:
            table = table.append_column("quantity", pa.array(np.ones(n, np.int32)))
    meta = {i: SimpleNamespace(top=c) for i, c in (categories or {}).items()} if level == "category" else None
    panel = event_demand(table, level=level, freq="week", signal=kind, item_meta=meta)
    if panel.n_periods < min_periods:
        log.info("rising %s scores off: %d weeks of %s history (< %d)", level, panel.n_periods, kind, min_periods)
        return {}
    leads = list(range(1, horizon + 1))
    last = panel.n_periods - 1
    future = extend(panel, horizon)
    model = GBMForecaster(rounds=100, history=52) if panel.n_periods >= GBM_PERIODS else NaiveForecaster()
    fc = model.fit(future, last, leads).predict(future, last, leads)
    found = rising(panel, fc, k=max(panel.n_series, 1))
    log.info("rising %s scores: %d of %d series rising (%s, %s)", level, len(found), panel.n_series, kind, model.name)
    return {r["key"]: float(r["z"]) for r in found}


def rising_array(ids: list[str], scores: Mapping[str, float]) -> np.ndarray:
    """Scores aligned to `ids` (0 where a key is not rising), float32 for the build artifacts."""
    return np.array([scores.get(i, 0.0) for i in ids], dtype=np.float32)


def rising_table(products: Any, events: Any, *, min_periods: int = MIN_PERIODS) -> np.ndarray:
    """(len(products), 2) float32: each product's own rising z-score and its top category's (0: none / no forecast)."""
    products = list(products)
    out = np.zeros((len(products), 2), np.float32)
    if events is None or not getattr(events, "num_rows", 0) or not products:
        return out
    ids = [p.id for p in products]
    tops = {p.id: p.category[0] for p in products if p.category}
    out[:, 0] = rising_array(ids, rising_scores_from_events(events, level="item", min_periods=min_periods))
    cat = rising_scores_from_events(events, level="category", categories=tops, min_periods=min_periods)
    out[:, 1] = np.array([cat.get(tops.get(i, ""), 0.0) for i in ids], np.float32)
    return out
