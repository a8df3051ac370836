"""Answer types: which attributes of a real catalog product may answer a question at all (a quantity in its dimension,
who / where, a colour, what a yes/no question is about), on ePQA products and MovieLens films."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopmind.assistant import datasets as ds
from shopmind.assistant.answertype import (
    about,
    asked_dimension,
    asked_kind,
    content_words,
    fits,
    is_polar,
    names_kind,
    states_colour,
)
from shopmind.assistant.attrlang import named_in_chinese
from shopmind.assistant.grounding import find_attribute
from shopmind.assistant.slots import aspect_of
from shopmind.domain import Product


@pytest.fixture(scope="module")
def epqa(shared_data: Path) -> dict[str, Product]:
    return {p.id: p for p in ds.epqa(shared_data)[0]}


@pytest.fixture(scope="module")
def films(shared_data: Path) -> dict[str, Product]:
    return {p.title: p for p in ds.movies(shared_data)}


@pytest.mark.parametrize(("question", "dimension"), [
    ("how many watts does this thing pull?", "power"), ("what voltage, in volts?", "voltage"), ("这个多少瓦", "power"),
    ("about how much does it weigh?", "weight"), ("有多重", "weight"), ("how many pounds is it", "weight"), ("大概几公斤", "weight"),
    ("how long will a charge keep it running?", "time"), ("充一次电能用多久", "time"), ("how many inches across is it", "length"),
    ("what colour is it?", None), ("how much is it?", None), ("多少钱", None),
    ("what's the running time?", "time"), ("片长多少", "time"), ("how long is the cord?", "extent"),
])
def test_the_dimension_a_question_asks_for(question, dimension):
    assert asked_dimension(question) == dimension


def test_how_long_is_answered_by_a_length_or_a_duration():
    assert fits("extent", "cord_length", "6 ft") and fits("extent", "battery_life", "8") and fits("extent", "size", "12 in.")
    assert not fits("extent", "genres", "Drama") and not fits("extent", "year", "1981")


def test_only_a_value_in_that_dimension_or_an_attribute_named_for_it_fits():
    assert fits("power", "wattage", "n/a") and fits("power", "specs", "60 watts") and not fits("power", "part_number", "air-bear-259112-102")
    assert fits("weight", "item_package_weight", "0.4") and not fits("weight", "item_dimensions", "23.")
    assert fits("length", "item_dimensions", "10 x 4 x 2 inches")


@pytest.mark.parametrize(("question", "kind"), [
    ("who directed it?", "agent"), ("which company manufactured this?", "agent"), ("谁拍的", "agent"),
    ("where was it made?", "place"), ("where was it filmed?", "place"), ("which country is it from?", "place"),
    ("这是哪国生产的", "place"), ("产地在哪", "place"),
    ("who is it for?", None), ("这是给谁用的", None), ("where can I use it?", None), ("what is it?", None),
    ("when did it first go on sale?", "time"), ("ok, and when was that one shot?", "time"), ("what year is the model?", "time"),
    ("这款是哪年出的", "time"), ("是什么年代的片子", "time"), ("when can I wash it?", None), ("does it beep when it is done?", None),
    ("is it an old one? when's it from?", "time"),
    ("do you know when it was first shown?", "time"), ("so it came out when?", "time"), ("what's its release date?", "time"),
    ("will it still work when wet?", None), ("can you tell me when I can return it?", None),
    ("what sort of story is it?", "class"), ("how would you classify this film?", "class"),
    ("what kind of battery does it use?", None), ("what kind of stuff is it made from?", None),  # an attribute, not the class
    ("第一部是哪类片", "class"), ("这部讲的是啥题材", "class"), ("这片子属于哪一类", "class"), ("是什么类型的电池", None),
    ("这电影啥年代的", "time"), ("how old is it?", "time"), ("how old should my child be?", None),
])
def test_who_where_and_when(question, kind):
    assert asked_kind(question) == kind


def test_names_of_agents_places_and_times():
    assert names_kind("agent", "manufacturer") and names_kind("agent", "brand") and not names_kind("agent", "genres")
    assert names_kind("place", "country_as_labeled") and not names_kind("place", "color")
    assert names_kind("time", "model_year") and names_kind("time", "code", "1998") and not names_kind("time", "color", "black")


def test_yes_no_questions_and_what_they_are_about():
    assert is_polar("can it go in the dishwasher?") and is_polar("带遥控器吗？") and is_polar("需要组装吗？要多久？")
    assert not is_polar("is it round, square or oval?") and not is_polar("适合男生还是女生吗") and not is_polar("what colour is it?")
    assert is_polar("装起来麻烦不麻烦") and is_polar("有没有保修") and is_polar("是不是纯棉的") and not is_polar("不知道多大")
    words = content_words("can it go in the dishwasher?")
    assert about(words, "is_dishwasher_safe", "yes") and not about(words, "color", "white")
    assert about(content_words("is it waterproof?"), "water_resistance_level", "water resistant")  # the first four letters
    assert about(content_words("is it heavy?"), "item_weight", "2")  # a hint word for the name
    assert not about(content_words("does it come with subtitles?"), "genres", "Drama")
    assert about(content_words("does it come with a case?"), "included_components", "case, strap")


def test_colour_values_and_names():
    assert states_colour("color", "n/a") and states_colour("finish", "oil rubbed bronze") and states_colour("style", "matte black")
    assert not states_colour("part_number", "gf652")


def test_catalog_questions_answered_only_by_attributes_that_can_answer(epqa, films):
    latch = epqa["pqa-B005AR75A6"]  # color white, item_package_weight 0.4
    assert find_attribute(latch, aspect_of("roughly what does it weigh?"), "roughly what does it weigh?") == "item_package_weight"
    assert find_attribute(latch, None, "how many watts does it draw?") is None
    assert find_attribute(latch, None, "can I run it through the dishwasher?") is None
    assert find_attribute(latch, aspect_of("is it white?"), "is it white?") == "color"
    razor = epqa["pqa-B008K992HU"]  # lithium_battery, voltage
    assert find_attribute(razor, None, "what is the voltage, how many volts?") == "voltage"
    assert find_attribute(razor, aspect_of("what colour is it?"), "what colour is it?") is None  # no colour listed
    fluid = epqa["pqa-B00CTUSEMU"]  # country_as_labeled: us
    assert find_attribute(fluid, None, "where is it made?") == "country_as_labeled"
    film = films["On Golden Pond"]  # year, genres: "golden" names the film, not a colour
    q = "what kind of movie is On Golden Pond?"
    assert find_attribute(film, aspect_of(q), q) == "genres"
    for q in ("who directed it?", "how long is the running time, in minutes?", "when does the second act start?",
              "how long is this film?", "what's its runtime?"):
        assert find_attribute(film, aspect_of(q), q) is None, q
    assert find_attribute(film, None, "so when did it open?") == "year"  # a when-question: only a year or a date answers
    assert find_attribute(film, None, "is it an old one? when's it from?") == "year"  # yes/no, then when: the type is checked
    assert find_attribute(film, None, "how would you classify this movie?") == "genres"  # only a class attribute answers


@pytest.mark.xfail(strict=True, reason="known limit: on a film with two attributes the ranker scores genres 0.96 for a question "
                   "about subtitles, above POLAR_TRUST (0.9, chosen on held-out hetPQA), so the yes/no check lets it answer")
def test_a_yes_no_question_about_something_a_film_does_not_list(films):
    film = films["On Golden Pond"]
    assert find_attribute(film, None, "does it have subtitles?") is None


@pytest.mark.parametrize(("keys", "question", "key"), [
    (["year", "genres", "category"], "这部片是哪年拍的", "year"),
    (["year", "genres", "category"], "它属于什么类型", "genres"),  # 类型: genres' own Chinese name beats a category rendering
    (["color", "material", "item_weight"], "用的什么材料", "material"),
    (["band", "color", "model_year", "brand"], "是哪一年出的款", "model_year"),  # the head word of the name
    (["year", "genres", "category"], "演员都有谁", None),
    (["item_weight", "item_package_weight"], "有多重", None),  # two names equally near: the ranker decides
])
def test_an_attribute_written_in_chinese(keys, question, key):
    assert named_in_chinese(keys, question) == key
