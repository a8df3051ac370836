"""Response models of the assistant: grounded sentences with their sources, product cards, session summary."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

INTENTS = ("find", "refine", "ask", "compare", "recommend", "faq", "chitchat", "out_of_scope")
Intent = Literal["find", "refine", "ask", "compare", "recommend", "faq", "chitchat", "out_of_scope"]


class Source(BaseModel):
    """Where a sentence's facts come from: a catalog field of a product, a value extracted from its text, its review
    aspect figures, a FAQ section, or nothing."""

    kind: Literal["catalog", "extracted", "reviews", "faq", "query", "none"] = "none"
    product_id: str | None = None
    field: str | None = Field(default=None, description="catalog field: title, price, brand, category, stock, attributes.NAME; "
                              "attributes_extracted.NAME; reviews.ASPECT")
    section: str | None = Field(default=None, description="FAQ section heading")

    def label(self) -> str:
        """Short human-readable citation, e.g. 'catalog:p1/price' or 'faq:Returns'."""
        if self.kind in ("catalog", "extracted", "reviews"):
            return f"{self.kind}:{self.product_id}/{self.field}"
        if self.kind == "faq":
            return f"faq:{self.section}"
        return self.kind


class Sentence(BaseModel):
    """One sentence of the answer; `evidence` is the exact source text it rests on (empty when none)."""

    text: str
    source: Source = Field(default_factory=Source)
    evidence: str = ""


class ProductCard(BaseModel):
    """A product shown beside the text (values straight from the catalog)."""

    id: str
    title: str
    price: float | None = None
    currency: str | None = None
    brand: str | None = None
    category: str | None = None
    in_stock: bool | None = None


class Slots(BaseModel):
    """What the message asked for, reusing the search service's query understanding where it can."""

    query: str | None = None
    price_min: float | None = None
    price_max: float | None = None
    brands: list[str] = Field(default_factory=list)
    attributes: dict[str, list[str]] = Field(default_factory=dict)
    category: str | None = None
    colour: str | None = None
    size: str | None = None
    aspect: str | None = Field(default=None, description="what is asked about: price, stock, size, color, material, brand, shipping, returns, an attribute name…")
    refine: str | None = Field(default=None, description="cheaper, pricier, other_brand, colour, size")
    refs: list[int] = Field(default_factory=list, description="0-based positions of products the message points at")
    question: str | None = Field(default=None, description="what a question asks about a shown product: the message without the words that point at it ('the second one')")

    def pairs(self) -> set[tuple[str, str]]:
        """Flat (slot, value) pairs, for scoring slot F1."""
        out: set[tuple[str, str]] = set()
        for name in ("price_min", "price_max"):
            v = getattr(self, name)
            if v is not None:
                out.add((name, f"{v:g}"))
        out |= {("brand", b.casefold()) for b in self.brands}
        out |= {(f"attr:{k}", v.casefold()) for k, vs in self.attributes.items() for v in vs}
        for name in ("colour", "size", "aspect", "refine"):
            v = getattr(self, name)
            if v:
                out.add((name, str(v).casefold()))
        out |= {("ref", str(i)) for i in self.refs}
        return out


class SessionSummary(BaseModel):
    """What the conversation holds now: products in focus and filters so far."""

    session_id: str
    turns: int = 0
    focus: list[str] = Field(default_factory=list)
    query: str | None = None
    filters: dict[str, Any] = Field(default_factory=dict)
    tokens_used: int = 0


class LLMInfo(BaseModel):
    """Which backend phrased the answer, and what the fact check removed."""

    backend: str = "none"
    fallback: str | None = Field(default=None, description="why the answer fell back to templates, if it did")
    dropped: list[str] = Field(default_factory=list, description="sentences the fact check removed")
    tokens: int = 0


AnswerKind = Literal["answer", "not_stated", "clarify", "list", "faq", "chat"]


class ChatResponse(BaseModel):
    """One assistant turn: text, its sentences with sources, product cards, intent, slots, session."""

    text: str
    sentences: list[Sentence]
    products: list[ProductCard] = Field(default_factory=list)
    intent: Intent
    confidence: float = 1.0
    slots: Slots = Field(default_factory=Slots)
    session: SessionSummary
    language: str = "en"
    llm: LLMInfo = Field(default_factory=LLMInfo)
    answer_kind: AnswerKind = Field(default="answer", description="answer: stated from sources; not_stated: the catalog does not say "
                                    "(the attribute names it does list follow); clarify: it asks which product; list: products found; "
                                    "faq: the shop's policy; chat: no facts")
    took_ms: float = 0.0
    experiment: dict[str, Any] | None = Field(default=None, description="{id, variant} of the experiment this answer was served in")


class GeneratedText(BaseModel):
    """A generated text (description, ad copy, rewritten query) after the fact check."""

    product_id: str | None = None
    text: str
    sentences: list[Sentence] = Field(default_factory=list)
    llm: LLMInfo = Field(default_factory=LLMInfo)
