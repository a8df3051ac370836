"""Sections a–d of bench/scale.py: throughput with N workers, clicks across workers, cross-worker freshness, promotion."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from _scale_cluster import ADMIN, PUBLIC, cli_supports, worker_rss_mb
from _scale_wrk import run_wrk, write_script

ROUTES = {"search": "s", "recommend": "r", "events": "e"}


def _pct(xs: list[float], q: float) -> float | None:
    return round(float(np.percentile(xs, q)), 2) if xs else None


def _url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


# -- a: mixed traffic with 1, 2, 4 workers -------------------------------------------------------------------------
def section_a(ctx: Any) -> dict[str, Any]:
    """wrk against `shopmind serve --workers N`: a warm-up, a mixed run, then one short run per route."""
    s = ctx.sizes
    counts = s.workers if cli_supports(["serve"], "--workers") else (1,)
    host = ctx.host()
    script = write_script(ctx.tmp / "mixed.lua", ctx.hd_queries()[:3000], ctx.users, ctx.items, PUBLIC)
    log = ctx.tmp / "wrk.log"
    out: dict[str, Any] = {"a.method": (f"wrk -t1 -c{s.connections}: mixed {s.mixed_s} s (throughput, overall latency, per-route "
                                        f"status via echoed X-Request-ID), then {s.route_s} s per route alone (per-route latency); "
                                        f"{s.warm_s} s warm-up first; OpenMP threads: the product's default (1 worker: "
                                        f"search.query_threads; N workers: each its share of the CPUs, set by serve)")}
    rps: dict[int, float] = {}
    if counts == (1,):
        out["a.status"] = "1 worker only: `shopmind serve --workers N` has not landed (no throughput ratios)"
    for n in counts:
        proc, port = ctx.cluster.serve(host["home"], workers=n, name=f"a{n}")
        try:
            out[f"a.workers_{n}.warm_up_s"], out[f"a.workers_{n}.warm_up_complete"] = _warm_up(ctx, port, n * s.connections,
                                                                                               30 if s.quick else 180)
            run_wrk(script, port, s.warm_s, s.connections, tag=f"w{n}", log=log)
            mixed = run_wrk(script, port, s.mixed_s, s.connections, tag=f"m{n}", log=log)
            rps[n] = mixed["rps"]
            key = f"a.workers_{n}"
            out[f"{key}.rps"] = mixed["rps"]
            out[f"{key}.p50_ms"], out[f"{key}.p99_ms"] = mixed["p50_ms"], mixed["p99_ms"]
            out[f"{key}.non_2xx"], out[f"{key}.socket_errors"] = mixed["non_2xx"], mixed["socket_errors"]
            total = max(mixed["ok"], 1)
            out[f"{key}.share"] = {r: round(v / total, 3) for r, v in mixed["by_route_ok"].items()}
            for route, code in ROUTES.items():
                alone = run_wrk(script, port, s.route_s, s.connections, route=code, tag=f"{code}{n}", log=log)
                out[f"{key}.{route}.rps"] = alone["rps"]
                out[f"{key}.{route}.p50_ms"], out[f"{key}.{route}.p99_ms"] = alone["p50_ms"], alone["p99_ms"]
                out[f"{key}.{route}.non_2xx"] = alone["non_2xx"]
            parent, kids = worker_rss_mb(proc.pid)
            workers = kids[:n] if n > 1 else [parent]  # the N largest children are the workers (not a helper process)
            out[f"{key}.rss_total_mb"] = round(parent + sum(kids), 1)
            out[f"{key}.rss_per_worker_mb"] = round(sum(workers) / len(workers), 1) if workers else None
            out[f"{key}.rss_supervisor_mb"] = parent if n > 1 else None
        finally:
            ctx.cluster.stop(proc)
    if 1 in rps and rps[1] > 0:
        for n in (2, 4):
            if n in rps:
                out[f"throughput_ratio_{n}v1"] = round(rps[n] / rps[1], 3)
    return out


def _warm_up(ctx: Any, port: int, parallel: int, limit_s: float) -> tuple[float, bool]:
    """Bursts of `parallel` requests (search, recommend, event) on new connections, so that every worker loads its
    artifacts, until a whole burst answers within 2 s or limit_s passes; (seconds it took, whether a burst did)."""
    import httpx

    queries = [q for q in ctx.hd_queries()[:500] if q.isascii()]
    t0 = time.perf_counter()

    def one(i: int) -> float:
        t = time.perf_counter()
        kind = i % 3
        if kind == 0:
            httpx.get(f"{_url(port)}/search", params={"q": queries[i % len(queries)], "k": 10}, timeout=120).raise_for_status()
        elif kind == 1:
            httpx.get(f"{_url(port)}/recommend", params={"user_id": ctx.users[i % len(ctx.users)], "placement": "home", "k": 20},
                      timeout=120).raise_for_status()
        else:
            httpx.post(f"{_url(port)}/events", json={"id": f"warm-{time.time_ns()}-{i}", "type": "view", "user_id": ctx.users[i % len(ctx.users)],
                       "item_id": ctx.items[i % len(ctx.items)]}, headers={"X-API-Key": PUBLIC}, timeout=120).raise_for_status()
        return time.perf_counter() - t

    done = False
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        while not done and time.perf_counter() - t0 < limit_s:
            done = max(pool.map(one, range(parallel * 3))) < 2.0
    return round(time.perf_counter() - t0, 1), done


# -- b: 100 concurrent clicks across 4 workers, budget for 10 --------------------------------------------------------
def _ledger(store_url: str, campaign: str) -> tuple[int, float, int]:
    import psycopg

    with psycopg.connect(store_url, connect_timeout=10) as conn:
        row = conn.execute("SELECT count(*) FILTER (WHERE cost > 0), coalesce(sum(cost), 0), count(*) FROM ad_ledger "
                           "WHERE campaign_id = %s AND kind = 'click'", (campaign,)).fetchone()
        invalid = conn.execute("SELECT count(*) FROM ad_ledger WHERE campaign_id = %s AND kind <> 'click'", (campaign,)).fetchone()
    assert row is not None and invalid is not None
    return int(row[0]), float(row[1]), int(invalid[0])


def section_b(ctx: Any) -> dict[str, Any]:
    """One campaign, every click costs 1.0 (bid = reserve), budget = 10; ads served by all 4 workers, then every click
    posted at once, each to a different worker than the one that served its ad."""
    import httpx

    s = ctx.sizes
    ports, host = ctx.four(), ctx.host()
    campaign = f"scale-b-{int(time.time())}"
    budget = float(s.budget_clicks)
    promoted = [p["id"] for p in ctx.hd_products(5)]  # products no demo user has seen (ads skip items a user has)
    admin = {"X-API-Key": ADMIN}
    spec = {"advertiser": "bench", "name": "scale b", "products": promoted, "bid": 1.0, "daily_budget": budget, "total_budget": budget}
    with httpx.Client(timeout=30) as c:
        c.post(f"{_url(ports[0])}/campaigns", json=spec, params={"campaign_id": campaign}, headers=admin).raise_for_status()
        for port in ports:  # every worker re-reads campaigns every ads.campaign_refresh_s: wait until each serves it
            deadline = time.time() + 30
            while True:
                ads = c.get(f"{_url(port)}/ads", params={"placement": "home", "user_id": "scale-probe", "k": 1}).json().get("ads", [])
                if any(a["campaign_id"] == campaign for a in ads):
                    break
                if time.time() > deadline:
                    raise RuntimeError(f"worker {port} never served campaign {campaign}")
                time.sleep(0.2)
        served = []
        for i in range(s.ads):
            user = ctx.users[i % len(ctx.users)]
            r = c.get(f"{_url(ports[i % 4])}/ads", params={"placement": "home", "user_id": user, "k": 1})
            r.raise_for_status()
            ad = next((a for a in r.json()["ads"] if a["campaign_id"] == campaign), None)
            if ad is None:
                raise RuntimeError(f"worker {ports[i % 4]} served no ad of {campaign} to {user}: {r.text[:300]}")
            served.append((user, ad))
    prices = sorted({round(a["price"], 6) for _, a in served})
    barrier = threading.Barrier(len(served))
    clients = [httpx.Client(base_url=_url(ports[(i + 1) % 4]), timeout=30, headers={"X-API-Key": PUBLIC}) for i in range(len(served))]

    def click(i: int) -> int:
        user, ad = served[i]
        ev = {"id": f"{campaign}-click-{i}", "type": "click", "user_id": user, "item_id": ad["item_id"],
              "context": {"placement": "home", "position": ad.get("position", 0), "ad": ad["token"]}}
        barrier.wait(timeout=60)
        return clients[i].post("/events", json=ev).status_code

    try:
        with ThreadPoolExecutor(max_workers=len(served)) as pool:
            codes = list(pool.map(click, range(len(served))))
    finally:
        for cl in clients:
            cl.close()
    time.sleep(1.0)
    charged, amount, other = _ledger(host["store_url"], campaign)
    return {"overspent_clicks": charged - s.budget_clicks, "b.ads_served": len(served), "b.clicks_posted": len(codes),
            "b.clicks_2xx": sum(200 <= x < 300 for x in codes), "b.budget": budget, "b.prices": prices, "b.charged_clicks": charged,
            "b.charged_amount": round(amount, 6), "b.charged_equals_budget": abs(amount - budget) < 1e-9,
            "b.other_ledger_rows": other, "b.workers": 4}


# -- c: event at worker A → recommendations at worker B ------------------------------------------------------------
def section_c(ctx: Any) -> dict[str, Any]:
    """Per trial: B's recommendations for a user; a view of their top item posted to A; B asked again (no pause)
    until its list differs. Time from A's 2xx to B's changed answer."""
    import httpx

    s = ctx.sizes
    ports = ctx.four()
    users = ctx.users[200:] or ctx.users  # not the users of section b
    delays: list[float] = []
    unchanged, polls = 0, []
    with httpx.Client(timeout=30, headers={"X-API-Key": PUBLIC}) as c:
        def recs(port: int, user: str) -> list[str]:
            r = c.get(f"{_url(port)}/recommend", params={"user_id": user, "placement": "home", "k": 20})
            r.raise_for_status()
            return [x["id"] for x in r.json()["items"]]

        for t in range(s.trials):
            a, b = ports[t % 4], ports[(t + 1 + t // 4) % 4]
            if a == b:
                b = ports[(t + 1) % 4]
            user = users[(t * 7) % len(users)]
            before = recs(b, user)
            ev = {"id": f"scale-c-{time.time_ns()}-{t}", "type": "view", "user_id": user, "item_id": before[0]}
            c.post(f"{_url(a)}/events", json=ev).raise_for_status()
            acked = time.perf_counter()
            n = 0
            while True:
                n += 1
                if recs(b, user) != before:
                    delays.append((time.perf_counter() - acked) * 1000)
                    polls.append(n)
                    break
                if time.perf_counter() - acked > 5:
                    unchanged += 1
                    break
    return {"cross_worker_event_to_recs_p99_ms": _pct(delays, 99), "c.p50_ms": _pct(delays, 50), "c.max_ms": _pct(delays, 100),
            "c.trials": s.trials, "c.unchanged_after_5s": unchanged, "c.polls_p50": _pct(polls, 50), "c.delays_ms": [round(d, 2) for d in delays],
            "c.method": "view of B's top item posted to A; B polled without pause until its list differs (each poll is a full /recommend)"}


# -- d: promoted on another host, served by every worker -----------------------------------------------------------
def _serving(client: Any, port: int, part: str) -> str | None:
    """The version of `part` this worker serves now, as its /admin/models says (the registry's view per process)."""
    r = client.get(f"{_url(port)}/admin/models", headers={"X-API-Key": ADMIN})
    if r.status_code != 200:
        return None
    body = r.json()
    rec = body.get(part) if isinstance(body, dict) else None
    if rec is None and isinstance(body, dict):
        rec = body.get("parts", {}).get(part) if isinstance(body.get("parts"), dict) else None
    if isinstance(rec, dict):
        for key in ("serving", "loaded", "serving_version", "loaded_version"):
            if rec.get(key):
                v = rec[key]
                return v if isinstance(v, str) else v.get("version")
    return None


def section_d(ctx: Any) -> dict[str, Any]:
    """Host 2 (its own home; same store, artifact path and secret) builds recommend without promoting, then promotes
    it by CLI; every worker of host 1 is polled until it serves the new version."""
    import httpx

    from _scale_cluster import host_config

    if not (cli_supports(["models"], "promote") and cli_supports(["build"], "--no-promote")):
        return {"d.status": "not available: `shopmind models promote` / `shopmind build --no-promote` have not landed"}
    ports, host = ctx.four(), ctx.host()
    home2 = ctx.tmp / "host2"
    host_config(home2, store_url=host["store_url"], shared_url=ctx.cluster.redis_url, artifacts=ctx.artifacts, secret=ctx.secret)
    with httpx.Client(timeout=30) as c:
        for port in ports:  # load the recommend part in every worker first (it serves the current version)
            c.get(f"{_url(port)}/recommend", params={"user_id": ctx.users[0], "placement": "home", "k": 5}).raise_for_status()
        before = {p: _serving(c, p, "recommend") for p in ports}
        if any(v is None for v in before.values()):
            return {"d.status": "not available: GET /admin/models does not say which version a worker serves"}
        t0 = time.perf_counter()
        built = ctx.cluster.shopmind(home2, "build", "--part", "recommend", "--no-promote")
        build_s = time.perf_counter() - t0
        version = _new_version(built, before)
        t_cmd = time.perf_counter()
        ctx.cluster.shopmind(home2, "models", "promote", "recommend", version)
        promoted = time.perf_counter()
        seen: dict[int, float] = {}
        while len(seen) < len(ports) and time.perf_counter() - promoted < 30:
            for p in ports:
                if p not in seen and _serving(c, p, "recommend") == version:
                    seen[p] = time.perf_counter() - promoted
            time.sleep(0.05)
    return {"promote_visible_s": round(max(seen.values()), 3) if len(seen) == len(ports) else None,
            "d.per_worker_s": [round(seen.get(p, float("nan")), 3) for p in ports], "d.workers_switched": len(seen),
            "d.promote_cli_s": round(promoted - t_cmd, 3), "d.build_s": round(build_s, 1), "d.version": version,
            "d.method": "seconds from `shopmind models promote` returning (on host 2) to each host-1 worker's /admin/models naming it"}


def _new_version(built: dict, before: dict[int, str | None]) -> str:
    """The version the host-2 build made (from its --json output)."""
    for key in ("recommend", "parts"):
        v = built.get(key)
        if isinstance(v, dict):
            v = v.get("version") or (v.get("recommend") or {}).get("version")
        if isinstance(v, str) and v not in before.values():
            return v
    raise RuntimeError(f"cannot find the new recommend version in the build output: {str(built)[:500]}")
