"""Search bench: every labelled set under shared/data/search, BM25 / dense / hybrid / hybrid+ranker.

For each set dir (products.jsonl, queries.tsv, qrels.tsv) the queries are split by a hash of the query
id into train (50 %), validation (15 %) and test (35 %). Fusion weight and the LambdaMART ranker learn
on train (early stopping / model choice on validation); every number reported is on the test queries.
Also: latency p50/p99 (query encoding included, no query cache), index_s, upsert-to-visible time, and
bm25s against rank_bm25 on the largest set. Prints a table; the last line is one JSON object (also
written to bench/results/search.json).

    nice python bench/search.py --json [--data DIR] [--sets homedepot,multicpr-zh]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np  # noqa: E402

from shopmind.evaluation.metrics import ndcg_at_k  # noqa: E402
from shopmind.evaluation.search_eval import (  # noqa: E402
    load_products,
    load_qrels,
    load_queries,
    run_queries,
    split_of,
    train_ranker,
    tune_fusion,
)
from shopmind.search import SearchConfig, SearchService  # noqa: E402
from shopmind.text.tokenize import tokenize  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def discover(data: Path) -> list[Path]:
    """Set dirs that hold products.jsonl, queries.tsv and qrels.tsv."""
    return sorted(d for d in data.iterdir() if d.is_dir() and all((d / f).exists() for f in ("products.jsonl", "queries.tsv", "qrels.tsv")))


def bm25_libraries(products, queries: dict[str, str], qrels, n_queries: int = 100) -> dict:
    """bm25s vs rank_bm25 (BM25Okapi) over titles with the same tokens: index time, query time, nDCG@10."""
    import bm25s
    from rank_bm25 import BM25Okapi

    ids = [p.id for p in products]
    docs = [tokenize(p.title) or [""] for p in products]
    qs = [(q, tokenize(t)) for q, t in list(queries.items())[:n_queries] if q in qrels]
    out = {}
    t0 = time.perf_counter()
    r = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
    r.index(docs, show_progress=False)
    idx_s = time.perf_counter() - t0
    lat, nd = [], []
    for q, toks in qs:
        t0 = time.perf_counter()
        s = r.get_scores([t for t in toks if t in r.vocab_dict]) if any(t in r.vocab_dict for t in toks) else np.zeros(len(ids))
        top = np.argsort(-s)[:10]
        lat.append((time.perf_counter() - t0) * 1e3)
        nd.append(ndcg_at_k([ids[i] for i in top], qrels[q]))
    out["bm25s"] = {"index_s": round(idx_s, 3), "query_ms_p50": round(float(np.percentile(lat, 50)), 3), "ndcg@10": round(float(np.mean(nd)), 4)}
    t0 = time.perf_counter()
    rb = BM25Okapi(docs, k1=1.2, b=0.75)
    idx_s = time.perf_counter() - t0
    lat, nd = [], []
    for q, toks in qs:
        t0 = time.perf_counter()
        s = rb.get_scores(toks)
        top = np.argsort(-s)[:10]
        lat.append((time.perf_counter() - t0) * 1e3)
        nd.append(ndcg_at_k([ids[i] for i in top], qrels[q]))
    out["rank_bm25"] = {"index_s": round(idx_s, 3), "query_ms_p50": round(float(np.percentile(lat, 50)), 3), "ndcg@10": round(float(np.mean(nd)), 4)}
    out["queries"] = len(qs)
    return out


def upsert_visible_ms(svc: SearchService, products) -> float:
    """Time from upsert() of a product with never-seen text (so it is really encoded) to finding it."""
    p = products[len(products) // 2]
    fresh = p.model_copy(update={"id": p.id + "-bench-upsert", "title": f"{p.title} {time.time_ns()}"})
    t0 = time.perf_counter()
    svc.upsert([fresh])
    res = svc.search(fresh.title, per_page=10, explain=False)
    ms = (time.perf_counter() - t0) * 1e3
    if fresh.id not in [h.id for h in res.hits]:
        raise RuntimeError("upserted product not found")
    svc.delete([fresh.id])
    return ms


def bench_set(d: Path, work: Path, config: SearchConfig) -> dict:
    """Build, tune/train on train+valid, report on test queries."""
    name = d.name
    products = load_products(d / "products.jsonl")
    queries = load_queries(d / "queries.tsv")
    qrels = load_qrels(d / "qrels.tsv")
    split = {q: split_of(q) for q in queries}
    train = {q: t for q, t in queries.items() if split[q] == "train" and q in qrels}
    valid = {q: t for q, t in queries.items() if split[q] == "valid" and q in qrels}
    test = {q: t for q, t in queries.items() if split[q] == "test" and q in qrels}
    t0 = time.perf_counter()
    svc = SearchService.build(products, None, work / name, config)
    index_s = time.perf_counter() - t0
    res: dict = {"products": len(products), "queries": {"train": len(train), "valid": len(valid), "test": len(test)}, "index_s": round(index_s, 2)}
    print(f"[{name}] built {len(products)} products in {index_s:.1f}s", file=sys.stderr, flush=True)
    methods = {}

    def log(msg: str) -> None:
        print(f"[{name}] {msg}", file=sys.stderr, flush=True)

    methods["bm25"] = run_queries(svc, test, qrels, mode="bm25", use_ranker=False)
    log(f"bm25 {methods['bm25']['ndcg@10']:.4f}")
    plain = svc.config
    svc.config = plain.model_copy(update={"stages": plain.stages.model_copy(update={"spelling": False, "synonyms": False, "entities": False, "price": False, "category_intent": False})})
    methods["bm25_plain"] = run_queries(svc, test, qrels, mode="bm25", use_ranker=False)
    svc.config = plain
    methods["dense"] = run_queries(svc, test, qrels, mode="dense", use_ranker=False)
    log(f"dense {methods['dense']['ndcg@10']:.4f}")
    methods["hybrid_default"] = run_queries(svc, test, qrels, mode="hybrid", use_ranker=False)
    log(f"hybrid_default {methods['hybrid_default']['ndcg@10']:.4f}")
    t0 = time.perf_counter()
    memo: dict = {}
    tuned = tune_fusion(svc, {**train, **valid}, qrels, memo)
    res["tuned"] = tuned
    methods["hybrid"] = run_queries(svc, test, qrels, mode="hybrid", use_ranker=False)
    log(f"hybrid (tuned w={tuned['dense_weight']}) {methods['hybrid']['ndcg@10']:.4f}")
    ranker = train_ranker(svc, train, qrels, valid, memo)
    res["train_s"] = round(time.perf_counter() - t0, 1)
    res["validation"] = dict(svc.extras.get("metrics", {}))
    if ranker is not None:
        methods["hybrid+ranker"] = run_queries(svc, test, qrels, mode="hybrid", use_ranker=True)
        imp = ranker.importance()
        res["ranker_top_features"] = dict(sorted(imp.items(), key=lambda kv: -kv[1])[:8])
    res["methods"] = {m: {k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()} for m, r in methods.items()}
    best = "hybrid+ranker" if "hybrid+ranker" in methods else "hybrid"
    res["best"] = best
    res["ndcg@10"] = round(methods[best]["ndcg@10"], 4)
    res["bm25_ndcg@10"] = round(methods["bm25"]["ndcg@10"], 4)
    res["ratio_vs_bm25"] = round(methods[best]["ndcg@10"] / max(methods["bm25"]["ndcg@10"], 1e-9), 3)
    res["latency_ms_p50"] = round(methods[best]["latency_ms_p50"], 2)
    res["latency_ms_p99"] = round(methods[best]["latency_ms_p99"], 2)
    res["upsert_visible_ms"] = round(upsert_visible_ms(svc, products), 1)
    if len(products) >= 10_000:
        res["bm25_libraries"] = bm25_libraries(products, test, qrels)
        sample = [f"{p.title} #{i}" for i, p in enumerate(products[:200])]
        t0 = time.perf_counter()
        svc.encoder.inner.encode_passages(sample)
        rate = len(sample) / (time.perf_counter() - t0)
        res["embed_passages_per_s"] = round(rate, 1)
        res["embed_50k_projected_s"] = round(50_000 / rate, 0)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "search")
    ap.add_argument("--sets", default="", help="comma-separated set names (default: all found)")
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--json", action="store_true", help="print only the final JSON line on stdout")
    args = ap.parse_args()
    sets = discover(args.data)
    if args.sets:
        sets = [d for d in sets if d.name in args.sets.split(",")]
    config = SearchConfig()
    tmp = tempfile.TemporaryDirectory(prefix="shopmind-bench-") if args.work is None else None
    work = Path(tmp.name) if tmp else args.work
    results = {}
    for d in sets:
        results[d.name] = bench_set(d, work, config)
        if not args.json:
            print(f"\n== {d.name} (test queries: {results[d.name]['queries']['test']})")
            print(f"{'method':16} {'ndcg@10':>8} {'mrr@10':>8} {'R@100':>8} {'p50 ms':>8} {'p99 ms':>8}")
            for m, r in results[d.name]["methods"].items():
                print(f"{m:16} {r['ndcg@10']:8.4f} {r['mrr@10']:8.4f} {r['recall@100']:8.4f} {r['latency_ms_p50']:8.2f} {r['latency_ms_p99']:8.2f}")
        print(json.dumps({d.name: results[d.name]}), file=sys.stderr, flush=True)
    big = max(results, key=lambda n: results[n]["products"])
    summary = {
        "latency_ms_p50": results[big]["latency_ms_p50"],
        "latency_ms_p99": results[big]["latency_ms_p99"],
        "products": results[big]["products"],
        "index_s": results[big]["index_s"],
        "upsert_visible_ms": results[big]["upsert_visible_ms"],
        "sets": {n: {"ndcg@10": r["ndcg@10"], "bm25_ndcg@10": r["bm25_ndcg@10"], "method": r["best"]} for n, r in results.items()},
        "cpu": os.cpu_count(),
    }
    out = {"summary": summary, "details": results}
    (REPO / "bench" / "results").mkdir(parents=True, exist_ok=True)
    (REPO / "bench" / "results" / "search.json").write_text(json.dumps(out, indent=1))
    if tmp:
        tmp.cleanup()
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
