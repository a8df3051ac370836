"""bench/_und_search.py and bench/_und_ratings.py: the paired difference and the rank metrics they report, checked by
hand; the ratings section on real MovieLens-100K at smoke size carries its keys and picks its weight on validation."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import _und_ratings
import _und_search


def test_paired_delta_counts_and_interval():
    a = [0.5, 0.2, 0.0, 1.0]
    b = [0.5, 0.4, 0.1, 0.9]
    d = _und_search.paired_delta(a, b)
    assert d["mean"] == pytest.approx((0 + 0.2 + 0.1 - 0.1) / 4, abs=1e-4)
    assert (d["better"], d["worse"]) == (2, 1)
    assert -0.1 <= d["lo"] <= d["mean"] <= d["hi"] <= 0.2
    assert _und_search.paired_delta([], [])["mean"] == 0.0


def test_rank_metrics_by_hand():
    scores = np.array([[0.9, 0.8, 0.1, -np.inf], [0.1, 0.2, 0.3, 0.4]])
    ndcg, hit = _und_ratings._rank_metrics(scores, np.array([1, 0]))  # ranks 1 (0-based) and 3
    assert ndcg.tolist() == pytest.approx([1 / math.log2(3), 1 / math.log2(5)])
    assert hit.tolist() == [1.0, 1.0]


def test_ratings_section_smoke(shared_data):
    out = _und_ratings.run(argparse.Namespace(data=shared_data, quick=True))
    assert out["ratings.users"] == 200 and out["ratings.items"] == 1682
    val = out["ratings.validation_ndcg@10"]
    assert out["ratings.chosen_weight"] == max(_und_ratings.W_GRID, key=lambda w: (val[str(w)], -w))
    if out["ratings.chosen_weight"] == 0.0:
        assert out["ratings.test_ndcg@10_ease"] == out["ratings.test_ndcg@10_ease+rating"] and not out["ratings.supports_signal"]
