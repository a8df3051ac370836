"""Sales rows in the shop's SQL store (schema v6 `sales`, read by the forecasts): upsert by (store, item, period), read as a frame."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, select

from shopmind.domain import Sales
from shopmind.store.schema import sales
from shopmind.store.upsert import upsert_with

SALES_COLUMNS = ("store", "item_id", "period", "units", "price", "promotion", "feature", "brand", "category")


def upsert_sales(store: Any, items: Sequence[Sales], conn: Connection | None = None) -> int:
    """Insert or replace sales rows by (store, item, period); a replayed file changes nothing twice."""
    if not items:
        return 0
    now = time.time()
    rows = list({s.key: {**{c: getattr(s, c) for c in SALES_COLUMNS}, "updated_at": now} for s in items}.values())
    return upsert_with(store.engine, conn, sales, rows, ["store", "item_id", "period"], update=(*SALES_COLUMNS[3:], "updated_at"))


def sales_count(store: Any) -> int:
    """How many sales rows the shop holds."""
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(sales)).scalar() or 0)


def sales_frame(store: Any, item_ids: Sequence[str] | None = None) -> Any:
    """Stored sales rows (optionally of some items) as a pandas DataFrame with SALES_COLUMNS."""
    import pandas as pd

    query = select(*(sales.c[c] for c in SALES_COLUMNS))
    if item_ids is not None:
        query = query.where(sales.c.item_id.in_(list(item_ids)))
    with store.engine.connect() as conn:
        rows = conn.execute(query.order_by(sales.c.store, sales.c.item_id, sales.c.period)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=list(SALES_COLUMNS))
