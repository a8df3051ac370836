"""Query–title structure for the search ranker: where each query term sits in a product title.

One sparse matrix (products × title-token vocabulary) holds every title token's first position, numbers written
as their value ("3/4" and "0.75" are one token), so a query's phrase (adjacent terms), number, brand-like first
word and head-noun position are found for a whole candidate list with one sparse slice. Built from the catalog's
titles on first use and extended as rows are appended (rows are never rewritten in place)."""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import scipy.sparse as sp

from shopmind.text.tokenize import tokenize

SIGNALS = ("title_bigram_share", "title_number_share", "title_first_term", "title_last_term_pos", "title_span")
"""The feature columns `TitleSignals.features` returns, in order."""

_NUM_RE = re.compile(r"^(\d+(?:\.\d+)?(?:/\d+)?)([a-z]*)$")
_MAX_POS = 255  # positions past this are stored as this (titles are short; keeps the matrix small)


def canonical(token: str) -> str:
    """A number token as its value, its unit kept ('3/4', '0.750' → 'n0.75'; '3/4in' → 'n0.75in'); other tokens unchanged."""
    m = _NUM_RE.match(token)
    if m is None:
        return token
    num, unit = m.groups()
    try:
        v = float(Fraction(num)) if "/" in num else float(num)
    except (ValueError, ZeroDivisionError):
        return token
    return "n" + f"{v:.4f}".rstrip("0").rstrip(".") + unit


def title_terms(text: str) -> list[str]:
    """The tokens positions are counted over: the index's title tokens (stemmed, no stop words), numbers canonical."""
    return [canonical(t) for t in tokenize(text)]


class TitleSignals:
    """First position (1-based) of every title token per row, and each title's token count."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.pos = sp.csr_matrix((0, 0), dtype=np.int16)
        self.length = np.zeros(0, np.float32)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return int(self.pos.shape[0])

    def extend(self, titles: Sequence[str]) -> None:
        """Append rows for `titles` (the table's rows after the last one known here)."""
        indptr, lens = [0], []
        cols: list[int] = []
        data: list[int] = []
        for title in titles:
            first: dict[int, int] = {}
            toks = title_terms(title)
            for i, tok in enumerate(toks):
                tid = self.vocab.setdefault(tok, len(self.vocab))
                first.setdefault(tid, min(i + 1, _MAX_POS))
            cols.extend(first)
            data.extend(first.values())
            indptr.append(len(cols))
            lens.append(len(toks))
        width = max(len(self.vocab), self.pos.shape[1])
        new = sp.csr_matrix((np.asarray(data, np.int16), np.asarray(cols, np.int64), np.asarray(indptr, np.int64)),
                            shape=(len(titles), width))
        old = self.pos.copy()
        old.resize((old.shape[0], width))
        self.length = np.concatenate([self.length, np.asarray(lens, np.float32)])  # first: a reader sizes by pos
        self.pos = sp.vstack([old, new], format="csr", dtype=np.int16)

    def features(self, rows: np.ndarray, query_tokens: Sequence[str]) -> np.ndarray:
        """(len(rows), len(SIGNALS)) for the query's tokens (the understood, stemmed tokens in query order):
        share of adjacent query-term pairs adjacent in the title (NaN: under two terms); share of the query's numbers
        in the title (NaN: none); 1 when the title's first term is a query term; relative position of the query's
        last term in the title (NaN: absent); span of the matched terms over their count (NaN: under two matched)."""
        rows = np.asarray(rows, np.int64)
        pos, length_of = self.pos, self.length  # one consistent view while another thread extends
        n = len(rows)
        out = np.full((n, len(SIGNALS)), np.nan, np.float32)
        q = [canonical(t) for t in query_tokens]
        ids = [self.vocab.get(t, -1) for t in q]
        uniq = sorted({i for i in ids if i >= 0})
        known = rows < pos.shape[0]
        if not n:
            return out
        P = np.zeros((n, len(uniq)), np.float32)
        if uniq and known.any():
            P[known] = positions(pos, rows[known], np.asarray(uniq, np.int64))
        col = {tid: j for j, tid in enumerate(uniq)}

        def position(tid: int) -> np.ndarray:
            return P[:, col[tid]] if tid in col else np.zeros(n, np.float32)

        pairs = [(ids[i], ids[i + 1]) for i in range(len(q) - 1) if q[i] != q[i + 1]]
        if pairs:
            adj = [(position(a) > 0) & (position(b) - position(a) == 1) for a, b in pairs]
            out[:, 0] = np.mean(adj, axis=0)
        nums = {i for t, i in zip(q, ids, strict=True) if t[:1] == "n" and t[1:2].isdigit()}
        if nums:
            out[:, 1] = np.mean([position(i) > 0 for i in nums], axis=0)
        out[:, 2] = (P == 1).any(axis=1) if uniq else 0.0
        last = position(ids[-1]) if ids else np.zeros(n, np.float32)
        length = np.where(known, length_of[np.minimum(rows, max(pos.shape[0] - 1, 0))] if pos.shape[0] else 0.0, 0.0)
        out[:, 3] = np.where(last > 0, last / np.maximum(length, 1.0), np.nan)
        hit = P > 0
        matched = hit.sum(axis=1)
        if uniq:
            span = np.where(hit, P, -np.inf).max(axis=1) - np.where(hit, P, np.inf).min(axis=1) + 1
            out[:, 4] = np.where(matched >= 2, span / np.maximum(matched, 1), np.nan)
        out[~known] = np.nan
        return out


def positions(pos: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """`pos[rows][:, cols].toarray()` (cols sorted, distinct; a row holds a column once) read straight from the CSR
    arrays: only the candidates' few stored entries are touched, without scipy's fancy-indexing machinery."""
    out = np.zeros((len(rows), len(cols)), pos.dtype)
    start, end = pos.indptr[rows], pos.indptr[rows + 1]
    lens = (end - start).astype(np.int64)
    total = int(lens.sum())
    if not total or not len(cols):
        return out
    first = np.cumsum(lens) - lens  # where each row's entries begin among the gathered ones
    at = np.arange(total) + np.repeat(start - first, lens)  # positions of the rows' entries in pos.indices
    tokens = pos.indices[at]
    j = np.minimum(np.searchsorted(cols, tokens), len(cols) - 1)
    hit = cols[j] == tokens
    out[np.repeat(np.arange(len(rows)), lens)[hit], j[hit]] = pos.data[at[hit]]
    return out


_BUILT: weakref.WeakKeyDictionary[Any, TitleSignals] = weakref.WeakKeyDictionary()
_BUILT_LOCK = threading.Lock()


def signals_for(table: Any) -> TitleSignals:
    """The table's TitleSignals, built on first use and extended to rows appended since (thread-safe)."""
    with _BUILT_LOCK:
        s = _BUILT.get(table)
        if s is None:
            s = _BUILT[table] = TitleSignals()
    if len(s) < len(table.titles):
        with s._lock:
            if len(s) < len(table.titles):
                s.extend(table.titles[len(s):])
    return s
