"""Which products a turn is about (a mixin of `Assistant`): products the message names (entity linking over the whole
catalog), positions in the list just shown ("the second one", "第二个") and the product talked about last ("it",
"this one", "它"). The per-intent handlers then answer about `state.focus`, whose first product is the one meant."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from shopmind.assistant.answertype import asked_kind
from shopmind.assistant.grounding import listing
from shopmind.assistant.linking import EntityLinker, Link, points_back
from shopmind.assistant.models import Sentence, Source
from shopmind.assistant.slots import refinement, refs_of, without_title
from shopmind.assistant.state import SessionState
from shopmind.domain import Product
from shopmind.text.stopwords import ZH_A_NOT_A, ZH_QUESTION_WORDS

if TYPE_CHECKING:
    from shopmind.assistant.models import Slots
    from shopmind.assistant.tools import Tools

NAMED_INTENTS = ("ask", "compare", "recommend")  # intents about products, which the message may name instead of point at
SURE = 0.5  # a search shows a named product first only when it is more likely named than not (the search ranks the rest)
# a question word left once the product's name is taken out: the message asks about the product, it does not look for it
_ASKS = re.compile(rf"\b(what|which|when|where|who|how)\b|{ZH_QUESTION_WORDS}")
# on a product's page a yes/no question asks about it too: 吗, A-not-A (吵不吵, 要不要, 可不可以), or a choice (还是)
_YES_NO = re.compile(rf"吗|{ZH_A_NOT_A}|还是")
_LIKE = re.compile(r"\b(?:like|similar|such as|more|other|else|alternatives?)\b|类似|相似|差不多|一样|同类|别的|其他|其它|还有")
_DIFFER = re.compile(r"\bdiffer|\bdifference|\bcompare|\bdistinguish|\bapart\b|\bversus\b|\bvs\b|区别|不同|差别|差异|比较|对比|区分")
WHICH = {"en": "Several products match that name; which one do you mean?", "zh": "有几件商品都符合这个名称，您指的是哪一件？"}


def named_intent(intent: str, link: Link, has_focus: bool, message: str, on_page: bool = False, intent_conf: float = 0.0) -> str:
    """A message that names a catalog product is about it: never out of scope or small talk. A message that points at
    one of the products shown ("I like the third one") is a question about that product, and so is a question word
    asked on a product's page that names no other product and asks for no refinement ("演员有哪些", "where is it made?").
    `intent_conf`: the intent model's probability for `intent`."""
    # a weak link wins over small talk / out of scope only when the intent model is even less sure of its reading
    named = bool(link.ids) and (link.confidence[0] >= SURE or len(link.ids) > 1 or link.confidence[0] > intent_conf)
    if named and (intent in ("out_of_scope", "chitchat") or (intent == "refine" and not has_focus)):
        return "ask"
    if intent == "find" and link.named:
        rest = without_title(message, link.titles[0])
        # a named product asked about is a question about it: surely named and any question word, or any link and a
        # when / who / where question, which no search asks ("when was Murder, My Sweet made?")
        if (link.confidence[0] >= SURE and _ASKS.search(rest.casefold())) or asked_kind(rest) is not None:
            return "ask"
    asks = bool(_ASKS.search(message.casefold()) or _YES_NO.search(message))
    if not has_focus and not link.ids and intent in ("out_of_scope", "chitchat") and asked_kind(message) in ("time", "class"):
        return "ask"  # a product's year or kind asked of a name the catalog does not know ("萌芽这部是几几年出的"): "which product?"
    one = intent == "compare" and len(refs_of(message)) < 2 and not _DIFFER.search(message.casefold())  # nothing to compare with
    if one and link.named:
        return "ask"  # one product named and nothing beside it: "is Mr. Wonderful a comedy or something darker?"
    if on_page and not link.ids and asks and (intent in ("find", "out_of_scope", "chitchat") or one or (intent == "refine" and not refinement(message))):
        return "ask"  # "东西沉不沉，具体多重" / "哪个牌子生产的" on a product page ask about it; "any cheaper?" there still refines
    if has_focus and not link.ids and asks and points_back(message) and intent in ("find", "out_of_scope", "chitchat"):
        return "ask"  # a question about "it" with products shown ("它属于哪种电影", "what is it made of?") asks about it
    if has_focus and intent in ("ask", "find", "out_of_scope") and len(refs_of(message)) >= 2 and _DIFFER.search(message.casefold()):
        return "compare"  # "how do the first and second one differ?"
    # a pick, or a question about one product of the list ("你推荐的第一部是哪年的"), unless it asks for more like it
    pick = intent in ("out_of_scope", "chitchat", "find", "compare") or (intent == "refine" and not refinement(message)) or (
        intent == "recommend" and asks and not _LIKE.search(message.casefold()))
    if has_focus and not link.ids and pick and len(refs_of(message)) == 1:
        return "ask"  # one product pointed at ("second one looks cool", "第二个不错"): a comparison needs two, a refinement a change
    return intent


