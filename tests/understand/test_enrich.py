"""Enrichment on real Home Depot titles: kept apart from shop values, never overriding them, read by facets; import hook."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import numpy as np
import orjson
import pytest

from shopmind.domain import Product
from shopmind.search.catalog import ProductTable
from shopmind.understand.enrich import EnrichStats, enrich, extracted_for, facet_attributes


@pytest.fixture(scope="module")
def hd_lines(shared_data: Path) -> list[bytes]:
    with (shared_data / "search/homedepot/products.jsonl").open("rb") as fh:
        return list(islice(fh, 300))


def test_values_marked_and_spanned(hd_lines: list[bytes]) -> None:
    products = [Product.model_validate(orjson.loads(line)) for line in hd_lines]
    stats = EnrichStats()
    enrich(products, stats=stats)
    assert stats.products == 300 and stats.enriched > 150
    for p in products:
        for value in p.attributes_extracted.values():
            a, b = value["span"]
            assert getattr(p, value["source"])[a:b] == value["value"]
            assert 0.0 <= value["confidence"] <= 1.0 and value["model"] == "en"
        assert p.attributes == {}  # the shop's field is untouched


def test_shop_values_win(hd_lines: list[bytes]) -> None:
    raw = orjson.loads(hd_lines[1])  # BEHR Premium Textured DeckOver 1-gal. #SC-141 Tugboat Wood and Concrete Coating
    plain = Product.model_validate(raw)
    got = extracted_for(plain)
    assert "brand" in got
    shop = Product.model_validate({**raw, "brand": "Behr", "attributes": {"Color(s)": "Tugboat"}})
    mine = extracted_for(shop)
    assert "brand" not in mine and "color" not in mine  # names the shop supplies are never extracted
    shop.attributes_extracted = {**mine, "color": {"value": "Red", "confidence": 0.9, "span": [0, 3], "source": "title"}}
    assert facet_attributes(shop)["Color(s)"] == "Tugboat" and facet_attributes(shop)["color"] == "Red"


def test_facets_count_extracted_values(hd_lines: list[bytes]) -> None:
    products = enrich([Product.model_validate(orjson.loads(line)) for line in hd_lines])
    table = ProductTable()
    table.append(products)
    counts = table.value_counts("attributes.brand", np.ones(len(table), bool), 10)
    assert counts and counts[0][1] >= 2  # a brand that several products share
    masks = table.filter_masks({"attributes.brand": counts[0][0]})
    assert int(masks["attributes.brand"].sum()) == counts[0][1]


@pytest.mark.parametrize("on", [True, False])
def test_import_enriches_unless_switched_off(tmp_path: Path, hd_lines: list[bytes], on: bool) -> None:
    from shopmind.engine import ShopMind

    path = tmp_path / "products.jsonl"
    path.write_bytes(b"".join(hd_lines[:40]))
    with ShopMind.open(tmp_path / "home", imports={"enrich": on}) as shop:
        shop.import_file("products", path)
        stored = list(shop.store.iter_products())
        assert len(stored) == 40
        assert any(p.attributes_extracted for p in stored) is on
        if not on:
            out = shop.enrich()
            assert out["products"] == 40 and out["enriched"] > 0
            assert any(p.attributes_extracted for p in shop.store.iter_products())
