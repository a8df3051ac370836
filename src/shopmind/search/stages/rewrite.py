"""Query rewriting for zero- and low-result queries, learned from the catalog (no hand list of phrases).

The catalog rewrite keeps the largest set of the query's known terms (a term with its synonyms, as the match rule
counts it; words the catalog never saw are already left out) that products still contain together — at least
`match.min_should_match` of them, among the rows the filters allow. Among sets of that size it prefers the one the
query's nearest products (dense neighbours, when the request has a vector) agree with most, then the rarest words
(sum of IDF): the words that occur together in the catalog and that the nearest products share stay.

A rewrite keeps at least MIN_KEEP terms. Zero results: the `rewrite` step of retrieve's recovery (after spelling,
before the least-important-term drop). Low results (0 < total < LOW_RESULTS): the rewrite's matches join the
candidates as related products, never counted in `total`. With an LLM configured, the facade hands the search part a
`query_rewriter` (the assistant's `rewrite_query`, bounded by a timeout); for zero results it is asked first, and
the catalog rewrite runs when it says nothing new or its query matches nothing. Measured: bench/_und_generation.py.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from shopmind.search.stages import dense as dense_side
from shopmind.search.stages import lexical as lexical_side
from shopmind.search.stages import match as match_rule
from shopmind.search.stages.context import MatchInfo, SearchContext
from shopmind.search.stages.match import TermHits, min_should_match
from shopmind.search.stages.understand import retokenize
from shopmind.text.normalize import normalize
from shopmind.text.tokenize import tokenize

log = logging.getLogger(__name__)
QueryRewriter = Callable[[str], "str | None"]
MAX_TERMS = 10  # a longer query keeps its 10 rarest known terms for the search over subsets (2^10 sets at most)
MIN_KEEP = 2  # the fewest terms a rewrite keeps (chosen on Home Depot train queries: 1 gave single-word rewrites that
# ranked below the least-important-term drop; bench/_und_generation.py --parts train --set MIN_KEEP=…)
NEAR_K = 50  # dense neighbours whose agreement breaks ties between term sets
MIN_AGREE = 0  # with a query vector: how many of those neighbours a kept term set must match (0: agreement only ranks)


@dataclass
class Rewrite:
    """A rewritten query: the terms it keeps and drops, the text, and where it came from ('catalog' | 'llm')."""

    text: str
    kept: list[str]
    dropped: list[str]
    source: str = "catalog"
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # rows holding ≥ min_should_match of `kept`

    def label(self, original: str) -> str:
        """How the rewrite is shown in `why` / recovery_steps."""
        how = "LLM" if self.source == "llm" else "catalog"
        extra = f"; dropped terms {', '.join(repr(t) for t in self.dropped)}" if self.dropped else ""
        return f"rewrote query ({how}): {original!r} → {self.text!r}{extra}"


def _codes(hits: TermHits, idx: list[int], n_rows: int, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows holding any of the chosen terms and allowed, per row a bit mask of the chosen terms it holds)."""
    code = np.zeros(n_rows, np.int64)
    for bit, i in enumerate(idx):
        r = hits.rows[i]
        code[r[r < n_rows]] |= 1 << bit
    code &= np.where(allowed[:n_rows], -1, 0)
    rows = np.flatnonzero(code)
    return rows, code[rows]


_POP = np.array([bin(i).count("1") for i in range(1 << MAX_TERMS)], np.int64)  # bits set, per term mask


def _popcount(x: np.ndarray) -> np.ndarray:
    return _POP[x]


def catalog_rewrite(hits: TermHits, n_rows: int, allowed: np.ndarray, near: np.ndarray | None = None,
                    text: str = "", current: int = 0) -> Rewrite | None:
    """The best term set (see module docstring) that keeps fewer terms than the query but still matches an allowed
    product; None when every known term already counts, no smaller set matches, or the query has one term.
    `near`: the query's nearest rows (dense), best first; `text`: the query (the rewrite keeps its words whose terms
    stay); `current`: how many products the query matches now (a rewrite must add some)."""
    n_terms = len(hits.terms)
    if n_terms < 2:
        return None
    idf = np.array([np.log((n_rows + 1) / (len(r) + 1)) for r in hits.rows])
    idx = sorted(range(n_terms), key=lambda i: -idf[i])[:MAX_TERMS]
    rows, code = _codes(hits, idx, n_rows, allowed)
    if not len(rows):
        return None
    near_codes = code[np.isin(rows, near)] if near is not None and len(near) else np.zeros(0, np.int64)
    uniq, count = np.unique(code, return_counts=True)
    top = len(idx) if n_terms > len(idx) else n_terms - 1  # fewer terms than the query asks for
    for k in range(top, MIN_KEEP - 1, -1):
        need = min_should_match(k)
        best: tuple[tuple[int, float], int, int] | None = None
        for combo in combinations(range(len(idx)), k):
            mask = sum(1 << b for b in combo)
            ok = _popcount(uniq & mask) >= need
            matched = int(count[ok].sum())
            if matched <= current:
                continue
            agree = int((_popcount(near_codes & mask) >= need).sum()) if len(near_codes) else 0
            if near is not None and agree < MIN_AGREE:
                continue
            key = (agree, float(idf[[idx[b] for b in combo]].sum()))
            if best is None or key > best[0]:
                best = (key, mask, matched)
        if best is not None:
            _, mask, _ = best
            kept = [hits.terms[idx[b]] for b in range(len(idx)) if mask >> b & 1]
            sel = rows[_popcount(code & mask) >= min_should_match(k)]
            dropped = [t for t in hits.terms if t not in kept]
            return Rewrite(text=_kept_words(text, set(kept)) or " ".join(kept), kept=kept, dropped=dropped, rows=sel)
    return None


