"""The money half of the ad server: impression and click events in, charges, refusals and conversions out.

An ad event carries its served ad's token in `context.ad`. It is charged only if the token's HMAC verifies,
its impression was served (a row in `ad_impressions`), it is unexpired at the server's clock, the event's
user or session is the one the ad was served to, the user (or address) is not a flagged bot, and, for a
click, the address the ad was served to (as the API saw it; else the event's `context.ip`) is under
`ads.max_clicks_per_ip` clicks per `ads.click_ip_window_s`.
The charge itself is `ads.settle`: one atomic claim per token, so a click is charged at most once across
every process. Refused clicks stay in the event log, are written to the ledger as `invalid_click` (cost 0;
the refusal is final) and are counted by reason in the ingest result and `shopmind_ad_events_total`.
"""

from __future__ import annotations

import hmac
import logging
import math
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import orjson
import pyarrow as pa
from prometheus_client import Counter as Metric

from shopmind.ads.settle import Claim
from shopmind.ads.store import AdsStore, day_of
from shopmind.ads.tokens import carries_ad, token_dict, user_tag
from shopmind.domain import Event

if TYPE_CHECKING:
    from shopmind.profiles.state import OnlineState

log = logging.getLogger(__name__)

AD_EVENTS = Metric("shopmind_ad_events_total", "ad impression/click events by outcome (counted, or why refused)", ["kind", "outcome"])
REASONS = ("bad_token", "not_served", "user_mismatch", "bot", "expired", "ip_rate", "replayed")
"""Why an ad event is not charged: its token does not verify; no such ad was served; served to someone else;
a flagged bot (user or address); past its expiry; its address is over its click rate; its token was already
counted (a replay, here or in another process)."""

SETTLE_BATCH = 1000  # claims settled per transaction

Flags = Callable[[set[str], set[str]], tuple[set[str], set[str]]]
"""(user ids, addresses) → (those of the users, those of the addresses that are flagged as bots)."""


