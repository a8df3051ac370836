"""Shared fixtures of the experiment tests: real Home Depot result lists to interleave."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

K = 10
N_QUERIES = 150


@pytest.fixture(scope="session")
def hd(shared_data: Path) -> dict:
    """Real queries with >= 4 judged products, BM25 top-30 over a real title slice, and title lengths."""
    from shopmind.index.lexical import LexicalIndex
    from shopmind.text.tokenize import tokenize

    root = shared_data / "search" / "homedepot"
    queries = dict(line.split("\t") for line in (root / "queries.tsv").read_text(encoding="utf-8").splitlines())
    grades: dict[str, dict[str, float]] = defaultdict(dict)
    for line in (root / "qrels.tsv").read_text(encoding="utf-8").splitlines():
        qid, pid, g = line.split("\t")
        grades[qid][pid] = float(g)
    qids = [q for q in queries if len(grades[q]) >= 4][:N_QUERIES]
    wanted = {p for q in qids for p in grades[q]}
    titles: dict[str, str] = {}
    with open(root / "products.jsonl", encoding="utf-8") as f:
        for i, line in enumerate(f):
            row = json.loads(line)
            if i < 3000 or row["id"] in wanted:
                titles[row["id"]] = row["title"]
    ids = list(titles)
    index = LexicalIndex.build({"title": [tokenize(titles[i]) for i in ids]}, {"title": 1.0})
    bm25 = {}
    for q in qids:
        rows, _ = index.search({"title": tokenize(queries[q])}, 30)
        bm25[q] = [ids[r] for r in rows.tolist()]
    qids = [q for q in qids if len(bm25[q]) >= 2 * K]
    assert len(qids) >= 100
    by_length = {q: sorted(bm25[q], key=lambda i: (len(titles[i]), i))[: 2 * K] for q in qids}
    return {"qids": qids, "grades": grades, "bm25": bm25, "by_length": by_length}
