"""Behaviour analytics over the event log: funnels, RFM segments, cohort retention, query health and
item conversion. Everything is vectorised over Arrow/numpy columns of `store.scan_events()`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

DAY = 86400.0
VIEWISH = ("view", "click")
REPORTS = ("funnel", "rfm", "cohorts", "queries", "items", "placements", "traffic")


def _exclude(events: pa.Table, exclude_users: set[str] | None) -> pa.Table:
    if not exclude_users or not events.num_rows:
        return events
    return events.filter(pc.invert(pc.is_in(events["user_id"], pa.array(sorted(exclude_users)))))


def _col(events: pa.Table, name: str) -> np.ndarray:
    return events[name].to_numpy(zero_copy_only=False)


def funnel(events: pa.Table, category_of: Mapping[str, str], by: str = "category", top: int = 20) -> list[dict[str, Any]]:
    """Distinct users who viewed → added to cart → purchased, per top-level category or per day."""
    ev = events.filter(pc.is_in(events["type"], pa.array([*VIEWISH, "add_to_cart", "purchase"])))
    if not ev.num_rows:
        return []
    types = _col(ev, "type")
    users = _col(ev, "user_id")
    if by == "day":
        keys = np.array([str(np.datetime64(int(t), "s").astype("datetime64[D]")) for t in (_col(ev, "ts") // DAY * DAY)])
    else:
        keys = np.array([category_of.get(i, "(unknown)") for i in _col(ev, "item_id")], dtype=object)
    gkeys, g = np.unique(keys.astype(str), return_inverse=True)
    _, u = np.unique(users.astype(str), return_inverse=True)
    step = np.select([np.isin(types, VIEWISH), types == "add_to_cart", types == "purchase"], [0, 1, 2])
    pair = np.unique(np.stack([g, u, step], axis=1), axis=0)
    counts = np.zeros((len(gkeys), 3), np.int64)
    np.add.at(counts, (pair[:, 0], pair[:, 2]), 1)
    rows = []
    for i in np.argsort(-counts[:, 0] if by != "day" else np.arange(len(gkeys)))[: top if by != "day" else None]:
        v, c, p = (int(x) for x in counts[i])
        rows.append({by: str(gkeys[i]), "viewers": v, "carters": c, "buyers": p,
                     "view_to_cart": round(c / v, 4) if v else None, "cart_to_purchase": round(p / c, 4) if c else None,
                     "view_to_purchase": round(p / v, 4) if v else None})
    return rows


def rfm(events: pa.Table) -> dict[str, Any]:
    """Recency, frequency (active days) and monetary value per user, scored 1–5 by quintile, into segments."""
    if not events.num_rows:
        return {"users": 0, "segments": {}}
    users = _col(events, "user_id").astype(str)
    ts = _col(events, "ts")
    now = ts.max()
    uniq, u = np.unique(users, return_inverse=True)
    last = np.full(len(uniq), -np.inf)
    np.maximum.at(last, u, ts)
    days = np.unique(np.stack([u, (ts // DAY).astype(np.int64)], axis=1), axis=0)
    freq = np.bincount(days[:, 0], minlength=len(uniq))
    is_buy = _col(events, "type") == "purchase"
    price = np.nan_to_num(_col(events, "price").astype(np.float64)) * _col(events, "quantity")
    money = np.bincount(u, weights=np.where(is_buy, price, 0.0), minlength=len(uniq))
    recency = (now - last) / DAY

    def score(x: np.ndarray, reverse: bool = False) -> np.ndarray:
        ranks = (np.argsort(np.argsort(-x if reverse else x, kind="stable"), kind="stable") + 0.5) / len(x)
        return np.minimum((ranks * 5).astype(int) + 1, 5)

    r, f, m = score(recency, reverse=True), score(freq.astype(float)), score(money)
    spender = (m >= 5) & (money > 0)  # top fifth by purchase value (meaningless while nobody buys)
    seg = np.select(
        [(r >= 4) & ((f >= 4) | spender), (f >= 4) | spender, (r >= 4) & (f <= 2), (r <= 2) & (f >= 3), r <= 2],
        ["champions", "loyal", "new_or_promising", "at_risk", "hibernating"],
        default="needs_attention",
    )
    names, counts = np.unique(seg, return_counts=True)
    return {
        "users": len(uniq),
        "as_of": float(now),
        "segments": {str(n): int(c) for n, c in zip(names, counts, strict=True)},
        "rules": "R, F, M = quintile scores 1-5 of recency (days since last event), active days, purchase value",
        "median_recency_days": round(float(np.median(recency)), 2),
        "median_active_days": float(np.median(freq)),
        "total_value": round(float(money.sum()), 2),
    }


def cohorts(events: pa.Table, period_days: int = 7, max_periods: int = 12) -> list[dict[str, Any]]:
    """Retention: of users first seen in period P, the share active again k periods later."""
    if not events.num_rows:
        return []
    users = _col(events, "user_id").astype(str)
    period = (_col(events, "ts") // (DAY * period_days)).astype(np.int64)
    _, u = np.unique(users, return_inverse=True)
    first = np.full(u.max() + 1, np.iinfo(np.int64).max)
    np.minimum.at(first, u, period)
    active = np.unique(np.stack([u, period], axis=1), axis=0)
    offset = active[:, 1] - first[active[:, 0]]
    cohort = first[active[:, 0]]
    rows = []
    for c in np.unique(first):
        size = int((first == c).sum())
        ret = [round(int(((cohort == c) & (offset == k)).sum()) / size, 4) for k in range(max_periods)]
        start = np.datetime64(int(c * DAY * period_days), "s").astype("datetime64[D]")
        rows.append({"cohort": str(start), "users": size, "retention": ret})
    return rows


def queries(events: pa.Table, top: int = 20, click_window_s: float = 1800) -> dict[str, Any]:
    """Top queries, zero-result queries (context.results == 0) and queries followed by no item action."""
    if not events.num_rows:
        return {"top": [], "zero_result": [], "no_click": []}
    order = np.lexsort((_col(events, "ts"), _col(events, "user_id").astype(str)))
    users = _col(events, "user_id").astype(str)[order]
    types = _col(events, "type")[order]
    ts = _col(events, "ts")[order]
    q = _col(events, "query")[order]
    ctx = _col(events, "context")[order]
    is_search = types == "search"
    if not is_search.any():
        return {"top": [], "zero_result": [], "no_click": []}
    nxt = np.r_[np.arange(1, len(types)), len(types) - 1]
    followed = (users[nxt] == users) & (types[nxt] != "search") & (types[nxt] != "impression") & (ts[nxt] - ts <= click_window_s) & (nxt != np.arange(len(types)))
    idx = np.flatnonzero(is_search)
    norm = np.array([str(x).strip().lower() for x in q[idx]])
    zero = np.array(['"results":0' in c.replace(" ", "") for c in ctx[idx]])

    def ranked(mask: np.ndarray) -> list[dict[str, Any]]:
        if not mask.any():
            return []
        names, counts = np.unique(norm[mask], return_counts=True)
        total = dict(zip(*np.unique(norm, return_counts=True), strict=True))
        o = np.argsort(-counts, kind="stable")[:top]
        return [{"query": str(names[i]), "count": int(counts[i]), "share": round(int(counts[i]) / int(total[names[i]]), 4)} for i in o]

    return {"searches": len(idx), "top": ranked(np.ones(len(idx), bool)), "zero_result": ranked(zero), "no_click": ranked(~followed[idx])}


def items(events: pa.Table, title_of: Mapping[str, str], top: int = 20, min_views: int = 20) -> dict[str, Any]:
    """Best and worst converting items (purchases ÷ views, smoothed), among items with enough views."""
    ev = events.filter(pc.is_in(events["type"], pa.array([*VIEWISH, "add_to_cart", "purchase"])))
    if not ev.num_rows:
        return {"best": [], "worst": []}
    ids, inv = np.unique(_col(ev, "item_id").astype(str), return_inverse=True)
    types = _col(ev, "type")
    views = np.bincount(inv, weights=np.isin(types, VIEWISH), minlength=len(ids))
    carts = np.bincount(inv, weights=types == "add_to_cart", minlength=len(ids))
    buys = np.bincount(inv, weights=types == "purchase", minlength=len(ids))
    signal = buys if buys.sum() else carts  # shops without purchases yet: carts are the conversion
    prior = signal.sum() / max(views.sum(), 1)
    rate = (signal + 10 * prior) / (views + 10)
    ok = np.flatnonzero(views >= min_views)
    o = ok[np.argsort(-rate[ok], kind="stable")]

    def row(i: int) -> dict[str, Any]:
        return {"item_id": str(ids[i]), "title": title_of.get(str(ids[i])), "views": int(views[i]), "carts": int(carts[i]), "purchases": int(buys[i]), "conversion": round(float(rate[i]), 4)}

    return {"metric": "purchases/views" if buys.sum() else "carts/views", "best": [row(i) for i in o[:top]], "worst": [row(i) for i in o[::-1][:top]]}


def parse_context(ctx: str) -> dict[str, Any]:
    return orjson.loads(ctx) if ctx and ctx != "{}" else {}


def placements(events: pa.Table) -> list[dict[str, Any]]:
    """CTR per placement: clicks ÷ impressions of events whose context names a placement."""
    ev = events.filter(pc.is_in(events["type"], pa.array(["impression", "click", "add_to_cart", "purchase"])))
    if not ev.num_rows:
        return []
    ctx = _col(ev, "context")
    has = np.array(['"placement"' in c for c in ctx])
    if not has.any():
        return []
    names = np.array([orjson.loads(c)["placement"] for c in ctx[has]], dtype=object).astype(str)
    types = _col(ev, "type")[has]
    rows = []
    for name in np.unique(names):
        m = names == name
        imp, clk = int((types[m] == "impression").sum()), int((types[m] == "click").sum())
        rows.append({"placement": str(name), "impressions": imp, "clicks": clk, "ctr": round(clk / imp, 4) if imp else None,
                     "carts": int((types[m] == "add_to_cart").sum()), "purchases": int((types[m] == "purchase").sum())})
    return sorted(rows, key=lambda r: -r["impressions"])


def traffic(events: pa.Table) -> dict[str, Any]:
    """Real vs simulated events (context.simulated = "1", written by `shopmind simulate` and the demo) and the runs."""
    if not events.num_rows:
        return {"events": 0, "simulated": 0, "real": 0, "simulated_share": 0.0, "runs": {}}
    ctx = _col(events, "context")
    sim = np.array(['"simulated":"1"' in c.replace(" ", "") for c in ctx])
    runs = np.array([str(parse_context(c).get("sim_run", "")) for c in ctx[sim]], dtype=object).astype(str)
    names, counts = np.unique(runs, return_counts=True) if len(runs) else (np.array([]), np.array([]))
    return {"events": len(sim), "simulated": int(sim.sum()), "real": int((~sim).sum()), "simulated_share": round(float(sim.mean()), 4),
            "runs": {str(n): int(c) for n, c in zip(names, counts, strict=True)}}
