"""Section `search` of bench/understanding.py: Home Depot search nDCG@10 with enrichment against without (issue 19 bar).

Same products, queries and split as bench/search.py: fusion weight and LambdaMART ranker learn on `train` (+ `valid`
for the weight and early stopping), every figure is on the `dev` queries; the frozen `final` half is never read.
Arms, each a fresh build with the same config:
  plain          the catalog as shipped (titles only, no attributes)
  enriched       `attributes_extracted` set by the general English model: facets, filters and query entities see
                 extracted values (the entity boost and the ranker's entity column count only values that say more than
                 the title: ProductTable.evidence_mask); lexical fields unchanged
  enriched_field as `enriched`, plus a lexical field `extracted` of the extracted values at weight EXTRACTED_WEIGHT
                 (below every shop-supplied field but description)
The product text that is embedded (shopmind.text.product_text) is the same in every arm, so the cached vectors serve.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

EXTRACTED_WEIGHT = 0.2
METHODS = ("bm25", "hybrid_default", "hybrid", "hybrid+ranker", "served")


def _ndcgs(svc: Any, queries: dict[str, str], qrels: dict, mode: str, use_ranker: bool) -> list[float]:
    """Per-query nDCG@10 in query order (full retrieval, as search_eval.run_queries)."""
    from shopmind.evaluation.metrics import ndcg_at_k

    return [ndcg_at_k([h.id for h in svc.search(t, per_page=100, explain=False, mode=mode, use_ranker=use_ranker).hits], qrels[q], 10)
            for q, t in queries.items()]


def _arm(products: list, split: dict[str, dict[str, str]], qrels: dict, config: Any, work: Path, ranker: bool) -> dict[str, Any]:
    """Build, tune on train+valid, train the ranker (train, early-stop on valid); per-query dev nDCG@10 per method."""
    from shopmind.evaluation.search_eval import train_ranker, tune_fusion
    from shopmind.search import SearchService

    t0 = time.perf_counter()
    svc = SearchService.build(products, None, work, config)
    out: dict[str, Any] = {"index_s": round(time.perf_counter() - t0, 1)}
    dev = split["dev"]
    out["bm25"] = _ndcgs(svc, dev, qrels, "bm25", False)
    out["hybrid_default"] = _ndcgs(svc, dev, qrels, "hybrid", False)
    memo: dict = {}
    tuned = tune_fusion(svc, {**split["train"], **split["valid"]}, qrels, memo)
    out["dense_weight"] = tuned["dense_weight"]
    out["hybrid"] = _ndcgs(svc, dev, qrels, "hybrid", False)
    if ranker and train_ranker(svc, split["train"], qrels, split["valid"], memo) is not None:
        out["hybrid+ranker"] = _ndcgs(svc, dev, qrels, "hybrid", True)
    out["ranker_valid_ndcg"] = svc.extras.get("metrics", {}).get("ranker_valid_ndcg")
    out["served"] = out.get("hybrid+ranker", out["hybrid"])  # what this build serves: the ranker only where it beat fusion on valid
    svc.pool.shutdown()
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    from shopmind.evaluation.search_eval import final_of, load_products, load_qrels, load_queries
    from shopmind.search import SearchConfig
    from shopmind.understand.enrich import enrich

    d = args.data / "search" / "homedepot"
    queries, qrels = load_queries(d / "queries.tsv"), load_qrels(d / "qrels.tsv")
    part = {q: final_of(q) for q in queries if q in qrels}
    split = {s: {q: queries[q] for q, p in part.items() if p == s} for s in ("train", "valid", "dev")}  # never "final"
    plain = load_products(d / "products.jsonl")
    if args.quick:  # smoke: the first 3000 products and the queries judged on them
        plain = plain[:3000]
        keep = {p.id for p in plain}
        split = {s: dict(list({q: t for q, t in qs.items() if keep & set(qrels[q])}.items())[:150]) for s, qs in split.items()}
    enriched = enrich([p.model_copy(deep=True) for p in plain])
    base = SearchConfig()
    arms = {"plain": (plain, base), "enriched": (enriched, base),
            "enriched_field": (enriched, base.model_copy(update={"field_weights": {**base.field_weights, "extracted": EXTRACTED_WEIGHT}}))}
    out: dict[str, Any] = {"search.set": "homedepot", "search.part": "dev", "search.products": len(plain),
                           "search.queries": {s: len(qs) for s, qs in split.items()}, "search.extracted_weight": EXTRACTED_WEIGHT}
    per: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="shopmind-und-search-") as tmp:
        for name, (products, config) in arms.items():
            print(f"[search] arm {name} …", file=sys.stderr, flush=True)
            per[name] = _arm(products, split, qrels, config, Path(tmp) / name, ranker=not args.quick)
            print(f"[search] {name}: " + ", ".join(f"{k} {np.mean(v):.4f}" if isinstance(v, list) else f"{k} {v}" for k, v in per[name].items()),
                  file=sys.stderr, flush=True)
            gc.collect()
    for name, r in per.items():
        for k, v in r.items():
            out[f"search.{name}.{k}"] = round(float(np.mean(v)), 4) if isinstance(v, list) else (None if v is None else round(float(v), 4))
    best = "served"
    out["search.method"] = "served: hybrid+ranker where the ranker was kept (beat fusion on valid), else tuned hybrid"
    out["search.ndcg_without"] = round(float(np.mean(per["plain"][best])), 4)
    out["search.ndcg_with_enrichment"] = round(float(np.mean(per["enriched"][best])), 4)
    out["search.ndcg_with_enrichment_field"] = round(float(np.mean(per["enriched_field"][best])), 4)
    out["search.delta_enrichment"] = paired_delta(per["plain"][best], per["enriched"][best])
    out["search.delta_field"] = paired_delta(per["enriched"][best], per["enriched_field"][best])
    out["search.keep_field"] = bool(all(np.mean(per["enriched_field"][m]) >= np.mean(per["enriched"][m]) for m in METHODS if m in per["enriched"]))
    return out


def paired_delta(a: list[float], b: list[float], reps: int = 2000) -> dict[str, float]:
    """Mean of b − a over the same queries with a 95 % paired bootstrap interval, and the queries each way."""
    import numpy as np

    d = np.asarray(b, np.float64) - np.asarray(a, np.float64)
    if not len(d):
        return {"mean": 0.0, "lo": 0.0, "hi": 0.0, "better": 0, "worse": 0}
    rng = np.random.default_rng(19)
    means = d[rng.integers(0, len(d), (reps, len(d)))].mean(axis=1)
    return {"mean": round(float(d.mean()), 4), "lo": round(float(np.percentile(means, 2.5)), 4),
            "hi": round(float(np.percentile(means, 97.5)), 4), "better": int((d > 1e-9).sum()), "worse": int((d < -1e-9).sum())}
