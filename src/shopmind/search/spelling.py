"""Spelling correction against the catalog's own vocabulary (+ words many shoppers typed), with symspellpy.

The vocabulary is saved as plain JSON (word → count); the SymSpell delete index is rebuilt from it when the search
service loads (`Speller.warm`, about a second at 60k products), not inside the first query that needs a correction.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any

from symspellpy import SymSpell, Verbosity

from shopmind.text.normalize import normalize

logger = logging.getLogger(__name__)

MAX_SPELL_LEN = 40  # longer tokens are not corrected (no English word is that long)
PREFIX_LENGTH = 7  # SymSpell's prefix: deletes of a word's first 7 letters (memory), results stay exact


@cache
def english_words() -> frozenset[str]:
    """The words of symspellpy's bundled English frequency dictionary (82,765 words, shipped in the wheel).

    A word of the language is not a typo even when the catalog lacks it: 'replace' must not become 'fireplace',
    nor 'gallon' 'carlon', because two edits reach a catalog word."""
    text = resources.files("symspellpy").joinpath("frequency_dictionary_en_82_765.txt").read_text(encoding="utf-8")
    return frozenset(line.split(" ", 1)[0] for line in text.splitlines() if line)


class Speller:
    """Symmetric-delete correction (SymSpell) up to `max_distance` edits (OSA distance): words of ≤ 5 letters
    get at most one edit; ties go to the more frequent word, then the alphabetically first. English words are
    left alone (see `english_words`)."""

    def __init__(self, counts: Mapping[str, int], max_distance: int = 2) -> None:
        self.counts = dict(counts)
        self.max_distance = max_distance
        self.max_len = max(map(len, self.counts), default=0)
        self._symspell: SymSpell | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_texts(cls, texts: Iterable[str], max_distance: int = 2, extra: Mapping[str, int] | None = None) -> Speller:
        """Vocabulary of Latin words (≥ 3 letters) with their counts."""
        counts: Counter[str] = Counter()
        for t in texts:
            counts.update(w for w in re.findall(r"[a-z]{3,}", normalize(t)))
        for w, c in (extra or {}).items():
            counts[w] += c
        return cls(counts, max_distance)

    @property
    def symspell(self) -> SymSpell:
        """The SymSpell index of the vocabulary (built once, on first use)."""
        if self._symspell is None:
            with self._lock:
                if self._symspell is None:
                    sym = SymSpell(max_dictionary_edit_distance=max(self.max_distance, 1), prefix_length=PREFIX_LENGTH)
                    for word, count in self.counts.items():
                        sym.create_dictionary_entry(word, max(int(count), 1))
                    logger.debug("speller: SymSpell index of %d words", len(self.counts))
                    self._symspell = sym
        return self._symspell

    def warm(self) -> None:
        """Build the SymSpell index and read the English word list now (a load), not inside the first query that
        has a word to correct."""
        if self.counts:
            _ = self.symspell
            english_words()

    def correct_word(self, word: str, bold: bool = False) -> str | None:
        """Best in-vocabulary word within the allowed distance (by distance, then frequency), if any. `bold` (a query
        that matched nothing): words of the language are corrected too, and 5-letter words get two edits."""
        if word in self.counts or len(word) < 4 or not word.isalpha() or not word.isascii() or (not bold and word in english_words()):
            return None
        limit = min(self.max_distance, 1 if len(word) <= (4 if bold else 5) else 2)
        # no vocabulary word is within reach of a longer token, and a 2,000-letter token is no misspelt word
        if limit <= 0 or len(word) > min(self.max_len + limit, MAX_SPELL_LEN):
            return None
        found = self.symspell.lookup(word, Verbosity.CLOSEST, max_edit_distance=limit)
        best = min(((s.distance, -self.counts[s.term], s.term) for s in found if s.term in self.counts), default=None)
        return best[2] if best else None

    def correct(self, text: str, bold: bool = False) -> tuple[str, dict[str, str]]:
        """Corrected normalised text and the word → correction map (`bold`: see `correct_word`)."""
        fixes: dict[str, str] = {}
        out = []
        for w in text.split(" "):
            c = self.correct_word(w, bold) if w else None
            if c:
                fixes[w] = c
            out.append(c or w)
        return " ".join(out), fixes

    def to_json(self) -> dict[str, Any]:
        """The vocabulary and the distance (plain JSON; the index is rebuilt on load)."""
        return {"counts": self.counts, "max_distance": self.max_distance}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Speller:
        """Inverse of `to_json`."""
        return cls(data["counts"], data["max_distance"])
