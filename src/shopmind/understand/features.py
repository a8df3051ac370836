"""Tokens with character offsets and CRF features for attribute-value tagging (English words, Chinese characters).

English is split into words that keep inner apostrophes, dots, slashes and hyphens ("Women's", "3.5g", "3pcs/lot")
and single punctuation marks; Chinese into single characters, with Latin/digit runs kept whole. Features are
plain strings (python-crfsuite's cheapest input): the token, its shape and affixes, neighbours, the category and
matches of a value dictionary mined from training data ("d=Color:B").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

_EN = re.compile(r"\w+(?:['’./\-]\w+)*|[^\w\s]")
_ZH = re.compile(r"[A-Za-z0-9]+(?:[.'\-/][A-Za-z0-9]+)*|\S")
_SHAPE = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                       "X" * 26 + "x" * 26 + "d" * 10)
_SQUEEZE = re.compile(r"(.)\1+")
_UNIT = re.compile(r"^\d+(?:[.,]\d+)?[a-z\"']+\.?$")
_CJK = re.compile(r"[\u4e00-\u9fff]")
MAX_DICT_TOKENS = 6
MAX_TOKENS = 256  # a description is tagged on its first MAX_TOKENS tokens (bounded work per product)

Token = tuple[str, int, int]
Gazetteer = Mapping[tuple[str, ...], Sequence[str]]


def language_of(text: str) -> str:
    """'zh' when the text has CJK characters, else 'en'."""
    return "zh" if _CJK.search(text) else "en"


def tokenize(text: str, language: str = "en", limit: int = MAX_TOKENS) -> list[Token]:
    """(token, start, end) with character offsets into `text`, at most `limit` tokens."""
    pattern = _ZH if language == "zh" else _EN
    out: list[Token] = []
    for m in pattern.finditer(text):
        out.append((m.group(), m.start(), m.end()))
        if len(out) >= limit:
            break
    return out


def dictionary_marks(words: Sequence[str], gazetteer: Gazetteer, max_len: int = MAX_DICT_TOKENS) -> list[list[str]]:
    """Per token, the dictionary features of the longest known values covering it ("d=Brand:B", "d=Brand:I")."""
    n = len(words)
    marks: list[list[str]] = [[] for _ in range(n)]
    i = 0
    while i < n:
        hit = 0
        for length in range(min(max_len, n - i), 0, -1):
            attrs = gazetteer.get(tuple(words[i:i + length]))
            if attrs:
                for a in attrs:
                    marks[i].append(f"d={a}:B")
                    for j in range(i + 1, i + length):
                        marks[j].append(f"d={a}:I")
                hit = length
                break
        i += max(hit, 1)
    return marks


def _shape(tok: str) -> str:
    return _SQUEEZE.sub(r"\1", tok.translate(_SHAPE))


def features(tokens: Sequence[Token], category: str = "", source: str = "title", gazetteer: Gazetteer | None = None,
             language: str = "en") -> list[list[str]]:
    """One feature list per token for python-crfsuite."""
    words = [t[0].lower() for t in tokens]
    n = len(words)
    marks = dictionary_marks(words, gazetteer) if gazetteer else [[] for _ in range(n)]
    pad = ["<s>", "<s>", *words, "</s>", "</s>"]
    cat = f"c={category}" if category else ""
    out: list[list[str]] = []
    for i, (tok, _, _) in enumerate(tokens):
        w = words[i]
        f = [f"w={w}", f"s={source}", f"w-1={pad[i + 1]}", f"w+1={pad[i + 3]}", f"w-2={pad[i]}", f"w+2={pad[i + 4]}",
             f"b-={pad[i + 1]}|{w}", f"b+={w}|{pad[i + 3]}"]
        if language == "zh":
            f.append(f"tri={pad[i + 1]}{w}{pad[i + 3]}")
        else:
            sh = _shape(tok)
            f += [f"sh={sh}", f"p3={w[:3]}", f"s3={w[-3:]}", f"s2={w[-2:]}", f"sh-1={_shape(pad[i + 1])}", f"sh+1={_shape(pad[i + 3])}"]
            if _UNIT.match(w):
                f.append(f"unit={w.lstrip('0123456789.,')}")
            if tok[:1].isupper():
                f.append("cap")
        if i == 0:
            f.append("first")
        if i == n - 1:
            f.append("last")
        f.append(f"pos={min(i, 12) if i < 12 else 'late'}")
        if cat:
            f += [cat, f"{cat}|w={w}"]
            f += [f"{cat}|{m}" for m in marks[i]]
        f += marks[i]
        out.append(f)
    return out
