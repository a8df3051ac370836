"""Calibrate the dense rule of the match set (shopmind.search.stages.match.DENSE_Z) on TRAIN queries only.

For every labelled set: build the index, and for each train query (bench/search.py's split_of) take the products
the lexical rule does not match; a product is a positive when judged grade ≥ 2. Over z = 1.0 … 8.0 count, summed
over queries, the positives and negatives whose cosine lies z standard deviations above the query's mean over the
catalog; print precision/recall/F1 per z and the F1-best z per set and pooled. Test queries are never read.

    nice python bench/calibrate_match.py [--data DIR] [--max-queries 1500]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np

from shopmind.evaluation.search_eval import load_products, load_qrels, load_queries, split_of
from shopmind.search import SearchConfig, SearchService
from shopmind.search.stages.match import catalog_stats, lexical_match

REPO = Path(__file__).resolve().parents[1]
ZS = np.round(np.arange(1.0, 8.01, 0.25), 2)


def counts_for_set(d: Path, work: Path, max_queries: int) -> np.ndarray:
    """(len(ZS), 3): true positives, false positives, false negatives over the set's train queries."""
    products = load_products(d / "products.jsonl")
    queries = load_queries(d / "queries.tsv")
    qrels = load_qrels(d / "qrels.tsv")
    train = [(q, t) for q, t in queries.items() if split_of(q) == "train" and q in qrels][:max_queries]
    svc = SearchService.build(products, None, work / d.name, SearchConfig())
    mu, cov = catalog_stats(svc.vectors)
    vecs = np.asarray(svc.vectors.vectors, np.float32)
    out = np.zeros((len(ZS), 3))
    for qid, text in train:
        u = svc.understand(text)
        lex, _, _ = lexical_match(svc.lexical, u)
        q = svc.query_vector(u)
        sd = float(np.sqrt(max(q @ cov @ q, 1e-12)))
        z = (vecs @ q - float(q @ mu)) / sd
        pos = np.zeros(len(z), bool)
        for pid, g in qrels[qid].items():
            if g >= 2 and pid in svc.table.row_of:
                pos[svc.table.row_of[pid]] = True
        cand = ~lex
        zc, pc = z[cand], pos[cand]
        for i, thr in enumerate(ZS):
            sel = zc >= thr
            out[i] += (int((sel & pc).sum()), int((sel & ~pc).sum()), int((~sel & pc).sum()))
    print(f"[{d.name}] {len(train)} train queries", file=sys.stderr)
    return out


def table(c: np.ndarray) -> list[dict]:
    rows = []
    for thr, (tp, fp, fn) in zip(ZS, c, strict=True):
        p = tp / max(tp + fp, 1)
        r = tp / max(tp + fn, 1)
        rows.append({"z": float(thr), "precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / max(p + r, 1e-9), 4),
                     "tp": int(tp), "fp": int(fp)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "search")
    ap.add_argument("--max-queries", type=int, default=1500)
    args = ap.parse_args()
    sets = sorted(d for d in args.data.iterdir() if (d / "qrels.tsv").exists())
    res, pooled = {}, np.zeros((len(ZS), 3))
    with tempfile.TemporaryDirectory(prefix="shopmind-calib-") as work:
        for d in sets:
            c = counts_for_set(d, Path(work), args.max_queries)
            pooled += c / max(c[0, 0] + c[0, 2], 1)  # each set weighs the same
            t = table(c)
            res[d.name] = {"best": max(t, key=lambda r: r["f1"]), "curve": t}
    t = table(pooled)
    res["pooled"] = {"best": max(t, key=lambda r: r["f1"]), "curve": t}
    print(json.dumps(res))


if __name__ == "__main__":
    main()
