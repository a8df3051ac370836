"""Ingestion benchmark: bulk import of 1M real events, HTTP batch ingestion, single-event POST latency.

Events are MovieLens-100K's 100,000 real ratings (as `view` events with their real timestamps), repeated
with new ids (and timestamps shifted by whole years) until there are --events of them. The import runs as
the real CLI in a subprocess, so its peak memory is the child's max RSS. The HTTP part starts
`shopmind serve` on loopback and sends batches of 500 from 4 client processes, then times single POSTs.

    python bench/ingest.py --json        # last line: one JSON object
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import free_port, machine, report, require

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SHOPMIND_SHARED_DATA", REPO.parent / "shared" / "data"))
BIN = Path(sys.executable).parent / "shopmind"
YEAR = 365 * 86400


def real_ratings() -> list[tuple[str, str, int]]:
    rows = []
    with open(DATA / "ml-100k" / "ml-100k.inter", encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            user, item, _rating, ts = line.rstrip("\n").split("\t")
            rows.append((user, item, int(float(ts))))
    return rows


def write_events(path: Path, n: int) -> int:
    base = real_ratings()
    written = 0
    with open(path, "wb") as fh:
        copy = 0
        while written < n:
            for user, item, ts in base:
                if written >= n:
                    break
                rec = {"id": f"ml{copy}-{user}-{item}", "type": "view", "user_id": f"u{user}", "item_id": f"m{item}",
                       "session_id": f"u{user}-{copy}-{ts // 86400}", "timestamp": ts + copy * YEAR}
                fh.write(orjson.dumps(rec) + b"\n")
                written += 1
            copy += 1
    return written


def bulk_import(path: Path, home: Path) -> dict:
    env = {**os.environ, "SHOPMIND_HOME": str(home)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.run([str(BIN), "import", "events", str(path), "--json"], env=env, capture_output=True, text=True, check=True)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    report = orjson.loads(out.stdout.strip().splitlines()[-1])
    replay = subprocess.run([str(BIN), "import", "events", str(path), "--json"], env=env, capture_output=True, text=True, check=True)
    replay_report = orjson.loads(replay.stdout.strip().splitlines()[-1])
    stats = orjson.loads(subprocess.run([str(BIN), "stats", "--json"], env=env, capture_output=True, text=True, check=True).stdout)
    return {
        "import_events_per_s": round(report["read"] / report["seconds"]),
        "import_seconds": round(report["seconds"], 2),
        "import_peak_mib": round(max(peak_kib, before) / 1024, 1),
        "replay_added": replay_report["stored"],
        "replay_events_per_s": round(replay_report["read"] / replay_report["seconds"]),
        "events_in_store": stats["events"],
    }



def _client(port: int, key: str, worker: int, batches: int, batch_size: int, out: mp.Queue) -> None:
    import httpx

    base = real_ratings()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key, "content-type": "application/json"}, timeout=30) as client:
        sent = 0
        for b in range(batches):
            chunk = [
                {"id": f"http{worker}-{b}-{i}", "type": "view", "user_id": f"u{u}", "item_id": f"m{it}", "timestamp": ts}
                for i, (u, it, ts) in enumerate(base[(b * batch_size) % 90_000 : (b * batch_size) % 90_000 + batch_size])
            ]
            r = client.post("/events/batch", content=orjson.dumps(chunk))
            r.raise_for_status()
            sent += len(chunk)
        out.put(sent)


def http_ingest(home: Path, clients: int = 4, batches: int = 25, batch_size: int = 500, singles: int = 1000) -> dict:
    port = free_port()
    key = "bench-public-key"
    env = {**os.environ, "SHOPMIND_HOME": str(home), "SHOPMIND_API__PUBLIC_KEYS": f'["{key}"]', "SHOPMIND_API__ADMIN_KEYS": '["bench-admin"]',
           "SHOPMIND_API__RATE_LIMITS__ENABLED": "false"}  # a load test from one address: limits off
    server = subprocess.Popen([str(BIN), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=(home / "server.log").open("wb"))  # a pipe nobody reads would fill up
    try:
        import httpx

        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        q: mp.Queue = mp.Queue()
        procs = [mp.Process(target=_client, args=(port, key, w, batches, batch_size, q)) for w in range(clients)]
        start = time.perf_counter()
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        elapsed = time.perf_counter() - start
        total = sum(q.get() for _ in procs)
        latencies = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key}) as client:
            for i in range(singles):
                body = orjson.dumps({"id": f"single-{i}", "type": "click", "user_id": f"u{i % 943 + 1}", "item_id": f"m{i % 1682 + 1}"})
                t = time.perf_counter()
                r = client.post("/events", content=body, headers={"content-type": "application/json"})
                latencies.append((time.perf_counter() - t) * 1000)
                r.raise_for_status()
        lat = np.array(latencies)
        return {
            "http_events_per_s": round(total / elapsed),
            "http_clients": clients,
            "http_batch": batch_size,
            "http_events": total,
            "single_post_p50_ms": round(float(np.percentile(lat, 50)), 2),
            "single_post_p99_ms": round(float(np.percentile(lat, 99)), 2),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--json", action="store_true", help="print the result as one JSON object on the last line")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "ingest.json")
    args = ap.parse_args()
    require("httpx")
    with tempfile.TemporaryDirectory(prefix="shopmind-bench-") as tmp:
        tmp_path = Path(tmp)
        events_file = tmp_path / "events.jsonl"
        n = write_events(events_file, args.events)
        result: dict = {"events": n, "file_mib": round(events_file.stat().st_size / 2**20, 1)}
        result.update(bulk_import(events_file, tmp_path / "bulk"))
        result.update(http_ingest(tmp_path / "http"))
    result["machine"] = machine()
    report(result, title="ingest (bench/ingest.py)", bars={"import_events_per_s": ">= 50,000", "import_peak_mib": "< 1024", "replay_added": "== 0", "http_events_per_s": ">= 5,000", "single_post_p99_ms": "<= 20"}, out=args.out, as_json=args.json)

if __name__ == "__main__":
    main()
