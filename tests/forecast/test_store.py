"""Sales rows in the store, on SQLite and PostgreSQL alike: upsert by key, read back, count."""

from __future__ import annotations

from shopmind.domain import Sales
from shopmind.store import open_store
from shopmind.store.sales import sales_count, sales_frame


def test_sales_upsert_replaces_by_store_item_period(store_url, oj_frame):
    store = open_store(store_url)
    try:
        rows = [Sales(store=str(r.store), item_id=str(r.brand), period=int(r.week), units=float(r.units), price=float(r.price),
                      promotion=bool(r.deal), feature=bool(r.feat > 0)) for r in oj_frame.head(300).itertuples()]
        assert store.upsert_sales(rows) == 300
        changed = rows[0].model_copy(update={"units": 1.0})
        assert store.upsert_sales([changed]) == 1
        assert sales_count(store) == 300  # replaced, not added
        frame = sales_frame(store, item_ids=[rows[0].item_id])
        hit = frame[(frame.store == rows[0].store) & (frame.period == rows[0].period)]
        assert len(hit) == 1 and hit.units.iloc[0] == 1.0 and hit.price.iloc[0] == rows[0].price
    finally:
        store.close()
