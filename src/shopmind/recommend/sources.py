"""Candidate sources of the placement pipeline: dense scores per source, and the reasons that explain them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from shopmind.recommend.base import Recommender
from shopmind.recommend.catalog_files import hours_bucket

if TYPE_CHECKING:
    from shopmind.recommend.config import RecommendConfig


SERVE_VIEWS: dict[str, Callable[[np.ndarray, int | None, np.ndarray], np.ndarray]] = {
    "history": lambda hist, item, cart: hist,
    "item": lambda hist, item, cart: np.array([item], dtype=np.int64) if item is not None else hist[-1:],
    "basket": lambda hist, item, cart: cart if len(cart) else (np.array([item], dtype=np.int64) if item is not None else hist[-3:]),
}
"""A placement's view at request time (`PlacementConfig.view`); `recommend.choose.VIEWS` is the same view at validation."""

VIEW_CODES = {"history": "because_you_viewed", "item": "similar_to", "basket": "bought_with"}
UNPERSONAL = {"popular": "popular", "trending": "trending"}
"""Blend members that score without a history, and their reason codes."""


class CandidateSources:
    """Mixin of RecommendService: what each source scores, and the item a personal pick is explained by.

    The annotations below are the loaded state RecommendService.load sets (catalog arrays, models, tables)."""

    config: RecommendConfig
    models: dict[str, Recommender]
    item_ids: list[str]
    index: dict[str, int]
    n_items: int
    categories: list[str]
    titles: dict[str, str]
    segments: dict[str, int]
    built_at: float
    item_category: np.ndarray
    in_stock: np.ndarray
    promotion: np.ndarray
    created: np.ndarray
    rising: np.ndarray
    segment_top: np.ndarray | None
    segment_scores: np.ndarray | None
    trend: np.ndarray
    pop: np.ndarray
    new_order: np.ndarray
    is_new: np.ndarray
    encoder: Callable[[list[str]], np.ndarray] | None
    _request_cache: dict[int, np.ndarray]
    _segment_label: str
    _fav_cat: str

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
        if name == "rising":  # forecast demand growing faster than its history (build-time table, no fit here)
            rising = getattr(self, "rising", None)
            if rising is None or not rising.any():
                return None
            return np.maximum(rising, 0.0).astype(np.float32), "demand_rising", None
        if name in ("trending", "popular"):
            return (self.trend if name == "trending" else self.pop), name, None
        if name == "context_popular":
            if self.segment_top is None:
                return None
            s = np.zeros(self.n_items, dtype=np.float32)
            hour = context.get("hour")
            keys = [f"device:{context.get('device')}", f"location:{context.get('location')}"]
            if hour is not None:
                keys.append(f"hour:{hours_bucket(int(hour) % 24)}")
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
            v = self.encoder([q])[0]
            v = v / (np.linalg.norm(v) + 1e-12)
            return models["content"].vectors @ v, "matches_search", None  # type: ignore[attr-defined]
        return None

    def _view_items(self, view: str, hist: np.ndarray, item: int | None, cart: np.ndarray) -> np.ndarray:
        """What a blend placement's models score: the history, the product shown (else the last item), the cart."""
        return SERVE_VIEWS[view](hist, item, cart)

    def _blend_source(self, name: str, query: np.ndarray, view: str) -> tuple[np.ndarray, str, np.ndarray | None] | None:
        """A chosen blend member: the model's own scores of the view's items over all items (as validated), its reason."""
        m = self.models.get(name)
        if m is None or (not len(query) and name not in UNPERSONAL):
            return None
        s = np.asarray(m.score([query])[0], dtype=np.float32)
        code = UNPERSONAL.get(name, VIEW_CODES[view])
        src = np.full(self.n_items, int(query[-1])) if code == "similar_to" and len(query) else None
        return s, code, src

    def _model_of(self, source: str) -> str:
        m = {"sequential": self.config.sequential if self.config.sequential in self.models else "itemknn",
             "similar": "itemknn", "substitute": "itemknn", "category_trending": "trending", "context_popular": "popular",
             "new": "catalog", "promotion": "catalog", "query": "content", "content_user": "content", "rising": "forecast"}
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
            "demand_rising": "demand rising",
            "popular": "popular with shoppers",
            "popular_in_context": "popular with shoppers like you ({seg})",
            "new_arrival": "new arrival",
            "on_promotion": "on promotion",
            "matches_search": "matches your search",
            "pinned": "featured",
        }[code]
