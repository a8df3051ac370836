"""Stage 1, understand: price limits, year ranges, spelling, brand/attribute values, synonyms, tokens, the translation of a
query written in the other language than the catalog, and category intent."""

from __future__ import annotations

import numpy as np

from shopmind.search import crosslang, timeq, valuemap
from shopmind.search.stages.context import SearchContext, SearchParts
from shopmind.search.understand import Understood, expand_synonyms, parse_price
from shopmind.text.normalize import detect_language, normalize
from shopmind.text.tokenize import tokenize


def understand_query(parts: SearchParts, query: str) -> Understood:
    """Run the enabled query-understanding steps (config.stages) on one query."""
    st = parts.config.stages
    norm = normalize(query)
    lang = detect_language(norm)
    u = Understood(original=query, normalized=norm, language=lang, text=norm)
    work = query
    if st.price:
        pi = parse_price(query, parts.cheap_max)
        u.stages.append("price")
        if pi is not None:
            u.price = pi
            work = pi.rest
    if timeq.year_attributes(parts.table):  # a year range only means something where products have a year
        ys, rest = timeq.parse_years(work.lower(), timeq.catalog_year_span(parts.table))
        u.stages.append("years")
        if ys is not None:
            u.years, work = ys, rest
            key = next(iter(timeq.year_attributes(parts.table)))
            u.note(f"years: {ys.source} → {key} {ys.label()}")
    text = normalize(work)
    if st.spelling and lang == "en":
        fixed, fixes = parts.speller.correct(text)
        u.stages.append("spelling")
        if fixes:
            u.corrections = fixes
            u.did_you_mean = fixed
            text = fixed
    retokenize(parts, u, text)
    return u


def _mark(u: Understood, stage: str) -> None:
    """Record that a step ran (once, even when a rewrite runs it again)."""
    if stage not in u.stages:
        u.stages.append(stage)


def retokenize(parts: SearchParts, u: Understood, text: str) -> None:
    """The steps after spelling (entities, synonyms, tokens, translation, category intent) on `text`; a rewrite runs them again."""
    st = parts.config.stages
    if st.entities:
        brands, attrs, _rest = parts.entities.match(text)
        _mark(u, "entities")
        u.brands, u.attributes = brands, attrs
    if st.synonyms and parts.synonyms:
        u.synonyms = expand_synonyms(text, parts.synonyms)
        _mark(u, "synonyms")
    u.text = text
    u.tokens = tokenize(text, normalized=True)
    target = crosslang.target_language(parts.table, u.language) if text and st.translate else None
    u.translations = crosslang.translate(parts.lexical, text, u.tokens, target) if target else []
    if target:
        _mark(u, "translate")
        _values_by_embedding(parts, u)
    if u.translations:
        u.note("translated: " + "; ".join(t.label() for t in u.translations))
        if st.entities:
            _translated_entities(parts, u)
    if st.category_intent and parts.intent is not None:
        cat, conf = parts.intent.predict(u.tokens + crosslang.translated_tokens(u.translations) + crosslang.value_tokens(u.translations))
        _mark(u, "category_intent")
        u.category, u.category_confidence = cat, conf


def _values_by_embedding(parts: SearchParts, u: Understood) -> None:
    """A translated word the catalog has in no form: read it as the category or attribute value its embedding names
    (valuemap), so "浪漫" finds genres = Romance where no title says "romantic"."""
    if parts.vectors is None or not parts.config.stages.dense:
        return
    for t in u.translations:
        if not t.absent:
            continue
        hit = valuemap.nearest_value(parts.table, parts.encoder, t.source)
        if hit is not None:
            t.values.append(f"{hit.key.removeprefix('attributes.')}={hit.value}")
            t.value_rows = np.flatnonzero(parts.table.filter_masks({hit.key: [hit.value]})[hit.key])


def _translated_entities(parts: SearchParts, u: Understood) -> None:
    """Brand and attribute values the catalog names in its own language, read from the translated words."""
    for t in u.translations:
        for rendering in t.renderings:
            brands, attrs, _ = parts.entities.match(normalize(rendering))
            for b in brands:
                if b not in u.brands:
                    u.brands.append(b)
                    u.note(f"brand: {t.source} → {b}")
            for key, vals in attrs.items():
                for v in vals:
                    if v not in u.attributes.get(key, []):
                        u.attributes.setdefault(key, []).append(v)
                        u.note(f"attribute {key}: {t.source} → {v}")


def run(ctx: SearchContext) -> None:
    """ctx.understood ← the understood query; its steps open ctx.stages."""
    ctx.understood = understand_query(ctx.parts, ctx.request.query)
    ctx.stages.extend(ctx.understood.stages)
