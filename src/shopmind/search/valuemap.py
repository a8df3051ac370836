"""A query word in the other language than the catalog, read as one of the catalog's own category or attribute values
by embedding: "浪漫" (or its rendering "romantic", which no title contains) → genres = Romance. The values are encoded
once per catalog (lazily, on the first cross-language query); a word maps to its nearest value when that value is
nearer by at least MARGIN than the runner-up (bench/calibrate_valuemap.py: calibrated on another catalog's values).
"""

from __future__ import annotations

import re
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from shopmind.search.catalog import CAT_SEP
from shopmind.search.timeq import year_attributes

MARGIN = 0.01  # cosine of the nearest value minus the runner-up's: F1-best on ePQA values (bench/results/calibrate_valuemap.json)
MAX_VALUES = 2000  # the most used values that can be named this way
_NUMERIC = re.compile(r"[\d.\s/,%-]+")


@dataclass(frozen=True)
class ValueHit:
    """A catalog value a query word was read as."""

    key: str  # "category" or "attributes.<name>"
    value: str
    cosine: float
    margin: float


def catalog_values(table) -> list[tuple[str, str, str]]:
    """(filter key, value, the text encoded) of the catalog's category names and short non-numeric attribute values,
    the most used first (at most MAX_VALUES)."""
    out: list[tuple[int, str, str, str]] = []
    cat_rows = np.bincount(table.cat[table.cat >= 0].ravel(), minlength=len(table.cats.values))
    for code, path in enumerate(table.cats.values):
        out.append((int(cat_rows[code]), "category", path, path.split(CAT_SEP)[-1]))
    years = set(year_attributes(table))
    for key, voc in table.attr_vocab.items():
        if key in years:
            continue
        used = np.bincount(table.attrs[key].indices, minlength=len(voc.values))
        for code, v in enumerate(voc.values):
            if len(v) <= 40 and not _NUMERIC.fullmatch(v):
                out.append((int(used[code]), f"attributes.{key}", v, v))
    out.sort(key=lambda t: -t[0])
    seen: set[tuple[str, str]] = set()
    res = []
    for n, key, value, text in out:
        if n > 0 and (key, value) not in seen:
            seen.add((key, value))
            res.append((key, value, text))
    return res[:MAX_VALUES]


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def value_vectors(table, encoder) -> tuple[list[tuple[str, str, str]], np.ndarray]:
    """The catalog's values and their unit vectors (encoded once per table and encoder, again once the vocabularies
    have grown 10 %: values new since then cannot be named this way until that re-encoding)."""
    size = len(table.cats.values) + sum(len(v.values) for v in table.attr_vocab.values())
    got = _CACHE.get(table)
    if got is not None and got[0][0] == encoder.name and size <= got[0][1] * 1.1:
        return got[1], got[2]
    sig = (encoder.name, size)
    vals = catalog_values(table)
    vecs = np.asarray(encoder.encode_queries([t for _, _, t in vals]), np.float32) if vals else np.zeros((0, encoder.dim), np.float32)
    _CACHE[table] = (sig, vals, vecs)
    return vals, vecs


_WORDS: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_LOCK = threading.Lock()
WORD_CACHE = 4096  # word vectors kept (a model call only for a word not seen lately)


def _word_vector(encoder, word: str) -> np.ndarray:
    """The unit vector of one query word, from a small LRU cache."""
    key = (encoder.name, word)
    with _LOCK:
        v = _WORDS.get(key)
        if v is not None:
            _WORDS.move_to_end(key)
            return v
    v = np.asarray(encoder.encode_queries([word])[0], np.float32)
    with _LOCK:
        _WORDS[key] = v
        while len(_WORDS) > WORD_CACHE:
            _WORDS.popitem(last=False)
    return v


def nearest_value(table, encoder, word: str, margin: float = MARGIN) -> ValueHit | None:
    """The catalog value `word` names (nearest by cosine, ahead of the runner-up by `margin`), else None."""
    vals, vecs = value_vectors(table, encoder)
    if len(vals) < 2:
        return None
    cos = vecs @ _word_vector(encoder, word)
    order = np.argsort(-cos)
    best = vals[int(order[0])][2].lower()
    runner = next((int(i) for i in order[1:] if vals[int(i)][2].lower() != best), None)  # the same name twice is one value
    gap = float(cos[order[0]] - cos[runner]) if runner is not None else 1.0
    if gap < margin:
        return None
    a = int(order[0])
    return ValueHit(vals[a][0], vals[a][1], float(cos[a]), gap)
