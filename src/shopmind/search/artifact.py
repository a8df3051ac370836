"""Build, save and load a search artifact: the product table, lexical and vector indexes, the understanding
models (speller, entities, category intent, synonyms), suggestions, event statistics and the ranker — as plain
files (.npy, JSON, LightGBM text) plus meta.json; nothing is pickled."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from shopmind.domain import Product
from shopmind.index.backends import build_vector_index, load_vector_index
from shopmind.index.lexical import LexicalIndex
from shopmind.index.vectors import VectorIndex
from shopmind.search import event_stats, user_prefs
from shopmind.search.catalog import ProductTable
from shopmind.search.config import SearchConfig
from shopmind.search.ranker import Ranker
from shopmind.search.suggest import Suggester
from shopmind.search.understand import CategoryIntent, EntityMatcher, Speller, mine_reformulations, read_synonyms
from shopmind.text.normalize import detect_language
from shopmind.text.tokenize import pinyin_tokens, tokenize

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
Events = event_stats.Events


def attribute_text(p: Product) -> str:
    """A product's attribute values as one string."""
    return " ".join(str(v) for vals in p.attributes.values() for v in (vals if isinstance(vals, list) else [vals]))


def product_fields(p: Product) -> dict[str, list[str]]:
    """Index tokens of one product, per field."""
    zh = (p.language or detect_language(p.title)) == "zh"
    return {
        "title": tokenize(p.title),
        "brand": tokenize(p.brand or ""),
        "category": tokenize(" ".join(p.category)),
        "attributes": tokenize(attribute_text(p)),
        "description": tokenize(p.description[:3000]) if p.description else [],
        "pinyin": pinyin_tokens(p.title) if zh else [],
        "extracted": tokenize(" ".join(str(v.get("value", "")) for v in p.attributes_extracted.values())),  # indexed when field_weights names it
    }


@dataclass
class SearchArtifact:
    """Every built piece of search over one catalog snapshot (what `SearchService` serves)."""

    config: SearchConfig
    table: ProductTable
    lexical: LexicalIndex
    vectors: VectorIndex | None
    speller: Speller
    entities: EntityMatcher
    intent: CategoryIntent | None
    synonyms: dict[str, list[str]]
    ranker: Ranker | None
    extras: dict[str, Any] = field(default_factory=dict)  # title_len, user prefs, suggestions, prices, rising, tuned …


def build_artifact(products: Sequence[Product], events: Events, config: SearchConfig, vectors: np.ndarray | None,
                   embed: Any) -> tuple[SearchArtifact, tuple[dict[str, str], dict[str, dict[str, float]]]]:
    """Index a catalog and learn from events; returns the artifact and the click judgments (for the ranker).
    `vectors`: product vectors aligned with `products` (else `embed()` — an EmbeddingStore — encodes them)."""
    from shopmind.forecast.boosts import rising_table
    from shopmind.search.training import judgments_from_events

    t0 = time.perf_counter()
    table = ProductTable()
    table.append(list(products))
    docs = [product_fields(p) for p in products]
    lexical = LexicalIndex.build({f: [d[f] for d in docs] for f in config.field_weights}, config.field_weights)
    logger.info("search: lexical index of %d products in %.1f s", len(products), time.perf_counter() - t0)
    index = None
    if config.stages.dense:
        if vectors is None:
            vectors = embed().product_vectors(products)
        elif len(vectors) != len(products):
            raise ValueError(f"{len(vectors)} product vectors for {len(products)} products")
        index = build_vector_index(np.asarray(vectors, np.float32), config.vector_url, spec=config.faiss_spec,
                                   ef_construction=config.hnsw_ef_construction, ef_search=config.hnsw_ef_search)
        logger.info("search: vector index (%s, %s) built, %.1f s in", config.vector_url, config.faiss_spec, time.perf_counter() - t0)
    public_log = event_stats.public_queries(events, config.suggest_min_users)
    speller = Speller.from_texts(
        [p.title for p in products]
        + [p.brand or "" for p in products]
        + [" ".join(p.category) for p in products]
        + [attribute_text(p) for p in products],  # a catalog's attribute words are never "misspelt"
        config.spelling_max_distance,
        extra=event_stats.query_words(public_log, min_count=3),
    )
    entities = EntityMatcher.from_table(table)
    labels = [" > ".join(p.category) if p.category else None for p in products]
    category_of = dict(zip((p.id for p in products), labels, strict=True))
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
    event_stats.apply_event_stats(table, events)
    rising = rising_table(products, events)  # forecast-rising items/categories: ranker features and a tie-breaker
    user_brand, user_cat = event_stats.user_affinity(table, events)
    prices = table.price[~np.isnan(table.price)]
    suggester = Suggester.build(products, public_log)
    extras = {
        "title_len": np.array([len(d["title"]) for d in docs], np.float32),
        "user_brand": user_brand,
        "user_cat": user_cat,
        "suggest_terms": suggester.terms,
        "suggest_counts": suggester.counts,
        "cheap_max": float(np.quantile(prices, config.cheap_quantile)) if len(prices) else None,
        "price_edges": config.price_facet_edges or table.price_edges(),
        "mined_synonyms": mined,
        "rising": rising,
        "index_s": time.perf_counter() - t0,
    }
    logger.info("search: built %d products in %.1f s (%d spelling words, %d completions, %d synonyms)", len(products),
                extras["index_s"], len(speller.counts), len(suggester.terms), len(synonyms))
    art = SearchArtifact(config, table, lexical, index, speller, entities, intent, synonyms, None, extras)
    return art, (click_queries, click_qrels)


