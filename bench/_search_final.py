"""The frozen `final` part of the search sets (issue 21): its check against bench/search_sets/FROZEN.md and the data
README's baseline on the same queries (bm25s over titles, English stemming, nDCG@10 with gain 2^grade − 1, unjudged 0).

Used by `bench/search.py --final` only; during development the bench reports on `dev` and never touches `final`."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from shopmind.evaluation.metrics import ndcg_at_k

FROZEN = Path(__file__).resolve().parent / "search_sets" / "FROZEN.md"


def digest(qids: Sequence[str]) -> str:
    """sha256 of the sorted query ids joined by newlines (what FROZEN.md records)."""
    return hashlib.sha256("\n".join(sorted(qids)).encode()).hexdigest()


def frozen_record(name: str, path: Path = FROZEN) -> tuple[int, str] | None:
    """(count, sha256) of a set's final part as frozen in FROZEN.md, None when the set was not frozen there."""
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0] == name and re.fullmatch(r"[0-9a-f]{64}", cells[5]):
            return int(cells[4]), cells[5]
    return None


def check_frozen(name: str, final_ids: Sequence[str], path: Path = FROZEN) -> dict:
    """The final part's count and hash against the frozen record; ValueError naming the set when they differ."""
    rec = frozen_record(name, path)
    got = (len(final_ids), digest(final_ids))
    if rec is not None and rec != got:
        raise ValueError(f"{name}: final part differs from {path.name} (frozen {rec[0]} queries {rec[1][:12]}…, now {got[0]} {got[1][:12]}…)")
    return {"queries": got[0], "sha256": got[1], "frozen": rec is not None}


def readme_baseline(titles: Sequence[str], ids: Sequence[str], queries: Mapping[str, str], qrels: Mapping[str, Mapping[str, float]],
                    chinese: bool = False) -> dict[str, float]:
    """Per-query nDCG@10 of the data README's baseline: bm25s (Lucene BM25, k1 1.5, b 0.75) over titles, English stop
    words and Snowball stemming (jieba search mode for a Chinese set), full retrieval of the products sharing a term, unjudged = 0."""
    import bm25s

    if chinese:
        import jieba

        def tok(xs: Sequence[str]) -> list[list[str]]:
            return [[w for w in jieba.lcut_for_search(x.lower()) if w.strip()] for x in xs]

        corpus, qtok = tok(titles), tok(list(queries.values()))
    else:
        import Stemmer

        stem = Stemmer.Stemmer("english")
        def tok(xs: Sequence[str]) -> list[list[str]]:
            return bm25s.tokenize(list(xs), stopwords="en", stemmer=stem, show_progress=False, return_ids=False)

        corpus, qtok = tok(titles), tok(list(queries.values()))
    r = bm25s.BM25()
    r.index(corpus, show_progress=False)
    out = {}
    for i, qid in enumerate(queries):
        known = [t for t in qtok[i] if t in r.vocab_dict]
        s = r.get_scores(known) if known else np.zeros(len(ids))
        top = np.argsort(-s, kind="stable")[:10]
        top = top[s[top] > 0]  # a product sharing no term with the query is not retrieved
        out[qid] = ndcg_at_k([ids[j] for j in top], qrels.get(qid, {}), 10)
    return out
