"""The sizing guide's numbers (docs/scaling.md), computed from what sections e and f measured: per-product and
per-event slopes, then RAM and disk at 50k / 1M / 10M products and 10M / 1B events. Every figure says whether it
was measured at that size or extrapolated, and the formula is in `sizing.formulas`."""

from __future__ import annotations

from typing import Any

import numpy as np

PRODUCTS = (50_000, 1_000_000, 10_000_000)
EVENTS = (10_000_000, 1_000_000_000)
KEPT_VERSIONS = 3  # artifacts.py keeps the last three versions of each part for rollback
MB, GB = 2**20, 2**30

FORMULAS = {
    "worker_rss": "base + per_product × products (least squares over section e's sizes; base = the model and libraries)",
    "artifacts_disk": f"artifacts_per_product × products × {KEPT_VERSIONS} kept versions",
    "store_products": "bytes_per_product (PostgreSQL: table + indexes + TOAST; SQLite: file growth) × products",
    "store_events": "bytes_per_event (same) × events",
    "state_per_worker": "state_bytes_per_user × users, users = events / events_per_user (the demo shop's ratio)",
    "state_rebuild": "events / state_apply_events_per_s (what a worker replays at start when it tails the whole log)",
    "faiss_hnsw": "(faiss bytes_per_vector measured at 1M random vectors, dim 384, HNSW16 + 8 × (32 − 16) bytes of the extra "
                  "level-0 links of production's HNSW32) × products",
}


def _fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """(intercept, slope) of the least-squares line; with one point the slope is y/x."""
    if len(xs) == 1:
        return 0.0, ys[0] / xs[0]
    slope, intercept = np.polyfit(np.asarray(xs, float), np.asarray(ys, float), 1)
    return float(intercept), float(slope)


def sizing(r: dict[str, Any]) -> dict[str, Any]:
    """Flat `sizing.*` keys from a scale.py result; sections that did not run leave their figures out."""
    out: dict[str, Any] = {"sizing.formulas": FORMULAS}
    sizes = [n for n in r.get("e.sizes", []) if f"e.products_{n}.rss_worker_mb" in r]
    measured = set(sizes)
    if sizes:
        base, per = _fit(sizes, [r[f"e.products_{n}.rss_worker_mb"] * MB for n in sizes])
        _, art = _fit(sizes, [r[f"e.products_{n}.artifacts_bytes"] for n in sizes])
        pg = r[f"e.products_{max(sizes)}.pg_bytes_per_product"]
        sq = r[f"e.products_{max(sizes)}.sqlite_bytes_per_product"]
        out.update({"sizing.worker_base_mb": round(base / MB, 1), "sizing.worker_bytes_per_product": round(per, 1),
                    "sizing.artifacts_bytes_per_product": round(art, 1), "sizing.pg_bytes_per_product": pg, "sizing.sqlite_bytes_per_product": sq})
        for n in PRODUCTS:
            k = f"sizing.products_{n}"
            how = "measured" if n in measured else "extrapolated"
            rss = r[f"e.products_{n}.rss_worker_mb"] * MB if n in measured else base + per * n
            disk = (r[f"e.products_{n}.artifacts_bytes"] if n in measured else art * n) * KEPT_VERSIONS
            out.update({f"{k}.worker_rss_gb": [round(rss / GB, 2), how], f"{k}.artifacts_disk_gb": [round(disk / GB, 2), how],
                        f"{k}.pg_gb": [round(pg * n / GB, 3), "measured" if n in measured else "extrapolated"],
                        f"{k}.sqlite_gb": [round(sq * n / GB, 3), "measured" if n in measured else "extrapolated"]})
    bpv = r.get("e.vectors_1m_random.faiss.bytes_per_vector")
    if bpv:
        m = r.get("e.vectors_1m_random.faiss.hnsw_m", 32)
        hnsw32 = bpv + 8 * (32 - m)  # level 0 holds 2M links of 4 bytes per vector
        out["sizing.faiss_hnsw32_bytes_per_vector"] = round(hnsw32, 1)
        for n in PRODUCTS:
            out[f"sizing.products_{n}.faiss_hnsw_gb"] = [round(hnsw32 * n / GB, 2), "extrapolated"]
    ev_pg, ev_sq = r.get("f.pg_bytes_per_event"), r.get("f.sqlite_bytes_per_event")
    per_user, rate = r.get("f.state_bytes_per_user"), r.get("f.state_apply_events_per_s")
    events_per_user = (r["setup.events"] / r["setup.users"]) if r.get("setup.users") else None
    if events_per_user:
        out["sizing.events_per_user"] = round(events_per_user, 1)
    for e in EVENTS:
        k = f"sizing.events_{e}"
        if ev_pg:
            out[f"{k}.pg_gb"] = [round(ev_pg * e / GB, 1), "extrapolated"]
        if ev_sq:
            out[f"{k}.sqlite_gb"] = [round(ev_sq * e / GB, 1), "extrapolated"]
        if per_user and events_per_user:
            out[f"{k}.state_per_worker_gb"] = [round(per_user * e / events_per_user / GB, 2), "extrapolated"]
        if rate:
            out[f"{k}.state_rebuild_min"] = [round(e / rate / 60, 1), "extrapolated"]
    return out
