"""The forecasting service end to end on the demo shop: rising items, stock-out alerts, report, API and sales import."""

from __future__ import annotations

import time

import orjson
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shopmind.api import create_app
from shopmind.cli import app as cli
from shopmind.engine import ShopMind
from shopmind.security import audit
from shopmind.store.sales import sales_count

pytestmark = pytest.mark.integration  # builds and backtests forecasts on the demo shop

KEYS = {"admin": "fc-admin-key", "storefront": "fc-storefront-key", "ingest": "fc-ingest-key", "analyst": "fc-analyst-key"}
API = {"admin_keys": [KEYS["admin"]], "public_keys": [KEYS["storefront"]], "ingest_keys": [KEYS["ingest"]], "analyst_keys": [KEYS["analyst"]]}
AS = {role: {"X-API-Key": key} for role, key in KEYS.items()}
SURGE = "m300"
WEEK = 7 * 86400


@pytest.fixture(scope="module")
def demo_shop(tmp_path_factory, demo_data):
    """The demo shop with its real events, a surge of favourites for one film in the last 3 weeks, and stock levels."""
    home = tmp_path_factory.mktemp("forecast") / "shop"
    shop = ShopMind.open(home, api=API)
    shop.import_file("products", demo_data / "products.jsonl")
    shop.import_file("events", demo_data / "events.parquet")
    end = int(pq.read_table(demo_data / "events.parquet", columns=["timestamp"])["timestamp"].to_numpy().max())
    extra = []
    for weeks_back, n in ((2, 20), (1, 45), (0, 80)):
        start = end - weeks_back * WEEK - 3 * 86400
        extra += [{"type": "favorite", "user_id": f"fan{j}", "item_id": SURGE, "timestamp": start + 60 * j} for j in range(n)]
    shop.events.track_many(extra)
    products = shop.store.get_products([SURGE, "m50"])
    shop.catalog.upsert([products[SURGE].model_copy(update={"stock": 12}), products["m50"].model_copy(update={"stock": 100_000})])
    yield shop
    shop.close()


def test_rising_and_stockouts_on_the_demo_shop(demo_shop):
    svc = demo_shop.forecast_service
    rising = svc.rising("item", horizon=4, k=10)
    assert rising and rising[0]["key"] == SURGE, rising[:3]
    alerts = {a["id"]: a for a in svc.stockouts(horizon=4)}
    assert SURGE in alerts and "m50" not in alerts  # 12 in stock against ~15 a week forecast; m50 has plenty
    alert = alerts[SURGE]
    assert alert["risk"] == "likely" and alert["runs_out_in"] <= 2
    assert alert["substitutes"] and SURGE not in alert["substitutes"]
    series = svc.series(SURGE, horizon=4)
    assert len(series["forecast"]) == 4 and all(f["lo"] <= f["units"] <= f["hi"] for f in series["forecast"])


def test_report_forecast_cli_and_api_roles(demo_shop):
    result = CliRunner().invoke(cli, ["report", "forecast", "--home", str(demo_shop.home)])
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout.strip().splitlines()[-1])
    assert report["source"] == "favorite" and report["model"] == "lightgbm"
    assert report["rising"]["item"][0]["key"] == SURGE and report["categories"]
    assert SURGE in [a["id"] for a in report["stockouts"]] and "mape" in report["backtest"]
    with TestClient(create_app(demo_shop)) as client:
        assert client.get("/forecast/rising", headers=AS["storefront"]).status_code == 403
        assert client.get("/forecast/rising").status_code == 401
        r = client.get("/forecast/rising", params={"horizon": 4}, headers=AS["analyst"])
        assert r.status_code == 200 and r.json()[0]["key"] == SURGE
        assert client.get("/forecast/series/nope", headers=AS["analyst"]).status_code == 404
        assert client.get("/forecast/rising", params={"level": "colour"}, headers=AS["analyst"]).status_code == 422
    with ShopMind.open(demo_shop.home, api=API) as fresh, TestClient(create_app(fresh)) as client:
        first = client.get("/forecast/stockouts", headers=AS["admin"])  # nothing fitted in this process yet
        assert first.status_code == 202 and first.headers["retry-after"] == "30"
        deadline = time.time() + 300
        while (r := client.get("/forecast/stockouts", headers=AS["admin"])).status_code == 202 and time.time() < deadline:
            time.sleep(1)
        assert r.status_code == 200 and SURGE in [a["id"] for a in r.json()]


