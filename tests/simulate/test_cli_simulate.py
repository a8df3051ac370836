"""`shopmind simulate --url URL` against a served demo shop (uvicorn in a thread, real HTTP), and the demo's in-process
seeding: every event the shoppers cause is labelled simulated, and the dashboard's reports see funnels, queries and
CTR by placement from them. Integration tier: builds the demo shop on a real slice of its events."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from shopmind.cli import app as cli
from shopmind.engine import ShopMind

pytestmark = pytest.mark.integration
ADMIN, STORE = "sim-admin-key-0123456789", "sim-store-key-0123456789"
EVENTS_SLICE = 20_000


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, demo_data: Path):
    """The demo shop built on its first 20,000 real events, served by uvicorn on a free port: (shop, url)."""
    import uvicorn

    from shopmind.api import create_app

    root = tmp_path_factory.mktemp("simulate")
    events = root / "events.parquet"
    pq.write_table(pq.read_table(demo_data / "events.parquet").sort_by("timestamp").slice(0, EVENTS_SLICE), events)
    shop = ShopMind.open(root / "shop", assistant={"llm": "none"}, api={"admin_keys": [ADMIN], "public_keys": [STORE]})
    shop.import_file("products", demo_data / "products.jsonl")
    shop.import_file("events", events)
    shop.build()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(shop), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started and time.time() < deadline and thread.is_alive():
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield shop, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    shop.close()


def _simulated(shop: ShopMind) -> tuple[list[dict], list[dict]]:
    """(labelled, unlabelled) events of simulated users in the store."""
    t = shop.store.scan_events().to_pydict()
    rows = [dict(zip(t, vals, strict=True)) for vals in zip(*t.values(), strict=True)]
    sim = [r for r in rows if str(r["user_id"]).startswith("sim-")]
    labelled = [r for r in sim if r["context"] and orjson.loads(r["context"]).get("simulated") == "1"]
    return labelled, [r for r in sim if r not in labelled]


def test_cli_drives_the_server_and_everything_it_writes_is_labelled(served):
    shop, url = served
    result = CliRunner().invoke(cli, ["simulate", "--url", url, "--api-key", STORE, "--sessions", "20", "--seed", "3",
                                               "--scenario", "mixed", "--sequences", "known-item", "--concurrency", "4", "--json"])
    assert result.exit_code == 0, result.output
    summary = orjson.loads(result.stdout.strip().splitlines()[-1])
    assert summary["completed"] == 20 and summary["failed"] == 0 and summary["simulated"] is True, summary
    assert set(summary["by_scenario"]) == {"search", "recommend"}
    assert summary["http_status"].get("202", 0) == 20  # one event batch per session
    labelled, unlabelled = _simulated(shop)
    runs = {orjson.loads(r["context"])["sim_run"] for r in labelled}
    assert summary["run_id"] in runs and not unlabelled
    mine = [r for r in labelled if orjson.loads(r["context"])["sim_run"] == summary["run_id"]]
    posted = sum(row["events"] for row in summary["by_scenario"].values())
    assert len(mine) == posted
    searches = [r for r in mine if r["type"] == "search"]
    assert len(searches) == summary["by_scenario"]["search"]["sessions"]
    clicks = sum(row["clicks"] for row in summary["by_scenario"].values())
    assert sum(r["type"] == "click" for r in mine) == clicks


def test_a_bad_scenario_is_a_clear_error(served):
    _, url = served
    result = CliRunner().invoke(cli, ["simulate", "--url", url, "--scenario", "browse"])
    assert result.exit_code == 2 and "scenario must be one of" in result.output


def test_demo_seeding_fills_the_dashboard_reports_with_labelled_traffic(served, demo_data):
    from shopmind.simulate.demo import DEMO_EXPERIMENT, seed_demo_traffic

    shop, _ = served
    clicks_before = sum(r["clicks"] for r in shop.report("placements"))  # the CLI test's sessions, if it ran first
    out = seed_demo_traffic(shop, {"products": demo_data / "products.jsonl", "events": demo_data / "events.parquet"}, sessions=120, seed=1)
    assert out["simulated"] is True and out["stored"] == out["events"] > 0
    assert out["experiment"] == DEMO_EXPERIMENT["id"]  # the dashboard's A/B panel gets an experiment, on simulated traffic
    report = shop.experiment_report(DEMO_EXPERIMENT["id"])
    assert report["simulated"] is True and all(v["units"] > 0 for v in report["variants"]), report.get("variants")
    placements = {r["placement"]: r for r in shop.report("placements")}
    assert {"search", "product", "home"} <= set(placements)
    assert all(placements[p]["impressions"] > 0 for p in ("search", "product", "home"))
    assert sum(r["clicks"] for r in placements.values()) - clicks_before == sum(v["clicks"] for v in out["by_placement"].values())
    queries = shop.report("queries")
    assert queries["top"] and queries["searches"] >= out["by_placement"]["search"]["sessions"]
    funnel = shop.report("funnel")
    assert sum(r["carters"] for r in funnel) > 0
    traffic = shop.report("traffic")  # what the dashboard's "Simulated traffic" panel shows
    assert traffic["real"] == EVENTS_SLICE and traffic["simulated"] >= out["events"] and f"sim-{out['run_id']}" not in traffic["runs"]
    assert traffic["runs"][out["run_id"]] == out["events"]
    again = seed_demo_traffic(shop, {"products": demo_data / "products.jsonl", "events": demo_data / "events.parquet"}, sessions=120, seed=1,
                              experiment=False)
    assert again["stored"] == 0  # the same seed writes the same event ids: a rerun of `shopmind demo` adds nothing
    _, unlabelled = _simulated(shop)
    assert not unlabelled
