"""Text normalisation shared by indexing and queries: one canonical form so both sides meet.

NFKC (full → half width), HTML entities, case folding, traditional → simplified Chinese, unit spellings
("32 inch", "32in.", "32寸", '32"' → "32in"), thousands separators ("5,000" → "5000") and punctuation → spaces, keeping decimals and fractions.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# unit spellings → canonical suffix; longest alternatives first so "inches" wins over "in"
_UNITS: list[tuple[str, str]] = [
    (r"inches|inch|in\b\.?|英寸|寸|\"|''|”", "in"),
    (r"feet|foot|ft\b\.?|英尺|'|’", "ft"),
    (r"pounds|pound|lbs\b\.?|lb\b\.?|磅", "lb"),
    (r"gallons|gallon|gal\b\.?|加仑", "gal"),
    (r"ounces|ounce|oz\b\.?|盎司", "oz"),
    (r"tons|ton\b|吨", "ton"),
    (r"millimeters|millimetres|mm\b|毫米", "mm"),
    (r"centimeters|centimetres|cm\b|厘米|公分", "cm"),
    (r"kilograms|kg\b|公斤|千克", "kg"),
    (r"milliliters|millilitres|ml\b|毫升", "ml"),
    (r"watts|watt|w\b|瓦", "w"),
    (r"volts|volt|v\b|伏", "v"),
    (r"cu\.?\s*ft\b\.?|cubic feet", "cuft"),
    (r"sq\.?\s*ft\b\.?|square feet", "sqft"),
]
# Linear time on any input: a number starts only where a digit run starts ((?<!\d)) and its digits and the
# spaces after it are possessive (never given back), so a 2,000-digit run or long spaces cost O(n), not O(n²).
_NUM = r"(?<!\d)(\d++(?:\.\d++)?(?:/\d++)?)"
_UNIT_RES = [(re.compile(_NUM + r"\s*+-?\s*+(?:" + pat + r")", re.IGNORECASE), rep) for pat, rep in _UNITS[::-1]]
# keep '.' and '/' only between digits; everything else that is not a word char becomes a space
# a thousands separator between digit groups ("5,000 BTU" is the query's "5000 btu"); lists like "10,12" keep their comma
_THOUSANDS_RE = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_PUNCT_RE = re.compile(r"(?<!\d)[./]|[./](?!\d)|[^\w./]+", re.UNICODE)
_SPACE_RE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese (only run when the text has CJK characters)."""
    return _t2s().convert(text) if CJK_RE.search(text) else text


def _unit_replacer(unit: str) -> Callable[[re.Match[str]], str]:
    def sub(m: re.Match[str]) -> str:
        return f"{m.group(1)}{unit} "

    return sub


def normalize_units(text: str) -> str:
    """'32 inch', '32in.', '32寸', '32"' → '32in' (and ft, lb, gal, oz, mm, cm, kg, ml, w, v, cuft, sqft)."""
    for rx, rep in _UNIT_RES:
        text = rx.sub(_unit_replacer(rep), text)
    return text


def normalize(text: str) -> str:
    """Canonical form for matching: NFKC, unescaped, case-folded, simplified Chinese, units, no punctuation."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", html.unescape(text)).casefold()
    text = to_simplified(text)
    text = _THOUSANDS_RE.sub("", text)
    text = normalize_units(text)
    text = _PUNCT_RE.sub(" ", text)
    return _SPACE_RE.sub(" ", text).strip()


_ZH_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
# a count in Chinese numerals (to 99) before a measure word or unit: "九件套", "四种出水模式", "三档", "十二只装"
_ZH_COUNT_RE = re.compile(r"(?<![一二两三四五六七八九十百千万\d])([二两三四五六七八九]?十[一二三四五六七八九]?|[一二两三四五六七八九])"
                          r"(?=[件个只把片瓦伏种档层寸尺套盏包袋块条支台张双节芯孔头])")


def _zh_count(m: re.Match[str]) -> str:
    s = m.group(1)
    if s == "一":  # "一个", "一件": mostly the article "a", not a count
        return s
    if "十" not in s:
        return str(_ZH_DIGITS[s])
    tens, _, ones = s.partition("十")
    return str(_ZH_DIGITS.get(tens, 1) * 10 + _ZH_DIGITS.get(ones, 0))


def zh_counts_to_digits(text: str) -> str:
    """Chinese-numeral counts before a measure word or unit in digits ("九件套" → "9件套"), so a Chinese message meets
    the digits of a title ("(9-Tool)"); a lone 一 stays (it is mostly "a")."""
    return _ZH_COUNT_RE.sub(_zh_count, text) if CJK_RE.search(text) else text


def detect_language(text: str) -> str:
    """'zh' when CJK characters make up ≥ 20% of the letters, else 'en' (script-based, cheap)."""
    if not text:
        return "en"
    cjk = len(CJK_RE.findall(text))
    letters = sum(ch.isalpha() for ch in text)
    return "zh" if letters and cjk / letters >= 0.2 else "en"
