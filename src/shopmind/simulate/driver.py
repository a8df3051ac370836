"""Drive a running ShopMind server through its HTTP API with simulated shoppers (`shopmind simulate --url URL`).

Each session asks the server (GET /search or GET /recommend, `track=false` so the server logs nothing unlabelled),
decides clicks, carts and purchases with `sessions.py`, and posts the session's events in one POST /events/batch, all
marked `context.simulated = "1"` with the run id. Bounded concurrency (a semaphore), an optional session rate, a
per-request timeout, a few retries on 429/5xx; a summary (sessions, errors, latencies, CTR, funnel) at the end.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shopmind.simulate.clickmodel import ClickModel, Funnel
from shopmind.simulate.sessions import Outcome, Shown, recommend_session, search_session
from shopmind.simulate.sources import NextItemTask, SearchTask

__all__ = ["Plan", "run_http"]
log = logging.getLogger(__name__)
SCENARIOS = ("search", "recommend", "mixed")


@dataclass
class Plan:
    """What to simulate: the scenario, how many sessions, and the real shoppers to draw them from."""

    scenario: str
    sessions: int
    seed: int
    search: list[SearchTask] = field(default_factory=list)
    recommend: list[NextItemTask] = field(default_factory=list)
    placement: str = "product"
    k: int = 10
    run_id: str = ""
    model: ClickModel = field(default_factory=ClickModel)
    funnel: Funnel = field(default_factory=Funnel)

    def __post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            raise ValueError(f"scenario must be one of {', '.join(SCENARIOS)}, not {self.scenario!r}")
        if self.scenario in ("search", "mixed") and not self.search:
            raise ValueError("no search shoppers: give a labelled query set")
        if self.scenario in ("recommend", "mixed") and not self.recommend:
            raise ValueError("no recommendation shoppers: give held-out sequences")
        self.run_id = self.run_id or f"{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-{secrets.token_hex(3)}"

    def kinds(self) -> np.ndarray:
        """Session kinds in order, drawn from the seed ('s' search, 'r' recommend; mixed = half and half)."""
        rng = np.random.default_rng([self.seed, 0])
        if self.scenario == "mixed":
            return np.where(rng.random(self.sessions) < 0.5, "s", "r")
        return np.full(self.sessions, self.scenario[0])


class _Stats:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = {"search": [], "recommend": [], "events": []}
        self.status: dict[str, int] = {}
        self.errors: list[str] = []
        self.done = {"s": 0, "r": 0}
        self.counts = {k: {"shown": 0, "clicks": 0, "carts": 0, "purchases": 0, "events": 0} for k in "sr"}
        self.experiments: dict[str, dict[str, int]] = {}

    def add(self, kind: str, out: Outcome, shown: Shown) -> None:
        self.done[kind] += 1
        c = self.counts[kind]
        c["shown"] += out.shown
        c["clicks"] += out.clicks
        c["carts"] += out.carts
        c["purchases"] += out.purchases
        c["events"] += len(out.events)
        if shown.experiment:
            exp = self.experiments.setdefault(str(shown.experiment.get("id")), {})
            v = str(shown.experiment.get("variant"))
            exp[v] = exp.get(v, 0) + 1


async def _call(client: Any, stats: _Stats, route: str, method: str, path: str, retries: int = 3, **kw: Any) -> Any:
    """One request with retries on 429 and 5xx (backing off); returns the JSON body."""
    import httpx

    for attempt in range(retries + 1):
        t0 = time.perf_counter()
        try:
            r = await client.request(method, path, **kw)
        except httpx.HTTPError as exc:
            if attempt == retries:
                raise
            log.debug("%s %s: %s; retrying", method, path, exc)
            await asyncio.sleep(0.2 * 2**attempt)
            continue
        stats.latency[route].append((time.perf_counter() - t0) * 1e3)
        stats.status[str(r.status_code)] = stats.status.get(str(r.status_code), 0) + 1
        if (r.status_code == 429 or r.status_code >= 500) and attempt < retries:
            await asyncio.sleep(float(r.headers.get("retry-after", 0.2 * 2**attempt)))
            continue
        r.raise_for_status()
        return r.json()
    raise RuntimeError("unreachable")


async def _session(client: Any, plan: Plan, stats: _Stats, n: int, kind: str) -> None:
    rng = np.random.default_rng([plan.seed, 1, n])
    user = f"sim-{plan.run_id}-{n}"
    if kind == "s":
        task = plan.search[int(rng.integers(len(plan.search)))]
        body = await _call(client, stats, "search", "GET", "/search", params={
            "q": task.query, "per_page": plan.k, "explain": "false", "track": "false", "user_id": user, "session_id": f"{user}-s{n}"})
        shown = Shown.from_json(body, "hits")
        out = search_session(task, shown, run_id=plan.run_id, n=n, user=user, rng=rng, model=plan.model, funnel=plan.funnel)
    else:
        rtask = plan.recommend[int(rng.integers(len(plan.recommend)))]
        body = await _call(client, stats, "recommend", "GET", "/recommend", params={
            "placement": plan.placement, "item_id": rtask.previous, "user_id": user, "session_id": f"{user}-s{n}", "k": plan.k})
        shown = Shown.from_json(body, "items")
        out = recommend_session(rtask, shown, placement=plan.placement, run_id=plan.run_id, n=n, user=user, rng=rng, funnel=plan.funnel)
    await _call(client, stats, "events", "POST", "/events/batch", json=out.events)
    stats.add(kind, out, shown)


def _pct(xs: list[float], q: float) -> float | None:
    return round(float(np.percentile(xs, q)), 2) if xs else None


async def _run(url: str, api_key: str | None, plan: Plan, concurrency: int, rate: float | None, timeout: float, transport: Any) -> dict[str, Any]:
    import httpx

    stats = _Stats()
    kinds = plan.kinds()
    todo = iter(range(plan.sessions))
    t0 = time.perf_counter()
    headers = {"X-Simulated": "1", "X-Simulation-Run": plan.run_id, **({"X-API-Key": api_key} if api_key else {})}

    async with httpx.AsyncClient(base_url=url.rstrip("/"), headers=headers, timeout=timeout, transport=transport) as client:
        async def worker() -> None:  # `concurrency` workers take the next session: bounded in flight and in memory
            for n in todo:
                if rate:
                    await asyncio.sleep(max(0.0, t0 + n / rate - time.perf_counter()))
                try:
                    await _session(client, plan, stats, n, str(kinds[n]))
                except Exception as exc:  # noqa: BLE001 — a failed session is counted and reported; the run goes on
                    stats.errors.append(f"session {n}: {type(exc).__name__}: {str(exc)[:200]}")

        await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    wall = time.perf_counter() - t0
    per_kind = {}
    for k, name in (("s", "search"), ("r", "recommend")):
        c = stats.counts[k]
        if stats.done[k]:
            per_kind[name] = {"sessions": stats.done[k], **c, "ctr": round(c["clicks"] / c["shown"], 4) if c["shown"] else None}
    return {
        "run_id": plan.run_id, "simulated": True, "url": url, "scenario": plan.scenario, "seed": plan.seed,
        "sessions": plan.sessions, "completed": sum(stats.done.values()), "failed": len(stats.errors),
        "errors": stats.errors[:10], "wall_s": round(wall, 2), "sessions_per_s": round(sum(stats.done.values()) / wall, 1) if wall else None,
        "http_status": stats.status, "by_scenario": per_kind,
        "latency_ms": {r: {"p50": _pct(v, 50), "p99": _pct(v, 99), "n": len(v)} for r, v in stats.latency.items() if v},
        "experiments_seen": stats.experiments,
        "click_model": {"examination": f"(1/rank)^{plan.model.eta}", "epsilon": plan.model.epsilon, "k": plan.k,
                        "funnel": vars(plan.funnel)},
    }


def run_http(url: str, plan: Plan, *, api_key: str | None = None, concurrency: int = 8, rate: float | None = None,
             timeout: float = 10.0, transport: Any = None) -> dict[str, Any]:
    """Run the plan against the server at `url`; returns the summary. `transport` lets tests pass an ASGI transport."""
    return asyncio.run(_run(url, api_key, plan, concurrency, rate, timeout, transport))
