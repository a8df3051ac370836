"""The ad server: targeting → relevance gate → pCTR → eCPM auction with GSP prices, under budgets and pacing.

`AdsService.select` is the hot path: every step is a numpy operation over the arrays of a campaign
snapshot (`CampaignIndex`), rebuilt off the hot path when campaigns change. Every served ad is recorded
(`ad_impressions`, one insert per request) and carries a token bound to that impression, its user or
session and an expiry. Money moves only in `AdsService.ingest` (`ads.accounting`): impression and click
events that send the token back in `context.ad` are counted at most once per served ad, checked, and
charged in one atomic claim capped at the remaining daily and total budget (`ads.settle`).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from cachetools import LRUCache
from sqlalchemy.exc import SQLAlchemyError

from shopmind.ads.accounting import Accounting, Flags, IpClickRate
from shopmind.ads.auction import ecpm as ecpm_of
from shopmind.ads.auction import gsp
from shopmind.ads.caps import FrequencyCaps
from shopmind.ads.explore import explore_auction, tag_ads
from shopmind.ads.index import CampaignIndex, context_values, query_phrases
from shopmind.ads.model import ENCODERS, AdsConfig, AdsModel, TextEncoder
from shopmind.ads.models import (
    AdSlot,
    AdsResponse,
    Campaign,
    CampaignSpec,
    CampaignStatus,
    CampaignUpdate,
)
from shopmind.ads.pacing import Pacer
from shopmind.ads.store import AdsStore, day_of
from shopmind.ads.tokens import bound_token, new_token_id, user_tag
from shopmind.domain import Product
from shopmind.ports import EventLog, ModelSource, ProductReader
from shopmind.sharedstate import SharedState
from shopmind.text.encoders import RECENT_QUERY_VECTORS

log = logging.getLogger(__name__)
__all__ = ["AdsService", "CampaignIndex", "query_phrases"]
PRUNE_EVERY_S = 600.0  # how often expired served-ad rows are deleted (wall-clock seconds)


class AdsService(Accounting):
    """Campaign management, ad selection, spend accounting and reports for one shop."""

    def __init__(self, store: AdsStore, model: AdsModel, config: AdsConfig | None = None, *,
                 history: Callable[[str], list[str]] | None = None, products: Callable[[Sequence[str]], dict[str, Product]] | None = None,
                 query_encoder: TextEncoder | None = None, passage_encoder: TextEncoder | None = None,
                 secret: bytes | None = None, seed: int | None = None, event_store: Any = None,
                 model_source: Callable[[], AdsModel | None] | None = None, query_encoder_name: str | None = None,
                 flags: Flags | None = None, shared: SharedState | None = None) -> None:
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
        self._pacer = Pacer(0, model.week_curve, self.config.pacing)
        self._spend: dict[tuple[str, str], float] = {}  # (campaign, day) → cost, loaded per day on first use
        self._days_loaded: set[str] = set()
        self._total: dict[str, float] | None = None
        self.caps = FrequencyCaps(shared)  # serves per user, campaign and day, shared by every worker when so configured
        self._qcache: LRUCache[str, np.ndarray] = LRUCache(maxsize=max(1, self.config.query_cache_size))
        self._qlock = threading.Lock()  # LRUCache reorders on every read: reads and writes both hold it
        self._pending: set[str] = set()
        self._pool: Any = None
        self._day = ""
        self.synced_seq = 0  # last event seq accounted by `catch_up`
        self._event_store = event_store  # where `_refresh` pulls new events from (SqlStore), if given
        self._model_source = model_source  # the currently published artifact, checked on refresh
        self._flags = flags  # bot flags (online state): a flagged user's or address's ad events are never charged
        self._ip_rate = IpClickRate(self.config.max_clicks_per_ip, self.config.click_ip_window_s)
        self._pruned_at = -PRUNE_EVERY_S

    # -- wiring --------------------------------------------------------------------------------------
    @classmethod
    def open(cls, store: EventLog, products: ProductReader, config: AdsConfig, *, secret: bytes,
             history: Callable[[str], list[str]] | None = None, model_source: ModelSource | None = None,
             flags: Flags | None = None, encode: TextEncoder | None = None, shared: SharedState | None = None) -> AdsService:
        """The service over its collaborators (the engine wires them): the store's event log and products, the
        published `ads` artifact (or item vectors made now, CTR prior), users' recent items, bot flags and the shared
        state frequency caps are counted in (every worker's serves)."""
        model = model_source() if model_source is not None else None
        passage = query = encode
        name = None
        if encode is None:
            passage, query, name = ENCODERS[config.encoder]()
        if model is None:  # not built yet: vectors now, CTR prior
            log.info("ads: no built model; encoding the catalog's item vectors now")
            model = AdsModel.build(list(products.iter_products()), None, None, config, encode=passage)
        svc = cls(AdsStore(store.engine), model, config, history=history, products=products.get_products,
                  query_encoder=query, passage_encoder=passage, secret=secret, event_store=store,
                  model_source=model_source, query_encoder_name=name, flags=flags, shared=shared)
        svc.catch_up(store)  # account the existing log now, at start-up, not inside the first request
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
                self.catch_up(self._event_store, now)  # spend from events stored since the last look (budgets stay live)
            if wall - self._pruned_at >= PRUNE_EVERY_S:
                self._prune(now)
            if self._model_source is not None:
                fresh = self._model_source()
                if fresh is not None and fresh is not self.model:  # a new build was published: serve it
                    self.model = fresh
                    self._pacer.curve = fresh.week_curve
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
                available = dict.fromkeys(wanted, True)
            new = CampaignIndex(campaigns, self.model, available)
            self._reload_spend(new.ids, [c for c, t in zip(new.ids, new.total, strict=True) if np.isfinite(t)], day_of(now))
            self._pacer.remap(idx.ids if idx is not None else [], new.ids)  # pacing state follows each campaign
            self._index, self._index_version, self._index_at = new, self.store.version, wall
            self._day = ""  # spend arrays are refilled for the new snapshot
            return new

    def _prune(self, now: float) -> None:
        """Delete served-ad rows expired for longer than a token's life (never ahead of the wall clock)."""
        self._pruned_at = time.monotonic()
        try:
            n = self.store.prune_impressions(min(now, time.time()) - self.config.token_ttl_s)
        except SQLAlchemyError:
            log.warning("could not prune expired ad impressions", exc_info=True)
            return
        if n:
            log.info("pruned %d expired ad impressions", n)

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
        with self._qlock:
            v = self._qcache.get(key)
        if v is not None:
            return v
        if self._query_encoder_name is not None:
            shared = RECENT_QUERY_VECTORS.get(self._query_encoder_name, key)
            if shared is not None:  # search encoded this query for the same page a moment ago
                v = shared / max(float(np.linalg.norm(shared)), 1e-12)
                with self._qlock:
                    self._qcache[key] = v
                return v
        encode = self._query_encoder
        if encode is None:
            return None
        if self.config.query_encoding == "inline":
            return self._encode_queries(encode, [key])[0]
        with self._lock:
            if key not in self._pending:
                self._pending.add(key)
                if self._pool is None:
                    from concurrent.futures import ThreadPoolExecutor

                    self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ads-query")
                self._pool.submit(self._encode_queries, encode, [key])
        return None

    def _encode_queries(self, encode: TextEncoder, keys: list[str]) -> np.ndarray:
        vecs = np.asarray(encode(keys), np.float32)
        vecs = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        with self._qlock:
            for key, v in zip(keys, vecs, strict=True):
                self._qcache[key] = v  # the least recently used entry is evicted inside the cache
        with self._lock:
            self._pending.difference_update(keys)
        return vecs

    def warm_queries(self, queries: Sequence[str]) -> int:
        """Encode queries ahead of traffic in one batch (e.g. the shop's trending queries at start-up)."""
        with self._qlock:
            cached = set(self._qcache)
        keys = sorted({q.strip().lower() for q in queries if q and q.strip()} - cached)
        if keys and self._query_encoder is not None:
            self._encode_queries(self._query_encoder, keys)
        return len(keys)

    def select(self, placement: str, *, user_id: str | None = None, query: str | None = None, item_id: str | None = None,
               k: int | None = None, context: dict[str, Any] | None = None, user_history: list[str] | None = None,
               now: float | None = None, session_id: str | None = None, client_ip: str | None = None) -> AdsResponse:
        """Choose up to k ads for a slot: targeting, relevance gate, pCTR × bid ranking, GSP prices, pacing, caps.

        Each ad's token is bound to its served impression (recorded here, with the `client_ip` it was served to)
        and to `user_id`, else `session_id`: only that user's or session's click within `ads.token_ttl_s` is
        charged, once, while that address is under its click rate."""
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
        cats = set(context_values(context.get("category")))
        if page_row >= 0:
            cats.add(model.categories[model.item_cat[page_row]].lower())
        if len(hist):
            top = np.bincount(model.item_cat[hist], minlength=len(model.categories))
            cats.update(model.categories[j].lower() for j in np.argsort(-top)[:3] if top[j] > 0)
        phrases = query_phrases(query)
        values = {"categories": cats | phrases, "keywords": phrases,
                  "segments": set(context_values(context.get("segment")) + context_values(context.get("segments"))),
                  "locations": set(context_values(context.get("location"))), "devices": set(context_values(context.get("device")))}
        camp_ok = idx.active & (idx.start <= now) & (now < idx.end) & idx.hours[:, hour] & idx.targeting_mask(values)
        camp_ok &= (idx.spend_day < idx.daily) & (idx.spend_total < idx.total)
        if user_id and idx.capped:
            camp_ok &= self.caps.under(idx.pos, idx.cap, user_id, day)
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
        result, exploration = explore_auction(result, score, camps, bid, is_cpc, self.config.explore, self.rng,  # known propensities
                                              self.config.reserve_cpc, self.config.reserve_cpm)

        if len(result.winners) and model.ctr is not None:  # report each winner's pCTR in the slot it actually got
            Xw = X[result.winners].copy()
            Xw[:, 0] = np.arange(len(result.winners))
            pctr = pctr.copy()
            pctr[result.winners] = model.pctr(Xw)
        ads, served = [], []
        bound = user_id or session_id or None
        tag, expires = user_tag(bound, self.secret), now + self.config.token_ttl_s
        for pos, (w, price) in enumerate(zip(result.winners.tolist(), result.prices.tolist(), strict=True)):
            c = idx.campaigns[camps[w]]
            iid = model.item_ids[idx.unit_item[units[w]]]
            tid = new_token_id(now)
            token = bound_token(tid, c.id, iid, str(c.bid_type), price, placement, pos, tag, now, expires, self.secret)
            served.append({"token_id": tid, "campaign_id": c.id, "item_id": iid, "placement": placement[:64], "user_id": bound,
                           "ip": client_ip[:64] if client_ip else None, "price": round(price, 6), "served_at": now, "expires_at": expires})
            ads.append(AdSlot(campaign_id=c.id, advertiser=c.advertiser, item_id=iid, position=pos, bid_type=c.bid_type, bid=c.bid,
                              price=round(price, 6), pctr=round(float(pctr[w]), 6), ecpm=round(float(score[w]), 4), relevance=round(float(rel[w]), 4),
                              token=token, expires_at=round(expires, 3),
                              reason=f"relevance {rel[w]:.2f}, pCTR {pctr[w]:.3%} × bid {c.bid:g} {c.bid_type.value}"))
        ads = tag_ads(ads, exploration, camps[result.winners], self._pacer.p if self.config.pacing.enabled else None)
        try:
            self.store.record_impressions(served)
        except SQLAlchemyError:  # an ad that is not recorded could never be charged: show none rather than free ones
            log.warning("could not record served ads; serving none", exc_info=True)
            ads = []
        self.caps.count(user_id, day, [a.campaign_id for a in ads])
        return AdsResponse(placement=placement, ads=ads, candidates=n_candidates, eligible=len(units), took_ms=(time.perf_counter() - started) * 1e3)

    def forget_user(self, user_id: str) -> int:
        """Remove a user from ads: ledger rows and served impressions anonymised, frequency counts dropped; returns
        the rows changed."""
        with self._lock:
            self.caps.forget(user_id)
            return self.store.forget_user(user_id)

    def user_ids(self) -> set[str]:
        """User ids whose frequency counts this process holds in memory, for deletion to find them (none when
        they are in shared state that every process reaches)."""
        return self.caps.held()

    def spend(self, campaign_id: str, day: str | None = None) -> float:
        """Cost charged to a campaign on a day (default: all time), from the ledger."""
        return self.store.spend(day).get(campaign_id, 0.0)

    def report(self, campaign_id: str | None = None, start: str | None = None, end: str | None = None) -> list[dict[str, Any]]:
        """Per campaign and day: impressions, clicks, CTR, spend, CPC, conversions, value, ROAS."""
        from shopmind.ads.report import campaign_report

        return campaign_report(self.store, campaign_id, start, end)
