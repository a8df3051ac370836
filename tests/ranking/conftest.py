"""A real learning-to-rank slice: Home Depot queries with their crowd-judged products (grades 0–3), described by
a few query × title features that carry the search registry's names (read from shared/, never copied)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from shopmind.text.tokenize import tokenize

HD_FEATURES = ["title_coverage", "title_last_term", "title_all_terms", "query_terms", "title_terms", "title_overlap"]
N_QUERIES = 1500


@dataclass
class Split:
    """Rows of judged (query, product) pairs, grouped by query in order."""

    X: np.ndarray
    y: np.ndarray
    groups: list[int]


def _row(q: list[str], title: list[str]) -> list[float]:
    ts = set(title)
    hits = sum(t in ts for t in q)
    return [hits / max(len(q), 1), float(bool(q) and q[-1] in ts), float(hits == len(q) and bool(q)), len(set(q)), len(title), hits]


def _split(qids: list[str], queries: dict[str, list[str]], judged: dict[str, list[tuple[str, int]]], titles: dict[str, list[str]]) -> Split:
    X, y, groups = [], [], []
    for qid in qids:
        rows = [(_row(queries[qid], titles[pid]), g) for pid, g in judged[qid] if pid in titles]
        X += [r for r, _ in rows]
        y += [g for _, g in rows]
        groups.append(len(rows))
    return Split(np.array(X, np.float64), np.array(y, np.int32), groups)


@pytest.fixture(scope="session")
def hd_ltr(shared_data: Path) -> dict[str, Split]:
    """The first N_QUERIES judged Home Depot queries with ≥ 3 judged products and two grades, split 60/20/20."""
    root = shared_data / "search" / "homedepot"
    with open(root / "queries.tsv", encoding="utf-8") as f:
        queries = {qid: tokenize(text) for qid, text in csv.reader(f, delimiter="\t")}
    judged: dict[str, list[tuple[str, int]]] = {}
    with open(root / "qrels.tsv", encoding="utf-8") as f:
        for qid, pid, grade in csv.reader(f, delimiter="\t"):
            judged.setdefault(qid, []).append((pid, int(grade)))
    keep = [q for q, js in judged.items() if q in queries and len(js) >= 3 and len({g for _, g in js}) > 1][:N_QUERIES]
    wanted = {pid for q in keep for pid, _ in judged[q]}
    titles: dict[str, list[str]] = {}
    with open(root / "products.jsonl", encoding="utf-8") as f:
        for line in f:
            p = json.loads(line)
            if p["id"] in wanted:
                titles[p["id"]] = tokenize(p["title"])
    n = len(keep)
    return {"train": _split(keep[: n * 3 // 5], queries, judged, titles), "valid": _split(keep[n * 3 // 5 : n * 4 // 5], queries, judged, titles),
            "test": _split(keep[n * 4 // 5 :], queries, judged, titles)}
