"""Pure ranking metrics live below search and recommend; evaluation re-exports them; nothing below the facade
imports evaluation."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from shopmind.ranking import metrics

SRC = Path(__file__).resolve().parents[2] / "src" / "shopmind"


def test_ndcg_mrr_recall_on_a_known_ranking():
    qrels = {"a": 3.0, "b": 1.0, "c": 0.0}
    assert metrics.ndcg_at_k(["a", "b", "c"], qrels, 10) == pytest.approx(1.0)
    worst = metrics.ndcg_at_k(["c", "b", "a"], qrels, 10)
    assert 0 < worst < 1
    assert metrics.mrr_at_k(["c", "b", "a"], qrels, 10) == pytest.approx(1 / 3)
    assert metrics.recall_at_k(["c", "b"], qrels, 2) == 0.0
    hr, ndcg = metrics.hit_rank_metrics(np.array([0, 3, 20]), 10)
    assert hr == pytest.approx(2 / 3) and ndcg == pytest.approx((1 + 1 / np.log2(5)) / 3)
    assert metrics.auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == pytest.approx(0.75)


def test_evaluation_reexports_the_same_functions():
    from shopmind.evaluation import metrics as ev

    for name in ("ndcg_at_k", "mrr_at_k", "recall_at_k", "hit_rank_metrics", "dcg_gains", "auc"):
        assert getattr(ev, name) is getattr(metrics, name)


@pytest.mark.parametrize("part", ["search", "recommend", "ranking", "ads", "assistant", "forecast"])
def test_no_part_below_the_facade_imports_evaluation(part):
    bad = []
    for path in sorted((SRC / part).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            bad += [f"{path.relative_to(SRC)}: {n}" for n in names if n == "shopmind.evaluation" or n.startswith("shopmind.evaluation.")]
    assert not bad
