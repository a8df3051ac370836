"""Price limits in shoppers' queries, English and Chinese ('under $50', '200-300元', '便宜'): patterns that run
in linear time on any input (a chat message is up to 1,000 characters of whatever the shopper typed)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# a number starts only where a digit run starts and never gives digits back: linear time on a 2,000-digit run
_N = r"(?<!\d)(\d++(?:\.\d++)?)"
_CUR = r"(?:\$|usd|us\$|¥|￥|rmb)?"
_EN_CUR_AFTER = r"(?:\s*(?:dollars?|bucks|usd|\$))?"
_UNIT_AFTER = r"(?![\d.]|\s*(?:in\b|inch|ft\b|feet|foot|lb|lbs|pound|gal|oz|mm|cm|kg|ml|w\b|watt|v\b|volt|amp|btu|sq|cu|x\b|\"|'|%|piece|pack|pc))"

PRICE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # ranges
    (re.compile(r"between\s*" + _CUR + r"\s*" + _N + r"\s*(?:and|to|-)\s*" + _CUR + r"\s*" + _N + _EN_CUR_AFTER), "range"),
    (re.compile(r"(?:from\s*)?" + r"(?:\$|usd\s*)\s*" + _N + r"\s*(?:-|to|~)\s*" + _CUR + r"\s*" + _N + _EN_CUR_AFTER), "range"),
    (re.compile(_N + r"\s*(?:-|to|~)\s*" + _N + r"\s*(?:dollars?|bucks|usd)"), "range"),
    (re.compile(r"[¥￥]?" + _N + r"\s*(?:元|块钱?|rmb)?\s*(?:-|到|至|~|—)\s*[¥￥]?" + _N + r"\s*(?:元|块钱?|rmb)(?:之间|以内)?"), "range"),
    (re.compile(r"[¥￥]" + _N + r"\s*(?:-|到|至|~|—)\s*[¥￥]?" + _N), "range"),
    (re.compile(r"价格?在?\s*" + _N + r"\s*(?:-|到|至|~|—)\s*" + _N + r"(?:之间)?"), "range"),
    # upper limits
    (re.compile(r"(?:under|below|less than|cheaper than|no more than|not more than|at most|max(?:imum)?|up to|within|<=?)\s*" + _CUR + r"\s*" + _N + _UNIT_AFTER + _EN_CUR_AFTER), "max"),
    (re.compile(_CUR + r"\s*" + _N + r"\s*(?:dollars?|bucks|usd)?\s*(?:or (?:less|under|below)|and (?:under|below|less)|max)"), "max"),
    (re.compile(r"(?:低于|不超过|不到|少于|小于|不高于|最多)\s*[¥￥]?" + _N + r"\s*(?:元|块钱?|rmb)?"), "max"),
    (re.compile(r"[¥￥]?" + _N + r"\s*(?:元|块钱?|rmb)?\s*(?:以下|以内|之内|内)"), "max"),
    # lower limits
    (re.compile(r"(?:over|above|more than|at least|min(?:imum)?|from|starting at|>=?)\s*" + _CUR + r"\s*" + _N + _UNIT_AFTER + _EN_CUR_AFTER), "min"),
    (re.compile(_CUR + r"\s*" + _N + r"\s*(?:dollars?|bucks|usd)?\s*(?:or more|and (?:up|above|over)|\+)"), "min"),
    (re.compile(r"(?:高于|超过|不低于|大于|至少|多于)\s*[¥￥]?" + _N + r"\s*(?:元|块钱?|rmb)?"), "min"),
    (re.compile(r"[¥￥]?" + _N + r"\s*(?:元|块钱?|rmb)?\s*(?:以上|起)"), "min"),
    # around
    (re.compile(r"(?:around|about|approximately|roughly|~)\s*" + _CUR + r"\s*" + _N + _UNIT_AFTER + _EN_CUR_AFTER), "around"),
    (re.compile(r"[¥￥]?" + _N + r"\s*(?:元|块钱?)\s*(?:左右|上下)"), "around"),
    # bare currency amounts: "$30 drill", "300元的耳机"
    (re.compile(r"(?:\$|usd\s*)" + _N + r"|" + _N + r"\s*(?:dollars?|bucks)\b"), "around"),
    (re.compile(r"[¥￥]" + _N + r"|" + _N + r"\s*(?:元|块钱)(?:的)?"), "around"),
]
_SPACES = re.compile(r"\s+")
CHEAP_WORDS = re.compile(r"\b(?:cheap|cheapest|inexpensive|budget|affordable|low[- ]cost|low price)\b|便宜|实惠|平价|低价|性价比高")


@dataclass
class PriceIntent:
    """A price limit parsed from a query and the query text that remains."""

    min: float | None
    max: float | None
    source: str
    rest: str


def parse_price(query: str, cheap_max: float | None = None) -> PriceIntent | None:
    """Price limits in English and Chinese ('under $50', '200-300元', '便宜') → PriceIntent, or None."""
    # whitespace collapsed first: each `\s*` then spans one character, so the patterns cannot backtrack over runs
    text = re.sub(r"(\d),(\d{3})\b", r"\1\2", _SPACES.sub(" ", unicodedata.normalize("NFKC", query).casefold()))
    for rx, kind in PRICE_PATTERNS:
        m = rx.search(text)
        if not m:
            continue
        nums = [float(g) for g in m.groups() if g is not None]
        if not nums:
            continue
        if kind == "range" and len(nums) >= 2:
            lo, hi = sorted(nums[:2])
        elif kind == "max":
            lo, hi = None, nums[0]
        elif kind == "min":
            lo, hi = nums[0], None
        else:
            lo, hi = round(nums[0] * 0.8, 2), round(nums[0] * 1.2, 2)
        rest = (text[: m.start()] + " " + text[m.end() :]).strip()
        return PriceIntent(lo, hi, m.group(0).strip(), re.sub(r"\s+", " ", rest))
    m = CHEAP_WORDS.search(text)
    if m:
        rest = (text[: m.start()] + " " + text[m.end() :]).strip()
        return PriceIntent(None, cheap_max, m.group(0), re.sub(r"\s+", " ", rest))
    return None
