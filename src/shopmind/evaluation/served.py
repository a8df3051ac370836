"""`eval recs --served`: the served pipeline measured through the facade, beside the offline figure of the model it serves.

The shop's events are cut in time (the same cut as the build's temporal split). A fresh shop is made from the catalog
and the events before the cut, its recommend part built through the facade (selection, card and all), and every
held-out user — history before the cut, new items after it — is asked `shop.recommend(...)`, exactly what
`/recommend` answers. Beside it: the model the placement serves (its chosen blend) applied to the same histories
offline, ranking all items with the history excluded; the gap is what filters, rules, diversity and fallbacks cost.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from shopmind.domain import Product
from shopmind.ranking.metrics import ndcg_at_k, recall_at_k
from shopmind.recommend.base import Interactions, Recommender
from shopmind.recommend.blend import Blend
from shopmind.recommend.config import RecommendConfig

log = logging.getLogger(__name__)

__all__ = ["evaluate_served", "heldout_users", "list_metrics"]


def list_metrics(ranked: Sequence[Sequence[str]], targets: Sequence[set[str]]) -> dict[str, float]:
    """HR, NDCG (binary gains) and recall at 10 and 20 of ranked id lists against each user's later items."""
    out: dict[str, float] = {}
    for k in (10, 20):
        hr = [float(bool(t & set(r[:k]))) for r, t in zip(ranked, targets, strict=True)]
        nd = [ndcg_at_k(list(r[:k]), dict.fromkeys(t, 1.0), k) for r, t in zip(ranked, targets, strict=True)]
        rc = [recall_at_k(list(r[:k]), dict.fromkeys(t, 1.0), k, min_grade=1) for r, t in zip(ranked, targets, strict=True)]
        for name, xs in ((f"hr@{k}", hr), (f"ndcg@{k}", nd), (f"recall@{k}", rc)):
            out[name] = round(float(np.mean(xs)) if xs else 0.0, 5)
    return out


def heldout_users(inter: Interactions, cut: float) -> tuple[list[str], list[np.ndarray], list[np.ndarray]]:
    """Users with a history before `cut` and new items after it: ids, histories, later new items (in time order)."""
    ids: list[str] = []
    hist: list[np.ndarray] = []
    later: list[np.ndarray] = []
    for u in range(inter.n_users):  # offline only
        s, e = inter.indptr[u], inter.indptr[u + 1]
        before = inter.ts[s:e] < cut
        h = inter.items[s:e][before]
        after = inter.items[s:e][~before]
        new = after[~np.isin(after, h)]
        if len(h) and len(new):
            ids.append(inter.user_ids[u])
            hist.append(h)
            later.append(np.asarray(list(dict.fromkeys(new.tolist())), dtype=np.int64))
    return ids, hist, later


def _event_rows(events: Any) -> list[bytes]:
    """Import-format JSON lines of an events table (the store's `ts` becomes `timestamp`, JSON context a mapping)."""
    cols = {c: events[c].to_pylist() for c in events.column_names}
    lines = []
    for i in range(events.num_rows):
        row = {k: cols[k][i] for k in ("id", "type", "user_id", "session_id", "item_id", "query", "quantity", "price") if k in cols}
        row["timestamp"] = float(cols["ts"][i])
        ctx = cols.get("context", [None] * events.num_rows)[i]
        if ctx and ctx != "{}":
            row["context"] = orjson.loads(ctx)
        lines.append(orjson.dumps({k: v for k, v in row.items() if v is not None}))
    return lines


def served_blend(service: Any, placement: str) -> tuple[Recommender | None, str]:
    """The model a loaded recommend version serves on `placement` (its chosen blend) and its label; None if configured."""
    pc = service.placements[placement]
    if not pc.blend:
        return None, "configured sources: " + "+".join(pc.sources)
    members = list(pc.sources)
    return Blend().with_models([service.models[m] for m in members], [pc.sources[m] for m in members]), "blend:" + "+".join(members)


def evaluate_served(
    products: Sequence[Product],
    events: Any,
    *,
    settings: dict[str, Any] | None = None,
    test_frac: float | None = None,
    placement: str = "home",
    k: int = 20,
    max_users: int | None = None,
    seed: int = 0,
    workdir: Path | None = None,
) -> dict[str, Any]:
    """Build a shop on the events before a time cut through the facade and score what `recommend` serves held-out users."""
    from shopmind.engine import ShopMind

    settings = dict(settings or {})
    cfg = RecommendConfig.model_validate(settings.get("recommend") or {})
    frac = cfg.eval_test_frac if test_frac is None else test_frac
    inter = Interactions.from_events(events, item_ids=[p.id for p in products], event_weights=cfg.event_weights)
    if not inter.n_events:
        raise ValueError("no events to evaluate")
    cut = float(np.quantile(inter.ts, 1.0 - frac))
    users, hist, later = heldout_users(inter, cut)
    if max_users is not None and len(users) > max_users:
        keep = np.sort(np.random.default_rng(seed).choice(len(users), max_users, replace=False))
        users, hist, later = [users[i] for i in keep], [hist[i] for i in keep], [later[i] for i in keep]
    import pyarrow.compute as pc

    past = events.filter(pc.less(events["ts"], cut))
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        home = Path(tmp) / "home"
        shop = ShopMind.open(home, **settings)
        try:
            (Path(tmp) / "products.jsonl").write_bytes(b"\n".join(orjson.dumps(p.model_dump(mode="json", exclude_none=True)) for p in products))
            (Path(tmp) / "events.jsonl").write_bytes(b"\n".join(_event_rows(past)))
            shop.import_file("products", Path(tmp) / "products.jsonl")
            shop.import_file("events", Path(tmp) / "events.jsonl")
            shop.build(["recommend"])
            build_s = time.perf_counter() - t0
            service = shop.service("recommend")
            card = service.meta.get("card", {})
            t1 = time.perf_counter()
            served = [[i.id for i in shop.recommend(user_id=u, placement=placement, k=k).items] for u in users]
            serve_ms = (time.perf_counter() - t1) * 1000 / max(len(users), 1)
            model, label = served_blend(service, placement)
            offline = None
            if model is not None:  # the same histories in the built version's item order
                own = [np.array([service.index[inter.item_ids[i]] for i in h], dtype=np.int64) for h in hist]
                ids, _ = model.recommend(own, k=k, exclude_seen=True)
                offline = [[service.item_ids[i] for i in row if i >= 0] for row in ids]
        finally:
            shop.close()
    targets = [{inter.item_ids[i] for i in t} for t in later]
    chosen = card.get("placements", {}).get(placement, {})
    return {
        "protocol": "temporal, served through the facade", "placement": placement, "users": len(users), "cut_ts": cut,
        "test_frac": frac, "served_model": label, "served": list_metrics(served, targets),
        "offline": list_metrics(offline, targets) if offline is not None else None,
        "card_val_ndcg@10": chosen.get("val_ndcg@10"), "card": card,
        "build_s": round(build_s, 2), "recommend_ms_mean": round(serve_ms, 3),
    }
