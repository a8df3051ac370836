"""Drift figures for /metrics and the dashboard: event volume, CTR and served score distributions against the promoted version.

Served scores: the API observes the top-1 score of every search and recommend response (`observe`) into a Prometheus
histogram and into today's (UTC) sample. The reference is the promoted version's own top-1 scores on the requests
logged just before its snapshot (the latest distinct search queries and users of its data window, replayed through
the loaded part once per version). PSI compares today's sample with it on the reference's decile bins (≥ 0.25 is
the usual "shifted" mark). Event volume per type (hourly, last 24 h) and CTR by placement come from the store's
newest `max_rows` events. `DriftMonitor.start` refreshes the gauges from a background thread, never on a request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import orjson
import pyarrow.compute as pc
from prometheus_client import Gauge, Histogram

from shopmind.artifacts import ModelRegistry
from shopmind.store import SqlStore

__all__ = ["DriftMonitor", "observe", "observe_response", "psi"]
log = logging.getLogger(__name__)

BUCKETS = (-10, -5, -2, -1, -0.5, -0.1, 0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50)
TOP_SCORE = Histogram("shopmind_served_top_score", "top-1 score of served responses", ["part"], buckets=BUCKETS)
EVENTS = Gauge("shopmind_drift_events", "events per type in the trailing window (store, by event time)", ["type", "window"])
CTR = Gauge("shopmind_drift_ctr", "clicks ÷ impressions by placement over the last 24 h (search: clicks ÷ searches)", ["placement"])
PSI = Gauge("shopmind_drift_score_psi", "PSI of today's served top-1 scores vs the promoted version's reference", ["part"])
SCORE_MEAN = Gauge("shopmind_drift_score_mean", "mean top-1 score", ["part", "sample"])
WINDOWS = {"1h": 3600, "24h": 86400}

_today: dict[str, deque[float]] = {}
_day = [0]


def observe(part: str, score: float | None) -> None:
    """Record the top-1 score of one served response (cheap: the request path calls it)."""
    if score is None:
        return
    TOP_SCORE.labels(part).observe(score)
    day = int(time.time() // 86400)
    if day != _day[0]:
        _today.clear()
        _day[0] = day
    _today.setdefault(part, deque(maxlen=20_000)).append(float(score))


def psi(reference: Sequence[float], current: Sequence[float], bins: int = 10, eps: float = 1e-4) -> float | None:
    """Population stability index of `current` against `reference` on the reference's quantile bins (None: too few)."""
    ref, cur = np.asarray(reference, float), np.asarray(current, float)
    if len(ref) < 20 or len(cur) < 20:
        return None
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1]))
    p = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1) / len(ref)
    q = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1) / len(cur)
    p, q = np.clip(p, eps, None), np.clip(q, eps, None)
    return float(np.sum((q - p) * np.log(q / p)))


class DriftShop(Protocol):
    """What the monitor needs of the facade."""

    store: SqlStore
    registry: ModelRegistry
    _loaded: dict[str, str]

    def service(self, name: str) -> Any: ...


def _top(response: Any) -> float | None:
    rows = getattr(response, "hits", None) or getattr(response, "items", None) or []
    return float(rows[0].score) if rows else None


