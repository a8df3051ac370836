"""Scale-out bench (issue 16): N API workers on one PostgreSQL + Redis, real HTTP, real data.

Starts everything it needs itself on free loopback ports (PostgreSQL, redis-server, `shopmind serve` workers, a
second "host" = another home sharing the store, the artifact path and the secret) and stops it all at the end,
also on Ctrl-C or an error. Data: the Home Depot catalog (real titles, ../shared/data/search/homedepot) plus the
demo shop's MovieLens-100K movies, users and events (real ids; what bench/realtime.py uses) for recommendations.

Sections (--sections a,b,c,d,e,f):
  a  mixed traffic through wrk (search 40 %, recommend 40 %, events 20 %) with 1, 2, 4 workers (`serve --workers N`):
     throughput, p50/p99 overall (mixed run) and per route (short single-route runs at the same concurrency)
  b  100 concurrent clicks across 4 workers on a campaign with budget for 10 clicks: overspent_clicks must be 0
  c  an event posted to worker A changes the recommendations worker B serves: p99 delay over >= 100 trials
  d  a build registered on another host and promoted there is served by every worker: promote_visible_s
  e  growth with the catalog (10k, 50k, 200k products; beyond the real titles REPEATED with new ids, labelled):
     build time, search p50/p99, RSS per worker, disk of artifacts and store; faiss HNSW alone at 1M RANDOM vectors
  f  online state: the per-request catch-up query on PostgreSQL vs a Redis round trip; state memory per user

    nice python bench/scale.py --json               # the full run (~25 min, alone on the box)
    python bench/scale.py --quick --json            # tiny sizes, a smoke run (a minute or two)
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, report, require

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "src" / "shopmind" / "data" / "demo"
SECTIONS = "abcdef"
HEADLINE = ("throughput_ratio_2v1", "throughput_ratio_4v1", "overspent_clicks", "cross_worker_event_to_recs_p99_ms", "promote_visible_s")


def shared_data() -> Path:
    root = Path(os.environ.get("SHOPMIND_SHARED_DATA", REPO.parent / "shared" / "data"))
    return root if root.exists() else Path("/work/shared/data")


def pct(xs: list[float] | np.ndarray, q: float) -> float | None:
    return round(float(np.percentile(xs, q)), 2) if len(xs) else None


class Sizes:
    """Every size the bench uses; --quick shrinks them to a smoke run."""

    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.hd_products = 2000 if quick else None  # None: the whole Home Depot catalog
        self.events = 5000 if quick else None  # None: every demo event
        self.workers = (1, 2) if quick else (1, 2, 4)
        self.warm_s, self.mixed_s, self.route_s = (2, 3, 2) if quick else (10, 25, 8)
        self.connections = 8 if quick else 16
        self.ads, self.budget_clicks = (20, 5) if quick else (100, 10)
        self.trials = 12 if quick else 120
        self.growth = (1000, 3000) if quick else (10_000, 50_000, 200_000)
        self.growth_queries = 20 if quick else 200
        self.vectors = 20_000 if quick else 1_000_000
        self.vector_build_cap_s = 60 if quick else 540  # faiss; Milvus Lite gets a quarter (at most 150 s)
        self.reads = 200 if quick else 3000
        self.state_events = 20_000 if quick else 500_000


class Context:
    """What the sections share: the cluster, the data, the first host (imported and built once), the 4 workers."""

    def __init__(self, cluster: Any, tmp: Path, sizes: Sizes, data: Path) -> None:
        self.cluster, self.tmp, self.sizes, self.data = cluster, tmp, sizes, data
        self.secret = secrets.token_hex(32)
        self._host: dict[str, Any] | None = None
        self._four: list[int] | None = None
        self.notes: dict[str, Any] = {}

    # -- data --------------------------------------------------------------------------------------------------
    def hd_products(self, n: int | None = None) -> list[dict]:
        rows = [orjson.loads(line) for line in (self.data / "search" / "homedepot" / "products.jsonl").read_bytes().splitlines() if line.strip()]
        return rows if n is None else rows[:n]

    def hd_queries(self) -> list[str]:
        out = []
        for line in (self.data / "search" / "homedepot" / "queries.tsv").read_text().splitlines():
            parts = line.split("\t")
            if len(parts) == 2 and parts[1].strip():
                out.append(parts[1].strip())
        return out

    def demo_events(self) -> list[dict]:
        import pyarrow.parquet as pq

        events = pq.read_table(DEMO / "events.parquet").sort_by("timestamp").to_pylist()
        return events if self.sizes.events is None else events[: self.sizes.events]

    @property
    def users(self) -> list[str]:
        return self.host()["users"]

    @property
    def items(self) -> list[str]:
        return self.host()["items"]

    # -- the first host: PostgreSQL store, Redis, products + users + events imported, every part built ------------
    def host(self) -> dict[str, Any]:
        if self._host is None:
            self._host = self._make_host()
        return self._host

    def _make_host(self) -> dict[str, Any]:
        from _scale_cluster import host_config

        c = self.cluster
        if c.pg_url is None:
            c.postgres()
        if c.redis_url is None:
            c.redis()
        store_url = c.database("shop")
        self.artifacts = self.tmp / "shared-artifacts"
        home = self.tmp / "host1"
        host_config(home, store_url=store_url, shared_url=c.redis_url, artifacts=self.artifacts, secret=self.secret)
        products = self.tmp / "hd.jsonl"
        products.write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in self.hd_products(self.sizes.hd_products)))
        events = self.demo_events()
        ev_file = self.tmp / "events.jsonl"
        ev_file.write_bytes(b"".join(orjson.dumps({**e, "timestamp": int(e["timestamp"])}) + b"\n" for e in events))
        t0 = time.perf_counter()
        c.shopmind(home, "import", "products", str(products))
        c.shopmind(home, "import", "products", str(DEMO / "products.jsonl"))
        c.shopmind(home, "import", "users", str(DEMO / "users.csv"))
        c.shopmind(home, "import", "events", str(ev_file))
        import_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        built = c.shopmind(home, "build")
        build_s = time.perf_counter() - t0
        users = sorted({e["user_id"] for e in events}, key=lambda u: int(u[1:]) if u[1:].isdigit() else 0)
        items = sorted({e["item_id"] for e in events if e.get("item_id")})
        self.notes.update({"setup.products_hd": len(self.hd_products(self.sizes.hd_products)), "setup.products_demo": 1682,
                           "setup.events": len(events), "setup.users": len(users), "setup.import_s": round(import_s, 1),
                           "setup.build_all_s": round(build_s, 1), "setup.store": "postgresql", "setup.shared_url": "redis"})
        return {"home": home, "store_url": store_url, "users": users, "items": items, "built": built}

    def four(self) -> list[int]:
        """Four single-process workers on host 1 (separate ports: a worker can be addressed by name, as behind a
        load balancer); started once for sections b, c and d."""
        if self._four is None:
            home = self.host()["home"]
            self._four_procs = [self.cluster.serve(home, name=f"w{i}", omp_threads=1) for i in range(4)]
            self._four = [port for _, port in self._four_procs]
        return self._four

    def stop_four(self) -> None:
        """Stop the four workers (sections e and f time other things: idle followers should not run beside them)."""
        for proc, _ in getattr(self, "_four_procs", []):
            self.cluster.stop(proc)
        self._four, self._four_procs = None, []


def run_section(name: str, fn: Any, ctx: Context, result: dict[str, Any]) -> None:
    """One section; a failure is recorded (with its reason) and the next section still runs."""
    t0 = time.perf_counter()
    try:
        out = fn(ctx)
        result.update(out)
    except Exception as exc:  # noqa: BLE001 — the report says which section failed and why, the others still run
        traceback.print_exc(file=sys.stderr)
        result[f"{name}.status"] = f"failed: {type(exc).__name__}: {str(exc)[:300]}"
    result[f"{name}.seconds"] = round(time.perf_counter() - t0, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run of every section in a minute or two")
    ap.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated subset of a,b,c,d,e,f")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--data", type=Path, default=None, help="the shared data folder (default ../shared/data)")
    ap.add_argument("--out", type=Path, default=None, help="default bench/results/scale.json (scale_quick.json with --quick)")
    ap.add_argument("--img", type=Path, default=REPO / "docs" / "img", help="where the scale_*.png plots go (not with --quick)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (homes, server logs) for a look afterwards")
    ap.add_argument("--server-omp-threads", type=int, default=None,
                    help="OMP_NUM_THREADS for every server (default: none, the product's own: serve --workers N gives each its share)")
    args = ap.parse_args()
    wanted = [s.strip() for s in args.sections.split(",") if s.strip()]
    bad = [s for s in wanted if s not in SECTIONS]
    if bad:
        ap.error(f"--sections: unknown section(s) {bad}; known: {', '.join(SECTIONS)}")
    require("httpx", "psycopg", "redis", "faiss", "pyarrow", "rich")
    from _scale_cluster import Cluster
    from _scale_growth import section_e, section_f
    from _scale_sections import section_a, section_b, section_c, section_d

    sizes = Sizes(args.quick)
    out = args.out or REPO / "bench" / "results" / ("scale_quick.json" if args.quick else "scale.json")
    result: dict[str, Any] = dict.fromkeys(HEADLINE)
    result["mode"] = "quick (smoke sizes: numbers mean nothing)" if args.quick else "full"
    tmp = Path(tempfile.mkdtemp(prefix="shopmind-scale-"))
    try:
        with Cluster(tmp) as cluster:
            cluster.server_omp = args.server_omp_threads
            result["servers_omp_num_threads"] = args.server_omp_threads or "product default"
            ctx = Context(cluster, tmp, sizes, args.data or shared_data())
            fns = {"a": section_a, "b": section_b, "c": section_c, "d": section_d, "e": section_e, "f": section_f}
            for name in SECTIONS:
                if name in "ef":
                    ctx.stop_four()
                if name in wanted:
                    run_section(name, fns[name], ctx, result)
            result.update(ctx.notes)
    finally:
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    from _scale_sizing import sizing

    if {"e", "f"} & set(wanted):
        result.update(sizing(result))
    result["machine"] = machine()
    result["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    report(result, title="scale-out (bench/scale.py)", out=out, as_json=args.json, bars={
        "throughput_ratio_2v1": ">= 1.5", "overspent_clicks": "== 0", "b.charged_equals_budget": "true",
        "cross_worker_event_to_recs_p99_ms": "< 1000", "promote_visible_s": "<= 5"})
    if not args.quick:  # after the JSON is written: a plotting problem never loses a run
        from _scale_plots import plots

        plots(result, args.img)


if __name__ == "__main__":
    main()
