"""Intents and slots, English and Chinese, with and without products in focus."""

from __future__ import annotations

import pytest

from shopmind.assistant.intents import IntentClassifier
from shopmind.assistant.slots import SlotFiller, refs_of, without_refs


@pytest.fixture(scope="module")
def clf() -> IntentClassifier:
    return IntentClassifier.default()


@pytest.mark.parametrize(
    ("text", "focus", "intent"),
    [
        ("red running shoes under 300 yuan", False, "find"),
        ("do you have cordless drills", False, "find"),
        ("我想买一双红色跑鞋", False, "find"),
        ("300元以下的蓝牙耳机", False, "find"),
        ("cheaper", True, "refine"),
        ("in blue", True, "refine"),
        ("换个牌子", True, "refine"),
        ("便宜点的", True, "refine"),
        ("what is it made of?", True, "ask"),
        ("is it in stock", True, "ask"),
        ("这个是什么材质的", True, "ask"),
        ("第二个多少钱", True, "ask"),
        ("compare the first two", True, "compare"),
        ("第一个和第二个有什么区别", True, "compare"),
        ("something to go with it", True, "recommend"),
        ("有什么可以搭配的", True, "recommend"),
        ("what is your return policy", False, "faq"),
        ("多久发货", False, "faq"),
        ("hello", False, "chitchat"),
        ("谢谢", False, "chitchat"),
        ("what's the weather tomorrow", False, "out_of_scope"),
        ("讲个笑话", False, "out_of_scope"),
    ],
)
def test_intents(clf, text, focus, intent):
    assert clf.predict(text, focus).intent == intent


def test_ask_needs_something_in_focus(clf):
    # with nothing shown, a product question cannot be 'ask' about a product
    assert clf.predict("what colour is it?", False).intent != "ask"


def test_slots_reuse_search_understanding_en(shop):
    f = SlotFiller(shop.service("search"))
    s = f.fill("red running shoes under 300 yuan", "find")
    assert s.price_max == 300 and s.price_min is None
    assert s.colour == "red"
    assert s.query == "red running shoes"


def test_slots_zh(shop):
    f = SlotFiller(shop.service("search"))
    s = f.fill("300元以下的红色跑鞋", "find")
    assert s.price_max == 300
    assert s.colour == "red"
    s = f.fill("有没有圆领的连衣裙", "find")
    assert s.attributes.get("领型") == ["圆领"]  # a value the catalog's own attributes hold (MEPAVE)


def test_slots_refine_and_refs():
    f = SlotFiller(None)
    assert f.fill("cheaper", "refine").refine == "cheaper"
    assert f.fill("换个牌子", "refine").refine == "other_brand"
    assert f.fill("in blue", "refine").colour == "blue"
    assert f.fill("what is the weight of the second one", "ask").aspect == "weight"
    assert refs_of("compare the first and third") == [0, 2]
    assert refs_of("这两个有什么区别") == [0, 1]
    assert refs_of("第二个多少钱") == [1]


@pytest.mark.parametrize(("text", "refs"), [
    ("最后一部呢，哪年的？", [-1]),  # a film's measure word, not only 个/款/件
    ("第二部是哪年上映的？", [1]),
    ("这两台有什么区别", [0, 1]),
    ("and the last film, when was it released?", [-1]),
    ("the last one", [-1]),
    ("is it the best one at last?", []),  # "at last" points at nothing
    ("tell me about number three", [2]), ("what does #4 cost", [3]), ("I'll take option 1", [0]),
    ("film three, is it long?", [2]), ("is there a movie two hours long?", []), ("a film one of my friends liked", []),  # a quantity is no position
    ("the final pick, is it any good?", [-1]), ("the one at the bottom", [-1]), ("the top result please", [0]),
    ("will the battery last a day?", []), ("is the top made of oak?", []),  # a verb and a part of the product
    ("最后那一部是哪年的", [-1]), ("最下面那个什么颜色", [-1]), ("末尾那款多重", [-1]), ("倒数第二个呢", [-2]),  # the end of the list
    ("我最后再问一个问题", []), ("最后还是买了吧", []),  # "最后" as "finally"
    ("最后那样有多重", [-1]), ("第二样多少钱", [1]), ("这样可以吗", []), ("怎么样", []),  # 样 as a measure word only after a count or 最后
])
def test_refs_with_any_measure_word(text, refs):
    assert refs_of(text) == refs


@pytest.mark.parametrize(("text", "question"), [
    ("number three — when did it come out?", "when did it come out?"),
    ("and the final one on the list, how heavy?", "and , how heavy?"),
    ("第三部是哪年的", "是哪年的"),
    ("how old is film number three?", "how old is ?"),
    ("what colour is it?", "what colour is it?"),
])
def test_the_question_without_the_words_that_point(text, question):
    assert without_refs(text) == question