def _kept_words(text: str, kept: set[str]) -> str:
    """The query's own words whose index terms (or the word itself: a translated source word) are kept, in order."""
    return " ".join(w for w in text.split() if w in kept or set(tokenize(w)) & kept)


def llm_rewrite(rewriter: QueryRewriter | None, query: str) -> str | None:
    """The LLM's rewrite of `query` (None without a rewriter, on any failure, or when it returns the query itself)."""
    if rewriter is None:
        return None
    try:
        text = rewriter(query)
    except Exception as exc:  # noqa: BLE001 - a failing rewriter must never fail the search
        log.warning("query rewriter failed: %s", exc)
        return None
    text = (text or "").strip()
    return text if text and text.casefold() != query.strip().casefold() else None


# ------------------------------------------------------------------------------------------------ in the retrieve stage
LOW_RESULTS = 3  # a query matching fewer products than this is offered its rewrite's matches as related (not counted)
MAX_OFFERED = 100  # related rows a low-result rewrite adds to the candidates (best BM25 of the query first)


def _near(ctx: SearchContext, allowed: np.ndarray) -> np.ndarray | None:
    """The query's nearest allowed rows (dense), or None without a vector."""
    if ctx.qvec is None or ctx.parts.vectors is None:
        return None
    return dense_side.dense_top_k(ctx.parts.vectors, ctx.qvec, allowed, NEAR_K, -1.0)[0]


def _catalog(ctx: SearchContext, current: int) -> Rewrite | None:
    from shopmind.search.stages.retrieve import allowed_rows

    if ctx.mode == "dense" or ctx.lexical is None:
        return None
    allowed = allowed_rows(ctx.parts, ctx.masks)
    _, hits, _ = match_rule.lexical_match(ctx.parts.lexical, ctx.u)
    return catalog_rewrite(hits, len(ctx.parts.table), allowed, _near(ctx, allowed), ctx.u.text, current)


def _llm(ctx: SearchContext) -> tuple[MatchInfo, str] | None:
    """The LLM's rewrite, understood and matched like a query (the understanding is restored when it matches nothing)."""
    from shopmind.search.stages.retrieve import allowed_rows, dense_matches, match_info, uses_dense

    parts, u = ctx.parts, ctx.u
    text = llm_rewrite(getattr(parts, "query_rewriter", None), ctx.request.query)
    if text is None:
        return None
    saved = (copy.copy(u), ctx.lexical, ctx.qvec)
    said, text = text, normalize(text)
    retokenize(parts, u, text)
    if ctx.mode != "dense":
        ctx.lexical = lexical_side.lexical_scores(parts.lexical, lexical_side.query_fields(parts.lexical, u))
    if ctx.qvec is not None:
        ctx.qvec = parts.pool.submit(parts.encoder.encode_queries, [text]).result()[0]
    assert ctx.lexical is not None
    none = (np.zeros(0, np.int64), np.zeros(0, np.float32), None)
    mi = match_info(parts, u, ctx.lexical, ctx.mode, dense_matches(parts, ctx.qvec)[0] if uses_dense(parts, ctx.mode) else none)
    if (mi.matched & allowed_rows(parts, ctx.masks)).any():
        return mi, Rewrite(text=said, kept=u.tokens, dropped=[], source="llm").label(ctx.request.query)
    ctx.understood, ctx.lexical, ctx.qvec = saved
    return None


def recover(ctx: SearchContext, mi: MatchInfo) -> tuple[MatchInfo, str] | None:
    """The rewrite step of zero-result recovery: the LLM's rewrite when one is configured and it matches, else the
    catalog rewrite; (the new match info, its label) or None."""
    from shopmind.search.stages.retrieve import match_info

    got = _llm(ctx)
    if got is not None:
        return got
    rw = _catalog(ctx, 0)
    if rw is None:
        return None
    assert ctx.lexical is not None
    return match_info(ctx.parts, ctx.u, ctx.lexical, ctx.mode, mi.dense(), drop=tuple(rw.dropped)), rw.label(ctx.u.text)


def offer_related(ctx: SearchContext, pool: np.ndarray | None) -> None:
    """A low-result query: the catalog rewrite's matches join the candidates as related products (never in `total`)."""
    from shopmind.search.stages.retrieve import _apply

    current = ctx.r.match
    rw = _catalog(ctx, int(current.sum()))
    if rw is None:
        return
    extra = rw.rows[~current[rw.rows]]
    if not len(extra):
        return
    assert ctx.lexical is not None
    extra = extra[np.argsort(-ctx.lexical.lex_all[extra], kind="stable")][:MAX_OFFERED]
    base = pool if pool is not None else np.zeros(0, np.int64)
    _apply(ctx, ctx.m, np.concatenate([base, extra[~np.isin(extra, base)]]))
    ctx.recovery_steps.append(f"related from {rw.label(ctx.u.text)} ({len(rw.rows)} products, not counted in total)")
