"""Rising lists on the demo shop's real events (with an injected surge), stock-out risk and price response."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from shopmind.forecast.data import SalesDataError, extend
from shopmind.forecast.demand import demand_signal, event_demand
from shopmind.forecast.gbm import GBMForecaster
from shopmind.forecast.signals import elasticities, rising, stockout_risk

WEEK = 7 * 86400.0


def _inject(events: pa.Table, item: str, per_week: list[int]) -> pa.Table:
    """Extra favourites of `item` in the last len(per_week) weeks of the log (its last week included)."""
    ts = events["ts"].to_numpy()
    end = ts.max()
    start = np.floor(ts.min() / WEEK) * WEEK
    last_week = start + np.floor((end - start) / WEEK) * WEEK  # the demo log ends late in its last week
    rows = []
    for k, n in enumerate(per_week):
        week_start = last_week - (len(per_week) - 1 - k) * WEEK
        rows += [week_start + 3600.0 * (j + 1) for j in range(n)]
    n = len(rows)
    extra = pa.table({"type": ["favorite"] * n, "item_id": [item] * n, "query": pa.nulls(n, pa.string()),
                      "ts": pa.array(rows, pa.float64()), "quantity": pa.array([1] * n, pa.int32())})
    return pa.concat_tables([events, extra])


def _rising(events: pa.Table) -> list[dict]:
    panel = event_demand(events, level="item", freq="week", signal="favorite", min_total=20)
    last = panel.n_periods - 1
    future = extend(panel, 2)
    fc = GBMForecaster(rounds=100).fit(future, last, [1, 2]).predict(future, last, [1, 2])
    return rising(panel, fc, k=20)


@pytest.mark.integration
def test_an_injected_surge_is_detected_on_the_demo_shop(demo_events):
    item = "m300"  # an ordinary film of the demo shop, not rising on its own
    plain = _rising(demo_events)
    assert item not in [r["key"] for r in plain]
    surged = _rising(_inject(demo_events, item, [20, 45, 80]))
    keys = [r["key"] for r in surged]
    assert keys[0] == item, surged[:5]
    top = surged[keys.index(item)]
    assert top["forecast"] > 1.5 * top["history"] and top["growth"] > 50 and top["z"] >= 1.0


def test_demand_levels_from_events(demo_events):
    panel = event_demand(demo_events, level="item", freq="week", signal="view")
    assert panel.n_series > 1000 and panel.periods[0] < panel.periods[-1]
    assert np.nansum(panel.y) < demo_events.num_rows  # views only, last partial week dropped
    with pytest.raises(SalesDataError, match="level"):
        event_demand(demo_events, level="colour")
    with pytest.raises(SalesDataError, match="no search events"):
        event_demand(demo_events, level="query")


def test_stockout_alerts_use_forecast_and_upper_bound():
    items = [
        {"id": "a", "stock": 10, "forecast": [6, 6, 6], "hi": [9, 9, 9]},  # runs out in period 2
        {"id": "b", "stock": 20, "forecast": [5, 5, 5], "hi": [8, 8, 8]},  # only the upper bound reaches it
        {"id": "c", "stock": 100, "forecast": [5, 5, 5], "hi": [8, 8, 8]},  # safe
        {"id": "d", "stock": None, "forecast": [5], "hi": [8]},  # stock not tracked
    ]
    alerts = stockout_risk(items, horizon=3)
    assert [(a["id"], a["risk"], a["runs_out_in"]) for a in alerts] == [("a", "likely", 2), ("b", "possible", 3)]


def test_orange_juice_elasticity_and_what_if(oj_panel):
    est = {e.key: e for e in elasticities(oj_panel)}
    values = np.array([e.elasticity for e in est.values()])
    assert len(est) == 33
    assert np.median(values) < -1.5 and (values < 0).mean() > 0.9  # demand for juice falls when its price rises
    e = est["2/1"]
    at_ref = e.demand(e.ref_price)["units"]
    assert e.demand(e.ref_price * 0.8)["units"] > at_ref > e.demand(e.ref_price * 1.2)["units"]
    assert e.demand(e.ref_price, promotion=True)["units"] > at_ref
    with pytest.raises(SalesDataError, match="price"):
        e.demand(-1.0)


def test_demand_signal_needs_enough_events_of_the_stronger_type():
    """A handful of carts (a browser test, a first day) must not replace 10k favourites as the demand series."""
    demo_counts = {"favorite": 10_873, "view": 19_127}  # the demo log's first 30k events
    assert demand_signal(demo_counts) == "favorite"
    assert demand_signal({**demo_counts, "add_to_cart": 3, "purchase": 1}) == "favorite"
    assert demand_signal({**demo_counts, "purchase": 2_000}) == "purchase"
    assert demand_signal({"view": 40}) == "view"  # small shops still get their only signal
    with pytest.raises(SalesDataError):
        demand_signal({"search": 10})
