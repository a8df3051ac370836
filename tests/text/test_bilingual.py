"""CC-CEDICT word translation (text/bilingual.py): segmentation by the dictionary's headwords, cleaned renderings,
the reverse index, and a parse of the real shipped file."""

from __future__ import annotations

import pytest

from shopmind.text.bilingual import Lexicon, clean_sense, lexicon

SAMPLE = """# CC-CEDICT sample
教父 教父 [jiao4 fu4] /godfather/
蝙蝠俠 蝙蝠侠 [Bian1 fu2 xia2] /Batman, comic book superhero/
喜劇 喜剧 [xi3 ju4] /a comedy/CL:部[bu4]/
浪漫 浪漫 [lang4 man4] /romantic/
公園 公园 [gong1 yuan2] /park (for public recreation)/CL:個|个[ge4]/
的 的 [de5] /of/~'s (possessive particle)/
回到 回到 [hui2 dao4] /to return to/
"""


def test_clean_sense_keeps_the_head_and_drops_cross_references() -> None:
    assert clean_sense("Batman, comic book superhero") == "Batman"
    assert clean_sense("Casablanca (Morocco's economic capital)") == "Casablanca"
    assert clean_sense("to return to") == "return to"
    assert clean_sense("CL:部[bu4]") is None
    assert clean_sense("variant of 喜劇|喜剧") is None
    assert clean_sense("surname Wang") is None


def test_segment_by_longest_headword_drops_function_words_and_passes_latin_through() -> None:
    lex = Lexicon.from_cedict(SAMPLE)
    segs = lex.segment("浪漫的喜剧 DVD")
    assert [s.source for s in segs] == ["浪漫", "喜剧", "dvd"]
    assert [s.terms() for s in segs] == [["romantic"], ["comedy"], ["dvd"]]
    assert lex.segment("蝙蝠侠")[0].renderings == ("Batman",)  # the whole headword wins over its characters
    unknown = lex.segment("鼹")[0]
    assert unknown.renderings == () and not unknown.known


def test_traditional_input_and_reverse_index() -> None:
    lex = Lexicon.from_cedict(SAMPLE)
    assert lex.to_english("蝙蝠俠 公園") == "batman park"
    assert lex.to_chinese("Comedy") == ("喜剧",)
    assert lex.to_chinese("the park") == ("公园",)
    assert lex.to_chinese("spaceship") == ()


@pytest.mark.integration  # parses the real 9 MB dictionary (~2 s)
def test_the_shipped_dictionary_translates_catalog_words_both_ways() -> None:
    lex = lexicon()
    assert len(lex.zh_en) > 100_000
    assert lex.to_english("侏罗纪公园") == "jurassic park"
    assert "godfather" in lex.to_english("教父")
    assert "电池" in lex.to_chinese("battery") and "喜剧" in lex.to_chinese("comedy")
