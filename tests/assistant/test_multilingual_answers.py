"""Attribute questions across languages, honest "not stated", set questions over the products shown, and replies in
the language of the question (issue 18), on real catalog slices: ePQA Amazon products, MovieLens movies, hetPQA toys."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shopmind.assistant import datasets as ds
from shopmind.assistant.attrlang import attr_name, gloss, zh_name
from shopmind.assistant.grounding import answer_about, compare, listing, not_stated
from shopmind.assistant.models import Sentence, Source
from shopmind.assistant.replies import CHAT, kind_of, language_of
from shopmind.assistant.setq import set_turn
from shopmind.assistant.slots import aspect_of
from shopmind.domain import Product

CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(scope="module")
def epqa(shared_data: Path) -> dict[str, Product]:
    products, _ = ds.epqa(shared_data)
    return {p.id: p for p in products}


@pytest.fixture(scope="module")
def movies(shared_data: Path) -> list[Product]:
    return ds.movies(shared_data)


@pytest.fixture(scope="module")
def toys(shared_data: Path) -> list[Product]:
    return ds.priced_toys(shared_data)


def own_words(text: str, products: list[Product]) -> str:
    """The reply with quoted titles and the products' catalog values taken out: what the reply says in its own words."""
    t = re.sub(r"「[^」]*」", " ", text)
    for p in products:
        for v in [p.title, *(str(x) for vs in p.attributes.values() for x in (vs if isinstance(vs, list) else [vs]))]:
            t = t.replace(v, " ")
    return t


def by_title(movies: list[Product], *titles: str) -> list[Product]:
    found = {p.title: p for p in movies}
    return [found[t] for t in titles]


# ------------------------------------------------------------------------------------------ attributes across languages
def test_chinese_question_about_an_english_named_attribute(epqa):
    p = epqa["pqa-B00CTPWSW2"]  # color: black, binding, item_dimensions
    q = "麻烦问下这块屏幕是哪种颜色"
    out = answer_about(p, aspect_of(q), q, "zh")
    assert out[0].source.field == "attributes.color"
    assert "black" in out[0].text and CJK.search(own_words(out[0].text, [p]))
    assert kind_of("ask", out) == "answer"


def test_chinese_question_reaches_the_ranker_through_its_gloss(epqa):
    p = epqa["pqa-B00EHL6TJY"]  # item_weight 121.3, installation_type, model_number
    q = "这台洗碗机的重量大概是多少"
    assert "weight" in (gloss(q) or "")
    out = answer_about(p, aspect_of(q), q, "zh")
    assert out[0].source.field == "attributes.item_weight" and "121.3" in out[0].text


def test_a_question_for_the_products_kind_is_answered_by_the_one_attribute_that_names_it(movies):
    film = by_title(movies, "Fargo")[0]
    for q, lang in (("这部算什么片", "zh"), ("what kind of film is it?", "en")):
        out = answer_about(film, aspect_of(q), q, lang)
        assert out[0].source.field == "attributes.genres" and "Crime" in out[0].text, q
    for q in ("when did it first come out?", "when did the movie with that name first hit screens?"):  # a when-question: the one date-like attribute
        out = answer_about(film, aspect_of(q), q, "en")
        assert out[0].source.field == "attributes.year" and "1996" in out[0].text, q
    chinese_keyed = Product(id="x", title="印花连衣裙", attributes={"图案": "印花"})  # a Chinese name is not judged a kind
    assert answer_about(chinese_keyed, None, "它是哪类电影？", "zh")[0].source.field == "none"


def test_english_name_translated_for_chinese_replies():
    assert zh_name("color") == "颜色"
    assert attr_name("item_weight", "en") == "item weight"
    assert CJK.search(zh_name("item_weight"))
    assert zh_name("quux_zzyzx") == "quux zzyzx"  # nothing to translate: the key's own words, never a guess


# ------------------------------------------------------------------------------------------ honest abstention
@pytest.mark.parametrize(("question", "lang"), [("how many minutes does it run for?", "en"), ("这部片子片长多少分钟", "zh"),
                                                ("who plays the main character?", "en"), ("主演是谁", "zh"),
                                                ("does it come with subtitles?", "en"), ("有中文字幕吗", "zh")])
def test_not_stated_names_what_the_catalog_lists_never_a_value(movies, question, lang):
    p = by_title(movies, "Toy Story")[0]  # year 1995, genres
    out = answer_about(p, aspect_of(question), question, lang)
    assert kind_of("ask", out) == "not_stated", out[0].text
    text = " ".join(s.text for s in out)
    assert "1995" not in text and not any(g in text for g in p.attributes["genres"])
    assert all(attr_name(k, lang) in text for k in p.attributes)
    assert language_of(own_words(text, [p]) + " ") == lang


