"""Entity linking (assistant/linking.py) and references (assistant/focus.py) on a real catalog slice: the demo shop's
MovieLens titles, Home Depot titles and ePQA products. Messages are written here; none comes from a bench set."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from shopmind.assistant import datasets as ds
from shopmind.assistant.focus import named_intent
from shopmind.assistant.linking import (
    FEATURES,
    EntityLinker,
    Link,
    LinkModel,
    _units,
    capitalised,
    close_spellings,
    default_model,
    load_dictionary,
)
from shopmind.assistant.linking_train import asked_idf, frames
from shopmind.assistant.trainset import het_questions
from shopmind.engine import ShopMind


@pytest.fixture(scope="module")
def catalog(shared_data: Path):
    movies = ds.movies(shared_data)
    hd = ds.read_products(shared_data / "search/homedepot/products.jsonl", 600)
    epqa, _ = ds.epqa(shared_data)
    return movies + hd + epqa[:60]


@pytest.fixture(scope="module")
def shop(tmp_path_factory, catalog):
    s = ShopMind.open(tmp_path_factory.mktemp("linking-shop"), search={"stages": {"dense": False}})
    s.catalog.upsert(catalog)
    s.build(["search"])
    yield s
    s.close()


@pytest.fixture(scope="module")
def linker(shop) -> EntityLinker:
    load_dictionary()  # a served shop parses it in the background; here every message needs it
    return EntityLinker(shop.built_part("search"))


@pytest.fixture(scope="module")
def assistant(shop):
    return shop.new_assistant()


def _unique_titles(catalog, rng: random.Random, n: int) -> list:
    folded = [p.title.casefold() for p in catalog]
    pool = [p for p in catalog if p.id.isdigit() and len(p.title.split()) >= 4 and sum(p.title.casefold() in t for t in folded) == 1]
    return rng.sample(pool, n)


def test_close_spellings_find_the_title_word_one_edit_away():
    vocab = {"metal": 0, "geronimo": 1, "met": 2}
    assert "metal" in close_spellings("meatl", vocab)  # two letters swapped
    assert "geronimo" in close_spellings("geronmo", vocab)  # one dropped
    assert close_spellings("mte", vocab) == []  # words under four letters are left alone


def test_full_titles_link_to_their_product(linker, catalog):
    products = _unique_titles(catalog, random.Random(3), 25)
    hits = [linker.link(f"could you tell me a bit about the {p.title}").named == p.id for p in products]
    assert sum(hits) / len(hits) >= 0.9


def test_a_title_with_two_letters_swapped_still_links(linker, catalog):
    rng = random.Random(5)
    products = _unique_titles(catalog, rng, 20)
    hits = []
    for p in products:
        words = p.title.split()
        i = max(range(len(words)), key=lambda k: len(words[k]) if words[k].isalpha() else 0)
        w = words[i]
        words[i] = w[:1] + w[2] + w[1] + w[3:] if len(w) >= 5 else w
        hits.append(linker.link(" ".join(words) + " - is it in stock?").named == p.id)
    assert sum(hits) / len(hits) >= 0.75


def test_chinese_names_reach_english_titles_through_the_dictionary(linker):
    assert linker.link("侏罗纪公园讲的是什么").ids[:1] == ["m82"]  # Jurassic Park (CC-CEDICT: 侏罗纪 jurassic, 公园 park)
    assert linker.link("卡萨布兰卡是哪年拍的").named == "m483"  # Casablanca


def test_a_film_no_dictionary_names_is_not_linked_to_a_wrong_product(linker):
    link = linker.link("这个杀手不太冷好看吗")  # Léon / "Professional, The": no dictionary or title word links it
    assert link.named in (None, "m55")


def test_messages_that_name_nothing_rarely_link(linker, shared_data: Path):
    queries = list(ds.queries(shared_data / "search/homedepot/queries.tsv").values())[:60]
    linked = [q for q in queries if linker.link(f"do you sell {q}?").named]
    assert len(linked) / len(queries) <= 0.15, linked


def test_words_shoppers_ask_with_weigh_less_than_the_name(linker, shared_data: Path):
    """A word common in real shopper questions (hetPQA train) is weak evidence of a title: its weight is capped by its
    IDF among those questions, so the frame around a name dilutes the message's coverage less."""
    idf = asked_idf(het_questions(shared_data))
    assert idf["doe"] < 2.0 and "geronimo" not in idf  # "does" is in most questions; a film's name in none
    titles = linker._titles()
    plain = {next(iter(u.alts)): u.weight for u in _units("what kind of film is Geronimo", titles, False)}
    capped = {next(iter(u.alts)): u.weight for u in _units("what kind of film is Geronimo", titles, False, idf)}
    assert capped["kind"] < plain["kind"] and capped["geronimo"] == plain["geronimo"]


