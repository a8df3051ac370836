"""Aspect-sentiment data in one shape: sentences with aspect spans and polarities, tokens with character offsets.

Reads the JSONL of `reviews-absa/*/train.jsonl` (`{"sentence", "aspects": [{"term", "from", "to", "spans", "polarity"}]}`)
and tokenises any review text the same way for training and for use: English into words and punctuation, Chinese
into characters (the labelled Chinese sets mark aspects at character level).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

POLARITIES = ("Negative", "Neutral", "Positive")
LANGUAGES = ("en", "zh")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_EN_TOKEN = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)*|[^\sA-Za-z0-9]")
_ZH_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|\[UNK\]|[A-Za-z0-9]+|[^\s\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


class AbsaDataError(ValueError):
    """A line of an ABSA file is not a valid record (names the file, line and field)."""


@dataclass(slots=True)
class Aspect:
    """One aspect term occurrence: character span [start, end) in its sentence and a polarity (or None: unknown)."""

    term: str
    start: int
    end: int
    polarity: str | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)


@dataclass(slots=True)
class Sentence:
    """A review sentence with its aspects (gold or predicted)."""

    text: str
    language: str
    aspects: list[Aspect] = field(default_factory=list)
    id: str = ""


def language_of(text: str) -> str:
    """'zh' when a tenth or more of the non-space characters are CJK, else 'en'."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return "en"
    return "zh" if sum(1 for c in chars if _CJK.match(c)) * 10 >= len(chars) else "en"


def tokens(text: str, language: str) -> list[tuple[str, int, int]]:
    """(token, start, end) of a text: English words and punctuation; Chinese characters (Latin runs stay words)."""
    pattern = _ZH_TOKEN if language == "zh" else _EN_TOKEN
    return [(m.group(), m.start(), m.end()) for m in pattern.finditer(text)]


def _aspect(raw: Any, text: str, where: str) -> Aspect:
    if not isinstance(raw, dict):
        raise AbsaDataError(f"{where}: aspects: each aspect must be an object")
    try:
        start, end, term = int(raw["from"]), int(raw["to"]), str(raw["term"])
    except (KeyError, TypeError, ValueError) as exc:
        raise AbsaDataError(f"{where}: aspects.{exc.args[0] if isinstance(exc, KeyError) else 'from/to'}: required (term, from, to)") from None
    if not 0 <= start < end <= len(text):
        raise AbsaDataError(f"{where}: aspects.from/to: span [{start}, {end}) lies outside the sentence")
    polarity = raw.get("polarity")
    if polarity is not None and polarity not in POLARITIES:
        raise AbsaDataError(f"{where}: aspects.polarity: {polarity!r} is not one of {', '.join(POLARITIES)}")
    spans = [(int(a), int(b)) for a, b in raw.get("spans") or [(start, end)]]
    return Aspect(term, start, end, polarity, spans)


def parse_line(raw: Any, where: str) -> Sentence:
    """One JSONL record as a Sentence; AbsaDataError names the record and the field that is wrong."""
    if not isinstance(raw, dict):
        raise AbsaDataError(f"{where}: (record): expected an object")
    text = raw.get("sentence")
    if not isinstance(text, str) or not text.strip():
        raise AbsaDataError(f"{where}: sentence: a non-empty string is required")
    aspects = raw.get("aspects", [])
    if not isinstance(aspects, list):
        raise AbsaDataError(f"{where}: aspects: must be a list")
    lang = raw.get("lang") or language_of(text)
    if lang not in LANGUAGES:
        raise AbsaDataError(f"{where}: lang: {lang!r} is not one of {', '.join(LANGUAGES)}")
    return Sentence(text, lang, [_aspect(a, text, where) for a in aspects], str(raw.get("id", "")))


def read_jsonl(path: str | Path) -> Iterator[Sentence]:
    """Sentences of an ABSA JSONL file, in file order."""
    path = Path(path)
    with path.open("rb") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                raw = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise AbsaDataError(f"{path}:{n}: (line): not valid JSON: {exc}") from None
            yield parse_line(raw, f"{path}:{n}")


def gold_spans(sentence: Sentence) -> set[tuple[int, int]]:
    """Every annotated occurrence of every aspect term (the source marks all occurrences of a term)."""
    return {span for a in sentence.aspects for span in (a.spans or [(a.start, a.end)])}


def bio_labels(toks: list[tuple[str, int, int]], spans: Iterable[tuple[int, int]]) -> list[str]:
    """B/I/O per token for character spans (a token belongs to a span it overlaps)."""
    labels = ["O"] * len(toks)
    for start, end in sorted(spans):
        inside = [i for i, (_, a, b) in enumerate(toks) if a < end and b > start]
        for k, i in enumerate(inside):
            labels[i] = "B" if k == 0 else "I"
    return labels


def spans_of_labels(toks: list[tuple[str, int, int]], labels: list[str]) -> list[tuple[int, int]]:
    """Character spans of B/I runs (an I without a B starts a span)."""
    out: list[tuple[int, int]] = []
    start = end = -1
    for (_, a, b), label in zip(toks, labels, strict=True):
        if label == "B" or (label == "I" and start < 0):
            if start >= 0:
                out.append((start, end))
            start, end = a, b
        elif label == "I":
            end = b
        else:
            if start >= 0:
                out.append((start, end))
            start = -1
    if start >= 0:
        out.append((start, end))
    return out