class IpClickRate:
    """Clicks per client address over a sliding window of server time. Every click on a served, unexpired ad by
    the one it was served to counts, charged or not (replays too), so an address that keeps clicking stays
    over its rate."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._windows: dict[str, deque[float]] = {}
        self._calls = 0
        self._lock = threading.Lock()

    def allow(self, ip: str | None, now: float) -> bool:
        """Count a click from `ip` at `now`; False when the address is over its rate (no address: allowed)."""
        if not ip or self.limit <= 0:
            return True
        with self._lock:
            self._calls += 1
            if self._calls % 4096 == 0:  # forget idle addresses now and then: memory follows active ones
                self._windows = {k: w for k, w in self._windows.items() if w and w[-1] > now - self.window_s}
            w = self._windows.setdefault(ip, deque())
            while w and w[0] <= now - self.window_s:
                w.popleft()
            w.append(now)
            return len(w) <= self.limit


def state_flags(online_state: Callable[[], OnlineState]) -> Flags:
    """Bot flags from online state (users and addresses its bot guard flagged); `online_state` returns the current
    state when asked (it is built lazily and caught up on each call)."""

    def flags(users: set[str], ips: set[str]) -> tuple[set[str], set[str]]:
        state = online_state()
        with state.lock:
            bad_users = {u for u in users if (s := state.users.get(u)) is not None and s.flagged}
            return bad_users, ips & state.flagged_ips

    return flags


def event_rows(events: Any) -> list[tuple]:
    """(id, type, user, session, item, ts, price, quantity, context dict) from Events, dicts or an events Arrow table."""
    if hasattr(events, "column") and hasattr(events, "num_rows"):
        import pyarrow.compute as pc

        ad = pc.and_(pc.is_in(events.column("type"), value_set=pa.array(["impression", "click"])), carries_ad(events.column("context")))
        events = events.filter(pc.or_(ad, pc.equal(events.column("type"), "purchase")))  # the rest never costs money
        cols = [events.column(n).to_pylist() for n in ("id", "type", "user_id", "session_id", "item_id", "ts", "price", "quantity", "context")]
        return [(*r[:8], orjson.loads(r[8]) if r[8] and '"ad"' in r[8] else {}) for r in zip(*cols, strict=True)]
    out = []
    for e in events:
        e = e if isinstance(e, Event) else Event.model_validate(e)
        ctx = e.context.model_dump(exclude_none=True) if e.context is not None else {}
        out.append((e.id, str(e.type), e.user_id, e.session_id, e.item_id, e.timestamp.timestamp(), e.price, e.quantity, ctx))
    return out


def _same(a: str, b: str | None) -> bool:
    return b is not None and hmac.compare_digest(a.encode(), b.encode())


class Accounting:
    """Spend accounting for `AdsService` (a mixin: it shares the service's lock, snapshot and spend caches)."""

    store: AdsStore
    secret: bytes
    config: Any
    _lock: threading.RLock
    _index: Any
    _spend: dict[tuple[str, str], float]
    _total: dict[str, float] | None
    _day: str
    _days_loaded: set[str]
    _flags: Flags | None
    _ip_rate: IpClickRate
    synced_seq: int

    def ingest(self, events: Sequence[Event | dict[str, Any]] | Any, *, now: float | None = None) -> dict[str, Any]:
        """Account ad events: impressions and clicks carrying `context.ad`, and purchases (conversions).

        A served ad is counted once for its impression and charged at most once for its click (the checks are in
        the module docstring); a charge is capped at what is left of the campaign's daily and total budget as
        stored. `now` is the server clock that expiry and click rates are judged by (default: the wall clock;
        never the event's own timestamp, which the client chose). Returns counts of what was recorded and of
        what was refused, by reason."""
        rows = event_rows(events)
        now = time.time() if now is None else float(now)
        with self._lock:
            return self._ingest(rows, now)

    def _ingest(self, rows: list[tuple], now: float) -> dict[str, Any]:
        refused: Counter[str] = Counter()
        ad_rows, purchases = [], []
        for r in rows:
            etype, ctx = r[1], r[8]
            tok = ctx.get("ad") if ctx else None
            if etype in ("impression", "click") and tok:
                info = token_dict(tok, self.secret) if isinstance(tok, str) else None
                if info is None:
                    refused["bad_token"] += 1
                    AD_EVENTS.labels(etype, "bad_token").inc()
                    continue
                ad_rows.append((r, info))
            elif etype == "purchase" and r[4]:
                purchases.append(r)
        known = self.store.known_events([r[0] for r, _ in ad_rows] + [r[0] for r in purchases])
        served = self.store.impressions(info["token_id"] for _, info in ad_rows) if ad_rows else {}
        bad_users: set[str] = set()
        bad_ips: set[str] = set()
        if ad_rows and self._flags is not None:
            ips = {str(r[8]["ip"]) for r, _ in ad_rows if r[8].get("ip")} | {r["ip"] for r in served.values() if r.get("ip")}
            bad_users, bad_ips = self._flags({r[2] for r, _ in ad_rows}, ips)
        budgets = self._budgets({info["campaign_id"] for _, info in ad_rows})
        claims, invalid, seen, duplicates = [], [], set(known), 0
        for (eid, etype, uid, sid, _item, ts, _price, _qty, ctx), info in ad_rows:
            if eid in seen:
                duplicates += 1
                continue
            seen.add(eid)
            row = served.get(info["token_id"])
            cost = 0.0
            if row is not None:
                cpc, cpm = info["bid_type"] == "cpc", info["bid_type"] == "cpm"
                cost = float(row["price"]) if (etype == "click" and cpc) else float(row["price"]) / 1000.0 if (etype == "impression" and cpm) else 0.0
            claim = Claim(eid, etype, info["token_id"], info["campaign_id"], uid, info["item_id"], info["placement"][:64], ts, day_of(ts), cost)
            ip = str(ctx["ip"]) if ctx.get("ip") else None
            reason = self._refusal(etype, uid, sid, ip, info, row, bad_users, bad_ips, now)
            if reason is None:
                claims.append(claim)
                continue
            refused[reason] += 1
            AD_EVENTS.labels(etype, reason).inc()
            if etype == "click":
                invalid.append({"event_id": eid, "kind": "invalid_click", "campaign_id": claim.campaign_id, "user_id": uid,
                                "item_id": claim.item_id, "placement": claim.placement, "ts": ts, "day": claim.day, "cost": 0.0, "value": 0.0})
        costs: dict[str, float] = {}
        for s in range(0, max(len(claims), len(invalid)), SETTLE_BATCH):  # a long catch-up holds no lock for long
            settled = self.store.settle(claims[s : s + SETTLE_BATCH], invalid[s : s + SETTLE_BATCH], now, budgets)
            for c in settled.replayed:
                refused["replayed"] += 1
                AD_EVENTS.labels(c.kind, "replayed").inc()
            costs.update(settled.charged)
            done = [c for c in claims[s : s + SETTLE_BATCH] if c.event_id in settled.charged]
            self._apply_settled(settled.spend_day, settled.spend_total, [(c.campaign_id, settled.charged[c.event_id]) for c in done])
        counted = [c for c in claims if c.event_id in costs]  # recorded in the ledger (charged, or free: CPC impressions)
        for c in counted:
            AD_EVENTS.labels(c.kind, "counted").inc()
        if refused:
            log.info("ad events refused: %s", dict(refused))
        conversions = self._attribute([p for p in purchases if p[0] not in seen])
        return {"impressions": sum(1 for c in counted if c.kind == "impression"),
                "clicks": sum(1 for c in counted if c.kind == "click"),
                "spend": round(sum(costs.values()), 6), "conversions": conversions,
                "duplicates": duplicates, "invalid_tokens": refused["bad_token"], "refused": dict(refused)}

    def _refusal(self, etype: str, uid: str, sid: str | None, ip: str | None, info: dict[str, Any], row: dict[str, Any] | None,
                 bad_users: set[str], bad_ips: set[str], now: float) -> str | None:
        """Why this verified ad event may not be counted, or None (the atomic claim decides replays).

        The click rate is per address the ad was served to, as the API saw it (a client cannot choose it), or,
        for ads served without one (CLI, facade), the event's own `context.ip`."""
        served_ip = row.get("ip") if row is not None else None
        if row is None or not (_same(info["campaign_id"], row["campaign_id"]) and _same(info["item_id"], row["item_id"])):
            return "not_served"
        tag = info["user_tag"]
        if tag and not (_same(tag, user_tag(uid, self.secret)) or (sid and _same(tag, user_tag(sid, self.secret)))):
            return "user_mismatch"
        if uid in bad_users or (ip is not None and ip in bad_ips) or (served_ip is not None and served_ip in bad_ips):
            return "bot"
        if now > float(row["expires_at"]):
            return "expired"
        if etype == "click" and not self._ip_rate.allow(served_ip or ip, now):
            return "ip_rate"
        return None

    def _apply_settled(self, spend_day: dict[tuple[str, str], float], spend_total: dict[str, float], charges: Iterable[tuple[str, float]]) -> None:
        """Refresh the spend caches from what the settlement read and wrote (other processes' spend included)."""
        totals = self._totals()
        added: defaultdict[str, float] = defaultdict(float)
        for cid, cost in charges:
            added[cid] += cost
        for (cid, day), v in spend_day.items():
            self._spend[(cid, day)] = v
        for cid, cost in added.items():
            totals[cid] = spend_total[cid] if cid in spend_total else totals.get(cid, 0.0) + cost
        idx = self._index
        if idx is None:
            return
        for cid in {c for c, _ in spend_day} | set(added):
            j = idx.pos.get(cid)
            if j is not None:
                if self._day and (cid, self._day) in self._spend:
                    idx.spend_day[j] = self._spend[(cid, self._day)]
                idx.spend_total[j] = totals.get(cid, 0.0)

    def _reload_spend(self, ids: Sequence[str], capped: Sequence[str], day: str) -> None:
        """Spend as every worker and host charged it, from the ledger: `day`'s for `ids`, all-time for `capped` (those
        with a total budget). Called on each snapshot refresh, so the serving side's view of budgets and pacing is at
        most `ads.campaign_refresh_s` behind the ledger (charging itself always reads the ledger, see `ads.settle`)."""
        spent = self.store.spend_of(ids, day)
        for cid in ids:
            self._spend[(cid, day)] = spent.get(cid, 0.0)
        self._days_loaded.add(day)
        totals = self._totals()
        totals.update(self.store.spend_of(capped) if capped else {})

    def _budgets(self, campaign_ids: set[str]) -> dict[str, tuple[float, float]]:
        """(daily, total) budget per campaign: from the snapshot, else the store; a deleted campaign gets none."""
        out = {}
        idx = self._index
        for cid in campaign_ids:
            if idx is not None and cid in idx.pos:
                j = idx.pos[cid]
                out[cid] = (float(idx.daily[j]), float(idx.total[j]))
            else:
                try:
                    c = self.store.get(cid)
                    out[cid] = (c.daily_budget, c.total_budget or math.inf)
                except KeyError:
                    out[cid] = (0.0, 0.0)  # a deleted campaign is never charged
        return out

    def _totals(self) -> dict[str, float]:
        if self._total is None:
            self._total = self.store.spend()
        return self._total

    def _attribute(self, purchases: list[tuple]) -> int:
        """Conversions: a purchase of an advertised product by a user who clicked its ad (a counted click) within the window."""
        if not purchases:
            return 0
        window = self.config.attribution_window_days * 86400
        clicks = self.store.clicks_of([p[2] for p in purchases], min(p[5] for p in purchases) - window)
        last: dict[tuple[str, str], list[tuple[float, str]]] = {}
        for uid, iid, cid, ts in clicks:
            last.setdefault((uid, iid), []).append((ts, cid))
        rows = []
        for eid, _, uid, _sid, iid, ts, price, qty, _ in purchases:
            hits = [(t, c) for t, c in last.get((uid, iid), ()) if ts - window <= t <= ts]
            if hits:
                _, cid = max(hits)
                rows.append({"event_id": eid, "kind": "conversion", "campaign_id": cid, "user_id": uid, "item_id": iid,
                             "placement": "", "ts": ts, "day": day_of(ts), "cost": 0.0, "value": float(price or 0.0) * int(qty or 1)})
        return len(self.store.record(rows))

    def catch_up(self, store: Any, now: float | None = None) -> dict[str, Any]:
        """Account events the shop stored since the last call (any writer: API, importer, another process)."""
        with self._lock:
            table = store.scan_events(since_seq=self.synced_seq, by_time=False)
            if not table.num_rows:
                return {}
            out = self._ingest(event_rows(table), time.time() if now is None else float(now))
            self.synced_seq = int(table.column("seq")[-1].as_py())
            return out
