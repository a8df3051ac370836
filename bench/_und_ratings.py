"""Section `ratings` of bench/understanding.py: do item ratings earn a place as a recommendation signal? (issue 19 item 2)

MovieLens-100K is the only set in the shared data with ratings and users together. Leave-last-out by time: each user's
last rated item is the test target, the one before it the validation target, the rest is training. Base: the project's
EASE (lam 500) on the training interactions. Signal: each item's mean training rating, smoothed towards the global mean
with PRIOR_COUNT pseudo-ratings, as a z-score over items. Blend: EASE score / the user's max |score| + w · z, seen
items excluded, full ranking. w is chosen on the validation targets from W_GRID; the test targets are scored once for
w* and for w = 0 (paired bootstrap of the difference). Aspect sentiment is not measured: no set here joins aspect-level
review sentiment with interactions.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

PRIOR_COUNT = 10.0
W_GRID = (0.0, 0.02, 0.05, 0.1, 0.2, 0.5)
K = 10


def _rank_metrics(scores: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-user NDCG@K and HR@K of one target each (scores: users × items, seen items already -inf)."""
    target_score = scores[np.arange(len(targets)), targets]
    rank = (scores > target_score[:, None]).sum(axis=1)  # 0-based rank of the target
    hit = rank < K
    return np.where(hit, 1.0 / np.log2(rank + 2.0), 0.0), hit.astype(np.float64)


def run(args: argparse.Namespace) -> dict[str, Any]:
    import pandas as pd

    from shopmind.recommend.ease import EASE
    from shopmind.recommend.interactions import Interactions

    df = pd.read_csv(args.data / "ml-100k" / "ml-100k.inter", sep="\t")
    df.columns = ["user", "item", "rating", "ts"]
    items = {v: i for i, v in enumerate(sorted(df["item"].unique()))}
    df["i"] = df["item"].map(items)
    df = df.sort_values(["user", "ts", "i"], kind="stable")
    seqs, ratings = [], []
    for _, g in df.groupby("user", sort=True):
        if len(g) >= 3:
            seqs.append(g["i"].to_numpy(np.int32))
            ratings.append(g["rating"].to_numpy(np.float64))
    if args.quick:
        seqs, ratings = seqs[:200], ratings[:200]
    n_items = len(items)
    train = [s[:-2] for s in seqs]
    val_t = np.array([s[-2] for s in seqs])
    test_t = np.array([s[-1] for s in seqs])
    r_sum = np.zeros(n_items)
    r_cnt = np.zeros(n_items)
    for s, r in zip(train, ratings, strict=True):
        np.add.at(r_sum, s, r[:-2])
        np.add.at(r_cnt, s, 1.0)
    glob = r_sum.sum() / r_cnt.sum()
    prior = (r_sum + PRIOR_COUNT * glob) / (r_cnt + PRIOR_COUNT)
    z = ((prior - prior.mean()) / (prior.std() + 1e-12)).astype(np.float32)
    model = EASE(lam=500.0).fit(Interactions.from_sequences(train, n_items))

    def blended(histories: list[np.ndarray], w: float) -> np.ndarray:
        s = model.score(histories)
        s = s / (np.abs(s).max(axis=1, keepdims=True) + 1e-12) + np.float32(w) * z[None, :]
        for u, h in enumerate(histories):
            s[u, h] = -np.inf
        return s

    val_hist = train
    test_hist = [np.append(t, v) for t, v in zip(train, val_t, strict=True)]
    val = {w: _rank_metrics(blended(val_hist, w), val_t)[0].mean() for w in W_GRID}
    best = max(W_GRID, key=lambda w: (val[w], -w))
    n0, h0 = _rank_metrics(blended(test_hist, 0.0), test_t)
    nb, hb = _rank_metrics(blended(test_hist, best), test_t)
    d = nb - n0
    rng = np.random.default_rng(19)
    boot = d[rng.integers(0, len(d), (2000, len(d)))].mean(axis=1)
    return {"ratings.set": "ml-100k", "ratings.users": len(seqs), "ratings.items": n_items, "ratings.prior_count": PRIOR_COUNT,
            "ratings.validation_ndcg@10": {str(w): round(float(v), 4) for w, v in val.items()}, "ratings.chosen_weight": best,
            "ratings.test_ndcg@10_ease": round(float(n0.mean()), 4), "ratings.test_ndcg@10_ease+rating": round(float(nb.mean()), 4),
            "ratings.test_hr@10_ease": round(float(h0.mean()), 4), "ratings.test_hr@10_ease+rating": round(float(hb.mean()), 4),
            "ratings.test_ndcg_delta": {"mean": round(float(d.mean()), 4), "lo": round(float(np.percentile(boot, 2.5)), 4),
                                        "hi": round(float(np.percentile(boot, 97.5)), 4)},
            "ratings.supports_signal": bool(best > 0 and np.percentile(boot, 2.5) > 0)}
