"""Questions over the products in focus: superlatives (cheapest, oldest, newest, heaviest…) and "which of these
has X", answered from catalog values only.

The comparison's direction comes from the superlative the shopper used (a short EN/ZH list of generic words:
language, not any catalog's wording); which attribute it compares is chosen by the learned attribute ranker over
the attributes the products share (numeric or date values), and "which has X" finds X among the products' values
by word match — for a Chinese question, in its CC-CEDICT English gloss as well.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from shopmind.assistant.attrank import default_ranker, value_mentioned
from shopmind.assistant.attrlang import attr_name, gloss, gloss_senses
from shopmind.assistant.grounding import GLOSS_THRESHOLD, attr_items, evidence_of, fmt_price, fmt_value, short_title
from shopmind.assistant.models import Sentence, Source
from shopmind.domain import Product

# (direction, field or None = an attribute the ranker picks, EN words, ZH words)
SUPERLATIVES: list[tuple[str, str | None, re.Pattern[str]]] = [
    ("min", "price", re.compile(r"\b(cheapest|least expensive|lowest[- ]priced|most affordable|costs? (the )?least)\b|最便宜|最实惠|最省钱|价格最低")),
    ("max", "price", re.compile(r"\b(most expensive|priciest|highest[- ]priced|dearest|costs? (the )?most)\b|最贵|价格最高")),
    ("min", "time", re.compile(r"\b(oldest|earliest|least recent(ly)?|(goes|go|dates?) back (the )?(furthest|farthest))\b|最早|最老|最旧|最久远|(?:年头|年代|年份)最久")),
    ("max", "time", re.compile(r"\b(newest|latest|freshest|most recent(ly)?)\b|最新|最晚|最近")),
    ("min", None, re.compile(r"\b(smallest|lightest|shortest|lowest|fewest)\b|最小|最轻|最短|最低|最少")),
    ("max", None, re.compile(r"\b(biggest|largest|heaviest|longest|highest|best[- ]rated|top[- ]rated)\b|最大|最重|最沉|最压秤|最长|最高|最多")),
]
# "first" / "last" said of a time verb is a superlative over the set, not a position ("which one came out first?")
TIME_ORDER = re.compile(r"\b(?:came|come|comes) out (first|last)\b|\b(?:released|made|produced|launched|published|premiered) (first|last)\b|"
                        r"(最先|最后)(?:上映|发布|出版|推出|上市)")
# "which of these …", "any of them …", 哪部; in Chinese also "is there one … among them" (有没有…在里面, 这几部里有…吗)
WHICH_RE = re.compile(r"\bwhich\b.*\b(one|ones|of (these|those|them)|these|those|them)\b|^which\b|\bany of (these|those|them)\b|哪"
                      r"|有没有.*(?:里面|里头|其中|这几|这些)|(?:里面|里头|其中|这几|这些).*(?:有没有|有.*吗)")
SET_RE = re.compile(r"\b(these|those|them|the list|shown|of the)\b|这几|这些|那些|里面|里头|其中|哪")
_NUM_RE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_YEAR_RE = re.compile(r"^(1[89]|20)\d{2}$")


SET_INTENTS = ("ask", "compare", "find")  # intents a question over the shown products may come as
# intents the classifier may give a superlative over "these" that it did not recognise ("which of these is the heaviest?")
SET_WHEN_POINTED = ("out_of_scope", "chitchat")


@dataclass
class SetOp:
    """What the shopper asks of the set: `kind` min | max | has; `field` price or None (the ranker picks)."""

    kind: str
    field: str | None = None


def set_question(message: str) -> SetOp | None:
    """The set question a message asks, or None (a superlative, or 'which of these …' / '哪部…')."""
    t = message.casefold()
    m = TIME_ORDER.search(t)
    if m:
        return SetOp("min" if any(g in ("first", "最先") for g in m.groups()) else "max", "time")
    for kind, fld, rx in SUPERLATIVES:
        if rx.search(t):
            return SetOp(kind, fld)
    if WHICH_RE.search(t):
        return SetOp("has")
    return None


def about_the_set(message: str) -> bool:
    """True when the message points at the products shown as a group ('these', 'of them', '这几部', '哪')."""
    return bool(SET_RE.search(message.casefold()))


def _sortable(v: Any) -> float | None:
    """A number to compare by: the value's leading number, or an ISO date as YYYYMMDD."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return float(v)
    s = str(v)
    if _DATE_RE.match(s):
        return float(s[:10].replace("-", ""))
    m = _NUM_RE.match(s)
    return float(m.group(1)) if m else None


