"""The shop's policy FAQ: a markdown file (`<home>/faq.md`), one section per heading, matched to questions."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

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
    heading, body, keywords = None, [], []
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


class Faq:
    """Sections ranked for a question by weighted token overlap (heading and keywords count most)."""

    def __init__(self, sections: list[FaqSection], source: str = "") -> None:
        self.sections = sections
        self.source = source
        self._docs: list[Counter[str]] = []
        df: Counter[str] = Counter()
        for s in sections:
            doc: Counter[str] = Counter()
            for t in tokenize(s.heading + " " + " ".join(s.keywords)):
                doc[t] += 3.0
            for t in tokenize(s.body):
                doc[t] += 0.5
            self._docs.append(doc)
            df.update(set(doc))
        n = max(len(sections), 1)
        self._idf = {t: math.log(1 + n / c) for t, c in df.items()}

    @classmethod
    def load(cls, path: Path | None) -> Faq:
        """The shop's faq.md, or the shipped template when the shop has none."""
        if path is not None and Path(path).is_file():
            return cls(parse_faq(Path(path).read_text(encoding="utf-8")), str(path))
        demo = files("shopmind.assistant") / "faq_demo.md"
        return cls(parse_faq(demo.read_text(encoding="utf-8")), "faq_demo.md (template)")

    def match(self, question: str, min_score: float = 1.0) -> tuple[FaqSection | None, float]:
        """Best section for a question and its score (None below min_score)."""
        toks = set(tokenize(question))
        best, best_score = None, 0.0
        for s, doc in zip(self.sections, self._docs):
            score = sum(min(doc[t], 3.0) * self._idf.get(t, 0.0) for t in toks if t in doc)
            if score > best_score:
                best, best_score = s, score
        return (best, best_score) if best_score >= min_score else (None, best_score)
