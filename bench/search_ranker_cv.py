"""Search ranker choices by cross-validation over the TRAIN queries only (issue 21, item 4): never dev, never final.

Builds a set's index, tunes fusion on train + valid (as bench/search.py does), computes every train query's reranked
candidates once (the served head: the fused order's first rerank_k), then for each variant trains LambdaMART on four
folds (folds by md5 of the query id), early-stopped on the valid queries, and scores nDCG@10 on the fifth. A variant
is a set of feature columns left out (`--drop a,b;c`: one variant per `;`), always beside the full column set.
Prints per variant the out-of-fold mean, the fused order's, and the paired difference to the full set with its
standard error. Writes bench/results/search_ranker_cv.json.

    nice python bench/search_ranker_cv.py --sets homedepot --drop "title_bigram_share,title_number_share,title_first_term,title_last_term_pos,title_span,bm25_title_ratio,idf_coverage_gap,bm25_rank_head"
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from shopmind.evaluation.search_eval import final_of, load_products, load_qrels, load_queries, tune_fusion
from shopmind.ranking.metrics import ndcg_at_k
from shopmind.search import SearchConfig, SearchService
from shopmind.search.ranker import FEATURES, Ranker
from shopmind.search.training import _candidates

REPO = Path(__file__).resolve().parents[1]


def fold_of(qid: str, k: int = 5) -> int:
    """The query's CV fold (md5, independent of the split hashes)."""
    return int(hashlib.md5(qid.encode()).hexdigest()[:8], 16) % k


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "search")
    ap.add_argument("--sets", default="homedepot")
    ap.add_argument("--drop", default="", help="variants: columns to leave out, comma-separated; variants separated by ';'")
    ap.add_argument("--max-queries", type=int, default=0, help="first N train queries only (a quick run)")
    args = ap.parse_args()
    variants = {"all": []} | {f"-{v}": [c.strip() for c in v.split(",") if c.strip()] for v in args.drop.split(";") if v.strip()}
    unknown = sorted({c for cs in variants.values() for c in cs} - set(FEATURES))
    if unknown:
        raise SystemExit(f"--drop names columns the ranker does not have: {unknown}")
    out: dict = {}
    for name in args.sets.split(","):
        d = args.data / name
        queries, qrels = load_queries(d / "queries.tsv"), load_qrels(d / "qrels.tsv")
        part = {q: final_of(q) for q in queries}
        train = {q: t for q, t in queries.items() if part[q] == "train" and q in qrels}
        valid = {q: t for q, t in queries.items() if part[q] == "valid" and q in qrels}
        if args.max_queries:
            train = dict(list(train.items())[: args.max_queries])
        with tempfile.TemporaryDirectory(prefix="shopmind-rcv-") as work:
            svc = SearchService.build(load_products(d / "products.jsonl"), None, Path(work), SearchConfig())
            memo: dict = {}
            tuned = tune_fusion(svc, {**train, **valid}, qrels, memo)
            cands = {}
            for qid, text in {**train, **valid}.items():
                X, y, r, _, order = _candidates(svc, text, qrels[qid], memo)
                cands[qid] = (X, np.clip(np.round(y), 0, 5).astype(np.int32), [svc.table.ids[int(x)] for x in r.cand[order]])
        va = [q for q in valid if len(cands[q][1]) and cands[q][1].max() > 0]
        res: dict = {"train_queries": len(train), "valid_queries": len(va), "dense_weight": tuned["dense_weight"], "variants": {}}
        per: dict[str, np.ndarray] = {}
        for label, drop in variants.items():
            t0 = time.perf_counter()
            scores, fused = {}, {}
            for f in range(5):
                fit = [q for q in train if fold_of(q) != f and len(cands[q][1]) and cands[q][1].max() > 0]
                X = np.concatenate([cands[q][0] for q in fit])
                y = np.concatenate([cands[q][1] for q in fit])
                vx = (np.concatenate([cands[q][0] for q in va]), np.concatenate([cands[q][1] for q in va]), [len(cands[q][1]) for q in va])
                rk = Ranker.fit(X, y, [len(cands[q][1]) for q in fit], params=dict(svc.config.ranker_params), valid=vx, drop=drop)
                for q in train:
                    if fold_of(q) == f:
                        X_q, _, ids = cands[q]
                        ranked = [ids[i] for i in np.argsort(-rk.predict(X_q), kind="stable")] if len(ids) else []
                        scores[q] = ndcg_at_k(ranked, qrels[q], 10)
                        fused[q] = ndcg_at_k(ids, qrels[q], 10)
            per[label] = np.array([scores[q] for q in train])
            res["variants"][label] = {"dropped": drop, "ndcg@10": round(float(per[label].mean()), 4),
                                      "fused_ndcg@10": round(float(np.mean([fused[q] for q in train])), 4), "s": round(time.perf_counter() - t0, 1)}
            if label != "all":
                diff = per[label] - per["all"]
                res["variants"][label]["minus_all"] = round(float(diff.mean()), 4)
                res["variants"][label]["se"] = round(float(diff.std(ddof=1) / np.sqrt(len(diff))), 4)
            print(f"[{name}] {label}: {res['variants'][label]}", file=sys.stderr, flush=True)
        res["loadavg"] = [round(x, 2) for x in os.getloadavg()]
        out[name] = res
    dest = REPO / "bench" / "results" / "search_ranker_cv.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(out, indent=1))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
