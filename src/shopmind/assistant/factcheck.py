"""The fact check every answer passes before it leaves: numbers, sizes, colours and brands in a sentence
must appear in the sources it may use; a sentence with an unsupported claim is dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# canonical colour → spellings (EN + ZH); used for claims and for the `colour` slot
COLOURS: dict[str, tuple[str, ...]] = {
    "red": ("red", "红色", "红", "大红", "酒红"),
    "blue": ("blue", "蓝色", "蓝", "天蓝", "宝蓝"),
    "navy": ("navy", "藏青", "藏蓝", "深蓝"),
    "green": ("green", "绿色", "绿", "军绿"),
    "black": ("black", "黑色", "黑"),
    "white": ("white", "白色", "白", "米白"),
    "grey": ("grey", "gray", "灰色", "灰"),
    "silver": ("silver", "银色", "银"),
    "gold": ("gold", "golden", "金色"),
    "yellow": ("yellow", "黄色", "黄"),
    "orange": ("orange", "橙色", "橘色"),
    "pink": ("pink", "粉色", "粉红", "粉"),
    "purple": ("purple", "violet", "紫色", "紫"),
    "brown": ("brown", "棕色", "咖啡色", "褐色"),
    "beige": ("beige", "米色", "杏色"),
    "khaki": ("khaki", "卡其", "卡其色"),
    "bronze": ("bronze", "青铜色"),
    "chrome": ("chrome", "铬色"),
    "ivory": ("ivory", "象牙白"),
    "tan": ("tan",),
    "multicolor": ("multicolor", "multi-color", "multicolour", "多色", "彩色"),
}
_COLOUR_OF = {s: c for c, spells in COLOURS.items() for s in spells}
_LATIN_COLOUR_RE = re.compile(r"\b(" + "|".join(sorted((s for s in _COLOUR_OF if s.isascii()), key=len, reverse=True)) + r")\b")
_CJK_COLOURS = sorted((s for s in _COLOUR_OF if not s.isascii()), key=len, reverse=True)
_NUM_RE = re.compile(r"\d+(?:\.\d+)?")
_SIZE_RE = re.compile(r"(?<![A-Za-z])(XXS|XS|XXL|XXXL|XL|S|M|L)(?![A-Za-z])|(\d+)\s*码")


def fold(text: str) -> str:
    """Matching form: NFKC, case-folded, thousands separators removed."""
    return re.sub(r"(\d),(\d{3})\b", r"\1\2", unicodedata.normalize("NFKC", text).casefold())


def colours_in(text: str) -> set[str]:
    """Canonical colours named in a text (EN words, ZH substrings, longest first)."""
    t = fold(text)
    found = {_COLOUR_OF[m] for m in _LATIN_COLOUR_RE.findall(t)}
    for s in _CJK_COLOURS:
        if s in t:
            found.add(_COLOUR_OF[s])
            t = t.replace(s, " ")
    return found


def numbers_in(text: str) -> set[float]:
    return {round(float(n), 2) for n in _NUM_RE.findall(fold(text))}


_PERCENT_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|percent\b|per cent\b)|百分之(\d+(?:\.\d+)?)")
# a sentence that reports what reviewers say (EN/ZH); only a review-aspect fact may support it
_REVIEW_TALK_RE = re.compile(r"\b(?:reviews?|reviewers?|reviewed|rated|ratings?|customers?|buyers?|shoppers?)\b|评价|评论|好评|差评|买家|用户说")


def percents_in(text: str) -> set[str]:
    """Percentages stated in a text, as canonical number strings ('82', '12.5')."""
    return {f"{float(a or b):g}" for a, b in _PERCENT_RE.findall(fold(text))}


def sizes_in(text: str) -> set[str]:
    t = unicodedata.normalize("NFKC", text)
    return {(a or b).upper() for a, b in _SIZE_RE.findall(t)}


@dataclass
class Claim:
    kind: str  # number | colour | brand | size
    value: str


@dataclass
class CheckResult:
    kept: list[int] = field(default_factory=list)
    dropped: list[tuple[int, list[Claim]]] = field(default_factory=list)


class FactChecker:
    """Finds checkable claims in a sentence and tests them against evidence text."""

    def __init__(self, brands: Iterable[str] = ()) -> None:
        names = {fold(b).strip() for b in brands if b and len(b.strip()) >= 2}
        self.brands = sorted(names, key=len, reverse=True)
        latin = [re.escape(b) for b in self.brands if b.isascii()]
        self._brand_re = re.compile(r"(?<![\w])(" + "|".join(latin) + r")(?![\w])") if latin else None
        self._cjk_brands = [b for b in self.brands if not b.isascii()]

    def brands_in(self, text: str) -> set[str]:
        t = fold(text)
        found = set(self._brand_re.findall(t)) if self._brand_re else set()
        found |= {b for b in self._cjk_brands if b in t}
        return found

    def claims(self, sentence: str) -> list[Claim]:
        """Numbers, sizes, colours and catalog brand names stated in a sentence."""
        out = [Claim("number", n) for n in sorted(set(_NUM_RE.findall(fold(sentence))))]
        out += [Claim("size", s) for s in sorted(sizes_in(sentence))]
        out += [Claim("colour", c) for c in sorted(colours_in(sentence))]
        out += [Claim("brand", b) for b in sorted(self.brands_in(sentence))]
        return out

    def unsupported(self, sentence: str, evidence: str) -> list[Claim]:
        """Claims of the sentence that the evidence text does not contain."""
        return self.unsupported_claims(self.claims(sentence), evidence)

    def generated_claims(self, sentence: str) -> list[Claim]:
        """`claims` plus what a generated text may add: percentages, and talk of what reviewers say."""
        out = self.claims(sentence)
        out += [Claim("percent", p) for p in sorted(percents_in(sentence))]
        out += [Claim("review", w) for w in sorted(set(_REVIEW_TALK_RE.findall(fold(sentence))))]
        return out

    def supports(self, claim: Claim, kind: str, evidence: str) -> bool:
        """Whether one fact (its source kind and evidence text) supports a claim; review talk needs a review fact."""
        if claim.kind == "review":  # a review fact, or a catalog text that uses the same word ("duty rating")
            return kind == "reviews" or claim.value in _REVIEW_TALK_RE.findall(fold(evidence))
        if claim.kind == "percent":
            return claim.value in percents_in(evidence)
        return not self.unsupported_claims([claim], evidence)

    def unsupported_claims(self, claims: list[Claim], evidence: str) -> list[Claim]:
        """The claims (number, colour, size, brand) that the evidence text does not contain."""
        ev = fold(evidence)
        nums, cols, sizes = numbers_in(ev), colours_in(ev), sizes_in(evidence)
        tests = {
            "number": lambda v: round(float(v), 2) in nums,
            "colour": lambda v: v in cols,
            "size": lambda v: v in sizes or v.lower() in ev,
            "brand": lambda v: v in ev,
        }
        return [c for c in claims if c.kind in tests and not tests[c.kind](c.value)]

    def sourced(self, sentence: str, facts: Sequence[tuple[str, str]]) -> tuple[list[int], list[Claim]]:
        """For a generated sentence: (the facts, as indices into `facts` = (source kind, evidence) pairs, that support
        its claims, first supporting fact per claim; the claims no fact supports). Empty second list = the sentence may stay."""
        used: list[int] = []
        bad: list[Claim] = []
        for c in self.generated_claims(sentence):
            i = next((i for i, (kind, ev) in enumerate(facts) if self.supports(c, kind, ev)), None)
            if i is None:
                bad.append(c)
            elif i not in used:
                used.append(i)
        return used, bad

    def check(self, sentences: list[str], evidence: str) -> CheckResult:
        """Which sentences survive (all claims supported) and which are dropped, with the bad claims."""
        res = CheckResult()
        for i, s in enumerate(sentences):
            bad = self.unsupported(s, evidence)
            if bad:
                res.dropped.append((i, bad))
            else:
                res.kept.append(i)
        return res


def split_sentences(text: str) -> list[str]:
    """Sentences of a reply (EN and ZH punctuation, line breaks, list bullets)."""
    parts = re.split(r"(?<=[.!?。！？；;])\s+|(?<=[。！？])|\n+", text.strip())
    out = []
    for p in parts:
        p = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s+", "", p).strip()
        if p and re.search(r"\w", p):
            out.append(p)
    return out
