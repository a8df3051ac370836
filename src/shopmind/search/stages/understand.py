"""Stage 1, understand: price limits, spelling, brand/attribute values, synonyms, tokens and category intent."""

from __future__ import annotations

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
    """The steps after spelling (entities, synonyms, tokens, category intent) on `text`; a rewrite runs them again."""
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
    if st.category_intent and parts.intent is not None:
        cat, conf = parts.intent.predict(u.tokens)
        _mark(u, "category_intent")
        u.category, u.category_confidence = cat, conf


def run(ctx: SearchContext) -> None:
    """ctx.understood ← the understood query; its steps open ctx.stages."""
    ctx.understood = understand_query(ctx.parts, ctx.request.query)
    ctx.stages.extend(ctx.understood.stages)