def test_not_stated_without_attributes_still_answers_in_the_shoppers_language(toys):
    p = next(t for t in toys if not t.attributes)
    for lang in ("en", "zh"):
        out = not_stated(p, "that", "这一点", lang)
        assert all(s.source.field == "none" for s in out)
        assert bool(CJK.search(own_words(" ".join(s.text for s in out), [p]))) == (lang == "zh")


# ------------------------------------------------------------------------------------------ set questions
def _get(products: list[Product]):
    index = {p.id: p for p in products}
    return lambda ids: [index[i] for i in ids if i in index]


def test_oldest_and_newest_of_the_movies_shown(movies):
    shown = by_title(movies, "Toy Story", "Heat", "Casablanca", "Fargo", "Babe")
    ids = [p.id for p in shown]
    oldest = min(shown, key=lambda p: p.attributes["year"])
    newest_year = max(p.attributes["year"] for p in shown)
    out, found = set_turn("ask", "which one of those is the oldest film?", [], ids, _get(shown), "en")
    assert [p.id for p in found] == [oldest.id] and oldest.title in out[0].text and str(oldest.attributes["year"]) in out[0].text
    out, found = set_turn("ask", "这几部里面哪一部是最新的", [], ids, _get(shown), "zh")
    assert {p.attributes["year"] for p in found} == {newest_year} and CJK.search(own_words(out[0].text, shown))


def test_which_of_the_shown_is_a_genre_in_both_languages(movies):
    shown = by_title(movies, "Toy Story", "Heat", "Casablanca", "Fargo", "Babe")
    comedies = {p.id for p in shown if "Comedy" in p.attributes["genres"]}
    for msg, lang in (("which of them is a comedy?", "en"), ("哪部是喜剧", "zh")):
        out, found = set_turn("ask", msg, [], [p.id for p in shown], _get(shown), lang)
        assert {p.id for p in found} == comedies, msg
        assert all(p.title in out[0].text for p in found) and bool(CJK.search(own_words(out[0].text, shown))) == (lang == "zh")


def test_time_superlatives_in_other_words_and_a_list_with_one_dated_product(movies, toys):
    shown = by_title(movies, "Toy Story", "Heat", "Casablanca")
    ids = [p.id for p in shown]
    for msg, want in (("which one of these came out most recently?", "Toy Story"), ("which film there goes back the furthest?", "Casablanca"),
                      ("哪部年头最久", "Casablanca"), ("which is the freshest release of these?", "Toy Story")):
        out, found = set_turn("ask", msg, [], ids, _get(shown), "zh" if "年" in msg else "en")
        assert [p.title for p in found] == [want] or want in {p.title for p in found}, msg
    mixed = [*toys[:3], shown[1]]  # one film among toys: the only product with a year
    out, found = set_turn("ask", "which of those is the latest?", [], [p.id for p in mixed], _get(mixed), "en")
    assert [p.id for p in found] == [shown[1].id] and str(shown[1].attributes["year"]) in out[0].text and "only" in out[0].text


def test_a_genre_none_of_the_shown_has_is_said_to_be_missing(movies):
    """A value only the catalog holds (its genre list) is a question the list answers with 'none of them'; without the
    catalog's values the turn is not taken as a set question."""
    shown = by_title(movies, "Heat", "Fargo", "Casablanca")
    genres = sorted({g for p in movies for g in p.attributes["genres"]})

    def values(key: str) -> list[str]:
        return genres if key == "genres" else []

    assert all("Sci-Fi" not in p.attributes["genres"] and "Horror" not in p.attributes["genres"] for p in shown)
    for msg, lang, genre in (("which of these counts as sci-fi?", "en", "Sci-Fi"), ("哪部是恐怖片", "zh", "Horror")):
        out, found = set_turn("ask", msg, [], [p.id for p in shown], _get(shown), lang, values)
        assert out[0].source.field == "none" and genre in out[0].text and len(found) == 3, msg
    assert set_turn("ask", "which of these counts as sci-fi?", [], [p.id for p in shown], _get(shown), "en") is None


def test_cheapest_of_the_shown_and_a_comparison_the_catalog_cannot_make(toys, movies):
    out, found = set_turn("compare", "which of these is the cheapest?", [], [t.id for t in toys], _get(toys), "en")
    cheapest = min(toys, key=lambda t: t.price)
    assert [p.id for p in found] == [cheapest.id] and f"{cheapest.price:.2f}" in out[0].text
    shown = by_title(movies, "Heat", "Fargo", "Babe")
    out, _ = set_turn("ask", "which of those is the heaviest?", [], [p.id for p in shown], _get(shown), "en")
    assert kind_of("ask", out) == "not_stated"


