"""Generated texts under the same fact check as chat: product descriptions, ad copy and search-query
rewriting. Their material (assistant.facts): catalog fields, confident extracted values and review aspect figures;
an LLM sentence stays only when every claim in it is supported by one of those facts, and carries that fact's source.
Without an LLM (or when it fails, or the check removes everything) each falls back to a template over the facts.
"""

from __future__ import annotations

import re
from typing import Any

from shopmind.assistant.factcheck import FactChecker, split_sentences
from shopmind.assistant.facts import language_of, product_facts
from shopmind.assistant.grounding import evidence_of, fmt_price
from shopmind.assistant.llm import LLM, LLMError
from shopmind.assistant.models import GeneratedText, LLMInfo, Sentence, Source
from shopmind.domain import Product

__all__ = ["PROMPTS", "Generator", "generator_for", "product_facts"]
PROMPTS = {
    "description": "Write a short product description (2-3 sentences) from the FACTS only. Do not add any number, size, colour, brand, material or claim that is not in the FACTS.",
    "ad": "Write one catchy ad line (at most 20 words) for this product from the FACTS only. Do not add any number, size, colour, brand or claim that is not in the FACTS.",
    "rewrite": "Rewrite the shopper's message as a short product search query (keywords only, same language). Output only the query.",
}


class Generator:
    """Descriptions, ad copy and query rewrites; `llm` phrases, the checker decides what may stay."""

    def __init__(self, llm: LLM, checker: FactChecker, max_tokens: int = 160, timeout_s: float = 20.0) -> None:
        self.llm, self.checker, self.max_tokens, self.timeout_s = llm, checker, max_tokens, timeout_s

    def _llm(self, task: str, facts: str, user: str = "") -> tuple[str, LLMInfo]:
        info = LLMInfo(backend=self.llm.name)
        if not getattr(self.llm, "enabled", False):
            info.backend = "none"
            return "", info
        msgs = [{"role": "system", "content": PROMPTS[task]}, {"role": "user", "content": (user + "\n" if user else "") + f"FACTS:\n{facts}"}]
        try:
            text, info.tokens = self.llm.complete(msgs, max_tokens=self.max_tokens, timeout=self.timeout_s)
        except LLMError as exc:
            info.backend, info.fallback = "none", f"LLM error: {exc}"[:300]
            return "", info
        return text.strip(), info

    def _checked(self, p: Product, task: str, facts: list[Sentence], template: list[Sentence]) -> GeneratedText:
        """The LLM's sentences that every claim of is supported by a fact (each with its fact's source), else `template`."""
        raw, info = self._llm(task, "\n".join(f"- {f.text}" for f in facts))
        pairs = [(f.source.kind, f.text + " | " + f.evidence) for f in facts]
        kept: list[Sentence] = []
        for s in split_sentences(raw):
            used, bad = self.checker.sourced(s, pairs)
            if bad:
                info.dropped.append(s)
            else:
                kept.append(_sourced_sentence(p, s, [facts[i] for i in used]))
        if not kept:
            if info.backend != "none":
                info.fallback = info.fallback or "the fact check removed every sentence"
                info.backend = "none"
            kept = template
        sep = "" if language_of(p) == "zh" else " "
        return GeneratedText(product_id=p.id, text=sep.join(s.text for s in kept), sentences=kept, llm=info)

    def description(self, p: Product, reviews: dict[str, Any] | None = None) -> GeneratedText:
        """A short description from the catalog fields, confident extracted values and review aspects (`reviews`: the
        product's review summary, facade `review_summary`)."""
        facts = product_facts(p, reviews)
        return self._checked(p, "description", facts, facts)

    def ad_copy(self, p: Product, reviews: dict[str, Any] | None = None) -> GeneratedText:
        """One ad line (template: title, brand and price when known, and the aspect reviewers like most)."""
        facts = product_facts(p, reviews)
        return self._checked(p, "ad", facts, [ad_template(p, facts)])

    def rewrite_query(self, message: str, fallback: str) -> GeneratedText:
        """A search query for a chat message; a rewrite may only use numbers/colours/brands the message has."""
        raw, info = self._llm("rewrite", message, user="Shopper: " + message)
        line = re.sub(r"^(query|search)\s*[:：]\s*", "", raw.splitlines()[0].strip().strip('"“”'), flags=re.IGNORECASE) if raw else ""
        if line and self.checker.unsupported(line, message):
            info.dropped.append(line)
            line = ""
        if not line:
            if info.backend != "none":
                info.fallback = info.fallback or "empty or unsupported rewrite"
            info.backend = "none"
            line = fallback
        return GeneratedText(text=line, sentences=[Sentence(text=line, source=Source(kind="query"), evidence=message)], llm=info)


def generator_for(assistant: Any) -> Generator:
    """A Generator sharing an Assistant's LLM, fact checker and limits."""
    c = assistant.config
    return Generator(assistant.llm, assistant.checker, c.max_tokens, c.timeout_s)


def _sourced_sentence(p: Product, text: str, used: list[Sentence]) -> Sentence:
    """An LLM sentence with the source of the facts its claims rest on (a non-catalog source named first)."""
    if not used:
        return Sentence(text=text, source=Source(kind="catalog", product_id=p.id, field="generated"), evidence=p.title)
    lead = next((f for f in used if f.source.kind != "catalog"), used[0])
    fields = ",".join(dict.fromkeys(f.source.field or "" for f in used))
    return Sentence(text=text, source=Source(kind=lead.source.kind, product_id=p.id, field=fields), evidence=" | ".join(f.evidence for f in used))


def ad_template(p: Product, facts: list[Sentence]) -> Sentence:
    """Title, brand and price when known, plus the most mentioned aspect reviewers like (from the review facts)."""
    zh = language_of(p) == "zh"
    parts, fields, ev = [p.title], ["title"], [evidence_of(p, "title")]
    if p.brand and p.brand.casefold() not in p.title.casefold():
        parts.append(f"{p.brand}出品" if zh else f"by {p.brand}")
        fields.append("brand")
        ev.append(evidence_of(p, "brand"))
    if p.price is not None:
        parts.append(f"仅{fmt_price(p)}" if zh else f"now {fmt_price(p)}")
        fields.append("price")
        ev.append(evidence_of(p, "price"))
    liked = next((f for f in facts if f.source.kind == "reviews" and _liked(f.evidence)), None)
    kind = "catalog"
    if liked is not None:
        aspect = (liked.source.field or "").removeprefix("reviews.")
        pct, n = _figures(liked.evidence)
        parts.append(f"买家好评「{aspect}」（{n}次提及中{pct}%为好评）" if zh else f"reviewers like the {aspect} ({pct} % of {n} mentions positive)")
        fields.append(liked.source.field or "reviews")
        ev.append(liked.evidence)
        kind = "reviews"
    text = ("，".join(parts) + "。") if zh else (", ".join(parts) + ".")
    return Sentence(text=text, source=Source(kind=kind, product_id=p.id, field=",".join(fields)), evidence=" | ".join(ev))


_FIGURES_RE = re.compile(r": (\d+) % positive over (\d+) mentions")


def _figures(evidence: str) -> tuple[int, int]:
    m = _FIGURES_RE.search(evidence)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def _liked(evidence: str) -> bool:
    return _figures(evidence)[0] >= LIKED_SHARE


LIKED_SHARE = 60  # % positive from which an ad line says reviewers like an aspect (facts.review_phrase says "like" from here too)