def save_artifact(art: SearchArtifact, out_dir: Path) -> None:
    """Write every piece as plain files plus meta.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    x = art.extras
    art.table.save(out_dir / "table")
    art.lexical.save(out_dir / "lexical")
    if art.vectors is not None:
        art.vectors.save(out_dir / "vectors")
    if art.intent is not None:
        art.intent.save(out_dir / "intent")
    np.save(out_dir / "title_len.npy", np.asarray(x["title_len"], np.float32))
    np.save(out_dir / "rising.npy", np.asarray(x["rising"], np.float32))
    understand = {
        "speller": art.speller.to_json(),
        "entities": art.entities.to_json(),
        "synonyms": art.synonyms,
        **{k: x.get(k) for k in ("suggest_terms", "suggest_counts", "cheap_max", "price_edges")},
    }
    (out_dir / "understand.json").write_text(json.dumps(understand, ensure_ascii=False))
    user_prefs.write(out_dir, x["user_brand"], x["user_cat"])
    if art.ranker is not None:
        art.ranker.save(out_dir)
    meta = {
        "format": FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(),
        "config": json.loads(art.config.model_dump_json()),
        "counts": {"products": int(art.table.alive.sum()), "rows": len(art.table)},
        "index_s": x.get("index_s"),
        "metrics": x.get("metrics", {}),
        "tuned": x.get("tuned", {}),
    }
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=1, default=str))
    logger.info("search: saved to %s", out_dir)


def update_meta(out_dir: Path, config: SearchConfig, extras: dict[str, Any]) -> None:
    """Rewrite meta.json's tuned settings, metrics and config (after training)."""
    meta_p = out_dir / "meta.json"
    meta = json.loads(meta_p.read_text())
    meta["tuned"] = extras.get("tuned", {})
    meta["metrics"] = extras.get("metrics", {})
    meta["config"] = json.loads(config.model_dump_json())
    meta_p.write_text(json.dumps(meta, indent=1, default=str))


def load_artifact(out_dir: Path, config: SearchConfig | None = None) -> SearchArtifact:
    """Open a built directory (config given here overrides the saved one; tuned values win over defaults only)."""
    meta = json.loads((out_dir / "meta.json").read_text())
    config = config or SearchConfig.model_validate(meta["config"])
    tuned = meta.get("tuned", {})
    defaults = SearchConfig()
    keep = {k: v for k, v in tuned.items() if getattr(config, k, None) == getattr(defaults, k, None)}
    if keep:  # values tuned at build time win over defaults, never over explicit settings
        config = config.model_copy(update=keep)
    table = ProductTable.load(out_dir / "table")
    lexical = LexicalIndex.load(out_dir / "lexical", config.field_weights)
    has_vectors = (out_dir / "vectors").exists() and config.stages.dense
    vectors = load_vector_index(out_dir / "vectors", config.vector_url, ef_search=config.hnsw_ef_search) if has_vectors else None
    u = json.loads((out_dir / "understand.json").read_text())
    extras: dict[str, Any] = {k: u[k] for k in ("suggest_terms", "suggest_counts", "cheap_max", "price_edges")}
    extras["user_brand"], extras["user_cat"] = user_prefs.read(out_dir)
    extras["title_len"] = np.load(out_dir / "title_len.npy")
    extras["rising"] = np.load(out_dir / "rising.npy") if (out_dir / "rising.npy").exists() else None  # older builds: 0
    extras["tuned"] = tuned
    logger.info("search: loaded %s (%d rows)", out_dir, len(table))
    return SearchArtifact(config, table, lexical, vectors, Speller.from_json(u["speller"]), EntityMatcher.from_json(u["entities"]),
                          CategoryIntent.load(out_dir / "intent"), u["synonyms"], Ranker.load(out_dir), extras)