def _attribute(question: str, products: list[Product]) -> str | None:
    """The attribute the question compares by: the ranker's choice among the attributes at least two of the products
    have, kept only when it clears the threshold and its values are numbers or dates ("highest rated" over a
    catalog with years and genres only: None, the catalog does not say)."""
    counts: dict[str, int] = {}
    sample: dict[str, Any] = {}
    for p in products:
        for k, v in attr_items(p):
            counts[k] = counts.get(k, 0) + 1
            sample.setdefault(k, v)
    keys = [k for k, n in counts.items() if n >= 2]
    ranker = default_ranker()
    if not keys or ranker is None:
        return None
    english = gloss(question)  # a Chinese question as its English gloss (the ranker reads English)
    scores = ranker.scores(english or question, [(k, fmt_value(sample[k])) for k in keys])
    i = int(np.argmax(scores))
    threshold = GLOSS_THRESHOLD if english else ranker.threshold
    return keys[i] if scores[i] >= threshold and _sortable(sample[keys[i]]) is not None else None


def _time_attribute(products: list[Product]) -> str | None:
    """For 'oldest' / 'newest': the attribute whose values are years or ISO dates, the one most products have (one
    product's is enough: it is then the only one the catalog dates)."""
    counts: dict[str, int] = {}
    for p in products:
        for k, v in attr_items(p):
            if not isinstance(v, bool) and (_YEAR_RE.match(str(v).strip()) or _DATE_RE.match(str(v))):
                counts[k] = counts.get(k, 0) + 1
    best = max(counts.items(), key=lambda kv: kv[1], default=None)
    return best[0] if best else None


def _say(lang: str, en: str, zh: str, winner: Product, field: str, products: list[Product]) -> Sentence:
    ev = " | ".join(evidence_of(p, field) for p in products)
    return Sentence(text=zh if lang == "zh" else en, source=Source(kind="catalog", product_id=winner.id, field=field), evidence=ev)


def extreme(op: SetOp, message: str, products: list[Product], lang: str) -> tuple[list[Sentence], list[Product], str]:
    """The product with the lowest/highest value of the field the question compares (ties named together)."""
    if op.field == "price":
        field, vals = "price", [p.price for p in products]
    else:
        key = _time_attribute(products) if op.field == "time" else _attribute(message, products)
        field = f"attributes.{key}" if key else "none"
        vals = [_sortable(p.attributes.get(key)) if key else None for p in products]
    have = [(v, p) for v, p in zip(vals, products, strict=True) if v is not None]
    if not have or (len(have) == 1 and len(products) == 1):
        en = "The catalog does not say that for these products, so I cannot compare them on it."
        zh = "商品目录没有写明这些商品的这一项，无法据此比较。"
        return [Sentence(text=zh if lang == "zh" else en, source=Source(kind="catalog", product_id=products[0].id, field="none"),
                         evidence=" | ".join(p.title for p in products))], products, "not_stated"
    target = min(v for v, _ in have) if op.kind == "min" else max(v for v, _ in have)
    winners = [p for v, p in have if v == target]
    w = winners[0]
    shown = fmt_price(w) if field == "price" else fmt_value(w.attributes[field.split(".", 1)[1]])
    name = ("价格" if lang == "zh" else "price") if field == "price" else attr_name(field.split(".", 1)[1], lang)
    titles = ", ".join(short_title(p) for p in winners)
    if len(have) == 1:  # the one product the catalog gives the value for ("a film among tools")
        en, zh = f"Of these, only {titles} lists its {name}: {shown}.", f"其中只有「{titles}」写明了{name}：{shown}。"
    else:
        timed = op.field == "time"
        word_en = {"min": "earliest" if timed else "lowest", "max": "latest" if timed else "highest"}[op.kind]
        word_zh = {"min": "最早" if timed else "最低", "max": "最晚" if timed else "最高"}[op.kind]
        en = f"Of these, {titles} {'has' if len(winners) == 1 else 'have'} the {word_en} {name}: {shown}."
        zh = f"其中「{titles}」的{name}{word_zh}：{shown}。"
    return [_say(lang, en, zh, w, field, [p for _, p in have])], winners, "answer"


