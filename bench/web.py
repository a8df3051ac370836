"""Web UI benchmark: first page load and search round trips in headless Chromium on loopback.

Builds the demo shop (all products, 30k real events), serves it, loads `/` cold N times (fresh browser
context each time: nothing cached) and runs the real search box for a set of queries, timing each
`/search` fetch from the browser's own Resource Timing entries.

    python bench/web.py --json        # last line: one JSON object
"""

from __future__ import annotations

import argparse
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, report, require

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "src" / "shopmind" / "data" / "demo"
QUERIES = ["star wars", "toy story", "comedy 1995", "alien", "batman", "love", "godfather", "space", "horror", "jurassic park",
           "strar trek", "children animation", "war", "detective", "music", "christmas", "western", "james bond", "disney", "shakespeare"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--loads", type=int, default=20)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "web.json")
    args = ap.parse_args()
    require("playwright", "uvicorn")
    import uvicorn
    from playwright.sync_api import sync_playwright

    from shopmind.api import create_app
    from shopmind.engine import ShopMind

    with tempfile.TemporaryDirectory(prefix="shopmind-web-") as tmp:
        home = Path(tmp)
        shop = ShopMind.open(home, api={"admin_keys": ["a"], "public_keys": ["p"], "rate_limits": {"enabled": False}})  # one browser, many searches
        shop.import_file("products", DEMO / "products.jsonl")
        shop.import_file("users", DEMO / "users.csv")
        pq.write_table(pq.read_table(DEMO / "events.parquet").sort_by("timestamp").slice(0, 30_000), home / "ev.parquet")
        shop.import_file("events", home / "ev.parquet")
        shop.build()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        srv = uvicorn.Server(uvicorn.Config(create_app(shop), host="127.0.0.1", port=port, log_level="warning"))
        threading.Thread(target=srv.run, daemon=True).start()
        while not srv.started:
            time.sleep(0.1)
        url = f"http://127.0.0.1:{port}/"
        flags = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
        loads, searches = [], []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=flags)
            for _ in range(args.loads):
                ctx = browser.new_context()
                page = ctx.new_page()
                page.goto(url, wait_until="load")
                loads.append(page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd"))
                ctx.close()
            ctx = browser.new_context()
            page = ctx.new_page()
            page.goto(url)
            page.wait_for_selector("#user-select option", state="attached")
            page.evaluate("performance.setResourceTimingBufferSize(10000)")
            for q in QUERIES * 2:
                page.fill("#q", q)
                with page.expect_response(lambda r: "/search?" in r.url):
                    page.press("#q", "Enter")
                page.wait_for_selector("#total")
            entries = page.evaluate("performance.getEntriesByType('resource').filter(e => e.name.includes('/search?')).map(e => e.duration)")
            searches = entries[len(QUERIES):]  # the second pass: warm, as shoppers meet it
            browser.close()
        srv.should_exit = True
        shop.close()
    result = {
        "first_load_ms_p50": round(float(np.percentile(loads, 50)), 1),
        "first_load_ms_p95": round(float(np.percentile(loads, 95)), 1),
        "search_roundtrip_ms_p50": round(float(np.percentile(searches, 50)), 1),
        "search_roundtrip_ms_p95": round(float(np.percentile(searches, 95)), 1),
        "search_roundtrip_ms_max": round(float(np.max(searches)), 1),
        "loads": len(loads),
        "searches": len(searches),
        "products": 1682,
        "machine": machine(),
    }
    report(result, title="web UI (bench/web.py)", bars={"first_load_ms_p95": "<= 300", "search_roundtrip_ms_p95": "<= 100"}, out=args.out, as_json=args.json)

if __name__ == "__main__":
    main()
