"""The ad server: targeting → relevance gate → pCTR → eCPM auction with GSP prices, under budgets and pacing.

`AdsService.select` is the hot path: every step is a numpy operation over the arrays of a campaign
snapshot (`CampaignIndex`), rebuilt off the hot path when campaigns change. Money moves only in
`AdsService.ingest`, from impression/click events that carry the served ad's signed token in
`context.ad`, through a ledger keyed by event id (a replayed event is never charged twice) and capped
at the remaining daily and total budget (spend never exceeds a budget).
"""

from __future__ import annotations

import math
import os
import secrets
import threading
import time
import weakref
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from shopmind.ads.auction import ecpm as ecpm_of
from shopmind.ads.auction import gsp
from shopmind.ads.model import (
    ENCODERS,
    AdsConfig,
    AdsModel,
    TextEncoder,
    carries_ad,
    encode_token,
    token_dict,
)
from shopmind.ads.models import (
    AdSlot,
    AdsResponse,
    BidType,
    Campaign,
    CampaignSpec,
    CampaignStatus,
    CampaignUpdate,
)
from shopmind.ads.pacing import Pacer
from shopmind.ads.store import AdsStore, day_of
from shopmind.domain import Event, Product
from shopmind.text.encoders import RECENT_QUERY_VECTORS

TARGET_DIMS = ("categories", "keywords", "segments", "locations", "devices")
SECRET_FILE = "ads_secret"


def _values(x: Any) -> list[str]:
    if x is None:
        return []
    if isinstance(x, (list, tuple, set)):
        return [str(v).strip().lower() for v in x if v is not None]
    return [str(x).strip().lower()]


