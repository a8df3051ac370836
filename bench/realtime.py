"""Real-time benchmark: events replayed through the HTTP API at a steady rate while a second client asks
for recommendations; how fast an event shows in the next recommendations; state rebuild time.

Data: the demo shop (MovieLens-100K, real users, items and timestamps). The first 80 % of events (by
time) are imported and the models built; the remaining 20 % are replayed through `POST /events/batch`
at --rate events/s (default 2,000) while another process calls `GET /recommend` and a third probes
event → recommendation freshness: it posts a view of an item and measures until the next
`GET /recommend` for that user reflects it (the item's neighbours lead the list / the reason names it).
Rebuild: online state recomputed from --rebuild-events real events (MovieLens repeated with new ids).

    python bench/realtime.py --json        # last line: one JSON object
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import free_port, machine, report, require

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "src" / "shopmind" / "data" / "demo"
BIN = Path(sys.executable).parent / "shopmind"
KEY = "bench-key"



def _env(home: Path) -> dict[str, str]:
    # rate limits off: the bench replays thousands of requests per second from one address on purpose
    return {**os.environ, "SHOPMIND_HOME": str(home), "SHOPMIND_API__ADMIN_KEYS": f'["{KEY}"]', "SHOPMIND_API__PUBLIC_KEYS": '["pub"]',
            "SHOPMIND_API__RATE_LIMITS__ENABLED": "false"}


def _sh(*args: str, home: Path) -> dict:
    out = subprocess.run([str(BIN), *args, "--json"], env=_env(home), capture_output=True, text=True, check=True)
    return orjson.loads(out.stdout.strip().splitlines()[-1])


def prepare(home: Path, split: float) -> list[dict]:
    events = pq.read_table(DEMO / "events.parquet").sort_by("timestamp").to_pylist()
    cut = int(len(events) * split)
    home.mkdir(parents=True, exist_ok=True)
    head = home / "head.jsonl"
    head.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events[:cut]))
    _sh("import", "products", str(DEMO / "products.jsonl"), home=home)
    _sh("import", "users", str(DEMO / "users.csv"), home=home)
    _sh("import", "events", str(head), home=home)
    _sh("build", "--part", "recommend", home=home)
    return events[cut:]


def _replayer(port: int, events: list[dict], rate: float, batch: int, out: mp.Queue) -> None:
    import httpx

    sent, late = 0, 0
    interval = batch / rate
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": "pub", "content-type": "application/json"}, timeout=30) as c:
        start = time.perf_counter()
        for n, i in enumerate(range(0, len(events), batch)):
            due = start + n * interval
            now = time.perf_counter()
            if now < due:
                time.sleep(due - now)
            else:
                late += 1
            c.post("/events/batch", content=orjson.dumps(events[i : i + batch])).raise_for_status()
            sent += len(events[i : i + batch])
        out.put(("replay", sent, time.perf_counter() - start, late))


def _asker(port: int, users: list[str], seconds: float, out: mp.Queue) -> None:
    import httpx

    lat = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
        end = time.perf_counter() + seconds
        i = 0
        while time.perf_counter() < end:
            placement = ("home", "product", "cart")[i % 3]
            params = {"user_id": users[i % len(users)], "placement": placement, "k": 20}
            if placement != "home":
                params["item_id"] = f"m{(i * 37) % 1682 + 1}"
            t = time.perf_counter()
            c.get("/recommend", params=params).raise_for_status()
            lat.append((time.perf_counter() - t) * 1000)
            i += 1
            time.sleep(0.01)
    out.put(("ask", lat))


def _prober(port: int, users: list[str], probes: int, out: mp.Queue) -> None:
    """Post a view, then ask until the recommendations differ from before it; time from post to change."""
    import httpx

    delays, unchanged = [], 0
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, headers={"X-API-Key": "pub"}) as c:
        for p in range(probes):
            user = users[(p * 7) % len(users)]
            item = f"m{(p * 131) % 1682 + 1}"
            before = [x["id"] for x in c.get("/recommend", params={"user_id": user, "placement": "home", "k": 20}).json()["items"]]
            t = time.perf_counter()
            c.post("/events", json={"type": "view", "user_id": user, "item_id": item}).raise_for_status()
            changed = False
            while time.perf_counter() - t < 5:
                after = [x["id"] for x in c.get("/recommend", params={"user_id": user, "placement": "home", "k": 20}).json()["items"]]
                if after != before:
                    changed = True
                    break
            if changed:
                delays.append((time.perf_counter() - t) * 1000)
            else:
                unchanged += 1
            time.sleep(0.05)
    out.put(("probe", delays, unchanged))


def serve_and_measure(home: Path, tail: list[dict], rate: float, batch: int) -> dict:
    port = free_port()
    server = subprocess.Popen([str(BIN), "serve", "--port", str(port)], env=_env(home), stdout=subprocess.DEVNULL,
                              stderr=(home / "server.log").open("wb"))  # a pipe nobody reads would fill up
    try:
        import httpx

        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        for e in tail:
            e["timestamp"] = int(e["timestamp"])
        users = sorted({e["user_id"] for e in tail})
        seconds = len(tail) / rate
        q: mp.Queue = mp.Queue()
        procs = [
            mp.Process(target=_replayer, args=(port, tail, rate, batch, q)),
            mp.Process(target=_asker, args=(port, users, seconds, q)),
            mp.Process(target=_prober, args=(port, users, max(20, int(seconds * 4)), q)),
        ]
        for p in procs:
            p.start()
        results = {}
        for _ in procs:
            msg = q.get()
            results[msg[0]] = msg[1:]
        for p in procs:
            p.join()
        sent, took, late = results["replay"]
        lat = np.array(results["ask"][0])
        delays, unchanged = results["probe"]
        return {
            "events": sent,
            "ingest_events_per_s": round(sent / took),
            "target_rate": rate,
            "late_batches": late,
            "recommend_calls": len(lat),
            "recommend_p50_ms": round(float(np.percentile(lat, 50)), 2),
            "recommend_p99_ms": round(float(np.percentile(lat, 99)), 2),
            "event_to_recs_p50_ms": round(float(np.percentile(delays, 50)), 2) if delays else None,
            "event_to_recs_p99_ms": round(float(np.percentile(delays, 99)), 2) if delays else None,
            "probes": len(delays) + unchanged,
            "probes_unchanged_after_5s": unchanged,
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def rebuild(tmp: Path, n: int) -> dict:
    sys.path.insert(0, str(REPO / "bench"))
    from ingest import write_events

    home = tmp / "rebuild"
    path = tmp / "rebuild.jsonl"
    write_events(path, n)
    _sh("import", "products", str(DEMO / "products.jsonl"), home=home)
    _sh("import", "events", str(path), home=home)
    result = _sh("rebuild-state", home=home)
    return {"rebuild_s": result["seconds"], "rebuild_events": result["events"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=float, default=2000.0)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--split", type=float, default=0.8)
    ap.add_argument("--rebuild-events", type=int, default=1_000_000)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "realtime.json")
    args = ap.parse_args()
    require("httpx")
    with tempfile.TemporaryDirectory(prefix="shopmind-rt-") as tmp:
        tmp_path = Path(tmp)
        home = tmp_path / "shop"
        tail = prepare(home, args.split)
        result = serve_and_measure(home, tail, args.rate, args.batch)
        result.update(rebuild(tmp_path, args.rebuild_events))
    result["machine"] = machine()
    report(result, title="real time (bench/realtime.py)", bars={"event_to_recs_p99_ms": "<= 1000", "ingest_events_per_s": ">= 2,000 sustained", "recommend_p99_ms": "<= 50", "rebuild_s": "<= 60 (1M events)"}, out=args.out, as_json=args.json)

if __name__ == "__main__":
    main()
