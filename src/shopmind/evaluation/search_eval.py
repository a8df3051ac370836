"""Offline evaluation of product search on a labelled set (products.jsonl, queries.tsv, qrels.tsv).

Full retrieval over all products; nDCG@10 (gain 2^g−1, unjudged = 0), MRR@10 and recall@100 at grade ≥ 2,
from shopmind.evaluation.metrics. The ranker and the fusion weight learn only from `train_qrels`,
never from the qrels being evaluated.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from shopmind.domain import Product
from shopmind.evaluation.metrics import mrr_at_k, ndcg_at_k, recall_at_k
from shopmind.search.config import SearchConfig
from shopmind.search.service import SearchService
from shopmind.search.training import train_ranker, tune_fusion

__all__ = ["evaluate_search", "final_of", "load_products", "load_qrels", "load_queries", "run_queries", "split_of", "train_ranker", "tune_fusion"]

Qrels = dict[str, dict[str, float]]


def load_products(path: Path) -> list[Product]:
    """products.jsonl → validated Products."""
    with open(path, encoding="utf-8") as f:
        return [Product(**json.loads(line)) for line in f if line.strip()]


def load_queries(path: Path) -> dict[str, str]:
    """queries.tsv (query_id, query) → dict."""
    out = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            qid, _, text = line.partition("\t")
            out[qid] = text.strip()
    return out


def load_qrels(path: Path) -> Qrels:
    """qrels.tsv (query_id, product_id, grade) → {qid: {pid: grade}}."""
    out: Qrels = defaultdict(dict)
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3:
            out[parts[0]][parts[1]] = float(parts[2])
    return dict(out)


def split_of(qid: str, train: float = 0.5, valid: float = 0.15) -> str:
    """Deterministic split by a hash of the query id: 'train', 'valid' or 'test'."""
    h = int(hashlib.sha1(qid.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "train" if h < train else "valid" if h < train + valid else "test"


def final_of(qid: str) -> str:
    """Split plus the frozen half of 'test' (issue 21): 'final' (never used for tuning) or 'dev', by a second, independent hash."""
    s = split_of(qid)
    if s != "test":
        return s
    h = int(hashlib.sha256(f"shopmind-final:{qid}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "final" if h < 0.5 else "dev"


def run_queries(svc: SearchService, queries: Mapping[str, str], qrels: Qrels, mode: str = "hybrid", use_ranker: bool = True, k: int = 100) -> dict:
    """Run every judged query; mean metrics and latency percentiles."""
    nd, mrr, rec, lat = [], [], [], []
    for qid, text in queries.items():
        if qid not in qrels:
            continue
        t0 = time.perf_counter()
        res = svc.search(text, per_page=k, explain=False, mode=mode, use_ranker=use_ranker)
        lat.append((time.perf_counter() - t0) * 1e3)
        ranked = [h.id for h in res.hits]
        nd.append(ndcg_at_k(ranked, qrels[qid], 10))
        mrr.append(mrr_at_k(ranked, qrels[qid], 10))
        rec.append(recall_at_k(ranked, qrels[qid], 100))
    return {
        "ndcg@10": float(np.mean(nd)) if nd else 0.0,
        "mrr@10": float(np.mean(mrr)) if mrr else 0.0,
        "recall@100": float(np.mean(rec)) if rec else 0.0,
        "queries": len(nd),
        "latency_ms_p50": float(np.percentile(lat, 50)) if lat else 0.0,
        "latency_ms_p99": float(np.percentile(lat, 99)) if lat else 0.0,
    }


def evaluate_search(
    products: Path,
    queries: Path,
    qrels: Path,
    *,
    train_qrels: Path | None = None,
    no_train: bool = False,
    mode: str = "hybrid",
    work_dir: Path | None = None,
    config: SearchConfig | None = None,
) -> dict:
    """Build an index in a temp dir, (optionally) tune and train on train_qrels, run every judged query."""
    config = config or SearchConfig()
    if mode == "bm25":
        config = config.model_copy(update={"stages": config.stages.model_copy(update={"dense": False})})
    prods = load_products(Path(products))
    qs = load_queries(Path(queries))
    rels = load_qrels(Path(qrels))
    tmp = None
    if work_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="shopmind-search-eval-")
        work_dir = Path(tmp.name)
    t0 = time.perf_counter()
    svc = SearchService.build(prods, None, Path(work_dir), config)
    index_s = time.perf_counter() - t0
    trained = False
    if train_qrels is not None and not no_train:
        trels = load_qrels(Path(train_qrels))
        tq = {q: t for q, t in qs.items() if q in trels}
        fit_q = {q: t for q, t in tq.items() if split_of(q, 0.8, 0.2) == "train"}
        val_q = {q: t for q, t in tq.items() if q not in fit_q}
        if mode == "hybrid":
            memo: dict = {}
            tune_fusion(svc, fit_q, trels, memo)
            trained = train_ranker(svc, fit_q, trels, val_q, memo) is not None
    out = run_queries(svc, qs, rels, mode=mode if mode != "hybrid+ranker" else "hybrid", use_ranker=trained)
    out["index_s"] = round(index_s, 3)
    out["ranker"] = trained
    out["mode"] = mode
    if tmp is not None:
        tmp.cleanup()
    return out
