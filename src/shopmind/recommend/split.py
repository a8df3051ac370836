"""The build-time offline check of recommenders: a global temporal split of the events and its metrics.

The service scores every configured model on it before publishing (`meta.json` metrics); the offline
harnesses in `shopmind.evaluation.recs_eval` re-export these, so recommend never imports evaluation.
"""

from __future__ import annotations

import numpy as np

from shopmind.ranking.metrics import ndcg_at_k, recall_at_k
from shopmind.recommend.base import Interactions, Recommender


def temporal_split(interactions: Interactions, test_frac: float = 0.2) -> tuple[Interactions, list[np.ndarray], list[np.ndarray], float]:
    """Global time split: events before the (1-test_frac) time quantile train; later new items are targets."""
    cut = float(np.quantile(interactions.ts, 1.0 - test_frac)) if interactions.n_events else 0.0
    before = interactions.ts < cut
    seqs: list[np.ndarray] = []
    hist: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    for u in range(interactions.n_users):  # per user at evaluation time (offline only)
        s, e = interactions.indptr[u], interactions.indptr[u + 1]
        b = before[s:e]
        h = interactions.items[s:e][b]
        seqs.append(h)
        t = np.setdiff1d(interactions.items[s:e][~b], h)
        if len(h) and len(t):
            hist.append(h)
            targets.append(t)
    ts = [interactions.ts[interactions.indptr[u] : interactions.indptr[u + 1]][before[interactions.indptr[u] : interactions.indptr[u + 1]]] for u in range(interactions.n_users)]
    train = Interactions.from_sequences(seqs, interactions.n_items, ts=ts, user_ids=interactions.user_ids, item_ids=interactions.item_ids)
    return train, hist, targets, cut


def temporal_metrics(model: Recommender, hist: list[np.ndarray], targets: list[np.ndarray], n_items: int) -> dict[str, float]:
    """HR, NDCG (binary gains) and recall at 10/20 over multi-item targets, plus coverage@10."""
    ids, _ = model.recommend(hist, k=20, exclude_seen=True)
    out: dict[str, float] = {}
    for k in (10, 20):
        hr, nd, rc = [], [], []
        for row, t in zip(ids, targets, strict=True):
            ranked = [str(i) for i in row[:k]]
            q = {str(i): 1.0 for i in t}
            hr.append(float(len(q.keys() & set(ranked)) > 0))
            nd.append(ndcg_at_k(ranked, q, k))
            rc.append(recall_at_k(ranked, q, k, min_grade=1))
        out[f"hr@{k}"], out[f"ndcg@{k}"], out[f"recall@{k}"] = (round(float(np.mean(x)) if x else 0.0, 5) for x in (hr, nd, rc))
    out["coverage@10"] = round(len(np.unique(ids[:, :10][ids[:, :10] >= 0])) / max(n_items, 1), 5)
    return out


__all__ = ["temporal_metrics", "temporal_split"]
