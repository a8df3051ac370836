"""What the assistant says in its own words (no catalog facts): greetings, apologies, list headings, in EN and ZH."""

from __future__ import annotations

import re
from typing import Any

from shopmind.assistant.models import Sentence, Source
from shopmind.text.normalize import CJK_RE, detect_language
from shopmind.text.stopwords import ZH_A_NOT_A, ZH_QUESTION_WORDS

CHAT = {
    "en": {
        "greet": "Hello! I can find products, answer questions about them from the catalog, compare them and explain the shop's policies.",
        "thanks": "You're welcome — anything else I can look up?",
        "bye": "Goodbye, happy shopping!",
        "scope": "Sorry, I can only help with this shop: finding products, questions about them, and order or policy questions.",
        "which": "Which product do you mean? Search for it first, or ask from its page.",
        "found": "Here is what the catalog has for “{q}”:",
        "none": "I could not find products matching “{q}” in the catalog.",
        "none_cheaper": "The catalog has nothing matching “{q}” at a lower price in that category.",
        "two": "Please show me two products first, then ask me to compare them.",
        "no_prices": "The catalog has no prices for these products, so I cannot look for cheaper or pricier ones.",
        "no_faq": "The shop's FAQ does not cover that; please contact the shop directly.",
        "recs": "Items related to {t}:",
        "no_price_match": "No product matching “{q}” has a catalog price in that range; these match without the price limit:",
        "cheaper_like": "Nothing matching “{q}” costs less in that category; these cheaper items there are the most similar:",
        "brand_more": "Few products of that brand match; further matches follow:",
        "busy": "That message took me too long to work through; please ask again in fewer words.",
        "set_none": "None of the products shown lists that in the catalog, so I cannot compare them on it.",
    },
    "zh": {
        "greet": "您好！我可以帮您找商品、根据商品目录回答商品问题、对比商品，以及解释店铺政策。",
        "thanks": "不客气～还需要帮您查什么吗？",
        "bye": "再见，祝您购物愉快！",
        "scope": "抱歉，我只能回答本店相关的问题：找商品、商品信息、订单和售后政策。",
        "which": "您问的是哪件商品？请先搜索，或在商品页面提问。",
        "found": "商品目录里与“{q}”相关的商品：",
        "none": "商品目录里没有找到与“{q}”匹配的商品。",
        "none_cheaper": "目录里该类目下没有与“{q}”匹配且更便宜的商品。",
        "two": "请先搜索出两件商品，再让我对比。",
        "no_prices": "这些商品在目录里没有价格，所以无法帮您找更便宜或更贵的。",
        "no_faq": "店铺的常见问题里没有这一项，请直接联系店铺。",
        "recs": "与「{t}」相关的商品：",
        "no_price_match": "没有与“{q}”匹配且目录价格在该范围内的商品；以下是不限价格的匹配结果：",
        "cheaper_like": "该类目下没有与“{q}”匹配且更便宜的商品；以下是该类目里更便宜的相似商品：",
        "brand_more": "该品牌的匹配商品不多，后面是更多匹配结果：",
        "busy": "这条消息我一时处理不完，请换个更简短的说法再问一次。",
        "set_none": "商品目录没有写明这些商品的这一项，无法据此比较。",
    },
}


# Chinese question words and particles: a message that asks in Chinese is Chinese, however long the English name in it
_ZH_ASKS = re.compile(rf"{ZH_QUESTION_WORDS}|吗|呢|{ZH_A_NOT_A}")


def language_of(message: str) -> str:
    """The shopper's language: 'zh' when the message has at least as many CJK characters as Latin words, or asks its
    question in Chinese ("South Shore Summer Breeze Mates有多大？" names an English title, and is Chinese), else what
    `detect_language` says."""
    cjk = len(CJK_RE.findall(message))
    if cjk >= 2 and (cjk >= len(re.findall(r"[A-Za-z]+", message)) or _ZH_ASKS.search(message)):
        return "zh"
    return detect_language(message)


def say(lang: str, key: str, **kw: Any) -> Sentence:
    """A conversational sentence with no facts in it (source: none, or the shopper's own words)."""
    text = CHAT.get(lang, CHAT["en"])[key].format(**kw)
    return Sentence(text=text, source=Source(kind="query" if kw else "none"), evidence=" ".join(str(v) for v in kw.values()))


def kind_of(intent: str, sentences: list[Sentence]) -> str:
    """What kind of answer a turn gave (ChatResponse.answer_kind), from its intent and grounded sentences: not_stated
    when every catalog sentence says the catalog does not give it (source field 'none')."""
    if intent in ("find", "refine", "recommend"):
        return "list"
    if intent in ("chitchat", "out_of_scope"):
        return "chat"
    facts = [s for s in sentences if s.source.kind == "catalog"]
    if facts and all(s.source.field == "none" for s in facts):
        return "not_stated"
    if intent == "faq" or (not facts and any(s.source.kind == "faq" for s in sentences)):
        return "faq"
    return "answer" if facts else "clarify"


def joiner(previous: str) -> str:
    """What goes between `previous` and the next sentence: a space after Latin punctuation, none after Chinese."""
    return "" if not previous or previous[-1] in "。！？：」" else " "


def join_sentences(parts: list[str]) -> str:
    """Sentences into one text: a space after Latin punctuation, none after Chinese."""
    out = ""
    for p in parts:
        out += joiner(out) + p
    return out
