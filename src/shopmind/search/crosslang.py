"""Cross-language queries: a Chinese query over an English catalog (and the reverse) is also matched through its
dictionary translation (text/bilingual.py, CC-CEDICT) — classic dictionary-based CLIR: every source word keeps its
renderings as alternatives (OR within a word; a rendering of several words needs all of them), and the match rule
counts source words (stages/match.py). Only renderings the catalog contains are kept; a dict lookup per word, no model.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np

from shopmind.index.lexical import LexicalIndex
from shopmind.text.normalize import CJK_RE
from shopmind.text.tokenize import english_tokens, tokenize

SENSES = 3  # renderings of a source word kept as alternatives (the dictionary lists the common senses first)
MIN_SHARE = 0.5  # translate when fewer than this share of the catalog's titles are in the query's language
# A source word the dictionary translates but the catalog contains in no form still counts in the match rule: the
# shopper asked for something the catalog lacks (an unknown string, by contrast, is dropped as noise by the rule).
COUNT_ABSENT = True


@dataclass
class Translation:
    """One source word of the query and its renderings in the catalog's language, each as the index tokens that
    must all be present (only renderings whose tokens the catalog contains)."""

    source: str
    renderings: list[str] = field(default_factory=list)
    tokens: list[list[str]] = field(default_factory=list)
    covers: list[str] = field(default_factory=list)  # the query's own tokens this word stands for
    values: list[str] = field(default_factory=list)  # catalog values it was read as (valuemap), e.g. "category=Romance"
    value_rows: np.ndarray | None = None  # the rows that have one of those values

    @property
    def absent(self) -> bool:
        """The dictionary knows the word but the catalog has none of its renderings nor a value it names."""
        return not self.tokens and not self.values

    def label(self) -> str:
        """'教父 → godfather' (alternatives joined by '|'; '∅' when the catalog has none of them)."""
        return f"{self.source} → {' | '.join(self.renderings + self.values) or '∅'}"


# ---------------------------------------------------------------------------------------------- catalog language
_SHARE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def chinese_share(table) -> float:
    """Share of the catalog's titles written in Chinese (cached per table until it grows 10 %)."""
    got = _SHARE.get(table)
    if got is not None and len(table) <= got[0] * 1.1:
        return got[1]
    titles = table.titles
    step = max(1, len(titles) // 20_000)
    sample = titles[::step]
    share = float(np.mean([bool(CJK_RE.search(t)) for t in sample])) if sample else 0.0
    _SHARE[table] = (len(table), share)
    return share


def target_language(table, language: str) -> str | None:
    """The language to translate a query in `language` into ('en' or 'zh'), or None when the catalog has enough
    products in the query's own language."""
    zh = chinese_share(table)
    if language == "zh" and zh < MIN_SHARE:
        return "en"
    if language == "en" and zh >= 1 - MIN_SHARE:
        return "zh"
    return None


def known_token(lexical: LexicalIndex, token: str) -> bool:
    """Whether any weighted field of the index contains `token`."""
    for name, f in lexical.fields.items():
        if name == "pinyin" or lexical.weights.get(name, 0.0) <= 0 or f.empty:
            continue
        if (f.bm25 is not None and token in f.bm25.vocab_dict) or token in f.postings:
            return True
    return False


def _keep(lexical: LexicalIndex, source: str, renderings: list[str], covers: list[str]) -> Translation:
    """The renderings whose tokens the index contains (tokens it lacks dropped; nothing left: the rendering goes)."""
    t = Translation(source, covers=covers)
    for r in renderings:
        toks = [x for x in dict.fromkeys(tokenize(r)) if known_token(lexical, x)]
        if toks and toks not in t.tokens:
            t.renderings.append(r.lower())
            t.tokens.append(toks)
    return t


def translate(lexical: LexicalIndex, text: str, query_tokens: list[str], target: str) -> list[Translation]:
    """Source words of normalised query text with their renderings in `target` that the catalog contains."""
    from shopmind.text.bilingual import lexicon  # CC-CEDICT, parsed once on the first cross-language query

    lex = lexicon()
    out: list[Translation] = []
    if target == "en":
        for seg in lex.segment(text):
            if not seg.known or not CJK_RE.search(seg.source):
                continue
            covers = [tok for tok in query_tokens if CJK_RE.search(tok) and tok in seg.source]
            out.append(_keep(lexical, seg.source, list(seg.renderings[:SENSES]), covers))
        return out
    words = text.split()
    i = 0
    while i < len(words):  # longest English phrase the reverse index knows (up to three words)
        for n in (3, 2, 1):
            phrase = " ".join(words[i : i + n])
            zh = lex.to_chinese(phrase) if len(words[i : i + n]) == n else ()
            if zh:
                break
        else:
            n, phrase, zh = 1, words[i], ()
        if zh and english_tokens(phrase):  # a stop word ("for", "the") is no source word: the query's tokens skip it too
            covers = [tok for tok in english_tokens(phrase) if tok in query_tokens]
            out.append(_keep(lexical, phrase, list(zh[:SENSES]), covers))
        i += n
    return out


def covered(translations: list[Translation]) -> set[str]:
    """The query tokens some translated source word stands for (the match rule counts the source word instead)."""
    return {tok for t in translations for tok in t.covers}


def translated_tokens(translations: list[Translation]) -> list[str]:
    """Every token of every kept rendering (what BM25 scores besides the query's own tokens)."""
    return [tok for t in translations for toks in t.tokens for tok in toks]


def value_tokens(translations: list[Translation]) -> list[str]:
    """Tokens of the catalog values translated words were read as (category intent learns from value names too)."""
    return [tok for t in translations for v in t.values for tok in tokenize(v.split("=", 1)[-1])]


def dense_text(text: str, translations: list[Translation]) -> str:
    """The text the dense side encodes: the query and the first rendering of each translated word."""
    return " ".join([text, *(t.renderings[0] for t in translations if t.renderings)]) if translations else text


def source_rows(rows_of, t: Translation) -> np.ndarray:
    """Rows that contain the source word itself (all the query tokens it covers) or every token of one of its renderings (`rows_of(token)` → rows)."""
    parts = [_all_of(rows_of, toks) for toks in ([t.covers] if t.covers else []) + t.tokens]
    if t.value_rows is not None:
        parts.append(t.value_rows)
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)


def _all_of(rows_of, tokens: list[str]) -> np.ndarray:
    """Rows that contain every one of `tokens`."""
    r = rows_of(tokens[0])
    for tok in tokens[1:]:
        r = np.intersect1d(r, rows_of(tok), assume_unique=True)
    return r
