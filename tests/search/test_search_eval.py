"""evaluate_search on the real Multi-CPR (zh) set: BM25 over everything; hybrid + trained ranker on a slice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shopmind.evaluation.search_eval import evaluate_search, load_qrels, load_queries, split_of

pytestmark = pytest.mark.integration  # whole-catalog builds and evaluations: the integration tier

KEYS = {"ndcg@10", "mrr@10", "recall@100", "queries", "latency_ms_p50", "latency_ms_p99", "index_s"}


def test_bm25_full_set(shared_data: Path) -> None:
    d = shared_data / "search" / "multicpr-zh"
    out = evaluate_search(d / "products.jsonl", d / "queries.tsv", d / "qrels.tsv", mode="bm25")
    assert set(out) >= KEYS and out["queries"] == 125
    assert out["ndcg@10"] >= 0.7268  # the README's jieba BM25 number


def test_hybrid_with_ranker_trained_on_other_queries(shared_data: Path, tmp_path: Path) -> None:
    d = shared_data / "search" / "multicpr-zh"
    qrels = load_qrels(d / "qrels.tsv")
    queries = load_queries(d / "queries.tsv")
    targets = {pid for rel in qrels.values() for pid in rel}
    lines = (d / "products.jsonl").read_text(encoding="utf-8").splitlines()
    keep = [ln for ln in lines if json.loads(ln)["id"] in targets] + [ln for ln in lines if json.loads(ln)["id"] not in targets][:150]
    (tmp_path / "products.jsonl").write_text("\n".join(keep) + "\n", encoding="utf-8")
    train = {q for q in queries if split_of(q) != "test"}
    rows = [f"{q}\t{p}\t{int(g)}" for q, rel in qrels.items() for p, g in rel.items()]
    (tmp_path / "train.tsv").write_text("\n".join(r for r in rows if r.split("\t")[0] in train), encoding="utf-8")
    (tmp_path / "test.tsv").write_text("\n".join(r for r in rows if r.split("\t")[0] not in train), encoding="utf-8")
    out = evaluate_search(
        tmp_path / "products.jsonl", d / "queries.tsv", tmp_path / "test.tsv", train_qrels=tmp_path / "train.tsv", work_dir=tmp_path / "w"
    )
    assert out["ranker"] is True and out["queries"] == 125 - len(train & set(qrels))
    assert out["ndcg@10"] >= 0.75
    meta = json.loads((tmp_path / "w" / "meta.json").read_text())
    assert "dense_weight" in meta["tuned"] and (tmp_path / "w" / "ranker.txt").exists()