def query_phrases(query: str | None) -> set[str]:
    """Words and 2-3 word phrases of a query (what keyword targeting matches against)."""
    if not query:
        return set()
    words = query.lower().split()
    out = set(words)
    for n in (2, 3):
        out.update(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    return out


class CampaignIndex:
    """Arrays over the serving campaigns and their (campaign, product) units, plus targeting inverted indices."""

    def __init__(self, campaigns: Sequence[Campaign], model: AdsModel, available: dict[str, bool]) -> None:
        self.campaigns = list(campaigns)
        self.ids = [c.id for c in self.campaigns]
        self.pos = {cid: j for j, cid in enumerate(self.ids)}
        C = len(self.campaigns)
        self.bid = np.array([c.bid for c in self.campaigns], np.float64)
        self.is_cpc = np.array([c.bid_type is BidType.CPC for c in self.campaigns], bool)
        self.daily = np.array([c.daily_budget for c in self.campaigns], np.float64)
        self.total = np.array([c.total_budget or math.inf for c in self.campaigns], np.float64)
        self.cap = np.array([c.frequency_cap or np.iinfo(np.int32).max for c in self.campaigns], np.int64)
        self.active = np.array([c.status is CampaignStatus.ACTIVE for c in self.campaigns], bool)
        self.start = np.array([c.schedule.start.timestamp() if c.schedule.start else -math.inf for c in self.campaigns])
        self.end = np.array([c.schedule.end.timestamp() if c.schedule.end else math.inf for c in self.campaigns])
        self.hours = np.ones((C, 24), bool)
        for j, c in enumerate(self.campaigns):
            if c.schedule.hours:
                self.hours[j] = False
                self.hours[j, c.schedule.hours] = True
        self.any: dict[str, np.ndarray] = {}
        self.inverted: dict[str, dict[str, np.ndarray]] = {}
        for dim in TARGET_DIMS:
            self.any[dim] = np.array([not getattr(c.targeting, dim) for c in self.campaigns], bool)
            inv: dict[str, np.ndarray] = {}
            for j, c in enumerate(self.campaigns):
                for v in getattr(c.targeting, dim):
                    inv.setdefault(v, np.zeros(C, bool))[j] = True
            self.inverted[dim] = inv
        unit_camp, unit_item, unit_ok = [], [], []
        for j, c in enumerate(self.campaigns):
            for pid in c.products:
                unit_camp.append(j)
                unit_item.append(model.index.get(pid, -1))
                unit_ok.append(available.get(pid, False) and pid in model.index)
        self.unit_camp = np.array(unit_camp, np.int64)
        self.unit_item = np.array(unit_item, np.int64)
        self.unit_ok = np.array(unit_ok, bool)
        rows = np.where(self.unit_item >= 0, self.unit_item, 0)
        dim = model.vectors.shape[1] if model.vectors.ndim == 2 and len(model.vectors) else 1
        self.unit_vecs = model.vectors[rows] if len(rows) and len(model.vectors) else np.zeros((len(rows), dim), np.float32)
        self.campaign_ctr = model.campaign_ctr(self.ids)
        self.spend_day = np.zeros(C)
        self.spend_total = np.zeros(C)

    def __len__(self) -> int:
        return len(self.ids)

    def targeting_mask(self, values: dict[str, set[str]]) -> np.ndarray:
        """Campaigns whose targeting accepts the request: per dimension 'any' or a value hit, all dimensions."""
        mask = np.ones(len(self.ids), bool)
        for dim in TARGET_DIMS:
            hit = self.any[dim].copy()
            inv = self.inverted[dim]
            for v in values.get(dim, ()):
                m = inv.get(v)
                if m is not None:
                    hit |= m
            mask &= hit
        return mask


class AdsService:
    """Campaign management, ad selection, spend accounting and reports for one shop."""

    def __init__(self, store: AdsStore, model: AdsModel, config: AdsConfig | None = None, *,
                 history: Callable[[str], list[str]] | None = None, products: Callable[[Sequence[str]], dict[str, Product]] | None = None,
                 query_encoder: TextEncoder | None = None, passage_encoder: TextEncoder | None = None,
                 secret: bytes | None = None, seed: int | None = None, event_store: Any = None,
                 model_source: Callable[[], AdsModel | None] | None = None, query_encoder_name: str | None = None) -> None:
        self.store = store
        self.model = model
        self.config = config or model.config
        self._history = history
        self._products = products
        self._query_encoder = query_encoder
        self._query_encoder_name = query_encoder_name  # vectors search made with the same encoder are reused
        self._passage_encoder = passage_encoder
        self.secret = secret or secrets.token_bytes(32)
        self.rng = np.random.default_rng(seed)
        self._lock = threading.RLock()
        self._index: CampaignIndex | None = None
        self._index_version = -1
        self._index_at = 0.0
        self._pacer = Pacer(0, model.hour_curve, self.config.pacing)
        self._spend: dict[tuple[str, str], float] = {}  # (campaign, day) → cost, loaded per day on first use
        self._days_loaded: set[str] = set()
        self._total: dict[str, float] | None = None
        self._freq: dict[str, Counter] = {}
        self._freq_day = ""
        self._qcache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._pending: set[str] = set()
        self._pool: Any = None
        self._day = ""
        self.synced_seq = 0  # last event seq accounted by `catch_up`
        self._event_store = event_store  # where `_refresh` pulls new events from (SqlStore), if given
        self._model_source = model_source  # the currently published artifact, checked on refresh

    # -- wiring --------------------------------------------------------------------------------------
    @classmethod
    def from_shop(cls, shop: Any, *, encode: TextEncoder | None = None, config: AdsConfig | dict[str, Any] | None = None) -> AdsService:
        """The service over a ShopMind facade: its store, the built `ads` artifact (or one made now), online state."""
        if config is None:
            config = AdsConfig.model_validate(getattr(shop.settings, "ads", None) or {})
        elif isinstance(config, dict):
            config = AdsConfig.model_validate(config)
        model = None
        from shopmind.engine import NotBuilt

        try:
            model = shop.service("ads")
        except (NotBuilt, KeyError):  # not registered in the facade or not built yet: vectors now, CTR prior
            model = None
        passage = query = encode
        name = None
        if encode is None:
            passage, query, name = ENCODERS[config.encoder]()
        if model is None:
            model = AdsModel.build(list(shop.store.iter_products()), None, None, config, encode=passage)
        n = config.history_items
        svc = cls(AdsStore(shop.store.engine), model, config,
                   history=lambda uid: shop.state.history(uid, n), products=shop.store.get_products,
                   query_encoder=query, passage_encoder=passage, secret=_secret(Path(shop.home)),
                   event_store=shop.store, model_source=lambda: _published(shop), query_encoder_name=name)
        svc.catch_up(shop.store)  # account the existing log now, at start-up, not inside the first request
        return svc

    # -- campaigns -----------------------------------------------------------------------------------
    def create_campaign(self, spec: CampaignSpec | dict[str, Any], campaign_id: str | None = None) -> Campaign:
        """Validate and store a campaign; it serves from the next request."""
        return self.store.create(spec, campaign_id)

    def update_campaign(self, campaign_id: str, changes: CampaignUpdate | dict[str, Any]) -> Campaign:
        return self.store.update(campaign_id, changes)

    def delete_campaign(self, campaign_id: str) -> bool:
        return self.store.delete(campaign_id)

    def get_campaign(self, campaign_id: str) -> Campaign:
        return self.store.get(campaign_id)

    def list_campaigns(self, advertiser: str | None = None, status: str | None = None) -> list[Campaign]:
        return self.store.list(advertiser, status)

    # -- snapshot ------------------------------------------------------------------------------------
    def _refresh(self, now: float) -> CampaignIndex:
        """Rebuild the campaign snapshot when campaigns changed here, or every `campaign_refresh_s` (other writers)."""
        wall = time.monotonic()
        idx = self._index
        if idx is not None and self._index_version == self.store.version and wall - self._index_at < self.config.campaign_refresh_s:
            return idx
        with self._lock:
            if self._event_store is not None:
                self.catch_up(self._event_store)  # spend from events stored since the last look (budgets stay live)
            if self._model_source is not None:
                fresh = self._model_source()
                if fresh is not None and fresh is not self.model:  # a new build was published: serve it
                    self.model = fresh
                    self._pacer.curve = fresh.hour_curve
            campaigns = [c for c in self.store.list() if c.status is CampaignStatus.ACTIVE]
            wanted = sorted({p for c in campaigns for p in c.products})
            available: dict[str, bool] = {}
            if self._products is not None:
                found = self._products(wanted)
                missing = [found[p] for p in wanted if p in found and p not in self.model.index]
                if missing and self._passage_encoder is not None:
                    self.model.add_items(missing, self._passage_encoder)
                available = {p: found[p].available for p in found}
            else:
                available = {p: True for p in wanted}
            new = CampaignIndex(campaigns, self.model, available)
            self._pacer.remap(idx.ids if idx is not None else [], new.ids)  # pacing state follows each campaign
            self._index, self._index_version, self._index_at = new, self.store.version, wall
            self._day = ""  # spend arrays are refilled for the new snapshot
            return new

    def _sync_spend(self, idx: CampaignIndex, day: str) -> None:
        """Fill the snapshot's spend arrays for `day` (loaded from the ledger once per day)."""
        if self._day == day:
            return
        self._load_day(day)
        if self._total is None:
            self._total = self.store.spend()
        idx.spend_day = np.array([self._spend.get((c, day), 0.0) for c in idx.ids])
        idx.spend_total = np.array([self._total.get(c, 0.0) for c in idx.ids])
        self._day = day

    def _load_day(self, day: str) -> None:
        if day not in self._days_loaded:
            for cid, v in self.store.spend(day).items():
                self._spend[(cid, day)] = v
            self._days_loaded.add(day)

    # -- serving -------------------------------------------------------------------------------------
    def _query_vector(self, query: str) -> np.ndarray | None:
        """The cached query vector; on a miss, encode inline or (default) in the background and return None now."""
        key = query.strip().lower()
        v = self._qcache.get(key)
        if v is not None:
            self._qcache.move_to_end(key)
            return v
        if self._query_encoder_name is not None:
            shared = RECENT_QUERY_VECTORS.get(self._query_encoder_name, key)
            if shared is not None:  # search encoded this query for the same page a moment ago
                v = shared / max(float(np.linalg.norm(shared)), 1e-12)
                with self._lock:
                    self._qcache[key] = v
                return v
        if self._query_encoder is None:
            return None
        if self.config.query_encoding == "inline":
            return self._encode_queries([key])[0]
        with self._lock:
            if key not in self._pending:
                self._pending.add(key)
                if self._pool is None:
                    from concurrent.futures import ThreadPoolExecutor

                    self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ads-query")
                self._pool.submit(self._encode_queries, [key])
        return None

    def _encode_queries(self, keys: list[str]) -> np.ndarray:
        vecs = np.asarray(self._query_encoder(keys), np.float32)
        vecs = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        with self._lock:
            for key, v in zip(keys, vecs):
                self._qcache[key] = v
                self._pending.discard(key)
            while len(self._qcache) > self.config.query_cache_size:
                self._qcache.popitem(last=False)
        return vecs

    def warm_queries(self, queries: Sequence[str]) -> int:
        """Encode queries ahead of traffic in one batch (e.g. the shop's trending queries at start-up)."""
        keys = sorted({q.strip().lower() for q in queries if q and q.strip()} - set(self._qcache))
        if keys and self._query_encoder is not None:
            self._encode_queries(keys)
        return len(keys)

    def select(self, placement: str, *, user_id: str | None = None, query: str | None = None, item_id: str | None = None,
               k: int | None = None, context: dict[str, Any] | None = None, user_history: list[str] | None = None,
               now: float | None = None) -> AdsResponse:
        """Choose up to k ads for a slot: targeting, relevance gate, pCTR × bid ranking, GSP prices, pacing, caps."""
        started = time.perf_counter()
        now = time.time() if now is None else float(now)
        k = self.config.k if k is None else k
        context = context or {}
        idx = self._refresh(now)
        if not len(idx) or not len(idx.unit_camp):
            return AdsResponse(placement=placement, ads=[], candidates=0, eligible=0, took_ms=(time.perf_counter() - started) * 1e3)
        model = self.model
        day = day_of(now)
        self._sync_spend(idx, day)
        if user_history is None:
            user_history = self._history(user_id) if (self._history is not None and user_id) else []
        hist = np.fromiter((model.index[i] for i in user_history[-self.config.history_items :] if i in model.index), np.int64)
        page_row = model.index.get(item_id, -1) if item_id else -1

        # campaign-level mask: status, schedule, targeting, budget, frequency cap, pacing
        hour = int(now % 86400 // 3600)
        cats = set(_values(context.get("category")))
        if page_row >= 0:
            cats.add(model.categories[model.item_cat[page_row]].lower())
        if len(hist):
            top = np.bincount(model.item_cat[hist], minlength=len(model.categories))
            cats.update(model.categories[j].lower() for j in np.argsort(-top)[:3] if top[j] > 0)
        phrases = query_phrases(query)
        values = {"categories": cats | phrases, "keywords": phrases,
                  "segments": set(_values(context.get("segment")) + _values(context.get("segments"))),
                  "locations": set(_values(context.get("location"))), "devices": set(_values(context.get("device")))}
        camp_ok = idx.active & (idx.start <= now) & (now < idx.end) & idx.hours[:, hour] & idx.targeting_mask(values)
        camp_ok &= (idx.spend_day < idx.daily) & (idx.spend_total < idx.total)
        if user_id and self._freq_day == day and user_id in self._freq:
            for cid, n in self._freq[user_id].items():
                j = idx.pos.get(cid)
                if j is not None and n >= idx.cap[j]:
                    camp_ok[j] = False
        if self.config.pacing.enabled:
            p = self._pacer.update(now, idx.spend_day, idx.daily, idx.hours)
            camp_ok &= self.rng.random(len(idx)) < p

        units = np.flatnonzero(camp_ok[idx.unit_camp] & idx.unit_ok & (idx.unit_item != page_row))
        if len(hist) and len(units):
            units = units[~np.isin(idx.unit_item[units], hist)]  # never advertise what the user just had
        n_candidates = len(units)
        # relevance: to the query and/or the user's taste (mean of recent items) or the page's product
        ctx_vecs = []
        if query:
            qv = self._query_vector(query)
            if qv is not None:
                ctx_vecs.append(qv)
            elif len(units):  # no vector yet (being encoded): only campaigns that bought one of the query's keywords
                units = units[~idx.any["keywords"][idx.unit_camp[units]]]
        uv = model.user_vector(hist)
        if uv is not None:
            ctx_vecs.append(uv)
        elif page_row >= 0:
            ctx_vecs.append(model.vectors[page_row])
        if ctx_vecs and len(units):
            rel = (idx.unit_vecs[units] @ np.stack(ctx_vecs, axis=1)).max(axis=1)
            keep = rel >= self.config.min_relevance
            units, rel = units[keep], rel[keep]
        else:
            rel = np.zeros(len(units))
        if not len(units):
            return AdsResponse(placement=placement, ads=[], candidates=n_candidates, eligible=0, took_ms=(time.perf_counter() - started) * 1e3)

        camps = idx.unit_camp[units]
        X = model.features(idx.unit_item[units], idx.campaign_ctr[camps], rel, hist, placement, 0, bool(query),
                           user_factor=model.user_factor(hist))
        pctr = model.pctr(X)
        bid, is_cpc = idx.bid[camps], idx.is_cpc[camps]
        if self.config.ranking == "ecpm":
            rank_ctr, gate = pctr, np.ones(len(units))
        else:  # bid only: no reason to prefer one of a campaign's products, so ties break at random
            rank_ctr, gate = np.full(len(units), model.base_ctr), 1.0 - 1e-9 * self.rng.random(len(units))
        score = ecpm_of(rank_ctr, bid, is_cpc, gate)
        result = gsp(score, rank_ctr, bid, is_cpc, camps, k, self.config.reserve_cpc, self.config.reserve_cpm)

        if len(result.winners) and model.ctr is not None:  # report each winner's pCTR in the slot it actually got
            Xw = X[result.winners].copy()
            Xw[:, 0] = np.arange(len(result.winners))
            pctr = pctr.copy()
            pctr[result.winners] = model.pctr(Xw)
        ads = []
        nonce = secrets.token_hex(4)
        for pos, (w, price) in enumerate(zip(result.winners.tolist(), result.prices.tolist())):
            c = idx.campaigns[camps[w]]
            iid = model.item_ids[idx.unit_item[units[w]]]
            token = encode_token([c.id, iid, str(c.bid_type), f"{price:.6f}", placement, str(pos), f"{now:.3f}", nonce], self.secret)
            ads.append(AdSlot(campaign_id=c.id, advertiser=c.advertiser, item_id=iid, position=pos, bid_type=c.bid_type, bid=c.bid,
                              price=round(price, 6), pctr=round(float(pctr[w]), 6), ecpm=round(float(score[w]), 4), relevance=round(float(rel[w]), 4),
                              token=token, reason=f"relevance {rel[w]:.2f}, pCTR {pctr[w]:.3%} × bid {c.bid:g} {c.bid_type.value}"))
        self._count_served(user_id, day, [a.campaign_id for a in ads])
        return AdsResponse(placement=placement, ads=ads, candidates=n_candidates, eligible=len(units), took_ms=(time.perf_counter() - started) * 1e3)

    def _count_served(self, user_id: str | None, day: str, campaign_ids: list[str]) -> None:
        """Frequency capping counts serves per user, campaign and day (a serve is the conservative count)."""
        if not user_id or not campaign_ids:
            return
        if self._freq_day != day:
            self._freq, self._freq_day = {}, day
        self._freq.setdefault(user_id, Counter()).update(campaign_ids)

    # -- money -----------------------------------------------------------------------------------------
    def ingest(self, events: Sequence[Event | dict[str, Any]] | Any) -> dict[str, int | float]:
        """Account ad events: impressions and clicks carrying `context.ad`, and purchases (conversions).

        Each source event id is charged at most once (ledger primary key); a charge is capped at what is
        left of the campaign's daily and total budget. Returns counts of what was recorded."""
        rows = _event_rows(events)
        with self._lock:
            return self._ingest(rows)

    def _ingest(self, rows: list[tuple]) -> dict[str, int | float]:
        ad_rows, purchases, invalid = [], [], 0
        for r in rows:
            eid, etype, uid, iid, ts, _price, _qty, ctx = r
            tok = ctx.get("ad") if ctx else None
            if etype in ("impression", "click") and tok:
                info = token_dict(str(tok), self.secret)
                if info is None:
                    invalid += 1
                    continue
                ad_rows.append((eid, etype, uid, ts, info))
            elif etype == "purchase" and iid:
                purchases.append(r)
        known = self.store.known_events([r[0] for r in ad_rows] + [r[0] for r in purchases])
        budgets = self._budgets({r[4]["campaign_id"] for r in ad_rows})
        ledger, charged, seen = [], [], set(known)
        for eid, etype, uid, ts, info in ad_rows:
            if eid in seen:
                continue
            seen.add(eid)
            cid, day = info["campaign_id"], day_of(ts)
            price = float(info["price"])
            cost = price if (etype == "click" and info["bid_type"] == "cpc") else price / 1000.0 if (etype == "impression" and info["bid_type"] == "cpm") else 0.0
            if cost > 0:
                self._load_day(day)
                daily, total = budgets.get(cid, (0.0, 0.0))
                spent_day = self._spend.get((cid, day), 0.0)
                spent_total = self._totals().get(cid, 0.0)
                cost = max(0.0, min(cost, daily - spent_day, total - spent_total))
                self._add_spend(cid, day, cost)
                charged.append((eid, cid, day, cost))
            ledger.append({"event_id": eid, "kind": etype, "campaign_id": cid, "user_id": uid, "item_id": info["item_id"],
                           "placement": info["placement"][:64], "ts": ts, "day": day, "cost": cost, "value": 0.0})
        inserted = self.store.record(ledger)
        for eid, cid, day, cost in charged:  # another writer stored it first: undo our in-memory charge
            if eid not in inserted:
                self._add_spend(cid, day, -cost)
        conversions = self._attribute([p for p in purchases if p[0] not in seen])
        return {"impressions": sum(1 for r in ledger if r["kind"] == "impression" and r["event_id"] in inserted),
                "clicks": sum(1 for r in ledger if r["kind"] == "click" and r["event_id"] in inserted),
                "spend": round(sum(c for e, _, _, c in charged if e in inserted), 6), "conversions": conversions,
                "duplicates": len(ad_rows) - len(inserted), "invalid_tokens": invalid}

    def _budgets(self, campaign_ids: set[str]) -> dict[str, tuple[float, float]]:
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

    def _add_spend(self, cid: str, day: str, cost: float) -> None:
        self._spend[(cid, day)] = self._spend.get((cid, day), 0.0) + cost
        totals = self._totals()
        totals[cid] = totals.get(cid, 0.0) + cost
        idx = self._index
        if idx is not None and cid in idx.pos:
            j = idx.pos[cid]
            if self._day == day:
                idx.spend_day[j] += cost
            idx.spend_total[j] += cost

    def _attribute(self, purchases: list[tuple]) -> int:
        """Conversions: a purchase of an advertised product by a user who clicked its ad within the window."""
        if not purchases:
            return 0
        window = self.config.attribution_window_days * 86400
        clicks = self.store.clicks_of([p[2] for p in purchases], min(p[4] for p in purchases) - window)
        last: dict[tuple[str, str], list[tuple[float, str]]] = {}
        for uid, iid, cid, ts in clicks:
            last.setdefault((uid, iid), []).append((ts, cid))
        rows = []
        for eid, _, uid, iid, ts, price, qty, _ in purchases:
            hits = [(t, c) for t, c in last.get((uid, iid), ()) if ts - window <= t <= ts]
            if hits:
                _, cid = max(hits)
                rows.append({"event_id": eid, "kind": "conversion", "campaign_id": cid, "user_id": uid, "item_id": iid,
                             "placement": "", "ts": ts, "day": day_of(ts), "cost": 0.0, "value": float(price or 0.0) * int(qty or 1)})
        return len(self.store.record(rows))

    def catch_up(self, store: Any) -> dict[str, int | float]:
        """Account events the shop stored since the last call (any writer: API, importer, another process)."""
        with self._lock:
            table = store.scan_events(since_seq=self.synced_seq, by_time=False)
            if not table.num_rows:
                return {}
            out = self._ingest(_event_rows(table))
            self.synced_seq = int(table.column("seq")[-1].as_py())
            return out

    def forget_user(self, user_id: str) -> int:
        """Remove a user from ads: ledger rows anonymised, frequency counts dropped; returns ledger rows changed."""
        with self._lock:
            self._freq.pop(user_id, None)
            return self.store.forget_user(user_id)

    def spend(self, campaign_id: str, day: str | None = None) -> float:
        """Cost charged to a campaign on a day (default: all time), from the ledger."""
        return self.store.spend(day).get(campaign_id, 0.0)

    def report(self, campaign_id: str | None = None, start: str | None = None, end: str | None = None) -> list[dict[str, Any]]:
        """Per campaign and day: impressions, clicks, CTR, spend, CPC, conversions, value, ROAS."""
        from shopmind.ads.report import campaign_report

        return campaign_report(self.store, campaign_id, start, end)


def _event_rows(events: Any) -> list[tuple]:
    """(id, type, user, item, ts, price, quantity, context dict) from Events, dicts or an events Arrow table."""
    if hasattr(events, "column") and hasattr(events, "num_rows"):
        import pyarrow.compute as pc

        ad = pc.and_(pc.is_in(events.column("type"), value_set=pa.array(["impression", "click"])), carries_ad(events.column("context")))
        events = events.filter(pc.or_(ad, pc.equal(events.column("type"), "purchase")))  # the rest never costs money
        cols = [events.column(n).to_pylist() for n in ("id", "type", "user_id", "item_id", "ts", "price", "quantity", "context")]
        return [(a, b, c, d, e, f, g, orjson.loads(h) if h and '"ad"' in h else {}) for a, b, c, d, e, f, g, h in zip(*cols)]
    out = []
    for e in events:
        e = e if isinstance(e, Event) else Event.model_validate(e)
        ctx = e.context.model_dump(exclude_none=True) if e.context is not None else {}
        out.append((e.id, str(e.type), e.user_id, e.item_id, e.timestamp.timestamp(), e.price, e.quantity, ctx))
    return out


def _published(shop: Any) -> AdsModel | None:
    """The shop's current `ads` artifact, or None where the facade has none (yet)."""
    from shopmind.engine import NotBuilt

    try:
        return shop.service("ads")
    except (NotBuilt, KeyError):
        return None


def _secret(home: Path) -> bytes:
    """The shop's token-signing key, made once and kept beside the store (0600)."""
    path = home / SECRET_FILE
    if not path.is_file():
        tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}")
        tmp.write_bytes(secrets.token_bytes(32))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # atomic create-if-absent: two processes agree on one key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_bytes()




def for_shop(shop: Any) -> AdsService:
    """The shop's one AdsService (pacing, frequency caps and spend live in it): the facade owns it."""
    return shop.ads_service
