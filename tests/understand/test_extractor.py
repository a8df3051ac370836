"""Tokens, BIO decoding, and a CRF trained on a real slice of OA-Mine: it finds values in offers it never saw."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import pytest

from shopmind.evaluation.extract_metric import score
from shopmind.understand.datasets import read_offers
from shopmind.understand.extractor import Extractor, spans_of
from shopmind.understand.features import dictionary_marks, tokenize
from shopmind.understand.train import canonical, labelled, mine_gazetteer, train_crf


def test_tokens_keep_offsets() -> None:
    text = "Crocs Women's Jayna Ballet Flat,Nautical Navy,4 M US 3.5g"
    toks = tokenize(text)
    assert [t[0] for t in toks][:6] == ["Crocs", "Women's", "Jayna", "Ballet", "Flat", ","]
    assert all(text[s:e] == t for t, s, e in toks)
    zh = tokenize("HAZZYS修身羊毛衫", "zh")
    assert [t[0] for t in zh] == ["HAZZYS", "修", "身", "羊", "毛", "衫"]


def test_spans_of_bio() -> None:
    assert spans_of(["B-Brand", "I-Brand", "O", "I-Color", "B-Size", "B-Size"]) == [("Brand", 0, 2), ("Color", 3, 4), ("Size", 4, 5), ("Size", 5, 6)]


def test_dictionary_marks_longest_match() -> None:
    gaz = {("nautical", "navy"): ["Color"], ("navy",): ["Color"], ("crocs",): ["Brand"]}
    marks = dictionary_marks(["crocs", "nautical", "navy", "navy"], gaz)
    assert marks == [["d=Brand:B"], ["d=Color:B"], ["d=Color:I"], ["d=Color:B"]]


def test_labels_from_gold(shared_data: Path) -> None:
    offer = next(read_offers(shared_data / "extraction/extractgpt/oa-mine/train.jsonl"))  # Ellie Shoes Women's 8400, Red Patent, 14 M US
    (source, toks, labels), = labelled(offer, "en")
    got = {lab[2:]: " ".join(t[0] for t, lab2 in zip(toks, labels, strict=True) if lab2[2:] == lab[2:]) for lab in labels if lab != "O"}
    assert source == "title" and got["Brand"] == "Ellie Shoes" and got["Size"] == "14 M US"
    assert canonical("Brand Name") == "brand" and canonical("Color(s)") == "color"
    assert mine_gazetteer([offer], "en")[("ellie", "shoes")] == ["Brand"]


@pytest.fixture(scope="module")
def small_model(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Extractor, list]:
    offers = [o for o in read_offers(shared_data / "extraction/extractgpt/oa-mine/train.jsonl") if o.category in ("Shoes", "Coffee")]
    train, held = [o for i, o in enumerate(offers) if i % 4][:200], offers[::4][:60]
    path = train_crf(train, tmp_path_factory.mktemp("crf") / "small", name="small", language="en", max_iterations=40)
    return Extractor.load(path), held


def test_small_crf_extracts_unseen_offers(small_model: tuple[Extractor, list]) -> None:
    model, held = small_model
    preds = [{a: e.value for a, e in model.extract(o.title, o.description, o.category).items()} for o in held]
    r = score([o.gold for o in held], preds, [o.category for o in held])
    assert r["f1"] > 0.4  # 200 titles of two categories; the shipped model trains on all 1,452
    ex = next(iter(model.extract(held[0].title, category=held[0].category).values()))
    assert held[0].title[ex.start:ex.end] == ex.value and 0.0 <= ex.confidence <= 1.0 and ex.source == "title"
    assert set(model.attributes) == {"Shoes", "Coffee"} and model.gazetteer


def test_unknown_category_attributes_dropped(small_model: tuple[Extractor, list]) -> None:
    model, held = small_model
    shoe = next(o for o in held if o.category == "Shoes")
    found = model.extract(shoe.title, category="Shoes")
    assert set(found) <= set(model.attributes["Shoes"])


def test_shipped_models_load() -> None:
    for name in ("en", "zh", "oa-mine", "ae-110k", "wdc"):
        m = Extractor.load(name)
        assert m.meta["validation"]["f1"] > 0 and m.model_path.stat().st_size < 8_000_000
    with pytest.raises(FileNotFoundError, match="no extraction model"):
        Extractor.load("nope")


def test_shipped_models_on_real_titles(shared_data: Path) -> None:
    en = Extractor.load("en")
    titles = [o.title for o in islice(read_offers(shared_data / "extraction/extractgpt/oa-mine/test_dev.jsonl"), 40)]
    found = [en.extract(t) for t in titles]
    assert sum("brand" in f for f in found) >= 20  # most Amazon titles open with their brand
    zh = Extractor.load("zh")
    assert zh.extract("HC圆领拼接连衣裙") or zh.extract("修身羊毛衫")


def test_dictionary_fallback_fills_empty_attributes(small_model: tuple[Extractor, list]) -> None:
    model, _ = small_model
    key, attrs = next((k, a) for k, a in model.gazetteer.items() if len(k) == 2 and all(w.isalpha() for w in k))
    title = f"Qqq {key[0].title()} {key[1]} zzz"
    hits = model.dictionary_hits(title, None)
    assert {h.attribute for h in hits} >= set(attrs) and all(title[h.start:h.end].lower() == " ".join(key) for h in hits)
    model.fallback = 0.0
    without = model.extract(title, category="Shoes", threshold=0.0)
    model.fallback = 0.5
    try:
        with_fb = model.extract(title, category="Shoes", threshold=0.0)
    finally:
        model.fallback = 0.0
    assert set(without) <= set(with_fb) and all(v.confidence == 0.5 for k, v in with_fb.items() if k not in without)
