"""Query completions: leading phrases of product titles plus popular public queries, most frequent first."""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Sequence

from shopmind.domain import Product
from shopmind.text.normalize import normalize
from shopmind.text.tokenize import words


def suggest_phrases(title: str) -> list[str]:
    """Leading 1–3 word phrases of a title's normalised words (what a shopper starts typing)."""
    ws = [w for w in words(title) if w.strip()]
    out = []
    for i in range(len(ws)):
        for n in (1, 2, 3):
            if i + n <= len(ws):
                out.append(" ".join(ws[i : i + n]) if ws[i].isascii() else "".join(ws[i : i + n]))
    return out


class Suggester:
    """Sorted completion terms with their counts; `complete` is a prefix range lookup."""

    def __init__(self, terms: list[str], counts: list[int]) -> None:
        self.terms = terms
        self.counts = counts

    @classmethod
    def build(cls, products: Sequence[Product], public_log: Counter[str]) -> Suggester:
        """Title phrases (seen twice, or any in a catalog under 1,000 products) and public queries (× 5)."""
        suggest: Counter[str] = Counter()
        for p in products:
            suggest.update(set(suggest_phrases(p.title)))
        for q, c in public_log.items():
            suggest[q] += c * 5
        terms = sorted(t for t, c in suggest.items() if c >= 2 or len(products) < 1000)
        return cls(terms, [suggest[t] for t in terms])

    def complete(self, prefix: str, k: int = 10) -> list[str]:
        """Completions of a prefix, most frequent first (then shorter, then alphabetical)."""
        p = normalize(prefix)
        if not p or not self.terms:
            return []
        lo = bisect.bisect_left(self.terms, p)
        hi = bisect.bisect_left(self.terms, p + "\U0010ffff")
        cands = list(range(lo, min(hi, lo + 5000)))
        cands.sort(key=lambda i: (-self.counts[i], len(self.terms[i]), self.terms[i]))
        return [self.terms[i] for i in cands[:k]]
