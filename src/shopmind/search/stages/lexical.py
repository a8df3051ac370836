"""Retrieval, lexical side: the query's fields and BM25 over every row (per field, weighted, title coverage)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import numpy as np

from shopmind.index.base import top_k
from shopmind.index.lexical import LexicalIndex
from shopmind.search.crosslang import translated_tokens
from shopmind.search.stages.context import LexicalScores
from shopmind.search.understand import Understood
from shopmind.text.tokenize import pinyin_query_tokens, tokenize

LEX_HEAD = 1000  # best BM25 rows that join the fusion candidates


def query_fields(lexical: LexicalIndex, u: Understood) -> dict[str, list[str]]:
    """Query tokens for every field ("*"), synonyms included, plus pinyin for English-looking queries."""
    toks = list(u.tokens)
    for syns in u.synonyms.values():
        for s in syns:
            toks.extend(tokenize(s, normalized=True))
    toks.extend(translated_tokens(u.translations))  # a query in the other language is scored on its translation too
    fields = {"*": toks}
    if u.language == "en" and "pinyin" in lexical.fields:
        fields["pinyin"] = pinyin_query_tokens(u.text)
    return fields


def lexical_scores(lexical: LexicalIndex, qfields: Mapping[str, list[str]]) -> LexicalScores:
    """Weighted BM25 over all rows, per-field vectors and title coverage (share of terms, IDF share, last term)."""
    toks = qfields.get("*", [])
    n = lexical.size
    cov = np.zeros((n, 3), np.float32)
    counts = Counter(toks)
    title = lexical.fields.get("title")
    if title is None or not counts or lexical.weights.get("title", 0.0) <= 0:
        per_field = lexical.field_scores(qfields)
    else:
        # title scored token by token (BM25 is a sum over terms) from each token's postings: the same rows give
        # coverage, and only the rows holding a token are touched (no catalog-sized temporaries per token)
        per_field = lexical.field_scores({**qfields, "title": []})
        title_vec = np.zeros(n, np.float32)
        hit_count = np.zeros(n, np.float32)
        idf_hit = np.zeros(n, np.float32)
        idf_total = 0.0
        last = toks[-1]
        for tok, c in counts.items():
            rows, v = title.hits(tok)
            title_vec[rows] += np.float32(c) * v
            hit_count[rows] += 1
            idf = title.idf(tok)
            idf_hit[rows] += np.float32(idf)
            idf_total += idf
            if tok == last:
                cov[rows, 2] = 1
        per_field["title"] = title_vec
        np.divide(hit_count, np.float32(len(counts)), out=cov[:, 0])
        np.divide(idf_hit, np.float32(max(idf_total, 1e-9)), out=cov[:, 1])
    return LexicalScores(lexical.combine(per_field), per_field, cov)


def empty_scores(n: int) -> LexicalScores:
    """No lexical evidence (dense-only mode)."""
    return LexicalScores(np.zeros(n, np.float32), {}, np.zeros((n, 3), np.float32))


def lex_head(lex_all: np.ndarray, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows BM25 matches among allowed rows, and the LEX_HEAD best of them."""
    lex_ok = (lex_all > 0) & allowed
    return lex_ok, top_k(lex_all, LEX_HEAD, lex_ok)[0]
