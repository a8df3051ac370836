"""Generated texts under the same fact check as chat: product descriptions, ad copy and search-query
rewriting. Without an LLM (or when it fails) each falls back to a template over catalog fields.
"""

from __future__ import annotations

import re
from typing import Any

from shopmind.assistant.factcheck import FactChecker, split_sentences
from shopmind.assistant.grounding import attr_items, evidence_of, fmt_price, fmt_value
from shopmind.assistant.llm import LLM, LLMError
from shopmind.assistant.models import GeneratedText, LLMInfo, Sentence, Source
from shopmind.domain import Product
from shopmind.text.normalize import detect_language

PROMPTS = {
    "description": "Write a short product description (2-3 sentences) from the FACTS only. Do not add any number, size, colour, brand, material or claim that is not in the FACTS.",
    "ad": "Write one catchy ad line (at most 20 words) for this product from the FACTS only. Do not add any number, size, colour, brand or claim that is not in the FACTS.",
    "rewrite": "Rewrite the shopper's message as a short product search query (keywords only, same language). Output only the query.",
}


def product_facts(p: Product) -> list[Sentence]:
    """The product's catalog fields as grounded sentences (the only material generation may use)."""
    src = lambda f: Source(kind="catalog", product_id=p.id, field=f)
    zh = (p.language or detect_language(p.title)) == "zh"
    out = [Sentence(text=p.title + ("。" if zh else "."), source=src("title"), evidence=p.title)]
    if p.brand:
        out.append(Sentence(text=f"品牌：{p.brand}。" if zh else f"Brand: {p.brand}.", source=src("brand"), evidence=evidence_of(p, "brand")))
    if p.category:
        out.append(Sentence(text=f"类目：{' > '.join(p.category)}。" if zh else f"Category: {' > '.join(p.category)}.", source=src("category"), evidence=evidence_of(p, "category")))
    for k, v in attr_items(p)[:8]:
        name = k.replace("_", " ")
        out.append(Sentence(text=f"{name}：{fmt_value(v)}。" if zh else f"{name.capitalize()}: {fmt_value(v)}.", source=src(f"attributes.{k}"), evidence=evidence_of(p, f"attributes.{k}")))
    if p.price is not None:
        out.append(Sentence(text=f"价格：{fmt_price(p)}。" if zh else f"Price: {fmt_price(p)}.", source=src("price"), evidence=evidence_of(p, "price")))
    return out


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

    def _checked(self, p: Product, task: str, template: list[Sentence]) -> GeneratedText:
        facts = product_facts(p)
        evidence = "\n".join(f.text + " | " + f.evidence for f in facts)
        raw, info = self._llm(task, "\n".join(f"- {f.text}" for f in facts))
        kept: list[Sentence] = []
        for s in split_sentences(raw):
            if self.checker.unsupported(s, evidence):
                info.dropped.append(s)
            else:
                kept.append(Sentence(text=s, source=Source(kind="catalog", product_id=p.id, field="generated"), evidence=evidence))
        if not kept:
            if info.backend != "none":
                info.fallback = info.fallback or "the fact check removed every sentence"
                info.backend = "none"
            kept = template
        sep = "" if detect_language(p.title) == "zh" else " "
        return GeneratedText(product_id=p.id, text=sep.join(s.text for s in kept), sentences=kept, llm=info)

    def description(self, p: Product) -> GeneratedText:
        """A short description of a product from its catalog fields only."""
        return self._checked(p, "description", product_facts(p))

    def ad_copy(self, p: Product) -> GeneratedText:
        """One ad line from the catalog fields (template: title plus brand/price when known)."""
        zh = detect_language(p.title) == "zh"
        parts = [p.title]
        if p.brand and p.brand.casefold() not in p.title.casefold():
            parts.append(f"by {p.brand}" if not zh else f"{p.brand}出品")
        if p.price is not None:
            parts.append(f"now {fmt_price(p)}" if not zh else f"仅{fmt_price(p)}")
        text = ("，".join(parts) + "。") if zh else (", ".join(parts) + ".")
        fields = ["title"] + (["brand"] if len(parts) > 1 and p.brand else []) + (["price"] if p.price is not None else [])
        ev = " | ".join(evidence_of(p, f) for f in fields)
        return self._checked(p, "ad", [Sentence(text=text, source=Source(kind="catalog", product_id=p.id, field=",".join(fields)), evidence=ev)])

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
