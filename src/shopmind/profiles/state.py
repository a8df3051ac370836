"""Online state: what every accepted event changes at once, without retraining.

The state is a consumer of the event log in arrival (`seq`) order — the live path and a rebuild run the
same `apply` over the same rows, so a rebuilt state equals the live one. Decayed counters are stored as
(value, reference time) with the decay taken from *event* timestamps, never the wall clock, which makes
them independent of when the state is computed. Users whose event rate is not human are flagged; their
events stay in the store but are kept out of counters, trending and training.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shopmind.event_weights import EVENT_WEIGHTS
from shopmind.profiles.config import BotGuardConfig, StateConfig  # noqa: F401  (re-exported: their old home)

WEIGHTS = EVENT_WEIGHTS  # interest strength per event type (affinity and popularity); one table for every part
COUNTED = ("impression", "view", "click", "add_to_cart", "purchase", "favorite")
TYPE_INDEX = {t: i for i, t in enumerate(COUNTED)}


@dataclass(slots=True)
class ItemMeta:
    category: str  # full path "a > b"
    top: str
    brand: str | None
    price: float | None


@dataclass
class UserState:
    """Everything the state knows about one user."""

    recent: deque = field(default_factory=lambda: deque(maxlen=50))  # (item_id, type, ts, seq)
    session_id: str | None = None
    session_start: float = 0.0
    last_ts: float = 0.0
    first_ts: float = math.inf
    sessions: int = 0
    events: int = 0
    purchased: set = field(default_factory=set)
    carted: dict = field(default_factory=dict)
    spend: float = 0.0
    orders: int = 0
    affinity: dict = field(default_factory=dict)  # "category:x" / "brand:y" / "price:band" → (value, ref_ts)
    heat: np.ndarray = field(default_factory=lambda: np.zeros((7, 24), np.int32))
    window: deque = field(default_factory=deque)  # recent (ts, item_id, type) for the bot guard
    flagged: str | None = None


def _decay_add(slot: tuple[float, float] | None, weight: float, ts: float, half_life_s: float) -> tuple[float, float]:
    """Add `weight` at time `ts` to a decayed sum stored as (value, reference time)."""
    if slot is None:
        return (weight, ts)
    value, ref = slot
    if ts >= ref:
        return (value * 2.0 ** (-(ts - ref) / half_life_s) + weight, ts)
    return (value + weight * 2.0 ** (-(ref - ts) / half_life_s), ref)


def _decayed(slot: tuple[float, float], now: float, half_life_s: float) -> float:
    value, ref = slot
    return value * 2.0 ** (-max(now - ref, 0.0) / half_life_s)


def price_band(price: float | None) -> str | None:
    """Coarse log-scale price band: '<10', '10-25', '25-50', '50-100', '100-250', '250-500', '500+'."""
    if price is None or price <= 0:
        return None
    for edge, label in ((10, "<10"), (25, "10-25"), (50, "25-50"), (100, "50-100"), (250, "100-250"), (500, "250-500")):
        if price < edge:
            return label
    return "500+"


class ItemCounters:
    """Per-item event counts: totals and decayed counts at several half-lives, as growable arrays."""

    def __init__(self, half_lives_h: Sequence[float], trending_half_life_h: float) -> None:
        self.half_lives_s = np.array(half_lives_h, np.float64) * 3600
        self.trend_hl_s = trending_half_life_h * 3600
        self.index: dict[str, int] = {}
        self.ids: list[str] = []
        cap = 1024
        self.total = np.zeros((cap, len(COUNTED)), np.float64)
        self.decayed = np.zeros((cap, len(COUNTED), len(self.half_lives_s)), np.float64)
        self.ref = np.zeros(cap, np.float64)  # reference time per item for `decayed`
        self.trend = np.zeros(cap, np.float64)  # decayed weighted activity (trending)
        self.trend_ref = np.zeros(cap, np.float64)

    def _row(self, item_id: str) -> int:
        row = self.index.get(item_id)
        if row is None:
            row = len(self.ids)
            self.index[item_id] = row
            self.ids.append(item_id)
            if row >= len(self.ref):
                grow = len(self.ref)
                self.total = np.concatenate([self.total, np.zeros_like(self.total[:grow])])
                self.decayed = np.concatenate([self.decayed, np.zeros_like(self.decayed[:grow])])
                self.ref = np.concatenate([self.ref, np.zeros(grow)])
                self.trend = np.concatenate([self.trend, np.zeros(grow)])
                self.trend_ref = np.concatenate([self.trend_ref, np.zeros(grow)])
        return row

    def add(self, item_id: str, etype: str, ts: float, sign: float = 1.0) -> None:
        t = TYPE_INDEX.get(etype)
        if t is None:
            return
        row = self._row(item_id)
        self.total[row, t] += sign
        ref = self.ref[row]
        if ts >= ref:
            self.decayed[row] *= (2.0 ** (-(ts - ref) / self.half_lives_s))[None, :]
            self.decayed[row, t] += sign
            self.ref[row] = ts
        else:
            self.decayed[row, t] += sign * 2.0 ** (-(ref - ts) / self.half_lives_s)
        w = WEIGHTS.get(etype, 0.0) * sign
        if w:
            tref = self.trend_ref[row]
            if ts >= tref:
                self.trend[row] = self.trend[row] * 2.0 ** (-(ts - tref) / self.trend_hl_s) + w
                self.trend_ref[row] = ts
            else:
                self.trend[row] += w * 2.0 ** (-(tref - ts) / self.trend_hl_s)

    def snapshot(self, now: float) -> dict[str, np.ndarray]:
        """Decayed counts brought to `now`, vectorised over all items."""
        n = len(self.ids)
        age = np.maximum(now - self.ref[:n], 0.0)
        factor = 2.0 ** (-age[:, None] / self.half_lives_s[None, :])
        trend = self.trend[:n] * 2.0 ** (-np.maximum(now - self.trend_ref[:n], 0.0) / self.trend_hl_s)
        return {"total": self.total[:n], "decayed": self.decayed[:n] * factor[:, None, :], "trend": trend}


class OnlineState:
    """Users, sessions, item counters, trending items and queries — updated per event, rebuilt from the log."""

    def __init__(self, config: StateConfig | None = None, items: dict[str, ItemMeta] | None = None) -> None:
        self.config = config or StateConfig()
        self.items: dict[str, ItemMeta] = dict(items or {})
        self.users: dict[str, UserState] = {}
        self.counters = ItemCounters(self.config.counter_half_lives_h, self.config.trending_half_life_h)
        self.queries: dict[str, tuple[float, float]] = {}
        self.query_totals: Counter = Counter()
        self.ip_windows: dict[str, deque] = {}
        self.flagged_ips: set[str] = set()
        self.per_minute: Counter = Counter()  # event count by minute of event time (the dashboard's live chart)
        self.last_seq = 0
        self.last_ts = 0.0
        self.events_applied = 0
        self.lock = threading.RLock()
        self._aff_hl = self.config.affinity_half_life_days * 86400
        self._trend_hl = self.config.trending_half_life_h * 3600

    # -- catalog -------------------------------------------------------------------------------------------
    def set_items(self, items: Iterable[tuple[str, ItemMeta]]) -> None:
        with self.lock:
            self.items.update(items)

    # -- applying events -------------------------------------------------------------------------------------
    def apply_rows(self, seq: Sequence[int], types: Sequence[str], users: Sequence[str], sessions: Sequence[str | None],
                   items: Sequence[str | None], queries: Sequence[str | None], ts: Sequence[float], quantity: Sequence[int],
                   price: Sequence[float | None], ips: Sequence[str | None]) -> int:
        """Apply events given column-wise, in seq order; rows at or below `last_seq` are ignored."""
        applied = 0
        with self.lock:
            for i in range(len(seq)):
                if seq[i] <= self.last_seq:
                    continue
                self._apply(seq[i], types[i], users[i], sessions[i], items[i], queries[i], ts[i], quantity[i], price[i], ips[i])
                self.last_seq = seq[i]
                applied += 1
            self.events_applied += applied
        return applied

    def _apply(self, seq: int, etype: str, user_id: str, session_id: str | None, item_id: str | None, query: str | None,
               ts: float, quantity: int, price: float | None, ip: str | None) -> None:
        cfg = self.config
        u = self.users.get(user_id)
        if u is None:
            u = self.users[user_id] = UserState(recent=deque(maxlen=cfg.recent_items))
        u.events += 1
        self.per_minute[int(ts // 60)] += 1
        if ts - u.last_ts > cfg.session_gap_s or (session_id and session_id != u.session_id):
            u.sessions += 1
            u.session_start = ts
        u.session_id = session_id or u.session_id
        u.last_ts = max(u.last_ts, ts)
        u.first_ts = min(u.first_ts, ts)
        day = int(ts // 86400)
        u.heat[(day + 3) % 7, int(ts % 86400 // 3600)] += 1  # 1970-01-01 was a Thursday → Monday = 0
        if item_id is not None:
            u.recent.append((item_id, etype, ts, seq))
            if etype == "purchase":
                u.purchased.add(item_id)
                u.orders += 1
                u.spend += (price or 0.0) * quantity
                u.carted.pop(item_id, None)
            elif etype == "add_to_cart":
                u.carted[item_id] = ts
            elif etype == "remove_from_cart":
                u.carted.pop(item_id, None)
            meta = self.items.get(item_id)
            w = WEIGHTS.get(etype, 0.0)
            if meta is not None and w:
                for key in (f"category:{meta.category}", f"brand:{meta.brand}" if meta.brand else None, f"price:{price_band(meta.price)}" if meta.price else None):
                    if key:
                        u.affinity[key] = _decay_add(u.affinity.get(key), w, ts, self._aff_hl)
        suspicious = u.flagged is not None or (ip is not None and ip in self.flagged_ips)
        if not suspicious and cfg.bots.enabled and etype != "impression":  # pages send impressions in bursts
            suspicious = self._guard(u, user_id, ts, item_id, etype, ip)
        if suspicious:
            return
        self.last_ts = max(self.last_ts, ts)  # the shop's clock: bots do not move it either
        if item_id is not None:
            self.counters.add(item_id, etype, ts)
        elif query:
            key = query.strip().lower()
            self.queries[key] = _decay_add(self.queries.get(key), 1.0, ts, self._trend_hl)
            self.query_totals[key] += 1

    def _guard(self, u: UserState, user_id: str, ts: float, item_id: str | None, etype: str, ip: str | None) -> bool:
        """Rate check over event time; on a trip, the user's window is retracted from counters."""
        bots = self.config.bots
        u.window.append((ts, item_id, etype))
        while u.window and u.window[0][0] < ts - 60:
            u.window.popleft()
        burst = len(u.window) > bots.max_events_per_second and u.window[-bots.max_events_per_second - 1][0] > ts - 1
        reason = None
        if len(u.window) > bots.max_events_per_minute:
            reason = f"{len(u.window)} events within a minute (limit {bots.max_events_per_minute})"
        elif burst:
            reason = f"more than {bots.max_events_per_second} events within a second"
        if ip is not None and reason is None:
            w = self.ip_windows.setdefault(ip, deque())
            w.append(ts)
            while w and w[0] < ts - 60:
                w.popleft()
            if len(w) > bots.max_events_per_minute * 5:  # an address is shared by several people: looser
                self.flagged_ips.add(ip)
                reason = f"address {ip}: {len(w)} events within a minute"
        if reason is None:
            return False
        u.flagged = reason
        for t, item, kind in list(u.window)[:-1]:  # the current event was never counted
            if item is not None:
                self.counters.add(item, kind, t, sign=-1.0)
        u.window.clear()
        return True

    # -- reading ---------------------------------------------------------------------------------------------
    def history(self, user_id: str, n: int | None = None) -> list[str]:
        """The user's recent items, oldest first (duplicates kept: sequence models want them)."""
        u = self.users.get(user_id)
        if u is None:
            return []
        items = [item for item, etype, _, _ in u.recent if etype not in ("impression", "remove_from_cart")]
        return items[-n:] if n else items

    def history_since(self, user_id: str, seq: int) -> list[str]:
        """The user's items from events after log position `seq` (what a model built at `seq` has not seen)."""
        u = self.users.get(user_id)
        if u is None:
            return []
        return [item for item, etype, _, s in u.recent if s > seq and etype not in ("impression", "remove_from_cart")]

    def events_per_minute(self, minutes: int = 60, now: float | None = None) -> list[tuple[int, int]]:
        """(minute start epoch seconds, events) for the last `minutes` minutes up to `now` (default: newest event)."""
        with self.lock:
            end = int((now if now is not None else max(self.per_minute, default=0) * 60) // 60)
            out = [((m) * 60, self.per_minute.get(m, 0)) for m in range(end - minutes + 1, end + 1)]
            if len(self.per_minute) > 20_000:  # keep about two weeks of minutes
                for m in sorted(self.per_minute)[:-20_000]:
                    del self.per_minute[m]
        return out

    def purchased(self, user_id: str) -> set[str]:
        u = self.users.get(user_id)
        return set(u.purchased) if u else set()

    def flagged_users(self) -> dict[str, str]:
        return {uid: u.flagged for uid, u in self.users.items() if u.flagged}

    def item_stats(self, now: float | None = None) -> dict[str, Any]:
        """Item counters as arrays (ids, totals per type, decayed per half-life, smoothed CTR, trend)."""
        with self.lock:
            now = self.last_ts if now is None else now
            snap = self.counters.snapshot(now)
            total = snap["total"]
            cfg = self.config
            clicks = total[:, TYPE_INDEX["click"]]
            impressions = total[:, TYPE_INDEX["impression"]]
            ctr = (clicks + cfg.ctr_prior_clicks) / (np.maximum(impressions, clicks) + cfg.ctr_prior_impressions)
            views = total[:, TYPE_INDEX["view"]] + clicks
            conversion = (total[:, TYPE_INDEX["purchase"]] + cfg.conversion_prior_purchases) / (views + cfg.conversion_prior_views)
            return {"ids": list(self.counters.ids), "counts": {t: total[:, i].copy() for t, i in TYPE_INDEX.items()},
                    "decayed": snap["decayed"], "ctr": ctr, "conversion": conversion, "trend": snap["trend"]}

    def trending_items(self, k: int = 20, category: str | None = None, now: float | None = None) -> list[tuple[str, float]]:
        """Items with the most recent weighted activity (optionally within a top-level category)."""
        with self.lock:
            now = self.last_ts if now is None else now
            trend = self.counters.snapshot(now)["trend"]
            ids = self.counters.ids
            if category is not None:
                keep = np.array([(m := self.items.get(i)) is not None and (m.top == category or m.category.startswith(category)) for i in ids], bool)
                trend = np.where(keep, trend, -np.inf)
            order = np.argsort(-trend)[:k]
            return [(ids[j], float(trend[j])) for j in order if np.isfinite(trend[j]) and trend[j] > 0]

    def trending_queries(self, k: int = 20, now: float | None = None) -> list[tuple[str, float]]:
        with self.lock:
            now = self.last_ts if now is None else now
            scored = [(q, _decayed(slot, now, self._trend_hl)) for q, slot in self.queries.items()]
        return sorted(scored, key=lambda x: -x[1])[:k]

    def affinities(self, user_id: str, now: float | None = None) -> dict[str, dict[str, float]]:
        """Decayed interest weights per kind (category, brand, price), normalised to sum to 1 per kind."""
        u = self.users.get(user_id)
        if u is None:
            return {}
        now = self.last_ts if now is None else now
        out: dict[str, dict[str, float]] = {}
        for key, slot in u.affinity.items():
            kind, _, value = key.partition(":")
            out.setdefault(kind, {})[value] = max(_decayed(slot, now, self._aff_hl), 0.0)
        for kind, d in out.items():
            s = sum(d.values()) or 1.0
            out[kind] = dict(sorted(((v, round(w / s, 4)) for v, w in d.items()), key=lambda x: -x[1]))
        return out

    def forget_user(self, user_id: str, types: Sequence[str], items: Sequence[str | None], queries: Sequence[str | None], ts: Sequence[float]) -> dict[str, int]:
        """Remove a user: their own state, and their events' contributions to counters, trending and queries."""
        with self.lock:
            u = self.users.pop(user_id, None)
            if u is None:
                return {"profile": 0, "counted_events": 0}
            retracted = 0
            if u.flagged is None:  # a flagged user's events were never counted (or were retracted on flagging)
                for etype, item, query, t in zip(types, items, queries, ts, strict=True):
                    if item is not None:
                        self.counters.add(item, etype, t, sign=-1.0)
                        retracted += 1
                    elif query:
                        key = query.strip().lower()
                        if key in self.queries:
                            self.queries[key] = _decay_add(self.queries[key], -1.0, t, self._trend_hl)
                            self.query_totals[key] -= 1
                            if self.query_totals[key] <= 0:
                                del self.query_totals[key], self.queries[key]
                        retracted += 1
            return {"profile": 1, "counted_events": retracted}

    def fingerprint(self) -> dict[str, Any]:
        """A compact, comparable summary (tests compare live vs rebuilt state with it)."""
        with self.lock:
            snap = self.counters.snapshot(self.last_ts)
            order = np.argsort(np.array(self.counters.ids, dtype=object)) if self.counters.ids else np.zeros(0, int)
            return {
                "last_seq": self.last_seq,
                "users": {uid: (list(u.recent), u.sessions, u.events, sorted(u.purchased), round(u.spend, 6), u.flagged, {k: (round(v, 9), r) for k, (v, r) in sorted(u.affinity.items())}) for uid, u in sorted(self.users.items())},
                "items": [self.counters.ids[j] for j in order],
                "totals": snap["total"][order].round(9).tolist(),
                "trend": snap["trend"][order].round(6).tolist(),
                "queries": sorted(self.query_totals.items()),
            }
