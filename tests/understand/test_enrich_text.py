"""Where extracted values reach the text that search and recommendations read: the embedded product text gains only
values read from a description that the title does not say (title-only catalogs keep their text and cached vectors),
and the lexical field `extracted` carries every extracted value, indexed only when field_weights names it."""

from __future__ import annotations

from itertools import islice

import orjson
import pytest

from shopmind.domain import Product
from shopmind.search import SearchConfig, SearchService
from shopmind.search.artifact import product_fields
from shopmind.text.product_text import passage_text, product_text
from shopmind.text.tokenize import tokenize
from shopmind.understand.enrich import enrich
from shopmind.understand.extractor import Extractor


@pytest.fixture(scope="module")
def wdc(shared_data) -> list[Product]:
    """40 real WDC-PAVE offers (title + description), enriched with the WDC model."""
    path = shared_data / "extraction/wdc-pave/wdc_with_all_attributes/test_dev.jsonl"
    with path.open("rb") as fh:
        rows = [orjson.loads(line) for line in islice(fh, 40)]
    products = [Product(id=str(r["id"]), title=r["input_title"], description=r.get("input_description") or "", language="en") for r in rows]
    return enrich(products, model=Extractor.load("wdc"))


def test_embedded_text_gains_description_values_only(wdc, shared_data):
    gained = 0
    for p in wdc:
        base = passage_text(p.title, p.brand, p.category)
        described = {k: v for k, v in p.attributes_extracted.items() if v["source"] == "description" and str(v["value"]).lower() not in p.title.lower()}
        text = product_text(p)
        if described:
            gained += 1
            assert text.startswith(base + " | ")
            for k, v in described.items():
                assert f"{k.replace('_', ' ')}: {v['value']}" in text
        else:
            assert text == base
        for k, v in p.attributes_extracted.items():
            if v["source"] == "title":
                assert f"{k.replace('_', ' ')}: {v['value']}" not in text
    assert gained >= 5, "real descriptions yield values the titles do not state"
    with (shared_data / "search/homedepot/products.jsonl").open("rb") as fh:  # title-only: the text is unchanged
        hd = enrich([Product.model_validate(orjson.loads(line)) for line in islice(fh, 50)])
    assert any(p.attributes_extracted for p in hd)
    assert [product_text(p) for p in hd] == [passage_text(p.title, p.brand, p.category) for p in hd]


def test_extracted_lexical_field_is_opt_in(wdc):
    p = next(p for p in wdc if any(v["source"] == "description" for v in p.attributes_extracted.values()))
    assert product_fields(p)["extracted"]  # tokens of the extracted values
    plain = SearchService.build(wdc, None, None, SearchConfig(stages={"dense": False}))
    assert "extracted" not in plain.lexical.fields
    weights = {**SearchConfig().field_weights, "extracted": 0.2}
    with_field = SearchService.build(wdc, None, None, SearchConfig(stages={"dense": False}, field_weights=weights))
    assert "extracted" in with_field.lexical.fields
    value = next(str(v["value"]) for v in p.attributes_extracted.values() if v["source"] == "description")
    scores = with_field.lexical.field_scores({"*": tokenize(value)})["extracted"]
    assert scores[with_field.table.row_of[p.id]] > 0 and scores.max() == scores[with_field.table.row_of[p.id]]