def test_a_superlative_paraphrase(toys, movies):
    out, found = set_turn("compare", "which of these costs the least?", [], [t.id for t in toys], _get(toys), "en")
    cheapest = min(toys, key=lambda t: t.price)
    assert [p.id for p in found] == [cheapest.id] and f"{cheapest.price:.2f}" in out[0].text
    shown = by_title(movies, "Toy Story", "Heat", "Casablanca", "Fargo", "Babe")
    oldest = min(shown, key=lambda p: p.attributes["year"])
    # "first" said of a release is the earliest, not the first position (which would come as refs=[0])
    out, found = set_turn("ask", "which one came out first?", [0], [p.id for p in shown], _get(shown), "en")
    assert [p.id for p in found] == [oldest.id] and str(oldest.attributes["year"]) in out[0].text


def test_a_question_about_one_product_is_not_a_set_question(movies):
    shown = by_title(movies, "Heat", "Fargo")
    assert set_turn("ask", "what year is the second one from?", [1], [p.id for p in shown], _get(shown), "en") is None
    assert set_turn("find", "newest comedies", [], [p.id for p in shown], _get(shown), "en") is None


# ------------------------------------------------------------------------------------------ replies in the question's language
def test_every_reply_template_in_both_languages():
    assert set(CHAT["en"]) == set(CHAT["zh"])
    for key in CHAT["en"]:
        en, zh = CHAT["en"][key].format(q="x", t="x"), CHAT["zh"][key].format(q="x", t="x")
        assert not CJK.search(en) and language_of(en) == "en", key
        assert language_of(zh) == "zh", key


def test_grounded_sentences_speak_the_question_language(epqa, movies):
    a, b = epqa["pqa-B00CTPWSW2"], epqa["pqa-B00EHL6TJY"]
    m = by_title(movies, "Heat")[0]
    for lang in ("en", "zh"):
        groups = [answer_about(a, "colour", "colour?", lang), answer_about(m, None, "what year?", lang),
                  not_stated(m, "that", "这一点", lang), compare(a, b, lang), [listing(a, lang)]]
        for out in groups:
            words = own_words(" ".join(s.text for s in out), [a, b, m])
            if re.search(r"[A-Za-z\u3400-\u9fff]", words):  # a listing line may be nothing but a title
                assert bool(CJK.search(words)) == (lang == "zh"), (lang, words)


def test_answer_kind_from_sentences():
    none = Sentence(text="x", source=Source(kind="catalog", product_id="p", field="none"))
    fact = Sentence(text="y", source=Source(kind="catalog", product_id="p", field="price"))
    assert kind_of("ask", [none, none]) == "not_stated"
    assert kind_of("ask", [fact, none]) == "answer"
    assert kind_of("find", [fact]) == "list" and kind_of("chitchat", [Sentence(text="hi")]) == "chat"
    assert kind_of("ask", [Sentence(text="which?")]) == "clarify"


def test_chat_reports_answer_kind_and_language(assistant, epqa):
    r = assistant.chat("h18b-zh", "请问它是什么颜色的", product_id="pqa-B00CTPWSW2")
    assert r.language == "zh" and r.answer_kind == "answer" and "black" in r.text
    r = assistant.chat("h18b-en", "is a spare charger included in the box?", product_id="pqa-B00CTPWSW2")
    assert r.language == "en" and r.answer_kind == "not_stated", r.text


@pytest.mark.parametrize(("message", "lang"), [
    ("Makita 18-Volt LXT Lithium-Ion Combo Kit有几件？", "zh"),  # a long English title, asked about in Chinese
    ("Werner 9 ft. Reach Fiberglass Podium Step Ladder能承重多少", "zh"),
    ("does the 瑷尔博士 mask suit dry skin?", "en"),  # a Chinese name, asked about in English
    ("Makita 18-Volt LXT Lithium-Ion Combo Kit", "en"),
])
def test_the_shoppers_language_is_the_language_the_question_is_asked_in(message, lang):
    assert language_of(message) == lang


def test_the_aspect_a_chinese_question_names_beats_another_rendering_of_its_word():
    """码 is a clothing size here, though CC-CEDICT also renders it "weight"."""
    from shopmind.assistant.grounding import find_attribute
    from shopmind.domain import Product

    p = Product(id="x", title="Pearl Stud Earrings", attributes={"size": "one size", "item_weight": "0.02", "color": "white"})
    assert find_attribute(p, "size", "买的话是哪个码", "zh") == "size"
    assert find_attribute(p, "weight", "有多重", "zh") == "item_weight" and find_attribute(p, "colour", "什么颜色", "zh") == "color"
