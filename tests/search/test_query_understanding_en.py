"""Hand-written English query-understanding cases on a real English catalog (Amazon ePQA products: titles,
brands and attribute values): brand and attribute recognition, and that understanding drives retrieval."""

from __future__ import annotations

import pytest

from shopmind.assistant.datasets import epqa
from shopmind.search import SearchConfig, SearchService, StageSwitches

EN_ATTR = [
    ("white dishwasher latch", "color", "white"),
    ("silver ice maker", "color", "silver"),
    ("black gas spring", "color", "black"),
    ("smoke led tail light", "color", "smoke"),
    ("taupe grilling table", "color", "taupe"),
    ("brown caster cup", "color", "brown"),
    ("walnut bar stool", "color", "walnut"),
    ("charcoal gray socks", "color", "charcoal gray"),
    ("stainless steel range hood", "color", "stainless steel"),
    ("plastic phone case", "material", "plastic"),
    ("metal knitting needles", "material", "metal"),
    ("carbon fiber humidifier filter", "material", "carbon fiber"),
    ("nylon convertible pants", "material", "nylon"),
    ("steel hitch receiver", "material", "steel"),
    ("ceramic mug", "material", "ceramic"),
    ("twin bed with drawers", "size", "twin"),
]
EN_BRAND_CATALOG = [
    ("simplehuman soap pump", "simplehuman"),
    ("oxo dish rack", "oxo"),
    ("whirlpool dish rack", "whirlpool"),
    ("frogg toggs rain jacket", "frogg toggs"),
    ("shepherd hardware caster cups", "shepherd hardware"),
    ("trion air bear filter", "trion"),
    ("cuisinart blender", "cuisinart"),
    ("hasbro board game", "hasbro"),
    ("john deere toy tractor", "john deere"),
    ("rubbermaid storage bin", "rubbermaid"),
]


@pytest.fixture(scope="module")
def en_svc(shared_data, tmp_path_factory) -> SearchService:
    products, _ = epqa(shared_data)
    return SearchService.build(products, None, tmp_path_factory.mktemp("en-qu"), SearchConfig(stages=StageSwitches(dense=False)))


@pytest.mark.parametrize(("q", "key", "value"), EN_ATTR)
def test_en_attribute_recognised(en_svc: SearchService, q: str, key: str, value: str) -> None:
    u = en_svc.understand(q)
    assert value in [v.lower() for v in u.attributes.get(key, [])], (q, u.attributes)


@pytest.mark.parametrize(("q", "brand"), EN_BRAND_CATALOG)
def test_en_brand_recognised_from_catalog(en_svc: SearchService, q: str, brand: str) -> None:
    u = en_svc.understand(q)
    assert brand in [b.lower() for b in u.brands], (q, u.brands)


def test_en_attribute_boost_reaches_results(en_svc: SearchService) -> None:
    res = en_svc.search("white washer drain pump", per_page=5)
    top = res.hits[0]
    assert "white" in [v.lower() for v in res.query.attributes.get("color", [])]
    assert "Drain Pump" in top.title and top.why is not None and top.why.boosts.get("entity", 0) > 0


def test_en_case_count() -> None:
    assert len(EN_ATTR) + len(EN_BRAND_CATALOG) >= 26
