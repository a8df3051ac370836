"""The shopping assistant: multi-turn chat grounded in the catalog and the shop's FAQ.

    assistant = shop.assistant                           # wired by the facade: Assistant.create(ShopTools(shop), …)
    r = assistant.chat("s1", "red running shoes under 300 yuan")
    r = assistant.chat("s1", "cheaper")                  # keeps the query and category, lowers the price
    for part in assistant.chat_stream("s1", "what is it made of?"): ...   # str chunks, then the ChatResponse
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shopmind.assistant.attrlang import attr_name
from shopmind.assistant.budget import Deadline, late, within
from shopmind.assistant.config import AssistantConfig
from shopmind.assistant.factcheck import COLOURS, FactChecker
from shopmind.assistant.faq import Faq
from shopmind.assistant.focus import SURE, FocusMixin, named_intent
from shopmind.assistant.generate import generator_for
from shopmind.assistant.grounding import (
    answer_about,
    card,
    cat_sentence,
    compare,
    faq_sentences,
    fmt_value,
    listing,
    short_title,
)
from shopmind.assistant.intents import IntentClassifier
from shopmind.assistant.llm import LLM, LLMError, open_llm
from shopmind.assistant.models import (
    ChatResponse,
    GeneratedText,
    LLMInfo,
    Sentence,
    SessionSummary,
    Slots,
    Source,
)
from shopmind.assistant.phrase import Phraser, messages_for
from shopmind.assistant.replies import CHAT, join_sentences, kind_of, language_of
from shopmind.assistant.replies import joiner as _joiner
from shopmind.assistant.replies import say as _say
from shopmind.assistant.reviews import review_answer
from shopmind.assistant.setq import set_turn
from shopmind.assistant.slots import SlotFiller, without_title
from shopmind.assistant.state import MemorySessionStore, SessionState, SessionStore, SqlSessionStore
from shopmind.assistant.tools import Tools
from shopmind.domain import Product

if TYPE_CHECKING:
    from sqlalchemy import Engine
class Assistant(FocusMixin):
    """Chat over a catalog: understand → tools → grounded sentences → (LLM phrasing → fact check)."""

    def __init__(self, tools: Tools, config: AssistantConfig | None = None, faq: Faq | None = None,
                 store: SessionStore | None = None, llm: LLM | None = None, intents: IntentClassifier | None = None) -> None:
        self.config = config or AssistantConfig()
        self.tools = tools
        self.faq = faq or Faq.load(self.config.faq_path)
        self.store = store or MemorySessionStore(self.config.session_ttl_s, self.config.max_sessions)
        self.llm_error: str | None = None
        self.llm = llm if llm is not None else self._open_llm(self.config.llm)
        self.intents = intents or IntentClassifier.default()
        self._search = tools.understander()
        self.slots = SlotFiller(self._search)
        self.checker = FactChecker(tools.brands())
        self.phraser = Phraser(self.checker)

    def _refresh(self) -> None:
        """After a rebuild the shop serves a new search service: re-read its understanding and brand list."""
        current = self.tools.understander()
        if current is not self._search:
            self._search = current
            self.slots = SlotFiller(current)
            self.checker = FactChecker(self.tools.brands())
            self.phraser = Phraser(self.checker)

    def _open_llm(self, url: str) -> LLM:
        try:
            return open_llm(url)
        except LLMError as exc:
            self.llm_error = f"LLM unavailable: {exc}"[:300]
            return open_llm("none")  # the assistant must answer even when its model cannot start

    @classmethod
    def create(cls, tools: Tools, settings: AssistantConfig | dict[str, Any] | None = None, *, home: Path | None = None,
               engine: Engine | None = None, **overrides: Any) -> Assistant:
        """An assistant from [assistant] settings plus overrides; FAQ from <home>/faq.md; sessions in `engine` or memory."""
        raw = settings if isinstance(settings, dict) else settings.model_dump() if settings is not None else {}
        config = AssistantConfig.model_validate({**raw, **overrides})
        if config.faq_path is None and home is not None and (Path(home) / "faq.md").is_file():
            config.faq_path = Path(home) / "faq.md"
        return cls(tools, config, store=SESSION_STORES[config.sessions](engine, config))

    # ------------------------------------------------------------------ public
    def chat(self, session_id: str, message: str, user_id: str | None = None, product_id: str | None = None) -> ChatResponse:
        """One turn. `product_id`: the product page the shopper is on (puts it in focus)."""
        response = None
        for part in self.chat_stream(session_id, message, user_id, product_id, _collect=True):
            if isinstance(part, ChatResponse):
                response = part
        assert response is not None
        return response

    def chat_stream(self, session_id: str, message: str, user_id: str | None = None, product_id: str | None = None,
                    _collect: bool = False) -> Iterator[str | ChatResponse]:
        """One turn as text chunks (each released after its fact check), then the final ChatResponse."""
        t0 = time.perf_counter()
        deadline = Deadline(self.config.turn_budget_ms)  # understanding + tools; the LLM has its own timeout_s
        if not 0 < len(session_id) <= SqlSessionStore.MAX_ID:
            raise ValueError(f"session_id: 1 to {SqlSessionStore.MAX_ID} characters, got {len(session_id)}")
        if not 0 < len(message) <= self.config.max_message_chars:
            raise ValueError(f"message: 1 to {self.config.max_message_chars} characters, got {len(message)}")
        self._refresh()
        state = self.store.get(session_id) or SessionState(session_id=session_id, user_id=user_id)
        state.user_id = state.user_id or user_id  # a shopper who signs in mid-conversation owns it from then on
        if product_id:
            state.focus = [product_id] + [i for i in state.focus if i != product_id]
        lang = language_of(message)
        state.language = lang
        grounded: list[Sentence]
        products: list[Product]
        with within(deadline):  # no yield inside: a streamed turn resumes in other threads
            link = self._link(state, message, product_id)  # products the message names (focus.py)
            # a policy keyword inside a product's name ("Broken Arrow") is no policy question
            policy_text = without_title(message, link.titles[0]) if link.named and link.confidence[0] >= SURE else message
            pred = self.intents.predict(message, bool(state.focus), self.faq.match(policy_text, 0.0)[1])
            pred.intent = named_intent(pred.intent, link, bool(state.focus), message, bool(product_id), pred.confidence)
            # nothing shown or named, the model unsure: no comparison, and a catalog value read outweighs "out of scope"
            understood = self.slots.understand(message)
            if pred.by in ("model", "model+context") and pred.confidence < 0.5 and not state.focus and not link.ids and (
                    pred.intent == "compare" or (pred.intent == "out_of_scope" and self.slots.names_catalog_values(understood))):
                pred.intent = "find"
            slots = self.slots.fill(message, pred.intent, understood)
            if late():  # understanding alone spent the budget: say so rather than search on
                grounded, products = [_say(lang, "busy")], []
            else:
                grounded, products = self._answer_linked(state, message, pred.intent, slots, lang, user_id, link, product_id)
        info = LLMInfo(backend=self.llm.name, fallback=self.llm_error)
        sentences: list[Sentence] = []
        if getattr(self.llm, "enabled", False) and grounded and deadline.expired():
            info.fallback = "turn time budget spent"
        elif getattr(self.llm, "enabled", False) and grounded and pred.intent not in ("chitchat", "out_of_scope"):
            budget = self.config.session_token_budget - state.tokens_used
            if budget < self.config.max_tokens:
                info.fallback = "session token budget spent"
            else:
                try:
                    msgs = messages_for(message, grounded, lang)
                    if _collect:
                        raw, used = self.llm.complete(msgs, max_tokens=self.config.max_tokens, timeout=self.config.timeout_s)
                        info.tokens = used or (len(raw) // 3 + sum(len(m["content"]) for m in msgs) // 3)
                        sentences = self.phraser.check(raw, message, grounded, info)
                    else:
                        chunks = self.llm.stream(msgs, max_tokens=self.config.max_tokens, timeout=self.config.timeout_s)
                        for s in self.phraser.stream_checked(chunks, message, grounded, info):
                            yield _joiner(sentences[-1].text if sentences else "") + s.text
                            sentences.append(s)
                        info.tokens = sum(len(s.text) for s in sentences) // 3 + sum(len(m["content"]) for m in msgs) // 3
                        sentences = self.phraser.keep_unknowns(sentences, grounded)
                    state.tokens_used += info.tokens
                    if not sentences:
                        info.fallback = "the fact check removed every sentence"
                except LLMError as exc:
                    info.fallback = f"LLM error: {exc}"[:300]
                    sentences = []
        if not sentences:
            if info.backend != "none" and info.fallback is None and pred.intent in ("chitchat", "out_of_scope"):
                info.fallback = "no facts to phrase"
            info.backend = "none" if info.fallback or not getattr(self.llm, "enabled", False) else info.backend
            sentences = grounded
            streamed = False
        else:
            streamed = not _collect
        if not streamed:  # the chunks join exactly as the final text does (join_sentences)
            for i, s in enumerate(sentences):
                yield _joiner(sentences[i - 1].text if i else "") + s.text
        state.add("user", message, pred.intent)
        text = join_sentences([s.text for s in sentences])
        state.add("assistant", text)
        self.store.put(state)
        yield ChatResponse(
            text=text, sentences=sentences, products=[card(p) for p in products], intent=pred.intent,
            confidence=round(pred.confidence, 4), slots=slots, language=lang, llm=info, answer_kind=kind_of(pred.intent, grounded),
            session=SessionSummary(session_id=session_id, turns=len(state.history) // 2, focus=state.focus,
                                   query=state.query, filters=state.filters, tokens_used=state.tokens_used),
            took_ms=round((time.perf_counter() - t0) * 1e3, 3),
        )

    def forget_user(self, user_id: str) -> int:
        """Delete every conversation of a user (part of ShopMind.delete_user); return how many went."""
        return self.store.forget_user(user_id)

    def describe(self, product_id: str) -> GeneratedText | None:
        """A fact-checked description of a catalog product (None if the id is unknown)."""
        found = self.tools.get([product_id])
        return generator_for(self).description(found[0]) if found else None

    def ad_copy(self, product_id: str) -> GeneratedText | None:
        """A fact-checked ad line for a catalog product (None if the id is unknown)."""
        found = self.tools.get([product_id])
        return generator_for(self).ad_copy(found[0]) if found else None

    def rewrite_query(self, message: str) -> GeneratedText:
        """A search query for a chat message (LLM when configured, else the message minus chat filler)."""
        return generator_for(self).rewrite_query(message, self.slots.product_text(message) or message)

    def forget(self, session_id: str) -> None:
        """Drop a session's state."""
        self.store.delete(session_id)

    # ------------------------------------------------------------------ per intent
    def _answer(self, state: SessionState, message: str, intent: str, slots: Slots, lang: str,
                user_id: str | None) -> tuple[list[Sentence], list[Product]]:
        found = set_turn(intent, message, slots.refs, state.focus[: self.config.results], self.tools.get, lang,  # "which of these …"
                         self.tools.values)
        if found is not None:
            return found
        handler = {
            "find": self._find, "refine": self._refine, "ask": self._ask, "compare": self._compare,
            "recommend": self._recommend, "faq": self._faq, "chitchat": self._chitchat, "out_of_scope": self._out_of_scope,
        }[intent]
        return handler(state, message, slots, lang, user_id)

    def _run_search(self, state: SessionState, query: str, filters: dict[str, Any], lang: str,
                    relax_price: bool = True) -> tuple[list[Sentence], list[Product]]:
        search_filters = {k: v for k, v in filters.items() if k != "exclude_brands" and v not in (None, [], {})}
        products = self.tools.search(query, search_filters, self.config.results, filters.get("exclude_brands", []))
        state.query, state.filters = query, filters
        head = [_say(lang, "found", q=query)]
        if not products and "price" in search_filters and relax_price and not late():
            # no match has a catalog price in range: say so, then show matches without the price limit
            search_filters.pop("price")
            products = self.tools.search(query, search_filters, self.config.results, filters.get("exclude_brands", []))
            head = [_say(lang, "no_price_match", q=query)]
        if not products:
            key = "none" if relax_price or "price" not in search_filters else "none_cheaper"
            return [_say(lang, key, q=query or message_of(filters))], []
        state.focus = [p.id for p in products]
        return head + [listing(p, lang) for p in products], products

    def _find(self, state, message, slots, lang, user_id):
        filters: dict[str, Any] = {}
        if slots.price_min is not None or slots.price_max is not None:
            filters["price"] = {"min": slots.price_min, "max": slots.price_max}
        if slots.brands:
            filters["brand"] = slots.brands
        grounded, products = self._run_search(state, slots.query or message, filters, lang)
        if filters.get("brand") and 0 < len(products) < self.config.results and not late():
            # the brand the query names has few matches: show them first, then the query's other matches
            others = self.tools.search(slots.query or message, {k: v for k, v in filters.items() if k != "brand"}, self.config.results)
            more = [p for p in others if p.id not in {q.id for q in products}][: self.config.results - len(products)]
            if more:
                grounded += [_say(lang, "brand_more")] + [listing(p, lang) for p in more]
                products = products + more
                state.focus = [p.id for p in products]
        category = _shared_category(products)
        if category:
            state.filters["category"] = category
        return grounded, products

    def _refine(self, state, message, slots, lang, user_id):
        if state.query is None and not state.focus:
            return self._find(state, message, slots, lang, user_id)
        query = state.query or ""
        filters = dict(state.filters)
        focus = self.tools.get(state.focus)
        prices = [p.price for p in focus if p.price is not None]
        price = dict(filters.get("price") or {})
        if slots.refine == "cheaper" and slots.price_max is None:
            if not prices and price.get("max") is None:
                return [_say(lang, "no_prices")], []
            # cheaper than the first priced product the shopper is looking at
            price["max"] = round(prices[0] - 0.01, 2) if prices else round(price["max"] * 0.8, 2)
        elif slots.refine == "pricier" and slots.price_min is None:
            if not prices:
                return [_say(lang, "no_prices")], []
            price["min"], price["max"] = round(max(prices) + 0.01, 2), None
        if slots.price_max is not None or slots.price_min is not None:
            price = {"min": slots.price_min, "max": slots.price_max}
        if price:
            filters["price"] = price
            anchor = next((p for p in focus if p.price is not None), None)
            if anchor is not None and anchor.category and slots.refine in ("cheaper", "pricier"):
                filters["category"] = " > ".join(anchor.category)  # cheaper than *this*, in its category
        if slots.refine == "other_brand":
            named = list(self.checker.brands_in(message))
            filters["exclude_brands"] = sorted({*filters.get("exclude_brands", []), *named, *(p.brand for p in focus if p.brand)})
            filters.pop("brand", None)
        elif slots.brands:
            filters["brand"] = slots.brands
        if slots.colour:
            query = _swap_colour(query, slots.colour, lang)
        if slots.refine == "in_stock":
            filters["in_stock"] = True
        grounded, products = self._run_search(state, query, filters, lang, relax_price=False)
        if not products and slots.refine == "other_brand" and filters.get("category") and not late():
            # the category was inferred from the results, not asked for: other brands outside it still answer
            grounded, products = self._run_search(state, query, {k: v for k, v in filters.items() if k != "category"}, lang, relax_price=False)
        anchor = next((p for p in focus if p.price is not None), None)
        if not products and slots.refine == "cheaper" and anchor is not None and filters.get("category") and not late():
            # nothing matching the words is cheaper: the cheaper items of that category most like the product shown
            like, like_products = self._run_search(state, anchor.title, filters, lang, relax_price=False)
            state.query = query
            if like_products:
                return [_say(lang, "cheaper_like", q=query), *like[1:]], like_products
        return grounded, products

    def _ask(self, state, message, slots, lang, user_id):
        if slots.aspect in ("shipping", "returns", "warranty"):
            return self._faq(state, message, slots, lang, user_id)
        targets = self._focused(state, slots.refs)
        if not targets:
            section, _ = self.faq.match(message, min_score=4.0)
            if section is not None:
                return faq_sentences(section, lang), []
            return [_say(lang, "which")], []
        targets = targets[: max(len(slots.refs), 1)]
        out: list[Sentence] = []
        for n, p in enumerate(targets):
            if n and late():  # the first product is answered; the rest wait for a follow-up
                targets = targets[:n]
                break
            asked = slots.question or message  # without the words that point at the product (its title: find_attribute)
            out += review_answer(self.tools, p, message, lang) or answer_about(p, slots.aspect, asked, lang, slots.size)  # reviews.py
        return out, targets

    def _compare(self, state, message, slots, lang, user_id):
        products = self._focused(state, slots.refs if len(slots.refs) >= 2 else [0, 1])
        if len(products) < 2:
            return [_say(lang, "two")], products
        return compare(products[0], products[1], lang), products[:2]

    def _recommend(self, state, message, slots, lang, user_id):
        base = self._focused(state, slots.refs[:1] or [0])
        if not base:
            return self._find(state, message, slots, lang, user_id)
        products, _how = self.tools.recommend(base[0].id, user_id or state.user_id, self.config.results)
        if not products:
            return [_say(lang, "none", q=base[0].title)], []
        state.focus = [p.id for p in products]
        head = Sentence(text=CHAT[lang if lang in CHAT else "en"]["recs"].format(t=short_title(base[0])),
                        source=Source(kind="catalog", product_id=base[0].id, field="title"), evidence=base[0].title)
        return [head] + [listing(p, lang) for p in products], products

    def _faq(self, state, message, slots, lang, user_id):
        sections = self.faq.matches(message)
        own = self._product_warranty(state, slots, lang) if slots.aspect == "warranty" else []
        if not sections and not own:
            return [_say(lang, "no_faq")], []
        return own + [s for section in sections for s in faq_sentences(section, lang)], self._focused(state, slots.refs)[:1] if own else []

    def _product_warranty(self, state, slots, lang) -> list[Sentence]:
        """The warranty the product in focus states in its own attributes (said before the shop's policy)."""
        for p in self._focused(state, slots.refs)[:1]:
            key = next((k for k, v in p.attributes.items() if "warrant" in k.casefold() or "保修" in k or "质保" in k if v not in (None, "", [])), None)
            if key is not None:
                v, name, t = fmt_value(p.attributes[key]), attr_name(key, lang), short_title(p)
                return [cat_sentence(p, f"attributes.{key}", f"The {name} of {t} is {v}.", f"「{t}」的{name}是{v}。", lang)]
        return []

    def _chitchat(self, state, message, slots, lang, user_id):
        low = message.casefold()
        key = "thanks" if any(w in low for w in ("thank", "thx", "谢")) else "bye" if any(w in low for w in ("bye", "再见", "拜拜")) else "greet"
        return [_say(lang, key)], []

    def _out_of_scope(self, state, message, slots, lang, user_id):
        return [_say(lang, "scope")], []


SESSION_STORES: dict[str, Callable[[Any, AssistantConfig], SessionStore]] = {
    "store": lambda engine, config: SqlSessionStore(engine, config.session_ttl_s),
    "memory": lambda engine, config: MemorySessionStore(config.session_ttl_s, config.max_sessions),
}


def message_of(filters: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in filters.items())


def _shared_category(products: list[Product]) -> str | None:
    """The category most of the top results share (kept when the shopper refines)."""
    cats = Counter(" > ".join(p.category) for p in products[:3] if p.category)
    if not cats:
        return None
    cat, n = cats.most_common(1)[0]
    return cat if n >= 2 or len(products) == 1 else None


def _swap_colour(query: str, colour: str, lang: str) -> str:
    """The previous query with any colour word replaced by the new colour."""
    words = [w for w in query.split() if w.casefold() not in {s for spells in COLOURS.values() for s in spells}]
    name = next((s for s in COLOURS[colour] if not s.isascii()), colour) if lang == "zh" else colour
    return " ".join([name, *words])
