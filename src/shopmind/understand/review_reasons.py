"""Review evidence in recommendation reasons: a recommended product's most clearly praised aspect, in the shopper's language.

An aspect counts as praised only when reviewers agree with enough mentions behind it: the 95 % Wilson lower bound of its
positive share reaches MIN_LOWER over at least MIN_MENTIONS mentions (5 of 5 positive is not enough, bound 0.57; 10 of
10 is, 0.72; "82 % over 57 mentions" is, 0.70). A product without reviews has no mentions, so its reason never changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

MIN_MENTIONS = 5
MIN_LOWER = 0.6
Z95 = 1.959964
PRAISE = {
    "en": "reviewers praise its {aspect}: {pct} % positive over {n} mentions",
    "zh": "买家称赞其{aspect}：{n} 次提及中 {pct} % 为好评",
}
JOIN = {"en": "; ", "zh": "；"}


def wilson_lower(positive: int, total: int, z: float = Z95) -> float:
    """Lower end of the Wilson score interval of positive/total (0 when total is 0)."""
    if total <= 0:
        return 0.0
    p = positive / total
    denom = 1 + z * z / total
    centre = p + z * z / (2 * total)
    margin = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    return (centre - margin) / denom


def praised_aspect(summary: dict[str, Any] | None) -> dict[str, Any] | None:
    """The aspect of a `ReviewSummaries.summary` with the highest Wilson lower bound, if it clears the bar; else None."""
    best, best_lower = None, MIN_LOWER
    for a in (summary or {}).get("aspects", []):
        n, pos = int(a.get("mentions", 0)), int(a.get("positive", 0))
        if n < MIN_MENTIONS:
            continue
        lower = wilson_lower(pos, n)
        if lower >= best_lower:
            best, best_lower = a, lower
    if best is None:
        return None
    return {"aspect": best["aspect"], "positive": int(best["positive"]), "mentions": int(best["mentions"]),
            "positive_share": round(int(best["positive"]) / int(best["mentions"]), 4), "lower_bound": round(best_lower, 4)}


def shopper_language(language: str | None, aspect: str = "") -> str:
    """'zh' or 'en': the shopper's language when given (zh-CN, zh_TW … → zh), else the language of the aspect's wording."""
    if language:
        return "zh" if language.strip().lower().startswith("zh") else "en"
    return "zh" if any("\u4e00" <= c <= "\u9fff" for c in aspect) else "en"


def review_reason(aspect: dict[str, Any], language: str | None = None) -> str:
    """'reviewers praise its battery: 82 % positive over 57 mentions' (or its Chinese form)."""
    lang = shopper_language(language, aspect["aspect"])
    pct = round(100 * aspect["positive"] / aspect["mentions"])
    return PRAISE[lang].format(aspect=aspect["aspect"], pct=pct, n=aspect["mentions"])


def with_review_reasons(response: Any, summary_of: Callable[[str], dict[str, Any] | None], language: str | None = None) -> Any:
    """A recommend response whose items' reasons add their praised aspect (`item.review` carries the figures)."""
    items = []
    changed = False
    for item in response.items:
        aspect = praised_aspect(summary_of(item.id))
        if aspect is None:
            items.append(item)
            continue
        lang = shopper_language(language, aspect["aspect"])
        text = review_reason(aspect, lang)
        items.append(item.model_copy(update={"reason": f"{item.reason}{JOIN[lang]}{text}" if item.reason else text,
                                             "review": {**aspect, "text": text, "language": lang}}))
        changed = True
    return response.model_copy(update={"items": items}) if changed else response
