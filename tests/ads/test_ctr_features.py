"""pCTR features carry no label: ad clicks (the pCTR model's labels) stay out of popularity and co-occurrence factors."""

from __future__ import annotations

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shopmind.ads.model import AdsModel
from shopmind.store.sql import EVENT_SCHEMA


def _table(raw: pa.Table, extra: list[dict]) -> pa.Table:
    """The demo events (plain context) plus `extra` rows, in the store's event schema."""
    n = raw.num_rows
    cols = {"id": raw["id"].to_pylist(), "type": raw["type"].to_pylist(), "user_id": raw["user_id"].to_pylist(),
            "session_id": raw["session_id"].to_pylist(), "item_id": raw["item_id"].to_pylist(), "query": [None] * n,
            "ts": raw["timestamp"].cast(pa.float64()).to_pylist(), "quantity": [1] * n, "price": [None] * n, "context": ["{}"] * n}
    for e in extra:
        for k in cols:
            cols[k].append(e.get(k))
    schema = pa.schema(list(EVENT_SCHEMA)[1:])
    return pa.table({f.name: pa.array(cols[f.name], type=f.type) for f in schema}, schema=schema)


@pytest.mark.integration
def test_ad_clicks_do_not_feed_popularity_or_factors(shop, encoder, demo_data):
    """A logged impression must not find its own click in its features (target leakage makes out-of-fold scores
    optimistic and the calibration map too steep); the same interaction without an ad token does count."""
    raw = pq.read_table(demo_data / "events.parquet").slice(0, 5000)
    products = list(shop.store.iter_products())
    items = ["m1", "m50", "m181"]
    ad_ctx = orjson.dumps({"placement": "home", "position": 0, "ad": "tok"}).decode()
    ts = float(raw["timestamp"].cast(pa.float64()).to_numpy().max()) + 10
    ad_events = [{"id": f"ad-{t}-{i}", "type": t, "user_id": "u-ads", "item_id": i, "ts": ts, "quantity": 1, "context": ad_ctx}
                 for i in items for t in ("impression", "click")]
    organic = [{"id": f"org-{i}", "type": "click", "user_id": "u-ads", "item_id": i, "ts": ts, "quantity": 1, "context": "{}"} for i in items]
    base = AdsModel.build(products, _table(raw, []), None, encode=encoder)
    with_ads = AdsModel.build(products, _table(raw, ad_events), None, encode=encoder)
    with_organic = AdsModel.build(products, _table(raw, organic), None, encode=encoder)
    np.testing.assert_array_equal(with_ads.popularity, base.popularity)
    np.testing.assert_array_equal(with_ads.factors, base.factors)
    rows = [base.index[i] for i in items]
    assert np.all(with_organic.popularity[rows] > base.popularity[rows])
