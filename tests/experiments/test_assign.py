"""Deterministic salted assignment: the same unit gets the same arm everywhere, the split follows the weights on real
user ids (the 22,363 Amazon Beauty reviewers of seqrec/, sequential integer ids: the hardest case for a weak hash),
and a new salt reshuffles units independently of the old split."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from shopmind.experiments.assign import assign, bucket_of, buckets, uniform
from shopmind.experiments.model import Experiment
from shopmind.experiments.stats import srm_pvalue


@pytest.fixture(scope="module")
def user_ids(shared_data: Path) -> list[str]:
    with open(shared_data / "seqrec" / "Beauty.txt") as f:
        return [line.split(" ", 1)[0] for line in f if line.strip()]


def _exp(weights: list[float], salt: str = "") -> Experiment:
    return Experiment(id="exp-1", surface="search", salt=salt,
                      variants=[{"name": f"v{i}", "weight": w, "control": i == 0} for i, w in enumerate(weights)])


def test_the_same_unit_gets_the_same_variant_and_pinned_values_never_change() -> None:
    exp = _exp([1, 1])
    assert [assign(exp, "u7").name for _ in range(5)] == [assign(exp, "u7").name] * 5
    # pinned: a change of the hash would silently reshuffle every running experiment
    assert [round(uniform("s1", u), 12) for u in ("u1", "u2", "42")] == [0.875888881089, 0.093440258641, 0.217949908608]
    assert exp.salt == "exp-1"  # the salt defaults to the id


@pytest.mark.integration  # a fresh interpreter: no state shared with this process (another worker or host)
def test_another_process_assigns_the_same(user_ids: list[str]) -> None:
    code = ("import sys; from shopmind.experiments.assign import uniform; "
            "print(' '.join(repr(uniform('salt-x', u)) for u in sys.argv[1:]))")
    out = subprocess.run([sys.executable, "-c", code, *user_ids[:200]], capture_output=True, text=True, timeout=60, check=True)
    assert [float(x) for x in out.stdout.split()] == [uniform("salt-x", u) for u in user_ids[:200]]


@pytest.mark.parametrize("weights", [[1, 1], [1, 4], [2, 1, 1]])
def test_the_split_follows_the_weights_on_real_user_ids(user_ids: list[str], weights: list[float]) -> None:
    arms = bucket_of(_exp(weights), user_ids)
    counts = np.bincount(arms, minlength=len(weights))
    share = np.asarray(weights) / sum(weights)
    n = len(user_ids)
    assert np.all(np.abs(counts / n - share) < 4 * np.sqrt(share * (1 - share) / n)), counts
    assert srm_pvalue(counts.tolist(), share.tolist()) > 0.001
    assert [assign(_exp(weights), u).name for u in user_ids[:50]] == [f"v{i}" for i in arms[:50]]


def test_a_new_salt_reshuffles_independently(user_ids: list[str]) -> None:
    a = bucket_of(_exp([1, 1], salt="first"), user_ids)
    b = bucket_of(_exp([1, 1], salt="second"), user_ids)
    table = np.array([[np.sum((a == i) & (b == j)) for j in (0, 1)] for i in (0, 1)])
    assert (a != b).mean() > 0 and srm_pvalue(table.ravel().tolist(), [1, 1, 1, 1]) > 0.001  # the 2×2 cells are equally full
    assert np.abs((a == b).mean() - 0.5) < 4 * np.sqrt(0.25 / len(user_ids))


def test_bucket_edges() -> None:
    assert buckets([1, 3], np.array([0.0, 0.2499, 0.25, 0.9999999])).tolist() == [0, 0, 1, 1]
    with pytest.raises(ValueError, match="weights"):
        buckets([1, 0], 0.5)
