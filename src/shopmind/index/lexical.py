"""Multi-field BM25: one bm25s index per field, per-field score vectors combined with weights.

The main segment is a bm25s index per field (plain .npy + JSON on disk). Rows added after the build go
to an in-memory delta scored with the main segment's IDF and length statistics, so an upserted product
is searchable at once and its scores are comparable; a rebuild folds the delta in.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shopmind.index.base import top_k

FieldTokens = Mapping[str, Sequence[str]]


class _Field:
    """One field: a bm25s main segment plus delta postings scored with the main IDF."""

    def __init__(self, retriever, n_main: int, avgdl: float) -> None:
        self.bm25 = retriever
        self.n_main = n_main
        self.avgdl = max(avgdl, 1e-9)
        indptr = np.asarray(retriever.scores["indptr"]) if retriever is not None else np.zeros(1)
        self.df = np.diff(indptr) if retriever is not None else np.zeros(0)
        self.k1 = float(getattr(retriever, "k1", 1.5))
        self.b = float(getattr(retriever, "b", 0.75))
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.delta_len: dict[int, int] = {}

    @classmethod
    def build(cls, docs: Sequence[Sequence[str]]):
        """Index token lists with bm25s (lucene variant); an all-empty field gets no retriever."""
        import bm25s

        n = len(docs)
        lens = np.fromiter((len(d) for d in docs), dtype=np.int64, count=n)
        if n == 0 or lens.sum() == 0:
            return cls(None, n, 1.0)
        retriever = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
        retriever.index([list(d) if d else [""] for d in docs], show_progress=False)
        return cls(retriever, n, float(lens.mean()))

    def idf(self, token: str) -> float:
        """Lucene IDF from the main segment's document frequency."""
        tid = self.bm25.vocab_dict.get(token) if self.bm25 is not None else None
        df = int(self.df[tid]) if tid is not None and tid < len(self.df) else 0
        return math.log(1 + (self.n_main - df + 0.5) / (df + 0.5))

    @property
    def empty(self) -> bool:
        """No main segment and no delta postings: every score is 0."""
        return self.bm25 is None and not self.postings

    def add(self, row: int, tokens: Sequence[str]) -> None:
        """Index one delta row."""
        self.delta_len[row] = len(tokens)
        for tok, tf in Counter(tokens).items():
            self.postings[tok].append((row, tf))

    def hits(self, token: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows, BM25 score) of the rows that contain `token`, each row once: the main segment's precomputed bm25s
        scores (its sparse token × document matrix, read in place) and the delta's, scored with the main IDF."""
        rows: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        if self.bm25 is not None and self.n_main and token != "":
            tid = self.bm25.vocab_dict.get(token)
            if tid is not None:
                sc = self.bm25.scores
                start, end = int(sc["indptr"][tid]), int(sc["indptr"][tid + 1])
                rows.append(np.asarray(sc["indices"][start:end], np.int64))
                scores.append(np.asarray(sc["data"][start:end], np.float32))
        plist = self.postings.get(token)
        if plist:
            idf = self.idf(token)
            drows = np.fromiter((r for r, _ in plist), np.int64, len(plist))
            tf = np.fromiter((t for _, t in plist), np.float32, len(plist))
            dl = np.fromiter((self.delta_len[r] for r, _ in plist), np.float32, len(plist))
            rows.append(drows)
            scores.append((idf * tf / (tf + self.k1 * (1 - self.b + self.b * dl / self.avgdl))).astype(np.float32))  # bm25s "lucene"
        if not rows:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        return (rows[0], scores[0]) if len(rows) == 1 else (np.concatenate(rows), np.concatenate(scores))

    def scores(self, tokens: Sequence[str], n_rows: int) -> np.ndarray:
        """BM25 score of every row (main + delta) for the query tokens (a repeated token counts again, as in bm25s),
        summed from each token's postings: no catalog-sized array but the result."""
        out = np.zeros(n_rows, np.float32)
        for tok in tokens:
            rows, sc = self.hits(tok)
            out[rows] += sc  # rows are unique within one token
        return out


class LexicalIndex:
    """Weighted multi-field BM25 over rows; `field_scores` exposes per-field vectors for ranking."""

    def __init__(self, fields: dict[str, _Field], weights: Mapping[str, float], n_main: int) -> None:
        self.fields = fields
        self.weights = dict(weights)
        self.n_main = n_main
        self._n = n_main

    @property
    def size(self) -> int:
        return self._n

    @classmethod
    def build(cls, docs: Mapping[str, Sequence[Sequence[str]]], weights: Mapping[str, float]) -> LexicalIndex:
        """docs: field → token lists (one per row, all fields the same length)."""
        n = len(next(iter(docs.values()))) if docs else 0
        fields = {name: _Field.build(toks) for name, toks in docs.items()}
        return cls(fields, weights, n)

    def add(self, rows: np.ndarray, docs: Sequence[FieldTokens]) -> None:
        """Append delta rows (row numbers must be ≥ current size, consecutive)."""
        for row, doc in zip(np.asarray(rows).tolist(), docs, strict=True):
            for name, field in self.fields.items():
                field.add(row, list(doc.get(name, ())))
            self._n = max(self._n, row + 1)

    def field_scores(self, query: FieldTokens) -> dict[str, np.ndarray]:
        """Per-field BM25 score vectors over all rows (fields with zero weight or no query tokens skipped)."""
        out = {}
        for name, field in self.fields.items():
            toks = query[name] if name in query else query.get("*", [])
            if toks and self.weights.get(name, 0.0) > 0 and not field.empty:
                out[name] = field.scores(toks, self._n)
        return out

    def combine(self, per_field: Mapping[str, np.ndarray]) -> np.ndarray:
        """Weighted sum of per-field vectors."""
        total = np.zeros(self._n, np.float32)
        scratch = np.empty(self._n, np.float32)
        for name, vec in per_field.items():
            total += np.multiply(vec, np.float32(self.weights.get(name, 0.0)), out=scratch)
        return total

    def search(self, query: FieldTokens, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k rows with a positive weighted BM25 score among allowed rows."""
        return top_k(self.combine(self.field_scores(query)), k, allowed, min_score=0.0)

    def save(self, path: Path) -> None:
        """bm25s files per field + lexical.json (weights, sizes, avg lengths)."""
        path.mkdir(parents=True, exist_ok=True)
        meta: dict[str, Any] = {"n_main": self._n_main_for_save(), "weights": self.weights, "fields": {}}
        for name, field in self.fields.items():
            meta["fields"][name] = {"avgdl": field.avgdl, "empty": field.bm25 is None}
            if field.bm25 is not None:
                field.bm25.save(str(path / f"bm25_{name}"))
        (path / "lexical.json").write_text(json.dumps(meta, indent=1))

    def _n_main_for_save(self) -> int:
        if self._n != self.n_main:
            raise RuntimeError("save() after add(): rebuild to fold the delta into the main segment")
        return self.n_main

    @classmethod
    def load(cls, path: Path, weights: Mapping[str, float] | None = None, mmap: bool = False) -> LexicalIndex:
        """Read what save() wrote (weights from the argument win over the saved ones)."""
        import bm25s

        meta = json.loads((path / "lexical.json").read_text())
        fields = {}
        for name, fm in meta["fields"].items():
            retr = None if fm["empty"] else bm25s.BM25.load(str(path / f"bm25_{name}"), mmap=mmap)
            fields[name] = _Field(retr, meta["n_main"], fm["avgdl"])
        return cls(fields, weights or meta["weights"], meta["n_main"])
