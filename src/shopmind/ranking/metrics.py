"""Pure ranking and classification metrics: nDCG, MRR, recall, hit rate, AUC.

Functions take ranked id lists (or ranks, or scores) and judgments and return floats, so callers can average,
split by language or bootstrap as they need. They live here, below search and recommend, so training code can
use them without importing the evaluation harness (which sits above the facade); evaluation re-exports them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def dcg_gains(grades: Sequence[float]) -> np.ndarray:
    """Exponential gain 2^grade - 1, the convention of the numbers quoted in shared/data/README."""
    return np.power(2.0, np.asarray(grades, dtype=np.float64)) - 1.0


def ndcg_at_k(ranked: Sequence[str], qrels: Mapping[str, float], k: int = 10) -> float:
    """nDCG@k with gain 2^grade-1; unjudged ids count as 0; ideal from all judged grades."""
    ideal = sorted((g for g in qrels.values() if g > 0), reverse=True)[:k]
    if not ideal:
        return 0.0
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    gains = dcg_gains([qrels.get(pid, 0.0) for pid in ranked[:k]])
    dcg = float(np.dot(gains, discounts[: len(gains)]))
    idcg = float(np.dot(dcg_gains(ideal), discounts[: len(ideal)]))
    return dcg / idcg


def mrr_at_k(ranked: Sequence[str], qrels: Mapping[str, float], k: int = 10, min_grade: float = 2) -> float:
    """Reciprocal rank of the first id with grade ≥ min_grade within the top k."""
    for rank, pid in enumerate(ranked[:k], start=1):
        if qrels.get(pid, 0.0) >= min_grade:
            return 1.0 / rank
    return 0.0


def recall_at_k(ranked: Sequence[str], qrels: Mapping[str, float], k: int = 100, min_grade: float = 2) -> float:
    """Share of ids with grade ≥ min_grade found in the top k (0 when the query has none)."""
    relevant = {pid for pid, g in qrels.items() if g >= min_grade}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def hit_rank_metrics(ranks: np.ndarray, k: int) -> tuple[float, float]:
    """HR@k and NDCG@k for single-target evaluation, from the 0-based rank of each target."""
    ranks = np.asarray(ranks)
    hit = ranks < k
    hr = float(hit.mean()) if len(ranks) else 0.0
    ndcg = float(np.where(hit, 1.0 / np.log2(ranks + 2.0), 0.0).mean()) if len(ranks) else 0.0
    return hr, ndcg


def auc(pred: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (rank statistic, ties averaged)."""
    from scipy.stats import rankdata

    labels = labels.astype(bool)
    n_pos, n_neg = labels.sum(), (~labels).sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(pred)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
