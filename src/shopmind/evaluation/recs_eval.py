"""Offline evaluation of recommenders: leave-one-out on sequence files, temporal split on the events table.

Protocol `loo-full` (the one behind the numbers in shared/data/README): per user, the last item is the test
target and the second-to-last the validation target. Models are trained on every user's sequence minus its
last two items. Validation asks for the next item after `seq[:-2]`; test asks for the next item after
`seq[:-1]` with the *same* trained model (the validation item enters only as history, it is never a training
target) — the S3-Rec/ICLRec protocol. Ranking is against ALL items, the user's own history excluded.
`model="auto"` tunes every registered candidate on the validation targets only and reports the test
metrics of the single configuration that won on validation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shopmind.evaluation.metrics import hit_rank_metrics
from shopmind.recommend.base import Interactions, Recommender, mask_scores, read_seqrec, topk_rows


def target_ranks(
    model: Recommender, histories: Sequence[np.ndarray], targets: np.ndarray, *, batch: int = 1024, topk: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """0-based rank of each target among all items (history excluded; ties take the mid rank) and top-k lists."""
    ranks = np.empty(len(targets), dtype=np.int64)
    tops = np.empty((len(targets), topk), dtype=np.int64)
    for start in range(0, len(targets), batch):
        h = histories[start : start + batch]
        t = np.asarray(targets[start : start + batch], dtype=np.int64)
        s = np.array(model.score(h), dtype=np.float32, copy=True)
        tgt = s[np.arange(len(t)), t].copy()
        mask_scores(s, h, None, True)
        s[np.arange(len(t)), t] = tgt
        ranks[start : start + len(t)] = (s > tgt[:, None]).sum(axis=1) + 0.5 * ((s == tgt[:, None]).sum(axis=1) - 1)
        tops[start : start + len(t)] = topk_rows(s, topk)[0]
    return ranks, tops


def metrics_from_ranks(ranks: np.ndarray, tops: np.ndarray, n_items: int) -> dict[str, float]:
    """HR/NDCG at 10 and 20 and catalog coverage of the top-10 lists."""
    out: dict[str, float] = {}
    for k in (10, 20):
        hr, nd = hit_rank_metrics(ranks, k)
        out[f"hr@{k}"], out[f"ndcg@{k}"] = round(hr, 5), round(nd, 5)
    out["coverage@10"] = round(len(np.unique(tops[:, :10])) / max(n_items, 1), 5)
    return out


class LOOSplit:
    """Leave-one-out views of one sequence set: train interactions, validation and test queries."""

    def __init__(self, sequences: Sequence[np.ndarray], n_items: int, user_ids: list[str] | None = None) -> None:
        self.n_items = n_items
        seqs = [np.asarray(s, dtype=np.int32) for s in sequences]
        self.full = Interactions.from_sequences(seqs, n_items, user_ids=user_ids)
        self.train = self.full.truncate(2)
        eligible = [i for i, s in enumerate(seqs) if len(s) >= 3]
        self.val_hist = [seqs[i][:-2] for i in eligible]
        self.val_target = np.array([seqs[i][-2] for i in eligible], dtype=np.int64)
        self.test_hist = [seqs[i][:-1] for i in eligible]
        self.test_target = np.array([seqs[i][-1] for i in eligible], dtype=np.int64)

    @classmethod
    def from_file(cls, path: str | Path) -> LOOSplit:
        """Split a `user item1 item2 …` file."""
        seqs, users = read_seqrec(path)
        n_items = int(max(s.max() for s in seqs if len(s))) + 1
        return cls(seqs, n_items, users)

    def val_metric(self, model: Recommender, *, sample: int | None = None, seed: int = 0, key: str = "ndcg@10") -> float:
        """Validation metric (optionally on a fixed user sample, for cheap early stopping)."""
        idx = np.arange(len(self.val_target))
        if sample is not None and sample < len(idx):
            idx = np.sort(np.random.default_rng(seed).choice(idx, sample, replace=False))
        ranks, tops = target_ranks(model, [self.val_hist[i] for i in idx], self.val_target[idx])
        return metrics_from_ranks(ranks, tops, self.n_items)[key]

    def evaluate(self, model: Recommender, which: str = "test") -> dict[str, float]:
        """All metrics of a trained model on the validation or test targets."""
        hist, tgt = (self.test_hist, self.test_target) if which == "test" else (self.val_hist, self.val_target)
        ranks, tops = target_ranks(model, hist, tgt)
        return metrics_from_ranks(ranks, tops, self.n_items)


def sequences_from_inter(path: str | Path, min_rating: float | None = None) -> tuple[list[np.ndarray], int, list[str]]:
    """RecBole .inter (user, item, rating, timestamp) → per-user item-index sequences in time order."""
    import pyarrow.csv as pacsv

    tbl = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter="\t"))
    cols = {c.split(":")[0]: c for c in tbl.column_names}
    users = tbl[cols["user_id"]].to_numpy().astype(str)
    items = tbl[cols["item_id"]].to_numpy().astype(str)
    ts = tbl[cols["timestamp"]].to_numpy().astype(np.float64)
    if min_rating is not None and "rating" in cols:
        keep = tbl[cols["rating"]].to_numpy() >= min_rating
        users, items, ts = users[keep], items[keep], ts[keep]
    uniq_items, ii = np.unique(items, return_inverse=True)
    uniq_users, uu = np.unique(users, return_inverse=True)
    order = np.lexsort((np.arange(len(ts)), ts, uu))
    counts = np.bincount(uu[order], minlength=len(uniq_users))
    seqs = np.split(ii[order].astype(np.int32), np.cumsum(counts)[:-1])
    return seqs, len(uniq_items), [str(u) for u in uniq_users]
