"""Years in queries: decades ("1990s", "90s", "1990年代", "90年代"), open ranges ("before 2000", "2000年以前",
"after 1995", "1995年以后") and closed ones ("1995-1999", "1995到1999") read as a year range, applied to the catalog's
year-like attributes (integer values within 1800–2100), so the range narrows the match set only where a year exists.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass

import numpy as np

YEAR_MIN, YEAR_MAX = 1800, 2100
YEARLIKE_SHARE = 0.9  # an attribute is year-like when this share of its distinct values are integers in YEAR_MIN–YEAR_MAX

_Y = r"(1[89]\d\d|20\d\d|2100)"
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("range", re.compile(rf"(?:from\s+|between\s+)?{_Y}\s*(?:年)?\s*(?:-|–|—|~|to|and|到|至)\s*{_Y}\s*(?:年)?(?:之间)?")),
    ("decade4", re.compile(r"(?:the\s+)?(1[89]\d0|20\d0)\s*(?:'?s\b|年代)")),
    ("decade2", re.compile(r"(?:the\s+)?(?<![\d.])'?([0-9]0)\s*(?:'?s\b|年代)")),
    ("before", re.compile(rf"(?:before|prior\s+to|until|pre[-\s]?)\s*{_Y}\b")),
    ("after", re.compile(rf"(after|since|post[-\s]?)\s*{_Y}\b")),
    ("before_zh", re.compile(rf"{_Y}\s*年?\s*(?:以前|之前|前)")),
    ("after_zh", re.compile(rf"{_Y}\s*年?\s*(以后|之后|后|以来|起)")),
]


@dataclass
class YearSpan:
    """A year range read from a query ([lo, hi], either end open) and the words it came from."""

    lo: int | None
    hi: int | None
    source: str

    def label(self) -> str:
        """'1990–1999', '≤ 1999', '≥ 1996'."""
        if self.lo is not None and self.hi is not None:
            return f"{self.lo}–{self.hi}" if self.lo != self.hi else str(self.lo)
        return f"≤ {self.hi}" if self.hi is not None else f"≥ {self.lo}"

    def contains(self, years: np.ndarray) -> np.ndarray:
        """Bool per year: inside the range."""
        ok = np.ones(len(years), bool)
        if self.lo is not None:
            ok &= years >= self.lo
        if self.hi is not None:
            ok &= years <= self.hi
        return ok


def _two_digit_decade(d: int, span: tuple[int, int] | None) -> int:
    """'90s' → 1990; '20年代' → the century whose decade the catalog's years cover (1920 before 2020), else 19xx from 30 up."""
    options = [1900 + d, 2000 + d]
    if span is not None:
        inside = [y for y in options if y <= span[1] and y + 9 >= span[0]]
        if inside:
            return inside[0] if len(inside) == 1 or d >= 30 else inside[-1]
    return options[0] if d >= 30 else options[1]


def parse_years(text: str, span: tuple[int, int] | None = None) -> tuple[YearSpan | None, str]:
    """(year range read from normalised query text, the text without it); `span`: the catalog's year range, which
    decides the century of a two-digit decade. None when the query names no year range."""
    for kind, pat in _PATTERNS:
        m = pat.search(text)
        if m is None:
            continue
        g = m.groups()
        if kind == "range":
            lo, hi = int(g[0]), int(g[1])
            if lo > hi:
                continue
            ys = YearSpan(lo, hi, m.group(0).strip())
        elif kind == "decade4":
            ys = YearSpan(int(g[0]), int(g[0]) + 9, m.group(0).strip())
        elif kind == "decade2":
            start = _two_digit_decade(int(g[0]), span)
            ys = YearSpan(start, start + 9, m.group(0).strip())
        elif kind in ("before", "before_zh"):
            ys = YearSpan(None, int(g[0]) - 1, m.group(0).strip())
        elif kind == "after":
            ys = YearSpan(int(g[1]) + (g[0] != "since"), None, m.group(0).strip())
        else:  # 以来 / 起: from that year on; 以后 / 之后 / 后: after it
            ys = YearSpan(int(g[0]) + (g[1] not in ("以来", "起")), None, m.group(0).strip())
        rest = re.sub(r"\s+", " ", text[: m.start()] + " " + text[m.end() :]).strip()
        return ys, rest
    return None, text


# ------------------------------------------------------------------------------------------- catalog side
_YEARLIKE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def year_attributes(table) -> dict[str, np.ndarray]:
    """Year-like attributes of a ProductTable: key → the year of each of its values (nan where not a year);
    most used first. Cached per table; when its vocabularies grow only the new values are read."""
    sizes = tuple(len(v.values) for v in table.attr_vocab.values())
    got = _YEARLIKE.get(table)
    if got is not None and got[0] == sizes:
        return got[1]
    parsed: dict[str, np.ndarray] = got[2] if got is not None else {}
    out: list[tuple[int, str, np.ndarray]] = []
    for key, voc in table.attr_vocab.items():
        if not voc.values:
            continue
        old = parsed.get(key, np.zeros(0))
        new = [float(v) if re.fullmatch(r"\d{4}", v.strip()) else np.nan for v in voc.values[len(old):]]
        parsed[key] = np.concatenate([old, np.array(new, np.float64)])
        years = parsed[key].copy()
        ok = (years >= YEAR_MIN) & (years <= YEAR_MAX)
        if ok.mean() >= YEARLIKE_SHARE:
            years[~ok] = np.nan
            out.append((int(table.attrs[key].nnz), key, years))
    res = {k: y for _, k, y in sorted(out, key=lambda t: (-t[0], t[1]))}
    _YEARLIKE[table] = (sizes, res, parsed)
    return res


def catalog_year_span(table) -> tuple[int, int] | None:
    """(first, last) year over the catalog's year-like attributes; None without one."""
    ys = [y[~np.isnan(y)] for y in year_attributes(table).values()]
    ys = [y for y in ys if len(y)]
    if not ys:
        return None
    allv = np.concatenate(ys)
    return int(allv.min()), int(allv.max())


def year_filters(table, ys: YearSpan) -> dict[str, list[str]]:
    """The range as attribute filters ({"attributes.<key>": [values in range]}) on the first year-like attribute;
    empty when the catalog has none (the range then narrows nothing)."""
    for key, years in year_attributes(table).items():
        inside = np.flatnonzero(ys.contains(np.nan_to_num(years, nan=-1.0)) & ~np.isnan(years))
        voc = table.attr_vocab[key].values
        return {f"attributes.{key}": [voc[i] for i in inside]}
    return {}
