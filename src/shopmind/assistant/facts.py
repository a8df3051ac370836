"""The facts a generated text may state about a product, each with its source: catalog fields, values the extractor
read from the title or description (only when confident, and said to be extracted), and review aspect figures.

Confident = at or above the lowest CRF confidence at which the extractor model's own validation split reached
EXTRACTED_PRECISION (read from the model's metadata, never from test data); a model without that table needs 0.9.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from shopmind.assistant.grounding import attr_items, evidence_of, fmt_price, fmt_value
from shopmind.assistant.models import Sentence, Source
from shopmind.domain import Product
from shopmind.text.normalize import detect_language

EXTRACTED_PRECISION = 0.9  # validation precision an extracted value's confidence band must have reached
UNKNOWN_MODEL_CONFIDENCE = 0.9
MAX_EXTRACTED = 4
MAX_ASPECTS = 3
SOURCE_FIELD_ZH = {"title": "标题", "description": "描述"}


def language_of(p: Product) -> str:
    """'zh' or 'en': the product's language, else detected from its title."""
    return "zh" if (p.language or detect_language(p.title))[:2] == "zh" else "en"


@cache
def confident_at(model: str) -> float:
    """The confidence from which a model's extracted values are stated (validation precision ≥ EXTRACTED_PRECISION)."""
    path = files("shopmind.understand") / "models" / f"{model}.json"
    if not model or "/" in model or not path.is_file():
        return UNKNOWN_MODEL_CONFIDENCE
    table = json.loads(path.read_text(encoding="utf-8")).get("validation", {}).get("by_threshold_fallback", {})
    ok = [float(k.split("/")[0]) for k, v in table.items() if k.endswith("/0.0") and v.get("precision", 0.0) >= EXTRACTED_PRECISION]
    return min(ok) if ok else UNKNOWN_MODEL_CONFIDENCE


def catalog_facts(p: Product, zh: bool) -> list[Sentence]:
    """The product's catalog fields as grounded sentences."""
    src = lambda f: Source(kind="catalog", product_id=p.id, field=f)
    out = [Sentence(text=p.title + ("。" if zh else "."), source=src("title"), evidence=p.title)]
    if p.brand:
        out.append(Sentence(text=f"品牌：{p.brand}。" if zh else f"Brand: {p.brand}.", source=src("brand"), evidence=evidence_of(p, "brand")))
    if p.category:
        path = " > ".join(p.category)
        out.append(Sentence(text=f"类目：{path}。" if zh else f"Category: {path}.", source=src("category"), evidence=evidence_of(p, "category")))
    for k, v in attr_items(p)[:8]:
        name = k.replace("_", " ")
        out.append(Sentence(text=f"{name}：{fmt_value(v)}。" if zh else f"{name.capitalize()}: {fmt_value(v)}.", source=src(f"attributes.{k}"),
                            evidence=evidence_of(p, f"attributes.{k}")))
    if p.price is not None:
        out.append(Sentence(text=f"价格：{fmt_price(p)}。" if zh else f"Price: {fmt_price(p)}.", source=src("price"), evidence=evidence_of(p, "price")))
    return out


def extracted_facts(p: Product, zh: bool, limit: int = MAX_EXTRACTED) -> list[Sentence]:
    """Confident extracted values, most confident first, each said to be read from its field, with the span as evidence."""
    rows = []
    for name, ex in p.attributes_extracted.items():
        value, conf, field = ex.get("value"), ex.get("confidence"), str(ex.get("source", ""))
        if not isinstance(value, str) or not value or not isinstance(conf, (int, float)) or conf < confident_at(str(ex.get("model", ""))):
            continue
        text = p.title if field == "title" else p.description if field == "description" else ""
        span = ex.get("span")
        quoted = text[span[0]:span[1]] if isinstance(span, list) and len(span) == 2 and text else ""
        if quoted.casefold() != value.casefold():
            continue  # the span no longer holds the value (the field changed since enrichment): not a sourced fact
        rows.append((float(conf), name, value, field))
    out = []
    for conf, name, value, field in sorted(rows, key=lambda r: (-r[0], r[1]))[:limit]:
        label = name.replace("_", " ")
        text = (f"{label}：{value}（从{SOURCE_FIELD_ZH.get(field, field)}中提取）。" if zh
                else f"{label.capitalize()}: {value} (read from the {field}).")
        out.append(Sentence(text=text, source=Source(kind="extracted", product_id=p.id, field=f"attributes_extracted.{name}"),
                            evidence=f"{name} {value} | {field}: {value} | confidence {conf:.2f}"))
    return out


def review_phrase(aspect: dict[str, Any], zh: bool) -> str:
    """'Reviewers like the battery: 82 % of 57 mentions are positive.' (the verb follows the positive share)."""
    name, pct, n = aspect["aspect"], round(100 * float(aspect["positive_share"])), int(aspect["mentions"])
    if zh:
        verb = "好评居多" if pct >= 60 else "褒贬不一" if pct >= 40 else "差评居多"
        return f"买家评价「{name}」{verb}：{n}次提及中{pct}%为好评。"
    verb = "like" if pct >= 60 else "are divided on" if pct >= 40 else "dislike"
    return f"Reviewers {verb} the {name}: {pct} % of {n} mentions are positive."


def review_facts(p: Product, summary: dict[str, Any] | None, zh: bool, limit: int = MAX_ASPECTS) -> list[Sentence]:
    """One sentence per summarised aspect (most mentioned first); evidence: its figures only (a reviewer's quoted
    words are opinions, not facts a generated text may restate)."""
    out = []
    for a in (summary or {}).get("aspects", [])[:limit]:
        pct = round(100 * float(a["positive_share"]))
        out.append(Sentence(text=review_phrase(a, zh), source=Source(kind="reviews", product_id=p.id, field=f"reviews.{a['aspect']}"),
                            evidence=f"reviews {a['aspect']}: {pct} % positive over {a['mentions']} mentions | {a['positive']} positive, "
                                     f"{a['negative']} negative, {a['neutral']} neutral"))
    return out


def product_facts(p: Product, reviews: dict[str, Any] | None = None) -> list[Sentence]:
    """Everything generation may use about a product: catalog fields, confident extracted values, review aspects."""
    zh = language_of(p) == "zh"
    return [*catalog_facts(p, zh), *extracted_facts(p, zh), *review_facts(p, reviews, zh)]
