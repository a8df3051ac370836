"""The facade and the only wiring point: `ShopMind.open(home)` opens config and store and wires the parts.

A home folder holds everything a shop needs: `shopmind.toml`, the embedded store (`shop.db`) unless the
config names a server, and built artifacts under `artifacts/<part>/<version>/` with a `current` pointer
(`shopmind.artifacts`). Parts never import this module: each receives its collaborators (store slices,
online state, other parts) through the small Protocols of `shopmind.ports`, built here. The CLI and the
API call the typed verbs below and nothing deeper.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, overload

import orjson

from shopmind.config import Settings, default_home, load_settings
from shopmind.domain import Event, Product
from shopmind.errors import NotBuilt
from shopmind.executors import BuildPlan, build_parts, open_executor
from shopmind.facade import ArtifactVerbs, InsightVerbs, ServingVerbs
from shopmind.facade.cluster import ClusterParts
from shopmind.facade.experiments import ExperimentVerbs
from shopmind.facade.generation import GenerateVerbs
from shopmind.facade.images import ImageVerbs
from shopmind.facade.reviews import ReviewVerbs
from shopmind.facade.understanding import EnrichVerbs
from shopmind.importer import ImportReport, OnError, import_file
from shopmind.profiles.state import ItemMeta, OnlineState
from shopmind.security.deletion import DeletionFollower, last_deletion_seq, scrub_fresh_build
from shopmind.security.deletion import delete_user as _delete_user
from shopmind.shopdata import Catalog, Events, Users
from shopmind.store import SqlStore, open_store

if TYPE_CHECKING:  # the parts load lazily (torch, lightgbm, faiss stay out of `import shopmind`)
    import numpy as np

    from shopmind.ads.service import AdsService
    from shopmind.assistant.assistant import Assistant
    from shopmind.forecast.service import ForecastService
    from shopmind.recommend.config import RecommendResponse
    from shopmind.remote import ShopAPI
    from shopmind.search.models import SearchResponse
    from shopmind.text.embedstore import EmbeddingStore

__all__ = ["PARTS", "Catalog", "Events", "NotBuilt", "Part", "ShopMind", "Users"]
log = logging.getLogger(__name__)


class Part(Protocol):
    """A built capability (search index, recommenders, ads model): made from a store snapshot, loaded read-only.

    `vectors` are the product vectors aligned with `products`, computed once per build by the engine; `embeddings`
    is the shared embedding store that encodes queries and products added later. None: the part makes its own."""

    @classmethod
    def build(cls, products: Sequence[Product], events: Any, out_dir: Path, config: Any, *,
              vectors: np.ndarray | None = None, embeddings: EmbeddingStore | None = None) -> Part: ...

    @classmethod
    def load(cls, out_dir: Path, config: Any, *, embeddings: EmbeddingStore | None = None) -> Part: ...


# part name → (module, service class, config class); imported only when used
PARTS: dict[str, tuple[str, str, str]] = {
    "search": ("shopmind.search.service", "SearchService", "SearchConfig"),
    "recommend": ("shopmind.recommend.service", "RecommendService", "RecommendConfig"),
    "ads": ("shopmind.ads.model", "AdsModel", "AdsConfig"),
}


def _part_classes(name: str) -> tuple[Any, Any]:
    module_name, service, config = PARTS[name]
    module = importlib.import_module(module_name)
    return getattr(module, service), getattr(module, config)


def _item_meta(p: Product) -> ItemMeta:
    path = " > ".join(p.category)
    return ItemMeta(category=path, top=p.category[0] if p.category else "", brand=p.brand, price=p.price)


class ShopMind(ServingVerbs, InsightVerbs, GenerateVerbs, ReviewVerbs, ImageVerbs, EnrichVerbs, ArtifactVerbs, ClusterParts, ExperimentVerbs):
    """One shop: its store, settings and built artifacts; the verbs CLI and API call (more in `shopmind.facade`)."""

    def __init__(self, home: Path, settings: Settings, store: SqlStore) -> None:
        self.home = home
        self.settings = settings
        self.store = store
        self.catalog = Catalog(self)
        self.users = Users(self)
        self.events = Events(self)
        self._lock = threading.RLock()
        self._services: dict[str, Any] = {}
        self._init_artifacts()  # storage, model registry and the follower of promotions and catalog changes (facade/artifacts.py)
        self._state: OnlineState | None = None
        self._state_lock = threading.Lock()
        self._assistant: Assistant | None = None
        self._ads: AdsService | None = None
        self._forecast: ForecastService | None = None
        self._embeddings: EmbeddingStore | None = None
        self._deletions = DeletionFollower(self)  # forgets users another process deleted (polled from the request path)

    # -- opening -----------------------------------------------------------------------------------------
    @overload
    @classmethod
    def open(cls, path_or_url: str | os.PathLike[str] | None, *, api_key: str | None, timeout: float = 10.0) -> ShopAPI: ...
    @overload
    @classmethod
    def open(cls, path_or_url: str | os.PathLike[str] | None = None, **overrides: Any) -> ShopMind: ...
    @classmethod
    def open(cls, path_or_url: str | os.PathLike[str] | None = None, **overrides: Any) -> ShopAPI:
        """Open a shop from a home folder (created if missing), a store URL (home from SHOPMIND_HOME), or a server's
        http(s):// URL with `api_key=` (None: SHOPMIND_API_KEY) and `timeout=`: the same verbs over its API (shopmind.remote)."""
        from shopmind.remote import SCHEMES

        target = str(path_or_url) if path_or_url is not None else None
        server = {k: overrides.pop(k) for k in ("api_key", "timeout") if k in overrides}  # a remote shop's options, not settings
        if target and "://" in target and (remote := SCHEMES.get(target.split("://", 1)[0])):
            if "api_key" not in server:
                raise TypeError(f"ShopMind.open({target!r}) opens a remote shop: pass api_key=… (None: SHOPMIND_API_KEY or no key)")
            return remote(target, **server)
        if target and "://" in target:
            home = default_home()
            overrides = {**overrides, "store": {**overrides.get("store", {}), "url": target}}
        else:
            home = Path(target) if target else default_home()
        home = home.expanduser().resolve()
        home.mkdir(parents=True, exist_ok=True)
        settings = load_settings(home, overrides)
        url = settings.store.url or f"sqlite:///{home / 'shop.db'}"
        store = open_store(url, sqlite_synchronous=settings.store.sqlite_synchronous, pool_size=settings.store.pool_size)
        log.info("opened shop %s (store: %s)", home, store.dialect)
        return cls(home, settings, store)

    def close(self) -> None:
        """Wait for background work on the store, then close it."""
        self._follower.stop()
        self._deletions.close()
        self.close_experiments()  # queued exposures are written
        self.close_shared()
        self.store.close()

    def __enter__(self) -> ShopMind:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- data --------------------------------------------------------------------------------------------
    def import_file(self, kind: str, path: str | os.PathLike[str], *, fmt: str | None = None, on_error: OnError | str = OnError.FAIL,
                    batch_size: int | None = None, report_path: str | os.PathLike[str] | None = None,
                    workers: int | None = None) -> ImportReport:
        """Bulk-import a JSONL/CSV/Parquet file of products, users or events (see importer)."""
        cfg = self.settings.imports
        if workers is None:
            workers = cfg.workers if Path(path).stat().st_size >= cfg.pool_min_bytes else 1
        return import_file(self.store, kind, Path(path), fmt=fmt, on_error=OnError(on_error), batch_size=batch_size or cfg.batch_size,
                           report_path=Path(report_path) if report_path else None, on_batch=self._on_import_batch, workers=workers,
                           enrich=self.import_enricher())

    def get_products(self, ids: Iterable[str]) -> dict[str, Product]:
        """Products by id (missing ids left out)."""
        return self.store.get_products(ids)

    def stats(self) -> dict[str, Any]:
        """Counts of what the shop holds, plus what is built."""
        out: dict[str, Any] = dict(self.store.counts())
        out["event_types"] = self.store.event_type_counts()
        out["schema_version"] = self.store.schema_version()
        out["home"] = str(self.home)
        out["store"] = self.store.dialect
        out["artifacts"] = {part: v for part in self.artifact_store.parts() if (v := self.artifact_version(part))}
        return out

    # -- online state --------------------------------------------------------------------------------------
    @property
    def state(self) -> OnlineState:
        """Online state (profiles, counters, trending), built from the event log on first use."""
        self._deletions.maybe_poll()
        if self._state is None:
            with self._state_lock:
                if self._state is None:
                    state = self._new_state()
                    self._catch_up(state)
                    self._state = state
        else:
            self.catch_up()
        return self._state

    def _new_state(self) -> OnlineState:
        return OnlineState(self.settings.state, {p.id: _item_meta(p) for p in self.store.iter_products()})

    def catch_up(self) -> int:
        """Apply events stored since the state last looked (by anyone: API, importer, another process)."""
        if self._state is None:
            return 0
        with self._state_lock:
            return self._catch_up(self._state)

    def _catch_up(self, state: OnlineState) -> int:
        applied = 0
        while True:
            rows = self.store.events_since(state.last_seq)
            if not rows:
                return applied
            seq, types, users, sessions, items, queries, ts, qty, price, ctx = zip(*rows, strict=True)
            ips = [orjson.loads(c).get("ip") if '"ip"' in c else None for c in ctx]
            applied += state.apply_rows(seq, types, users, sessions, items, queries, ts, qty, price, ips)

    def rebuild_state(self) -> dict[str, Any]:
        """Recompute online state from the whole event log and swap it in."""
        started = time.perf_counter()
        state = self._new_state()
        n = self._catch_up(state)
        with self._state_lock:
            self._state = state
            n += self._catch_up(state)
        seconds = round(time.perf_counter() - started, 2)
        log.info("online state rebuilt from %d events in %.2f s", n, seconds)
        return {"events": n, "users": len(state.users), "items": len(state.counters.ids), "flagged_users": len(state.flagged_users()), "seconds": seconds}

    def delete_user(self, user_id: str) -> dict[str, Any]:
        """Remove a user everywhere — record, events, state, loaded services, every built artifact version — and
        write a receipt (no ids) that other processes follow; returns counts per place and `receipt_id`."""
        return _delete_user(self, user_id)

    # -- what deletion reaches (shopmind.ports.UserHolders) ----------------------------------------------
    @property
    def state_loaded(self) -> bool:
        """Whether online state is in memory (it is built on first use)."""
        return self._state is not None

    def state_user_ids(self) -> set[str]:
        """Users online state holds (empty while it is not loaded)."""
        state = self._state
        if state is None:
            return set()
        with state.lock:  # events are applied by other threads meanwhile
            return set(state.users)

    def forget_state_user(self, user_id: str, events: Sequence[list[Any]] | None = None) -> dict[str, int] | None:
        """Drop a user from online state; `events` (types, items, queries, ts) retract their counts."""
        if self._state is None:
            return None
        with self._state_lock:
            return self._state.forget_user(user_id, *(events or ([], [], [], [])))

    def loaded_parts(self) -> dict[str, Any]:
        """Parts in memory by name: built services, then `ads_service` and `assistant` when made."""
        with self._lock:
            out = dict(self._services)
        extra = {"ads_service": self._ads, "assistant": self._assistant}
        return {**out, **{k: v for k, v in extra.items() if v is not None}}

    # -- build and serve parts ---------------------------------------------------------------------------
    def part_config(self, name: str) -> Any:
        """A part's validated config from its settings section."""
        _, config_cls = _part_classes(name)
        return config_cls.model_validate(getattr(self.settings, name, None) or {})

    def embeddings(self) -> EmbeddingStore:
        """The shop's one embedding store, shared by every part (the search section's `embedding_cache` names its
        folder; default ~/.cache/shopmind/embeddings or SHOPMIND_CACHE)."""
        if self._embeddings is None:
            from shopmind.text.embedstore import default_embeddings

            self._embeddings = default_embeddings(self.part_config("search").embedding_cache)
        return self._embeddings

    def build(self, parts: Iterable[str] | None = None, *, executor: str | None = None, promote: bool | None = None) -> dict[str, Any]:
        """Build parts (default: all) from a snapshot of the store as new artifact versions, then swap.

        Each product is embedded once per build and handed to every part, with the shared embedding store for queries
        and new products. `executor`: None builds in process; "auto" or "ray://host:port" runs the embedding, each
        part and each recommender's evaluation and fit as parallel Ray tasks (`shopmind.executors`). `promote`: serve the
        new versions at once (None: `cluster.auto_promote`); False registers them for `promote` later."""
        names = list(parts) if parts is not None else list(PARTS)
        unknown = [n for n in names if n not in PARTS]
        if unknown:
            raise ValueError(f"unknown part(s) {unknown}; known: {', '.join(PARTS)}")
        deleted_seq = last_deletion_seq(self.store.engine)  # deletions after this are scrubbed before publishing
        last_seq, change_seq = self.store.last_event_seq(), self.catalog_change_seq()  # changes after it are replayed on load
        products = list(self.store.iter_products())
        events = self.store.scan_events()
        flagged = self.state.flagged_users()
        if flagged and events.num_rows:  # bots' events stay in the store but never train a model
            import pyarrow as pa
            import pyarrow.compute as pc

            events = events.filter(pc.invert(pc.is_in(events["user_id"], pa.array(sorted(flagged)))))
        summary: dict[str, Any] = {"products": len(products), "events": events.num_rows, "excluded_bot_users": len(flagged)}

        def seal(name: str, out_dir: Path, service: Any) -> None:  # a built folder, before it is published
            self.write_snapshot(out_dir, last_seq, len(products), events, change_seq)  # + data window
            scrub_fresh_build(self.store.engine, self.shop_secret, name, out_dir, service, deleted_seq)

        def publish(name: str, version: str, service: Any) -> None:
            self.publish_artifact(name, version, service=service, promote=promote)  # registers; installs `service` if promoted

        plan = BuildPlan({n: _part_classes(n)[0] for n in names}, {n: self.part_config(n) for n in names}, products, events,
                         self.embeddings(), self.new_artifact_dir, seal, publish)
        with open_executor(executor) as ex:  # in process, or parallel tasks on Ray (shopmind.executors)
            summary.update(build_parts(ex, plan))
        summary.update(self.build_reviews(promote=promote) if parts is None else {})  # aspect summaries of stored reviews (facade/reviews.py)
        summary.update(self.build_images(promote=promote) if parts is None else {})  # product image vectors (facade/images.py)
        return summary

    def service(self, name: str) -> Any:
        """The loaded part: the registry's promoted version, read on first use; NotBuilt when it was never built."""
        self._deletions.maybe_poll()
        self._follower.maybe_poll()  # versions promoted and catalog changes made elsewhere (no-op while the server's thread polls)
        with self._lock:
            if name not in self._services:
                version = self.artifact_version(name)
                if version is None:
                    raise NotBuilt(f"{name} is not built yet: run `shopmind build` (or ShopMind.build())")
                self._install(name, version, self._load_version(name, version))
            return self._services[name]

    def _load_part(self, name: str, out_dir: Path) -> Any:
        """Read one version folder of a part (facade/artifacts.py fetches and swaps)."""
        return _part_classes(name)[0].load(out_dir, self.part_config(name), embeddings=self.embeddings())

    def built_part(self, name: str) -> Any | None:
        """The loaded part, or None where it is not built (or not a part of this shop)."""
        try:
            return self.service(name)
        except (NotBuilt, KeyError):
            return None

    # -- the four questions ------------------------------------------------------------------------------
    def search(self, query: str, *, user_id: str | None = None, filters: dict[str, Any] | None = None, facets: list[str] | None = None,
               sort: str = "relevance", page: int = 1, per_page: int = 20, explain: bool = True, track: bool = False,
               session_id: str | None = None, context: dict[str, Any] | None = None) -> SearchResponse:
        """Search the catalog (see search.service); `track` logs the search event with its result count."""
        response = self.experiment_search(query, user_id=user_id, session_id=session_id, context=context, filters=filters, facets=facets,
            sort=sort, page=page, per_page=per_page, explain=explain, history=self.state.history(user_id) if user_id else None)  # unit's arm
        if track and user_id:
            self.events.track({"type": "search", "user_id": user_id, "session_id": session_id, "query": query,
                               "context": {**(context or {}), "results": response.total}})
        return response

    def suggest(self, prefix: str, k: int = 10) -> list[str]:
        """Completions for a prefix, from titles and popular queries."""
        return list(self.service("search").suggest(prefix, k))

    def recommend(self, *, user_id: str | None = None, placement: str = "home", item_id: str | None = None, cart: list[str] | None = None,
                  k: int = 20, context: dict[str, Any] | None = None) -> RecommendResponse:
        """Recommendations for a placement; events the models have not seen yet are passed in fresh."""
        self.service("recommend")
        purchased = self.state.purchased(user_id) if user_id else None
        return self.review_reasons(self.experiment_recommend(user_id=user_id, placement=placement, item_id=item_id, cart=cart, k=k, context=context,
            purchased=purchased, history=lambda seq: self.state.history_since(user_id, seq) if user_id else None), (context or {}).get("language"))

    # -- hooks for derived state (shopmind.shopdata.ShopHooks) ---------------------------------------------
    def products_changed(self, items: list[Product]) -> None:
        """Upserted products reach online state, stock filters and loaded indexes at once."""
        if self._state is not None:
            self._state.set_items((p.id, _item_meta(p)) for p in items)
        recs = self._services.get("recommend")
        if recs is not None:  # stock changes filter recommendations at once, without a rebuild
            for p in items:
                recs.set_stock(p.id, p.available)
        for service in list(self._services.values()):
            upsert = getattr(service, "upsert", None)
            if upsert is not None:
                upsert(items)

    def products_deleted(self, ids: list[str]) -> None:
        """Deleted products leave loaded indexes at once."""
        for service in list(self._services.values()):
            delete = getattr(service, "delete", None)
            if delete is not None:
                delete(ids)

    def events_added(self, items: list[Event]) -> None:
        """New events reach online state, and ad impressions/clicks are charged at once (ledger: exactly once)."""
        if self._state is not None:
            self.catch_up()
        if self._ads is not None:
            self._ads.ingest(items)

    def _on_import_batch(self, kind: str, records: list[Any]) -> None:
        if kind == "products" and self._services:
            self.products_changed(records)
