"""The shop's policy FAQ: a markdown file (`<home>/faq.md`), one section per heading, matched to questions."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from shopmind.text.stopwords import EN_QUESTION_STOPWORDS
from shopmind.text.tokenize import tokenize

HEADING_RE = re.compile(r"^(#{1,4})\s+(.*?)\s*#*\s*$")
KEYWORDS_RE = re.compile(r"^\s*(?:keywords|关键词)\s*[:：]\s*(.*)$", re.IGNORECASE)


@dataclass
class FaqSection:
    """One section: its heading, its answer text (template notes removed) and match keywords."""

    heading: str
    body: str
    keywords: list[str]

    def sentences(self) -> list[str]:
        """The answer's sentences, in order."""
        from shopmind.assistant.factcheck import split_sentences

        return split_sentences(self.body)


def parse_faq(text: str) -> list[FaqSection]:
    """Sections by heading; lines starting with '>' or HTML comments are notes to the shop, not answers."""
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    sections: list[FaqSection] = []
    heading: str | None = None
    body: list[str] = []
    keywords: list[str] = []
    for line in text.splitlines():
        m = HEADING_RE.match(line)
        if m and len(m.group(1)) >= 2:
            if heading is not None:
                sections.append(FaqSection(heading, "\n".join(body).strip(), keywords))
            heading, body, keywords = m.group(2), [], []
            continue
        if heading is None or line.lstrip().startswith(">") or (m and len(m.group(1)) == 1):
            continue
        k = KEYWORDS_RE.match(line)
        if k:
            keywords.extend(w.strip() for w in re.split(r"[,，、]", k.group(1)) if w.strip())
        else:
            body.append(line)
    if heading is not None:
        sections.append(FaqSection(heading, "\n".join(body).strip(), keywords))
    return [s for s in sections if s.body]


_STOP = EN_QUESTION_STOPWORDS


def _phrase_re(phrase: str) -> re.Pattern[str]:
    p = re.escape(phrase.casefold())
    return re.compile(p if re.search(r"[\u3400-\u9fff]", phrase) else r"\b" + p + r"(?:s|es|ed|ing)?\b")


def _phrase_tokens(phrase: str) -> frozenset[str]:
    """A Latin multi-word keyword's stemmed content words ('send back' also matches 'sending it back')."""
    if re.search(r"[\u3400-\u9fff]", phrase) or len(phrase.split()) < 2:
        return frozenset()
    return frozenset(t for t in tokenize(phrase) if t not in _STOP)


class Faq:
    """Sections ranked for a question: keyword phrases (3 points each) plus content-word overlap."""

    def __init__(self, sections: list[FaqSection], source: str = "") -> None:
        self.sections = sections
        self.source = source
        self._phrases = [[_phrase_re(k) for k in s.keywords] for s in sections]
        self._token_phrases = [[t for t in (_phrase_tokens(k) for k in s.keywords) if t] for s in sections]
        self._words = [{t for t in tokenize(s.heading + " " + s.body) if t not in _STOP and not t.isdigit()} for s in sections]
        df: Counter[str] = Counter(t for w in self._words for t in w)
        n = max(len(sections), 1)
        self._idf = {t: math.log(1 + n / c) for t, c in df.items()}

    @classmethod
    def load(cls, path: Path | None) -> Faq:
        """The shop's faq.md, or the shipped template when the shop has none."""
        if path is not None and Path(path).is_file():
            return cls(parse_faq(Path(path).read_text(encoding="utf-8")), str(path))
        demo = files("shopmind.assistant") / "faq_demo.md"
        return cls(parse_faq(demo.read_text(encoding="utf-8")), "faq_demo.md (template)")

    def score(self, question: str) -> list[float]:
        q = question.casefold()
        toks = {t for t in tokenize(question) if t not in _STOP}
        return [3.0 * max(sum(1 for rx in phrases if rx.search(q)), sum(1 for tp in token_phrases if tp <= toks))
                + 0.25 * sum(self._idf[t] for t in toks & words)
                for phrases, token_phrases, words in zip(self._phrases, self._token_phrases, self._words, strict=True)]

    def match(self, question: str, min_score: float = 1.0) -> tuple[FaqSection | None, float]:
        """Best section for a question and its score (None below min_score)."""
        scores = self.score(question)
        if not scores:
            return None, 0.0
        i = max(range(len(scores)), key=scores.__getitem__)
        return (self.sections[i], scores[i]) if scores[i] >= min_score else (None, scores[i])

    def matches(self, question: str, min_score: float = 1.0, margin: float = 1.0) -> list[FaqSection]:
        """The best section, plus any other whose keyword phrases also match and which scores within `margin`
        of it (a question such as "退换货怎么处理" asks about returns and exchanges at once)."""
        scores = self.score(question)
        if not scores or max(scores) < min_score:
            return []
        top = max(scores)
        order = sorted(range(len(scores)), key=lambda i: -scores[i])
        return [self.sections[i] for i in order if scores[i] >= max(min_score, 3.0 if i != order[0] else 0.0) and top - scores[i] <= (margin if i != order[0] else 0.0)]