class DriftMonitor:
    """Computes the drift figures of one shop and keeps the Prometheus gauges current."""

    def __init__(self, shop: DriftShop, *, max_rows: int = 200_000, reference_requests: int = 200, interval_s: float = 60.0) -> None:
        self.shop = shop
        self.max_rows = max_rows
        self.reference_requests = reference_requests
        self.interval_s = interval_s
        self.last: dict[str, Any] = {}
        self._refs: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()  # the refresh thread and the dashboard's route
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def reference(self, part: str) -> list[float]:
        """The loaded version's top-1 scores on requests logged just before its snapshot (computed once per version)."""
        version = self.shop._loaded.get(part)
        if version is None:
            return []
        key = (part, version)
        if key not in self._refs:
            row = self.shop.registry.get(part, version) or {}
            upto = int(row.get("last_event_seq") or 0)
            ev = self.shop.store.scan_events(since_seq=max(0, upto - self.max_rows), by_time=False)
            ev = ev.filter(pc.less_equal(ev["seq"], upto))  # the version's data window: what it was built from
            service = self.shop.service(part)
            if part == "search":
                queries = [q for t, q in zip(ev.column("type").to_pylist(), ev.column("query").to_pylist(), strict=True) if t == "search" and q]
                asks = list(dict.fromkeys(reversed(queries)))[: self.reference_requests]
                scores = [_top(service.search(q, per_page=1, explain=False)) for q in asks]
            else:
                asks = list(dict.fromkeys(reversed(ev.column("user_id").to_pylist())))[: self.reference_requests]
                scores = [_top(service.recommend(user_id=u, placement="home", k=1)) for u in asks]
            self._refs[key] = [s for s in scores if s is not None]
        return self._refs[key]

    def refresh(self, now: float | None = None) -> dict[str, Any]:
        """Recompute the figures (store scan, PSI per loaded part) and set the gauges; the dashboard's JSON."""
        with self._lock:
            return self._refresh(time.time() if now is None else now)

    def _refresh(self, now: float) -> dict[str, Any]:
        out: dict[str, Any] = {"ts": now, **self._events(now), "scores": {}}
        for part in ("search", "recommend"):
            if part not in self.shop._loaded:
                continue
            try:
                ref = self.reference(part)
            except Exception:  # a part that cannot answer must not stop the others' figures
                log.exception("drift: no reference for %s", part)
                ref = []
            today = list(_today.get(part, ()))
            value = psi(ref, today)
            if value is not None:
                PSI.labels(part).set(value)
            for sample, values in (("reference", ref), ("today", today)):
                if values:
                    SCORE_MEAN.labels(part, sample).set(float(np.mean(values)))
            out["scores"][part] = {"version": self.shop._loaded.get(part), "psi": value, "reference": _summary(ref), "today": _summary(today)}
        self.last = out
        return out

    def _events(self, now: float) -> dict[str, Any]:
        last = self.shop.store.last_event_seq()
        ev = self.shop.store.scan_events(since_seq=max(0, last - self.max_rows), by_time=False)
        ts = np.asarray(ev.column("ts").to_numpy(zero_copy_only=False), float)
        types = np.asarray(ev.column("type").to_pylist(), dtype=object).astype(str)
        recent = ts >= now - 86400
        hours = np.clip(((ts[recent] - (now - 86400)) // 3600).astype(int), 0, 23)
        volume = {str(t): np.bincount(hours[types[recent] == t], minlength=24).tolist() for t in np.unique(types[recent])}
        for window, seconds in WINDOWS.items():
            names, counts = np.unique(types[ts >= now - seconds], return_counts=True)
            seen = dict(zip(names.tolist(), counts.tolist(), strict=True))
            for name in np.unique(types).tolist():  # a type gone quiet reads 0, not its last count
                EVENTS.labels(str(name), window).set(int(seen.get(name, 0)))
        ctx = np.asarray(ev.column("context").to_pylist(), dtype=object)[recent]
        placement = np.asarray([str(orjson.loads(c).get("placement", "")) if '"placement"' in c else "" for c in ctx], dtype=object)
        kinds = types[recent]
        ctr: dict[str, dict[str, Any]] = {}
        for name in sorted(set(placement[kinds == "impression"]) - {""}):
            imp, clk = int(((placement == name) & (kinds == "impression")).sum()), int(((placement == name) & (kinds == "click")).sum())
            ctr[str(name)] = {"impressions": imp, "clicks": clk, "ctr": clk / imp if imp else None}
        searches = int((kinds == "search").sum())
        if searches:
            clk = int(((placement == "search") & (kinds == "click")).sum())
            ctr["search"] = {"searches": searches, "clicks": clk, "ctr": clk / searches}
        for name, row in ctr.items():
            if row["ctr"] is not None:
                CTR.labels(name).set(row["ctr"])
        return {"hours_from": now - 86400, "volume": volume, "ctr": ctr, "events_scanned": len(ts)}

    def start(self) -> None:
        """Refresh every `interval_s` from a daemon thread."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="shopmind-drift", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):  # the first refresh one interval after start: never during start-up
            try:
                self.refresh()
            except Exception:
                log.exception("drift: refresh failed")

    def current(self, max_age_s: float | None = None) -> dict[str, Any]:
        """The latest figures, refreshed here when older than `max_age_s` (default: the refresh interval)."""
        age = time.time() - float(self.last.get("ts", 0.0))
        return self.refresh() if age > (self.interval_s if max_age_s is None else max_age_s) else self.last

    def stop(self) -> None:
        """Stop the refresh thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None


def _summary(values: Sequence[float]) -> dict[str, Any]:
    if not len(values):
        return {"n": 0}
    v = np.asarray(values, float)
    q = np.quantile(v, [0.1, 0.5, 0.9])
    return {"n": len(v), "mean": float(v.mean()), "p10": float(q[0]), "p50": float(q[1]), "p90": float(q[2])}


def observe_response(part: str, response: Any) -> None:
    """`observe` the top-1 score of a search or recommend response (the routers' one-liner)."""
    observe(part, _top(response))
