"""Labelled simulated traffic for the demo shop, in process through the facade (fast: no HTTP), so the dashboard has
funnels, top and zero-result queries, CTR by placement and an experiment to show on top of the real demo data.

Shoppers come from the demo's own real data (MovieLens-100K views in time order): each continues from one of the
last real transitions of a real user, under a simulated id (`sim-<run>-<n>`, never the real user's id). Searches are
known-item searches for the next movie by its title, plus real Home Depot queries where the shared data is present
(real shoppers' queries from another shop: what a movie shop cannot answer). Every event carries
`context.simulated = "1"` and the run id; the sessions are spread over the last hour.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from shopmind.simulate.sessions import Outcome, Shown, recommend_session, search_session
from shopmind.simulate.sources import NextItemTask, SearchTask, data_dir, search_tasks

__all__ = ["DEMO_EXPERIMENT", "demo_tasks", "seed_demo_traffic"]
log = logging.getLogger(__name__)

# The demo's experiment: BM25 only vs the default hybrid search, split by user (R2's experiment service).
DEMO_EXPERIMENT: dict[str, Any] = {
    "id": "demo-search-hybrid", "name": "Demo (simulated shoppers): BM25 only vs hybrid search", "surface": "search", "kind": "ab",
    "unit": "user", "metrics": ["ctr", "add_to_cart_rate", "conversion"],
    "variants": [{"name": "bm25", "weight": 1.0, "control": True, "overrides": {"stages": {"dense": False}}},
                 {"name": "hybrid", "weight": 1.0, "overrides": {}}],
}
SHARES = {"search": 0.45, "product": 0.35, "home": 0.20}  # session mix (stated)
OTHER_SHOP_QUERIES = 0.15  # share of searches that are real Home Depot queries, when that data is available


def demo_tasks(events_file: Path, products_file: Path, holdout: int = 3) -> tuple[list[NextItemTask], dict[str, str]]:
    """Each demo user's last `holdout` real transitions (view → next view, in time order) and the product titles."""
    import orjson
    import pyarrow.parquet as pq

    t = pq.read_table(events_file, columns=["type", "user_id", "item_id", "timestamp"]).to_pydict()
    views = [(u, ts, i) for ty, u, i, ts in zip(t["type"], t["user_id"], t["item_id"], t["timestamp"], strict=True) if ty == "view"]
    views.sort(key=lambda r: (r[0], r[1], r[2]))
    tasks = []
    for j in range(1, len(views)):
        u, _, item = views[j]
        if views[j - 1][0] == u and (j + holdout >= len(views) or views[j + holdout][0] != u):
            tasks.append(NextItemTask(u, views[j - 1][2], item))
    titles = {}
    for line in products_file.read_bytes().splitlines():
        if line.strip():
            p = orjson.loads(line)
            titles[p["id"]] = p["title"]
    return tasks, titles


def _start_experiment(shop: Any) -> str | None:
    """Create and start the demo experiment through the facade's experiment service; None if unavailable."""
    service = getattr(shop, "experiments", None)
    if service is None:
        log.warning("no experiment service on this shop: the demo runs without an experiment")
        return None
    try:
        existing = {e.id: e.status for e in service.list()}
        if DEMO_EXPERIMENT["id"] not in existing:
            service.create(DEMO_EXPERIMENT)
        if existing.get(DEMO_EXPERIMENT["id"], "draft") == "draft":
            service.start(DEMO_EXPERIMENT["id"])
    except Exception as exc:  # noqa: BLE001 — the demo still gets its traffic; the reason is logged
        log.warning("demo experiment not started: %s", exc)
        return None
    return str(DEMO_EXPERIMENT["id"])


def seed_demo_traffic(shop: Any, files: dict[str, Path], *, sessions: int = 200, seed: int = 0, experiment: bool = True) -> dict[str, Any]:
    """Run `sessions` simulated shoppers through the facade and store their events (all labelled); returns a summary.

    `files`: the demo's `products` and `events` files (cli.main.demo_files())."""
    t0 = time.perf_counter()
    log.info("seeding %d simulated shopper sessions (labelled simulated) through the facade", sessions)
    tasks, titles = demo_tasks(files["events"], files["products"])
    run_id = f"demo-{seed}"  # fixed: the same sessions write the same event ids, so a rerun of the demo adds nothing
    known = [SearchTask(titles[t.next].lower(), {t.next: 3.0}, f"title:{t.next}") for t in tasks if t.next in titles]
    hd = data_dir() / "search" / "homedepot"
    other = search_tasks(hd) if (hd / "queries.tsv").is_file() else []
    exp_id = _start_experiment(shop) if experiment else None
    label = {"simulated": "1", "sim_run": run_id}  # exposures logged by the experiment hook are marked simulated too
    rng = np.random.default_rng(seed)
    kinds = rng.choice(list(SHARES), size=sessions, p=list(SHARES.values()))
    start = datetime.now(UTC) - timedelta(hours=1)
    events: list[dict[str, Any]] = []
    totals = {k: {"sessions": 0, "shown": 0, "clicks": 0, "carts": 0, "purchases": 0} for k in SHARES}
    zero = 0
    for n, kind in enumerate(kinds):
        user = f"sim-{run_id}-{n}"
        now = start + timedelta(seconds=3500 * n / max(sessions, 1))
        srng = np.random.default_rng([seed, n])
        task = tasks[int(srng.integers(len(tasks)))]
        out: Outcome
        if kind == "search":
            s = other[int(srng.integers(len(other)))] if other and srng.random() < OTHER_SHOP_QUERIES else known[int(srng.integers(len(known)))]
            resp = shop.search(s.query, user_id=user, session_id=f"{user}-s{n}", per_page=10, explain=False, track=False, context=label)
            shown = Shown.from_json(resp.model_dump(mode="json"), "hits")
            zero += shown.total == 0
            out = search_session(s, shown, run_id=run_id, n=n, user=user, rng=srng, now=now)
        else:
            resp = shop.recommend(user_id=user, placement=str(kind), item_id=task.previous if kind == "product" else None, k=10,
                                  context={**label, "session_id": f"{user}-s{n}"})
            shown = Shown.from_json(resp.model_dump(mode="json"), "items")
            out = recommend_session(task, shown, placement=str(kind), run_id=run_id, n=n, user=user, rng=srng, now=now)
        events.extend(out.events)
        row = totals[str(kind)]
        row["sessions"] += 1
        for key in ("shown", "clicks", "carts", "purchases"):
            row[key] += getattr(out, key)
    from shopmind.domain import Event

    stored = 0
    for i in range(0, len(events), 2000):
        stored += shop.events.track_many([Event(**e) for e in events[i : i + 2000]])
    return {"run_id": run_id, "simulated": True, "sessions": sessions, "events": len(events), "stored": stored,
            "zero_result_searches": int(zero), "experiment": exp_id, "by_placement": totals,
            "seconds": round(time.perf_counter() - t0, 1)}
