"""An opinion lexicon mined from rated reviews: each word's (English) or character/bigram's (Chinese) lean to
positive or negative, as the z-score of its log-odds ratio with an informative Dirichlet prior (Monroe et al. 2008).

Built by scripts/train_absa.py from reviews-en (ratings) and reviews-zh (labels), never from the ABSA test files;
shipped as a small JSON (term → z). The polarity model reads it as features: the opinion words near an aspect.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path

import orjson

from shopmind.understand.absa_data import tokens

Z_MIN = 2.0  # terms whose lean is weaker than this are not kept


def units(text: str, language: str) -> list[str]:
    """The lexicon's units of a text: lower-case English words; Chinese characters and character bigrams."""
    toks = [t.lower() for t, _, _ in tokens(text, language)]
    if language != "zh":
        return toks
    return toks + [a + b for a, b in pairwise(toks)]


def mine(docs: Iterable[tuple[str, bool]], language: str, *, min_count: int = 5, keep: int = 6000) -> dict[str, float]:
    """term → z (positive leans positive) from (text, is_positive) documents; the `keep` strongest terms over Z_MIN."""
    pos, neg = Counter[str](), Counter[str]()
    for text, positive in docs:
        (pos if positive else neg).update(set(units(text, language)))
    prior = pos + neg
    n_pos, n_neg = sum(pos.values()), sum(neg.values())
    a0 = 0.1 * (n_pos + n_neg)  # the prior: a tenth of each term's own frequency (Monroe et al.'s informative prior)
    out: dict[str, float] = {}
    for term, count in prior.items():
        if count < min_count:
            continue
        a, yp, yn = 0.1 * count, pos[term], neg[term]
        delta = math.log((yp + a) / (n_pos + a0 - yp - a)) - math.log((yn + a) / (n_neg + a0 - yn - a))
        z = delta / math.sqrt(1 / (yp + a) + 1 / (yn + a))
        if abs(z) >= Z_MIN:
            out[term] = round(z, 2)
    return dict(sorted(out.items(), key=lambda kv: -abs(kv[1]))[:keep])


def save(lexicon: dict[str, float], path: Path) -> None:
    """Write a lexicon as JSON."""
    path.write_bytes(orjson.dumps(lexicon, option=orjson.OPT_SORT_KEYS))


def load(path: Path) -> dict[str, float]:
    """Read a lexicon written by `save` (empty when the file is absent)."""
    return orjson.loads(path.read_bytes()) if path.is_file() else {}
