"""Tokenisers: English words with Snowball stemming, Chinese jieba search-mode words + character
bigrams, and pinyin keys so a Chinese title can be found by a query typed in pinyin."""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import pairwise

from shopmind.text.normalize import CJK_RE, normalize
from shopmind.text.stopwords import EN_STOPWORDS, ZH_STOPWORDS

_RUN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[^\s\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CJK_RUN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD_RE = re.compile(r"\d+(?:[./]\d+)*[a-z]*|[a-z]+\d*[a-z\d]*|[^\W\d_]+", re.UNICODE)



@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    return jieba


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball English stem of one lower-case word (cached: catalogs repeat words)."""
    return _stemmer().stemWord(word)


_DIM_RE = re.compile(r"(?<=\d)x(?=\d)")
_NUM_UNIT_RE = re.compile(r"^(\d+(?:[./]\d+)?)[a-z]+$")


def english_tokens(text: str) -> list[str]:
    """Stemmed, stopword-free tokens of already-normalised Latin text; '2x4' splits into 2 and 4 and a
    number with a unit ('8ft') also yields the bare number, so '2x4' meets '2 in. x 4 in.'."""
    out = []
    for w in _WORD_RE.findall(_DIM_RE.sub(" ", text)):
        if w in EN_STOPWORDS:
            continue
        out.append(stem(w))
        m = _NUM_UNIT_RE.match(w)
        if m:
            out.append(m.group(1))
    return out


def chinese_tokens(run: str) -> list[str]:
    """jieba search-mode words plus character bigrams (and the lone char of a 1-char run)."""
    words = [w for w in _jieba().cut_for_search(run) if w.strip() and w not in ZH_STOPWORDS]
    if len(run) == 1:
        return words or [run]
    return words + [run[i : i + 2] for i in range(len(run) - 1)]


def tokenize(text: str, *, normalized: bool = False) -> list[str]:
    """Index/query tokens for mixed Chinese/English text (normalises first unless told it is done)."""
    if not normalized:
        text = normalize(text)
    out: list[str] = []
    for run in _RUN_RE.findall(text):
        out.extend(chinese_tokens(run) if CJK_RE.match(run) else english_tokens(run))
    return out


def words(text: str) -> list[str]:
    """Unstemmed surface words (jieba words for Chinese): for spelling, suggestions and display."""
    out: list[str] = []
    for run in _RUN_RE.findall(normalize(text)):
        if CJK_RE.match(run):
            out.extend(w for w in _jieba().cut(run) if w.strip())
        else:
            out.extend(_WORD_RE.findall(run))
    return out


@lru_cache(maxsize=100_000)
def _pinyin(word: str) -> str:
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(word))


def pinyin_tokens(text: str) -> list[str]:
    """Pinyin keys of a Chinese text: one per jieba search-mode word ('跑鞋' → 'paoxie')."""
    out: list[str] = []
    for run in _CJK_RUN_RE.findall(normalize(text)):
        out.extend(_pinyin(w) for w in _jieba().cut_for_search(run) if len(w) > 1)
    return out


def pinyin_query_tokens(text: str) -> list[str]:
    """Keys a Latin query may mean in pinyin: each word and each adjacent pair joined ('pao xie' → 'paoxie')."""
    ws = list(re.findall(r"[a-z]+", normalize(text)))
    return ws + [a + b for a, b in pairwise(ws)] + ["".join(ws[i : i + 3]) for i in range(len(ws) - 2)]