def _oj_sales_csv(oj_frame, path):
    """Dominick's rows in the `sales` import format (store, item_id = brand, period = week, promotion = deal)."""
    out = oj_frame.rename(columns={"brand": "item_id", "week": "period", "deal": "promotion", "feat": "feature"})
    out["promotion"] = out["promotion"].astype(int)
    out["feature"] = (out["feature"] > 0).astype(int)
    out[["store", "item_id", "period", "units", "price", "promotion", "feature"]].to_csv(path, index=False)
    return path


def test_sales_import_replay_errors_and_what_if(tmp_path, oj_frame):
    home = tmp_path / "shop"
    ShopMind.open(home, api=API).close()
    path = _oj_sales_csv(oj_frame, tmp_path / "sales.csv")
    runner = CliRunner()
    first = runner.invoke(cli, ["import", "sales", str(path), "--home", str(home), "--json"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(cli, ["import", "sales", str(path), "--home", str(home), "--json"])
    assert again.exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("store,item_id,period,units\n2,1,40,-3\n")
    failed = runner.invoke(cli, ["import", "sales", str(bad), "--home", str(home)])
    assert failed.exit_code != 0 and "units" in failed.output
    with ShopMind.open(home, api=API) as shop:
        assert sales_count(shop.store) == len(oj_frame)  # the replay replaced rows, it did not add any
        with TestClient(create_app(shop)) as client:
            row = {"store": "2", "item_id": "1", "period": 137, "units": 5000, "price": 0.04, "promotion": True}
            assert client.post("/sales", json=[row], headers=AS["storefront"]).status_code == 403
            assert client.post("/sales", json=[row], headers=AS["ingest"]).json() == {"stored": 1}
            too_many = client.post("/sales", json=[{**row, "period": 200 + n} for n in range(5001)], headers=AS["ingest"])
            assert too_many.status_code == 422 and sales_count(shop.store) == len(oj_frame) + 1  # nothing of it stored
            imported = audit.entries(shop.store.engine, action="sales.import")
            assert len(imported) == 2 and imported[0]["key_id"] == "cli" and imported[0]["detail"]["stored"] == len(oj_frame)
            logged = audit.entries(shop.store.engine, action="sales.upsert")
            assert len(logged) == 1 and logged[0]["detail"] == {"rows": 1} and logged[0]["key_id"] != "cli"
            bad_row = client.post("/sales", json=[{**row, "period": "next tuesday"}], headers=AS["ingest"])
            assert bad_row.status_code == 422 and "period" in bad_row.text
            est = client.get("/forecast/elasticity/2/1", headers=AS["analyst"])
            assert est.status_code == 200 and est.json()["elasticity"] < 0 and est.json()["key"] == "2/1"
            assert client.get("/forecast/elasticity/2/99", headers=AS["analyst"]).status_code == 404
            cheap = client.post("/forecast/whatif", json={"key": "2/1", "price": 0.02}, headers=AS["analyst"]).json()
            dear = client.post("/forecast/whatif", json={"key": "2/1", "price": 0.05}, headers=AS["analyst"]).json()
            promo = client.post("/forecast/whatif", json={"key": "2/1", "price": 0.05, "promotion": True}, headers=AS["analyst"]).json()
            assert cheap["units"] > dear["units"] and promo["units"] > dear["units"] and cheap["elasticity"] < 0
            assert client.post("/forecast/whatif", json={"key": "2/1", "price": -1}, headers=AS["analyst"]).status_code == 422
