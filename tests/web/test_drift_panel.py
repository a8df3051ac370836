"""The dashboard's drift and training panel in a real browser: hourly event volume, served top-1 scores against the
promoted version's reference, and the promotion gate's decisions (a held version with its reason). A small real shop:
the demo products and its first 15,000 events by time, search without dense vectors, four quick recommenders.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from shopmind.engine import ShopMind
from shopmind.facade.training import Trainer
from tests.web.test_browser import browser, page, shot  # noqa: F401  (the same Chromium and the same no-JavaScript-errors check)

pytestmark = pytest.mark.browser  # Chromium through Playwright against a uvicorn server

ADMIN = "admin-drift-key"
RECS = {"models": ["popular", "trending", "itemknn", "rules"], "content_encoder": "none", "rising": False,
        "select": {"candidates": ["popular", "itemknn", "rules"], "tune": False}}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_data: Path):
    """Built once, then a held rebuild (item-kNN alone), served on loopback."""
    import socket

    import uvicorn

    from shopmind.api import create_app

    home = tmp_path_factory.mktemp("driftshop")
    opts = {"api": {"admin_keys": [ADMIN]}, "search": {"stages": {"dense": False}}, "training": {"parts": ["recommend"]}}
    shop = ShopMind.open(home, **opts, recommend=RECS)
    shop.import_file("products", demo_data / "products.jsonl")
    pq.write_table(pq.read_table(demo_data / "events.parquet").sort_by("timestamp").slice(0, 15_000), home / "events.parquet")
    shop.import_file("events", home / "events.parquet")
    shop.build(["search", "recommend"])
    time.sleep(1.1)  # versions are named to the second
    with ShopMind.open(home, **opts, recommend={**RECS, "models": ["itemknn"], "select": {"candidates": ["itemknn"], "tune": False}}) as worse:
        assert Trainer(worse).run_once(force=True)["decisions"]["recommend"]["promoted"] is False
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(shop), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not srv.started and time.time() < deadline:
        time.sleep(0.1)
    yield {"url": f"http://127.0.0.1:{port}", "shop": shop}
    srv.should_exit = True
    thread.join(timeout=10)
    shop.close()


def test_the_drift_panel_shows_volume_scores_and_the_held_version(server, page) -> None:  # noqa: F811  (the imported fixture)
    import httpx

    users = list(dict.fromkeys(server["shop"].store.scan_events(by_time=False).column("user_id").to_pylist()[::-1]))[:30]
    with httpx.Client(base_url=server["url"], headers={"X-API-Key": ADMIN}) as client:
        for user in users:
            assert client.get("/recommend", params={"user_id": user, "k": 1}).status_code == 200
        assert client.get("/search", params={"q": "star wars", "user_id": "drift-browser"}).status_code == 200
    page.goto(server["url"] + "/admin")
    page.fill("#key", ADMIN)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#drift-tables table", timeout=60_000)
    page.wait_for_selector("#training table", timeout=30_000)
    assert "newest events scanned" in page.inner_text("#drift-note")
    tables = page.inner_text("#drift-tables")
    assert "recommend" in tables and "search" in tables
    training = page.inner_text("#training")
    assert "Continuous training is off" in training and "held" in training and "best.ndcg@10" in training
    assert page.locator("#drift-volume").is_visible()
    page.locator("#drift-panel").scroll_into_view_if_needed()
    shot(page, "dashboard-drift")