def test_words_written_with_a_capital_inside_a_sentence_are_marked_as_a_name(linker):
    assert capitalised("what sort of film is the Attacks movie?") == {"attack"}
    assert capitalised("Is it loud? Tell me") == set()  # a sentence's first word is no evidence
    assert capitalised("给我介绍一下得伟 DEWALT 20V 往复锯") == {"dewalt"}  # a Latin word inside Chinese
    units = _units("本田 Honda 发电机", linker._titles(), True)  # a rendering of 本田 said "honda" first: still marked
    assert [u.capital for u in units if "honda" in u.alts] == [True]


def test_a_capitalised_word_inside_a_question_links_its_title(linker):
    """The frame around a name ("what kind of movie is the … movie?") outweighs one title word, unless the shopper
    marked it with a capital."""
    assert linker.link("What kind of movie is the Panchali movie?").named == "m1449"
    assert linker.link("what kind of movie is the panchali movie?").named is None


def test_real_questions_give_frames_for_a_name():
    assert frames(["does it fold flat?", "is this item waterproof?", "great value"]) == ["does {m} fold flat?", "is {m} waterproof?"]


def test_a_film_asked_about_in_a_longer_question_is_linked(linker):
    assert linker.link("could you remind me which year Jurassic Park was released in cinemas?").named == "m82"


def test_a_weak_link_wins_over_small_talk_only_as_the_likelier_reading():
    weak = Link(ids=["m1"], confidence=[0.3], titles=["Toy Story"])
    assert named_intent("out_of_scope", weak, False, "hmm, toy story?", intent_conf=0.6) == "out_of_scope"
    assert named_intent("out_of_scope", weak, False, "hmm, toy story?", intent_conf=0.1) == "ask"
    sure = Link(ids=["m1"], confidence=[0.7], titles=["Toy Story"])
    assert named_intent("chitchat", sure, False, "toy story!", intent_conf=0.9) == "ask"
    shared = Link(ids=["m127", "m187"], confidence=[0.3, 0.28], ambiguous=True, titles=["Godfather, The", "Godfather: Part II, The"])
    assert named_intent("out_of_scope", shared, False, "the godfather?", intent_conf=0.6) == "ask"  # several titles share the name


def test_a_when_who_or_where_question_about_a_named_product_is_no_search():
    weak = Link(ids=["m848"], confidence=[0.17], titles=["Murder, My Sweet"])
    assert named_intent("find", weak, False, "when was Murder, My Sweet made?", intent_conf=0.6) == "ask"
    assert named_intent("find", weak, False, "what else is like Murder, My Sweet?", intent_conf=0.6) == "find"  # a weak link
    sure = Link(ids=["m848"], confidence=[0.8], titles=["Murder, My Sweet"])
    assert named_intent("find", sure, False, "what genre is Murder, My Sweet?", intent_conf=0.6) == "ask"


def test_one_product_pointed_at_is_asked_about_not_compared():
    assert named_intent("compare", Link(), True, "second one looks cool") == "ask"
    assert named_intent("compare", Link(), True, "第二个不错") == "ask"
    assert named_intent("compare", Link(), True, "how do the first and the third differ?") == "compare"
    assert named_intent("compare", Link(), False, "second one looks cool") == "compare"  # nothing shown to point at
    assert named_intent("refine", Link(), True, "第二个不错") == "ask"  # a pick, not a change to the search
    assert named_intent("refine", Link(), True, "anything cheaper than the second one?") == "refine"


def test_one_named_product_and_nothing_beside_it_is_asked_about_not_compared():
    sure = Link(ids=["m1521"], confidence=[0.7], titles=["Mr. Wonderful"])
    assert named_intent("compare", sure, False, "is Mr. Wonderful a comedy or a drama?") == "ask"
    assert named_intent("compare", sure, False, "how does Mr. Wonderful differ from Big?") == "compare"


def test_a_policy_word_inside_a_named_title_is_no_policy_question(assistant):
    reply = assistant.chat("faq-in-title", "do you happen to have Broken Arrow?")
    assert reply.intent != "faq" and reply.products and reply.products[0].id == "m546"
    assert assistant.chat("faq-plain", "what if it arrives broken?").intent == "faq"


def test_a_year_or_kind_asked_of_an_unknown_name_asks_which_product(assistant):
    """Not 'I can only help with this shop': the shopper asks about a product, one the catalog does not know by that name."""
    assert named_intent("out_of_scope", Link(), False, "萌芽这部是几几年出的") == "ask"
    assert named_intent("out_of_scope", Link(), False, "how tall is mount everest") == "out_of_scope"
    reply = assistant.chat("unknown-name", "萌芽这部是几几年出的")
    assert reply.intent == "ask" and not reply.products and "哪件商品" in reply.text


def test_a_question_about_one_recommended_product_asks_about_it():
    assert named_intent("recommend", Link(), True, "你推荐的第一部是哪年的") == "ask"
    assert named_intent("recommend", Link(), True, "what would you recommend that is like the second one?") == "recommend"
    assert named_intent("recommend", Link(), True, "recommend me more like number two") == "recommend"  # no question


