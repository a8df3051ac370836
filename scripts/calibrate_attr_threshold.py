"""Calibrate the assistant's "not stated" thresholds on held-out TRAIN-side data: hetPQA answer generation test + dev
(real shopper questions with the source that answered each; the attribute ranker trains on hetPQA *train* and semiPQA,
and no bench reads these splits).

Per product (ASIN) its attributes are the attribute candidates the split lists for it. Answerable: a question whose
answer came from an attribute (gold = that key). Not answerable by attributes: a question answered from a bullet,
the description or reviews, asked about a product with attributes; and each answerable question again with its gold
attribute removed. The threshold maximises the balanced rate (answered right + abstained right) / 2, for the question
as written (English) and for its dictionary round trip (English → CC-CEDICT Chinese → English gloss), the lossy
English the ranker sees for a Chinese question.

    OMP_NUM_THREADS=1 nice python scripts/calibrate_attr_threshold.py [/path/to/shared/data] [--max 300]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from shopmind.assistant.attrank import default_ranker
from shopmind.assistant.attrlang import gloss
from shopmind.assistant.datasets import _parse_candidate
from shopmind.text.bilingual import lexicon

REPO = Path(__file__).resolve().parents[1]


def load(pqa: Path) -> tuple[list[tuple[str, list[tuple[str, str]], str | None]], int]:
    """(question, product attributes, gold key or None) for every usable question of hetPQA test + dev."""
    rows = []
    for split in ("test", "dev"):
        with open(pqa / f"hetPQA__answer_generation__{split}.csv", encoding="utf-8") as f:
            rows += list(csv.DictReader(f, delimiter="\t"))
    attrs: dict[str, dict[str, str]] = defaultdict(dict)
    for r in rows:
        if r["source"] == "attribute":
            k, v = _parse_candidate(r["candidate"])
            if k and k != "brand" and v and v.lower() not in ("true", "false") and len(v) < 120:
                attrs[r["ASIN"]][k] = v
    out: list[tuple[str, list[tuple[str, str]], str | None]] = []
    for r in rows:
        items = list(attrs.get(r["ASIN"], {}).items())
        if not items:
            continue
        if r["source"] == "attribute":
            k, _ = _parse_candidate(r["candidate"])
            if k in attrs[r["ASIN"]]:
                out.append((r["question"], items, k))
                rest = [(a, v) for a, v in items if a != k]
                if rest:
                    out.append((r["question"], rest, None))  # the same question once its answer is gone
        else:
            out.append((r["question"], items, None))
    return out, len(rows)


def round_trip(question: str) -> str:
    """The English question through CC-CEDICT into Chinese word by word (first rendering), then glossed back."""
    lex = lexicon()
    zh = "".join((lex.to_chinese(w) or (w,))[0] for w in re.findall(r"[a-z0-9]+", question.casefold()))
    return gloss(zh) or ""


def best_threshold(top: np.ndarray, right: np.ndarray, answerable: np.ndarray) -> tuple[float, dict]:
    """The threshold with the highest balanced rate, and the rates there."""
    best = (-1.0, 0.0, {})
    for t in np.unique(np.round(np.concatenate([top, [0.0, 1.01]]), 3)):
        ans = top >= t
        a_rate = float(np.mean(ans[answerable] & right[answerable])) if answerable.any() else 0.0
        n_rate = float(np.mean(~ans[~answerable])) if (~answerable).any() else 0.0
        bal = (a_rate + n_rate) / 2
        if bal > best[0]:
            best = (bal, float(t), {"answered_right": round(a_rate, 4), "abstained_right": round(n_rate, 4), "balanced": round(bal, 4)})
    return best[1], best[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="?", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--max", type=int, default=300, help="questions per class (answerable / not), sampled with seed 5")
    args = ap.parse_args()
    recs, n_rows = load(args.data / "productqa")
    rng = random.Random(5)
    pos = [r for r in recs if r[2] is not None]
    neg = [r for r in recs if r[2] is None]
    sample = rng.sample(pos, min(args.max, len(pos))) + rng.sample(neg, min(args.max, len(neg)))
    ranker = default_ranker()
    assert ranker is not None, "the attribute ranker is not available"
    result = {"rows_read": n_rows, "answerable": sum(1 for r in sample if r[2]), "not_answerable": sum(1 for r in sample if not r[2])}
    for view, fn in (("english", lambda q: q), ("zh_gloss_round_trip", round_trip)):
        tops, right, answerable = [], [], []
        for q, items, gold in sample:
            text = fn(q)
            scores = ranker.scores(text, items) if text else [0.0] * len(items)
            i = int(np.argmax(scores))
            tops.append(scores[i])
            right.append(items[i][0] == gold)
            answerable.append(gold is not None)
        t, rates = best_threshold(np.array(tops), np.array(right), np.array(answerable))
        ans = np.array(tops) >= ranker.threshold
        A, R = np.array(answerable), np.array(right)
        result[view] = {"threshold": t, **rates, "at_ranker_threshold": {
            "threshold": ranker.threshold, "answered_right": round(float(np.mean(ans[A] & R[A])), 4),
            "abstained_right": round(float(np.mean(~ans[~A])), 4)}}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
