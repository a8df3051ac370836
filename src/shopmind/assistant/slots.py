"""Slot filling: price, brand, attributes and category come from the search service's own query
understanding; the assistant adds colour, size, what is asked about (aspect), refinements and references.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from shopmind.assistant.factcheck import colours_in
from shopmind.assistant.models import Slots
from shopmind.search.understand import parse_price
from shopmind.text.stopwords import EN_STOPWORDS, ZH_STOPWORDS

# what a question is about: aspect → (EN pattern, ZH substrings)
ASPECTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "weight": (r"\b(weigh|weighs|weight|heavy)\b", ("重量", "多重", "几斤")),
    "shipping": (r"\b(ship|shipping|shipped|deliver|delivery|postage|arrive)\b", ("发货", "快递", "运费", "配送", "包邮", "几天到")),
    "returns": (r"\b(return|returns|refund|send it back)\b", ("退货", "退款", "退换")),
    "warranty": (r"\b(warranty|guarantee)\b", ("保修", "质保")),
    "price": (r"\b(price|cost|costs|how much is|how much does|how much for|expensive|pricey)\b", ("多少钱", "价格", "价钱", "几块", "贵不贵")),
    # "available" alone is about stock, not in "what storage / which colours are available"
    "stock": ((r"\b(in stock|availability|sold out|how many (are )?left|out of stock)\b|"
               r"^(?!.*\b(storage|space|memory|capacity|sizes?|colou?rs?|options?|styles?|versions?|models?|languages?)\b.*\bavailable\b).*\bavailable\b"), ("有货", "库存", "现货", "还有吗", "有没有货", "卖完")),
    "colour": (r"\b(colou?rs?|what shade)\b", ("颜色", "什么色")),
    "material": (r"\b(material|made of|made from|fabric)\b", ("材质", "面料", "什么做的", "材料")),
    "brand": (r"\b(brand|who makes|maker|manufacturer|manufactures|made by)\b", ("牌子", "品牌", "厂家")),
    "size": (r"\b(size|sizes|fit|how big|dimensions?|how large|how long|how wide|how tall)\b", ("尺码", "尺寸", "多大", "大小", "码数", "几码", "哪个码", "什么码", "多大码")),
}
_ASPECT_RES = {k: re.compile(en) for k, (en, _) in ASPECTS.items()}

REFINES: list[tuple[str, re.Pattern[str]]] = [
    ("cheaper", re.compile(r"cheaper|less expensive|less pricey|more affordable|lower[- ]price[ds]?|too expensive|便宜|太贵|实惠一?点")),
    ("pricier", re.compile(r"more expensive|pricier|higher end|premium|贵一点|更贵|高端一?点")),
    ("other_brand", re.compile(r"(another|a different|other) brands?|\bnot \w+|换个?(牌子|品牌)|(别的|其他|其它)(牌子|品牌)|不要\S+的")),
    ("colour", re.compile(r"\b(in|any in|same but|the) (\w+)( ones?)?\b|换个颜色|要\S*色的|有\S*色的")),
    ("size", re.compile(r"bigger|smaller|larger|大一点|小一点|大一号|小一号")),
    ("in_stock", re.compile(r"in stock ones|only in stock|available ones|有货的")),
]

_ORD_EN = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3, "fifth": 4, "5th": 4}
_NUM_EN = {"one": 0, "two": 1, "three": 2, "four": 3, "five": 4, "1": 0, "2": 1, "3": 2, "4": 3, "5": 4}
# a position said as a number: "number two", "no. 3", "#2", "option 1", "pick 4", "film three" (not a quantity: "movie two hours long")
_NUMBERED = re.compile(r"(?:\bnumber|\bno\.|#|\boption|\bpick|\bitem|\bresult|\bfilm|\bmovie|\bproduct)\s*(one|two|three|four|five|[1-5])\b"
                       r"(?!\s*(?:hours?|hrs?|minutes?|mins?|inch(?:es)?|in\.|ft|feet|foot|pounds?|lbs?|oz|stars?|years?|days?|packs?|pcs|pieces?|people|times?|of)\b)")
# the end of the list: "the last (one)", "the final one", "the bottom one", "at the end of the list"
_LAST_EN = r"\bthe (?:very )?(?:last|final)\b|\b(?:last|final|bottom) (?:one|item|product|film|movie|pick|result|entry)\b|\bat the (?:bottom|end)\b"
# Chinese measure words that follow a count or "last" (最后一部, 这两款): the closed class, not the bench's nouns
_CL = "[个款件部台只本双套把支条张辆瓶盒位种样]"
_ORD_ZH = {"一": 0, "1": 0, "二": 1, "2": 1, "三": 2, "3": 2, "四": 3, "4": 3, "五": 4, "5": 4}
# the end of the list in Chinese: 最后一部, 最后那一部, 最底下那部, 最下面那个, 末尾那款 (倒数第二个 counts from the end)
_LAST_ZH = rf"(?:最后|最末尾?|末尾|最底下?|最底部|最下面|最下边)\s*(?:那|这)?\s*一?\s*{_CL}"
_FROM_END_ZH = r"倒数\s*第\s*([一二三四五1-5])"
_NOUN_EN = r"(?:one|item|product|film|movie|pick|result|entry|option)s?"
_TAIL_EN = r"(?: (?:on|in|from) (?:the|that|this|your) list| on there| (?:you )?(?:shown|listed))?"
# the words of a message that point at a shown product rather than ask about it ("the first film —", "number two",
# "the final one on the list", "第三部", "最后那部"): taken out before the question is matched against attribute names
_REF_PHRASE = re.compile(
    rf"\b(?:the )?(?:{'|'.join(_ORD_EN)})(?: {_NOUN_EN})?{_TAIL_EN}\b|\bthe (?:very )?(?:last|final|bottom)(?: {_NOUN_EN})?{_TAIL_EN}\b"
    rf"|\b(?:the )?(?:last|final|bottom|top) {_NOUN_EN}{_TAIL_EN}\b|(?:\b(?:film|movie|product|option) )?{_NUMBERED.pattern}|\b(?:on|in|from) (?:the|that|this|your) list\b"
    rf"|(?:倒数\s*)?第\s*[一二三四五1-5]\s*{_CL}?|{_LAST_ZH}"
)

FILLER = re.compile(
    r"^(hi|hello|hey)[,!\s]+|\b(please|can you|could you|would you|i'?m looking for|i am looking for|looking for|i want to buy|i want|i'?d like|"
    r"i would like|i need|do you have|do you sell|have you got|show me|find me|get me|search for|where can i find|help me find|any|some)\b|"
    r"^(我想买|我想要|我要|帮我找|帮我搜|找一下|搜一下|有没有|给我看看|推荐几款|想要)|(有吗|吗|呢|吧)[?？]?$|[?？!！。]"
)
SIZE_RE = re.compile(r"\bsize\s*([0-9]{1,3}(?:\.5)?|xxs|xs|s|m|l|xl|xxl|xxxl)\b|([0-9]{2,3})\s*码|\b(xxs|xs|xl|xxl|xxxl)\b")


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()


def aspect_of(text: str) -> str | None:
    """The first aspect named in the message (in ASPECTS order: policy topics first)."""
    t = _fold(text)
    for name, (_, zh) in ASPECTS.items():
        if _ASPECT_RES[name].search(t) or any(z in t for z in zh):
            return name
    return None


def refs_of(text: str) -> list[int]:
    """Product positions the message points at: 'the first', 'second one', '第二个', 'both', '前两个'."""
    t = _fold(text)
    if re.search(rf"\b(both|these two|the two|first two|top two)\b|这两{_CL}|前两{_CL}|两{_CL}", t):
        return [0, 1]
    out = [v for k, v in _ORD_EN.items() if re.search(rf"\b{k}\b", t)]
    out += [_NUM_EN[m] for m in _NUMBERED.findall(t)]
    if re.search(rf"\btop {_NOUN_EN}\b", t):
        out.append(0)
    out += [-1 - _ORD_ZH[m] for m in re.findall(_FROM_END_ZH, t)]
    out += [_ORD_ZH[m] for m in re.findall(r"第\s*([一二三四五1-5])", re.sub(_FROM_END_ZH, " ", t))]
    if re.search(rf"{_LAST_EN}|{_LAST_ZH}", t):
        out.append(-1)
    return sorted(set(out), key=lambda i: (i < 0, i))


def without_refs(text: str) -> str:
    """The message with the words that point at a shown product taken out: what it asks about that product."""
    return re.sub(r"\s+", " ", _REF_PHRASE.sub(" ", _fold(text))).strip(" ,.—–-:;")


_WORD = re.compile(r"\w+(?:['’]\w+)?")  # a word with its clitic ("men's", "what's")


def without_title(message: str, title: str) -> str:
    """The message without where it says the product's title: each run of two or more consecutive words of the title
    (one word when the title is one word), so "what colour is the Color Changing Bulb?" keeps its first "colour"."""
    words = {w.casefold() for w in _WORD.findall(title)}
    found = list(_WORD.finditer(message))
    cut: list[tuple[int, int]] = []
    i = 0
    while i < len(found):
        j = i
        while j < len(found) and found[j].group(0).casefold() in words:
            j += 1
        if j - i >= min(2, len(words)) and j > i:
            cut.append((found[i].start(), found[j - 1].end()))
        i = max(j, i + 1)
    for a, b in reversed(cut):
        message = message[:a] + message[b:]
    return re.sub(r"\s+", " ", message).strip()


def refinement(message: str, has_colour: bool = False) -> str | None:
    """The refinement a message asks for (REFINES: cheaper, pricier, other_brand, colour, size, in_stock), or None; a
    colour refinement needs a colour named (`has_colour`)."""
    t = _fold(message)
    return next((name for name, rx in REFINES if rx.search(t) and (name != "colour" or has_colour)), None)


def size_of(text: str) -> str | None:
    m = SIZE_RE.search(_fold(text))
    if not m:
        return None
    return next(g for g in m.groups() if g).upper()


class SlotFiller:
    """Slots of one message; `search` is the loaded SearchService when the shop has built one."""

    def __init__(self, search: Any | None = None) -> None:
        self.search = search

    def product_text(self, message: str) -> str:
        """The message without chat filler, price phrases and punctuation: what to search for."""
        t = _fold(message)
        price = parse_price(t)
        if price is not None:
            t = re.sub(r"^(yuan|rmb|dollars?|bucks|usd|元|块钱?)\b|\b(yuan|rmb|dollars?|bucks|usd)\b", " ", price.rest).strip()
        prev = None
        while prev != t:
            prev, t = t, FILLER.sub(" ", t).strip()
        t = re.sub(r"^(a|an|the)\s+", "", re.sub(r"\s+", " ", t)).strip(" ,.的")
        return t

    def understand(self, message: str) -> Any | None:
        """The shop's query understanding of a message (None before the search part is built); `fill` reads it."""
        return self.search.understand(message) if self.search is not None else None

    @staticmethod
    def names_catalog_values(understood: Any | None) -> bool:
        """Whether the query understanding read a brand or an attribute value of the catalog in the message (a word of
        its own, not a stopword such as a 'the' some product holds): evidence that it asks for products."""
        if understood is None:
            return False
        values = [v for vs in understood.attributes.values() for v in vs]
        return bool(understood.brands) or any(v.casefold() not in EN_STOPWORDS and v not in ZH_STOPWORDS for v in values)

    def fill(self, message: str, intent: str, understood: Any | None = None) -> Slots:
        """Slots for a message whose intent is already known (`understood`: `understand(message)`, when the caller has it)."""
        s = Slots()
        text = self.product_text(message)
        if intent in ("find", "refine", "recommend"):
            s.query = text or None
        if understood is None:  # not passed in (or nothing built, which reading again confirms cheaply)
            understood = self.understand(message)
        price = understood.price if understood is not None else parse_price(message)
        if price is not None and intent in ("find", "refine", "recommend") and not _is_cheap_word_only(price):
            s.price_min, s.price_max = price.min, price.max
        if understood is not None and intent in ("find", "refine", "recommend"):
            s.brands = list(dict.fromkeys(understood.brands))
            s.attributes = {k: list(dict.fromkeys(v)) for k, v in understood.attributes.items()}
            if understood.category and understood.category_confidence >= 0.5 and intent == "find":
                s.category = understood.category
        cols = colours_in(message)
        if cols and intent in ("find", "refine", "ask", "recommend"):
            s.colour = min(cols)
        if intent in ("ask", "find", "refine"):
            s.size = size_of(message)
        if intent in ("ask", "faq"):
            s.aspect = aspect_of(message) or ("colour" if s.colour and intent == "ask" else None)
        if intent == "refine":
            s.refine = refinement(message, bool(s.colour))
            if s.refine is None and s.price_max is not None:
                s.refine = "cheaper"
        if intent in ("ask", "compare", "recommend", "refine"):
            s.refs = refs_of(message)
        if intent == "ask":
            s.question = (without_refs(message) if s.refs else "") or message
        return s


def _is_cheap_word_only(price: Any) -> bool:
    """'cheap'/'便宜' with no number: a refinement, not a limit."""
    return price.min is None and (price.max is None or not re.search(r"\d", price.source or ""))
