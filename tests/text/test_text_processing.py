"""Normalisation, tokenisation, language detection and pinyin on real product titles."""

from __future__ import annotations

import json

import pytest

from shopmind.text import detect_language, normalize, pinyin_query_tokens, pinyin_tokens, tokenize, words
from shopmind.text.normalize import zh_counts_to_digits


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Toro 22 in. Variable Speed", "toro 22in variable speed"),
        ("32 inch TV", "32in tv"),
        ("32寸电视", "32in 电视"),
        ('12" pipe', "12in pipe"),
        ("3/4 in. x 3 in. x 8 ft. MDF", "3/4in x 3in x 8ft mdf"),
        ("Whirlpool 1.9 cu. ft. Over the Range", "whirlpool 1.9cuft over the range"),
        ("2.5 gallon bucket", "2.5gal bucket"),
        ("ＡＢＣ１２３", "abc123"),
        ("紅色跑鞋", "红色跑鞋"),
        ("電視機 遙控器", "电视机 遥控器"),
        ("Briggs &amp; Stratton", "briggs stratton"),
        ("1-gal. #SC-141 Tugboat", "1gal sc 141 tugboat"),
        ("Drill. Bits.", "drill bits"),
        ("60 watt bulb", "60w bulb"),
        ("5kg 洗衣机", "5kg 洗衣机"),
        ("Werner 9英尺玻璃钢人字梯", "werner 9ft 玻璃钢人字梯"),  # a Chinese unit meets the title's "9 ft."
        ("Pro-Lift 2-Ton Floor Jack", "pro lift 2ton floor jack"),
        ("2吨卧式千斤顶", "2ton 卧式千斤顶"),
        ("5加仑水桶 16盎司", "5gal 水桶 16oz"),
        ("Tons of fun", "tons of fun"),  # no number: a word, not a unit
        ("Frigidaire 8,000 BTU", "frigidaire 8000 btu"),  # a thousands separator: the query's "8000 btu" meets it
        ("1,500,000 pcs", "1500000 pcs"),
        ("sizes 10,12", "sizes 10 12"),  # a list keeps its numbers apart
        ("", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_query_and_title_units_meet() -> None:
    assert set(tokenize("22 inch mower")) <= set(tokenize("Toro Recycler 22 in. Self-Propelled Gas Lawn Mower"))
    assert "32in" in tokenize("32寸 液晶电视") and "32in" in tokenize("Samsung 32 in. LED TV")


def test_chinese_counts_before_a_measure_word_become_digits() -> None:
    assert zh_counts_to_digits("锂电九件套组合工具") == "锂电9件套组合工具"
    assert zh_counts_to_digits("四种出水模式，十二只装，两把") == "4种出水模式，12只装，2把"
    assert zh_counts_to_digits("来一个看看") == "来一个看看"  # a lone 一 is mostly "a"
    assert zh_counts_to_digits("三星冰箱") == "三星冰箱"  # no measure word after it: a name
    assert zh_counts_to_digits("nine pieces") == "nine pieces"


def test_english_stemming_and_stopwords() -> None:
    assert tokenize("Running shoes for the brackets") == ["run", "shoe", "bracket"]


def test_chinese_words_and_bigrams() -> None:
    toks = tokenize("红色跑鞋")
    assert {"红色", "跑鞋", "色跑"} <= set(toks)
    assert words("小米电视机") == ["小米", "电视机"]


def test_mixed_title(shared_data) -> None:
    line = (shared_data / "search" / "multicpr-zh" / "products.jsonl").read_text(encoding="utf-8").splitlines()[4]
    title = json.loads(line)["title"]  # SEKONIC/世光 测光表…
    toks = tokenize(title)
    assert "sekon" in toks and "测光" in toks


@pytest.mark.parametrize(
    ("text", "lang"),
    [("红色跑鞋 300元以下", "zh"), ("cordless drill", "en"), ("SEKONIC/世光 测光表5米闪光灯", "zh"), ("iPhone 13 手机壳", "zh"), ("", "en")],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_pinyin_keys_meet() -> None:
    assert "paoxie" in pinyin_tokens("红色跑鞋")
    assert "paoxie" in pinyin_query_tokens("pao xie")
    assert "paoxie" in pinyin_query_tokens("paoxie")


def test_real_titles_tokenize(shared_data) -> None:
    path = shared_data / "search" / "homedepot" / "products.jsonl"
    titles = [json.loads(line)["title"] for line in path.read_text(encoding="utf-8").splitlines()[:300]]
    toks = [tokenize(t) for t in titles]
    assert all(toks)
    assert all(t == t.lower() for ts in toks for t in ts)


def test_dimensions_meet_sizes() -> None:
    """'2x4' (a query) meets '2 in. x 4 in.' (a title); a size also yields its bare number."""
    assert {"2", "4"} <= set(tokenize("2 in. x 4 in. x 8 ft. Lumber"))
    assert tokenize("2x4 lumber") == ["2", "4", "lumber"]
    assert tokenize("60 watt bulb") == ["60w", "60", "bulb"]
