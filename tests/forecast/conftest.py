"""Real slices for forecasting tests: a few Dominick's stores (loaded from shared/, never copied) and the demo shop."""

from __future__ import annotations

from pathlib import Path

import pytest

OJ_STORES = (2, 5, 8)  # 3 stores × 11 brands = 33 weekly series, weeks 40–136


@pytest.fixture(scope="session")
def oj_frame(shared_data: Path):
    """Dominick's orange-juice rows of three stores (academic licence: read from shared/, not committed)."""
    import pandas as pd

    df = pd.read_csv(shared_data / "forecast" / "dominicks-oj" / "sales.csv")
    return df[df["store"].isin(OJ_STORES)].reset_index(drop=True)


@pytest.fixture(scope="session")
def oj_panel(oj_frame):
    from shopmind.forecast.data import build_panel

    return build_panel(oj_frame, id_cols=["store", "brand"], time_col="week", target="units")


@pytest.fixture(scope="session")
def demo_events(demo_data: Path):
    """The demo shop's real events (MovieLens views and favourites) as an Arrow table in the store's layout."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = pq.read_table(demo_data / "events.parquet")
    n = t.num_rows
    return pa.table({"type": t["type"], "item_id": t["item_id"], "query": pa.nulls(n, pa.string()),
                     "ts": pa.array(t["timestamp"].to_numpy().astype(float)), "quantity": pa.array([1] * n, pa.int32())})
