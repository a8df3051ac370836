"""The frozen `final` half of the search test split (issue 21): a deterministic rule, disjoint from what tuning sees,
recorded in bench/search_sets/FROZEN.md, and the bench's check and README baseline over it."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from shopmind.evaluation.search_eval import final_of, load_products, load_qrels, load_queries, split_of

REPO = Path(__file__).resolve().parents[2]


def _bench_final():
    spec = importlib.util.spec_from_file_location("bench_search_final", REPO / "bench" / "_search_final.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def hd(shared_data: Path) -> tuple[dict[str, str], dict[str, dict[str, float]]]:
    d = shared_data / "search" / "homedepot"
    return load_queries(d / "queries.tsv"), load_qrels(d / "qrels.tsv")


def test_final_is_a_deterministic_half_of_test_and_never_train_or_valid(hd) -> None:
    queries, _ = hd
    parts = {q: final_of(q) for q in queries}
    assert parts == {q: final_of(q) for q in queries}  # same answer every call
    for q, p in parts.items():
        base = split_of(q)
        assert (p in ("final", "dev")) == (base == "test"), q  # final/dev only ever split test
        if base != "test":
            assert p == base
    n = Counter(parts.values())
    assert 0.4 < n["final"] / (n["final"] + n["dev"]) < 0.6
    # the second hash is not the first: final is not just the upper (or lower) half of the test hash range
    assert {final_of(q) for q in queries if split_of(q) == "test"} == {"final", "dev"}


def test_frozen_record_matches_the_rule(hd) -> None:
    mod = _bench_final()
    queries, qrels = hd
    final = [q for q in queries if q in qrels and final_of(q) == "final"]
    assert mod.frozen_record("homedepot") is not None
    assert mod.check_frozen("homedepot", final)["frozen"] is True
    with pytest.raises(ValueError, match="homedepot"):
        mod.check_frozen("homedepot", final[1:])  # one query fewer: the frozen part changed


def test_readme_baseline_ranks_an_exact_title_first(shared_data: Path) -> None:
    d = shared_data / "search" / "homedepot"
    products = load_products(d / "products.jsonl")[:400]
    ids, titles = [p.id for p in products], [p.title for p in products]
    queries = {"q0": titles[7], "q1": "zzzz qqqq"}
    qrels = {"q0": {ids[7]: 3.0}, "q1": {ids[3]: 3.0}}
    nd = _bench_final().readme_baseline(titles, ids, queries, qrels)
    assert nd["q0"] == pytest.approx(1.0)
    assert nd["q1"] == 0.0
    assert np.isfinite(list(nd.values())).all()
