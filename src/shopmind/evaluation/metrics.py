"""Ranking metrics shared by search and recommendation evaluation (defined in shopmind.ranking.metrics, so search
and recommend training use them without importing evaluation; re-exported here for the evaluation harnesses)."""

from __future__ import annotations

from shopmind.ranking.metrics import auc, dcg_gains, hit_rank_metrics, mrr_at_k, ndcg_at_k, recall_at_k

__all__ = ["auc", "dcg_gains", "hit_rank_metrics", "mrr_at_k", "ndcg_at_k", "recall_at_k"]