def _has_value(message: str, products: list[Product], values: Callable[[str], list[str]] | None = None) -> tuple[str, str] | None:
    """(attribute, value part) the question names word for word (in a Chinese question: in its English gloss): a value
    of the products, else one of the catalog's `values` for an attribute they have ("which of these is sci-fi?" after
    a list of musicals)."""
    parts: dict[tuple[str, str], None] = {}
    for p in products:
        for k, v in attr_items(p):
            for part in (v if isinstance(v, list) else [v]):
                if not isinstance(part, bool):
                    parts[(k, str(part))] = None
    english, readings = gloss(message), gloss_senses(message)

    def named(kvs: Iterable[tuple[str, str]], gloss_text: str | None) -> tuple[str, str] | None:
        hits = [kv for kv in kvs if value_mentioned(message, kv[1]) or (gloss_text and value_mentioned(gloss_text, kv[1]))]
        return max(hits, key=lambda kv: len(kv[1])) if hits else None

    own = named(parts, english) or named(parts, readings)  # any reading of a Chinese word that one of them has
    if own is not None or values is None:
        return own
    return named(((k, v) for k in dict.fromkeys(k for k, _ in parts) for v in values(k)), english)


def which_has(message: str, products: list[Product], lang: str, values: Callable[[str], list[str]] | None = None
              ) -> tuple[list[Sentence], list[Product], str] | None:
    """Which of the products has the value the question names (None when it names no value of theirs nor of the
    catalog's `values`); none of them, said as such, when only the catalog holds it."""
    found = _has_value(message, products, values)
    if found is None:
        return None
    key, part = found

    def has(p: Product) -> bool:
        v = p.attributes.get(key)
        vs = v if isinstance(v, list) else [v]
        return any(str(x).casefold() == part.casefold() for x in vs if x is not None)

    hits = [p for p in products if has(p)]
    field, name = f"attributes.{key}", attr_name(key, lang)
    if not hits:
        en, zh = f"{part} is not listed in the {name} of any of these.", f"这几件商品的{name}都没有列出{part}。"
        return [Sentence(text=zh if lang == "zh" else en, source=Source(kind="catalog", product_id=products[0].id, field="none"),
                         evidence=" | ".join(evidence_of(p, field) for p in products))], products, "not_stated"
    titles = ", ".join(short_title(p) for p in hits)
    en = f"Of these, {titles} {'has' if len(hits) == 1 else 'have'} {part} in its {name}." if len(hits) == 1 else \
        f"Of these, {titles} have {part} in their {name}."
    zh = f"其中「{titles}」的{name}包含{part}。"
    return [_say(lang, en, zh, hits[0], field, hits)], hits, "answer"


def set_turn(intent: str, message: str, refs: list[int], focus: list[str], get: Callable[[list[str]], list[Product]],
             lang: str, values: Callable[[str], list[str]] | None = None) -> tuple[list[Sentence], list[Product]] | None:
    """The answer when a turn asks a set question over the products shown (a superlative, "which of these …"),
    else None; `get` fetches products by id (fetched only for a set question), `values` the catalog's values of an
    attribute (`Tools.values`)."""
    pointed = intent in SET_WHEN_POINTED and about_the_set(message)
    if (intent not in SET_INTENTS and not pointed) or len(focus) < 2 or (refs and not TIME_ORDER.search(message.casefold())):
        return None
    op = set_question(message)
    if op is None or (intent in ("find", *SET_WHEN_POINTED) and not about_the_set(message)):
        return None
    products = get(focus)
    if len(products) < 2:
        return None
    found = which_has(message, products, lang, values) if op.kind == "has" else extreme(op, message, products, lang)
    return (found[0], found[1]) if found is not None else None
