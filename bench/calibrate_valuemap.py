"""Calibrate shopmind.search.valuemap.MARGIN on another catalog than any it is shown on: the Amazon ePQA products'
English attribute values (productqa/ePQA__dev.csv, through assistant.datasets.epqa).

A positive is a Chinese word CC-CEDICT gives for one of the catalog's values ("白色" for the colour "white"): it should
map to that value. A negative is a Chinese headword of the dictionary that names none of the values (a seeded random
sample): it should map to nothing. For margins 0 … 0.10 count correct / wrong / missed mappings and print
precision, recall and F1 per margin and the F1-best margin (written to bench/results/calibrate_valuemap.json).

    nice python bench/calibrate_valuemap.py [--data DIR] [--negatives 400]
"""

from __future__ import annotations

import argparse
import json
import os
import random
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np

from shopmind.assistant.datasets import epqa
from shopmind.search.catalog import ProductTable
from shopmind.search.valuemap import value_vectors
from shopmind.text.bilingual import lexicon
from shopmind.text.embedstore import default_embeddings

REPO = Path(__file__).resolve().parents[1]
MARGINS = np.round(np.arange(0.0, 0.1001, 0.005), 3)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("SHOPMIND_DATA", "/work/shared/data")))
    ap.add_argument("--negatives", type=int, default=400)
    args = ap.parse_args()
    products, _ = epqa(args.data)
    table = ProductTable()
    table.append(products)
    enc = default_embeddings(None)
    vals, vecs = value_vectors(table, enc)
    lex = lexicon()
    names = {t.lower() for _, _, t in vals}
    pos: list[tuple[str, set[str]]] = []  # (Chinese word, the value texts it names)
    for _, _, text in vals:
        for zh in lex.to_chinese(text.lower())[:1]:
            pos.append((zh, {text.lower()}))
    rng = random.Random(0)
    heads = sorted(w for w, r in lex.zh_en.items() if len(w) == 2 and not {x.lower() for x in r} & names)
    neg = rng.sample(heads, min(args.negatives, len(heads)))
    words = [w for w, _ in pos] + neg
    q = np.asarray(enc.encode_queries(words), np.float32)
    cos = q @ vecs.T
    texts = [t.lower() for _, _, t in vals]
    order = np.argsort(-cos, axis=1)
    first = order[:, 0]
    runner = [next((int(j) for j in order[i, 1:] if texts[int(j)] != texts[int(first[i])]), int(first[i])) for i in range(len(words))]
    gap = cos[np.arange(len(words)), first] - cos[np.arange(len(words)), runner]  # the same name twice is one value
    right = np.array([texts[int(first[i])] in pos[i][1] for i in range(len(pos))] + [False] * len(neg))
    is_pos = np.array([True] * len(pos) + [False] * len(neg))
    rows = []
    for m in MARGINS:
        mapped = gap >= m
        tp = int((mapped & right).sum())
        fp = int((mapped & ~right).sum())
        fn = int((is_pos & ~(mapped & right)).sum())
        p = tp / max(tp + fp, 1)
        r = tp / max(tp + fn, 1)
        rows.append({"margin": float(m), "tp": tp, "fp": fp, "fn": fn, "precision": round(p, 4), "recall": round(r, 4),
                     "f1": round(2 * p * r / max(p + r, 1e-9), 4)})
        print(json.dumps(rows[-1]))
    best = max(rows, key=lambda x: (x["f1"], x["margin"]))
    out = {"catalog": "ePQA dev (Amazon, English attribute values)", "values": len(vals), "positives": len(pos),
           "negatives": len(neg), "best": best, "rows": rows}
    (REPO / "bench" / "results" / "calibrate_valuemap.json").write_text(json.dumps(out, indent=1, ensure_ascii=False))
    print("best", best)


if __name__ == "__main__":
    main()
