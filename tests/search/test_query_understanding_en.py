"""Hand-written English query-understanding cases on a real English catalog (Amazon ePQA products: titles,
brands and attribute values): brand and attribute recognition, and that understanding drives retrieval."""

from __future__ import annotations

import pytest

from shopmind.assistant.datasets import epqa
from shopmind.domain import Product
from shopmind.search import SearchConfig, SearchService, StageSwitches
from tests.search.test_search_events import _events

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


# Category intent in English on the demo catalog (real MovieLens-100K titles; category = first listed genre,
# every genre among the attributes): the classifier learns from titles, category names and attribute values.
EN_CATEGORY = [
    ("documentary", "Documentary"),
    ("animated film for children", "Animation"),
    ("romantic comedy", "Comedy"),
    ("film noir detective", "Film-Noir"),
    ("horror", "Horror"),
]


@pytest.fixture(scope="module")
def movies(demo_data) -> list[Product]:
    return [Product.model_validate_json(line) for line in (demo_data / "products.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def movie_svc(movies, tmp_path_factory) -> SearchService:
    return SearchService.build(movies, None, tmp_path_factory.mktemp("en-cat"), SearchConfig(stages=StageSwitches(dense=False)))


@pytest.mark.parametrize(("q", "category"), EN_CATEGORY)
def test_en_category_intent(movie_svc: SearchService, q: str, category: str) -> None:
    u = movie_svc.understand(q)
    assert u.category == category and u.category_confidence >= 0.5, (q, u.category, u.category_confidence)


def test_category_intent_learns_from_clicks(movies, tmp_path) -> None:
    """Words no title or category holds ('spooky') get their category from what searchers then clicked."""
    horror = [p.id for p in movies if p.category == ["Horror"]][:6]
    rows = []
    for i, item in enumerate(horror):
        rows += [(f"s{i}", "search", f"u{i}", None, None, "spooky", 100.0 * i), (f"c{i}", "click", f"u{i}", None, item, None, 100.0 * i + 5)]
    rows.append(("late", "click", "u0", None, movies[0].id, None, 10_000.0))  # long after the search: not its answer
    cfg = SearchConfig(stages=StageSwitches(dense=False, spelling=False))  # else 'spooky' is "corrected" to a title word
    assert SearchService.build(movies, None, tmp_path / "plain", cfg).understand("spooky").category is None
    u = SearchService.build(movies, _events(rows), tmp_path / "clicks", cfg).understand("spooky")
    assert u.category == "Horror" and u.category_confidence >= 0.5, (u.category, u.category_confidence)