def test_a_question_about_it_with_products_shown_asks_about_it():
    assert named_intent("find", Link(), True, "它属于哪种电影") == "ask"
    assert named_intent("out_of_scope", Link(), True, "what is it made of?") == "ask"
    assert named_intent("find", Link(), True, "show me more like it") == "find"  # no question: a search
    assert named_intent("find", Link(), False, "它属于哪种电影") == "find"  # nothing shown for "it" to be


def test_a_which_question_on_a_product_page_asks_about_it():
    assert named_intent("compare", Link(), True, "哪个牌子生产的呀", on_page=True) == "ask"  # one product: nothing to compare
    assert named_intent("compare", Link(), True, "这两个有什么区别", on_page=True) == "compare"
    assert named_intent("find", Link(), True, "用的啥系统呀", on_page=True) == "ask"  # 啥: the spoken 什么


def test_the_shipped_model_is_a_probability_with_its_threshold():
    model = default_model()
    assert model is not None and 0.0 < model.threshold < 1.0
    assert list(model.to_json()["features"]) == list(FEATURES) and model.asked  # the question-word IDF ships with it
    with pytest.raises(ValueError, match="features"):
        LinkModel.from_json({**model.to_json(), "features": ["score"]})


def test_a_question_naming_a_film_is_answered_about_it(assistant):
    r = assistant.chat("named-1", "which year did Toy Story come out?")
    assert r.intent != "out_of_scope"
    assert r.products and r.products[0].id == "m1"
    assert "1995" in r.text


def test_a_shared_name_shows_the_candidates(assistant):
    r = assistant.chat("named-2", "what genre is the godfather film?")
    ids = [p.id for p in r.products]
    assert {"m127", "m187"} <= set(ids) or ids[:1] == ["m127"]


def test_the_product_page_wins_over_a_title_match(assistant):
    r = assistant.chat("page-1", "is the batman one any good, how old is it?", product_id="m1")
    assert r.products and r.products[0].id == "m1"


@pytest.mark.parametrize("lang,turns", [
    ("en", ["batman films", "tell me about the third one", "what year is it from?"]),
    ("zh", ["batman films", "说说第三个", "它是哪年的？"]),
])
def test_it_means_the_product_picked_from_the_list(assistant, lang, turns):
    sid = f"ref-{lang}"
    listing = assistant.chat(sid, turns[0])
    assert len(listing.products) >= 3
    third = listing.products[2].id
    for message in turns[1:]:
        r = assistant.chat(sid, message)
    cited = [s.source.product_id for s in r.sentences if s.source.product_id]
    assert cited and cited[0] == third
    assert r.session.focus[:3] == [p.id for p in listing.products[:3]]  # the shown order is kept for "the first one"


def test_a_new_list_forgets_the_earlier_product(assistant):
    sid = "ref-reset"
    assistant.chat(sid, "batman films")
    assistant.chat(sid, "tell me about the second one")
    fresh = assistant.chat(sid, "jurassic park")
    r = assistant.chat(sid, "what year is it from?")
    cited = [s.source.product_id for s in r.sentences if s.source.product_id]
    assert cited and cited[0] == fresh.products[0].id
    assert re.search(r"\d{4}", r.text)


@pytest.mark.parametrize("message", ["主要演员有哪些？", "where was this one shot?", "大不大，具体多长", "谁演的", "片长要多久", "带不带字幕"])
def test_a_question_word_on_a_product_page_asks_about_that_product(assistant, message):
    r = assistant.chat(f"page-q-{len(message)}", message, product_id="m1")
    assert r.intent == "ask" and r.products[0].id == "m1"
    assert r.answer_kind == "not_stated"  # the catalog has no cast or locations: said so, not a search


@pytest.mark.parametrize(("listing", "question"), [("batman films", "how do the first and the second one differ?"),
                                                  ("batman films", "第一部和第二部有什么不同"),
                                                  ("batman films", "how would I tell the first and second apart?")])
def test_two_positions_and_a_difference_compare_them(assistant, listing, question):
    sid = f"diff-{len(question)}"
    shown = assistant.chat(sid, listing)
    r = assistant.chat(sid, question)
    assert r.intent == "compare"
    cited = {s.source.product_id for s in r.sentences if s.source.product_id}
    assert {p.id for p in shown.products[:2]} <= cited


def test_first_said_of_a_release_is_the_earliest_of_the_list(assistant, catalog):
    sid = "set-first"
    shown = assistant.chat(sid, "batman films")
    by_id = {p.id: p for p in catalog}
    years = {c.id: by_id[c.id].attributes["year"] for c in shown.products if "year" in by_id[c.id].attributes}
    r = assistant.chat(sid, "which of these came out first?")
    assert len(years) >= 2 and r.products and {c.id for c in r.products} == {i for i, y in years.items() if y == min(years.values())}