class FocusMixin:
    """Entity linking and references for `Assistant` (which supplies `tools`, `_search` and `_answer`)."""

    tools: Tools
    _search: Any
    _answer: Any
    _linker_cache: tuple[Any, EntityLinker] | None = None

    @property
    def linker(self) -> EntityLinker:
        """The entity linker over the shop's current search service (remade after a rebuild)."""
        if self._linker_cache is None or self._linker_cache[0] is not self._search:
            self._linker_cache = (self._search, EntityLinker(self._search))
        return self._linker_cache[1]

    def _link(self, state: SessionState, message: str, product_id: str | None) -> Link:
        """The products the message names; none when it asks about the page or points at what is shown."""
        if state.focus and (product_id or refs_of(message) or points_back(message)):
            return Link()
        link = self.linker.link(message)
        # with products on screen, a question is about them unless it names one other product more likely than not
        return Link() if state.focus and not (link.named and link.confidence[0] >= SURE) else link

    def _focused(self, state: SessionState, refs: list[int]) -> list[Product]:
        """Products at the given positions of the shown list; without positions, the shown list with the product
        talked about last first (what "it" means)."""
        ids = state.focus
        if refs:
            ids = [ids[i] for i in refs if -len(ids) <= i < len(ids)]
        elif state.current in ids:
            ids = [state.current] + [i for i in ids if i != state.current]
        return self.tools.get(ids)

    def _answer_linked(self, state: SessionState, message: str, intent: str, slots: Slots, lang: str,
                       user_id: str | None, link: Link, product_id: str | None) -> tuple[list[Sentence], list[Product]]:
        """The turn's answer with the named products in focus; afterwards remember which product it was about."""
        if product_id:
            state.current = product_id
        if intent == "find" and not (link.named and link.confidence[0] >= SURE):
            link = Link()
        if link.ids and intent in (*NAMED_INTENTS, "find"):
            if link.ambiguous and intent != "compare":
                products = self.tools.get(link.ids)
                state.focus, state.current = [p.id for p in products], None  # "the second one" next turn picks among them
                head = Sentence(text=WHICH.get(lang, WHICH["en"]), source=Source(kind="none"))
                return [head] + [listing(p, lang) for p in products], products
            if intent != "find":
                named = link.ids[:2] if intent == "compare" else link.ids[:1]
                state.focus = named + [i for i in state.focus if i not in named]
                state.current = named[0]
                slots.refs = [0, 1] if intent == "compare" and len(named) == 2 else []
        before = list(state.focus)
        grounded, products = self._answer(state, message, intent, slots, lang, user_id)
        if intent == "find" and link.named:
            grounded, products = _named_first(state, link.named, grounded, products, self.tools, lang)
        elif state.focus != before:
            state.current = None  # a new list is shown: "it" is no longer the earlier product
        if len(slots.refs) == 1 and before and len(products) == 1 and products[0].id in before:
            state.current = products[0].id
        return grounded, products


def _named_first(state: SessionState, pid: str, grounded: list[Sentence], products: list[Product], tools: Tools,
                 lang: str) -> tuple[list[Sentence], list[Product]]:
    """A search that names one product shows that product first (fetched when the search did not return it)."""
    found = [p for p in products if p.id == pid] or tools.get([pid])
    if not found:
        return grounded, products
    rest = [p for p in products if p.id != pid]
    if len(rest) == len(products):  # the named product was not among the matches: it takes the last place's slot
        rest = rest[: max(len(products) - 1, 0)]
    head = [s for s in grounded if s.source.product_id is None][:1]
    lines = {s.source.product_id: s for s in grounded if s.source.product_id is not None}
    body = [lines.get(p.id) or listing(p, lang) for p in [found[0], *rest]]
    state.focus, state.current = [found[0].id] + [p.id for p in rest], found[0].id
    return head + body, [found[0], *rest]
