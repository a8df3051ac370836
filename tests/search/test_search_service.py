"""SearchService on real slices: facets vs brute-force recount, filters, sort, paging, upsert/delete,
save/load, rules, recovery, suggestions and a Chinese known-item check."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from shopmind.domain import Product
from shopmind.search import MerchRule, SearchConfig, SearchService, StageSwitches
from shopmind.search.artifact import product_fields
from shopmind.search.catalog import CAT_SEP
from shopmind.search.stages.match import dense_z, min_should_match

FACETS = ["brand", "category", "attributes.风格"]


@pytest.fixture(scope="module")
def ob_svc(openbg, tmp_path_factory) -> SearchService:
    """Hybrid service over 400 OpenBG items (few dense neighbours so both retrievers matter)."""
    cfg = SearchConfig(dense_k=25, facet_size=10_000)
    return SearchService.build(openbg[:400], None, tmp_path_factory.mktemp("ob"), cfg)


def _brute_facets(svc: SearchService, products: list[Product], query: str, filters: dict) -> dict[str, Counter]:
    """Recount every facet by looping over products, with the match rule of docs/search.md written out again: enough
    query terms in the product's fields, or a cosine z standard deviations above the query's catalog mean; other filters applied."""
    u = svc.understand(query)
    fields = [k for k in svc.lexical.fields if k != "pinyin" and svc.lexical.weights.get(k, 0) > 0]
    bags = [set().union(*(product_fields(p)[f] for f in fields)) for p in products]
    terms = [t for t in dict.fromkeys(u.tokens) if any(t in b for b in bags)]
    lex = np.array([bool(terms) and sum(t in b for t in terms) >= min_should_match(len(terms)) for b in bags])
    qvec = svc.query_vector(u)
    vecs = np.asarray(svc.vectors.vectors, np.float64)
    cos = vecs @ qvec
    mu, cov = vecs.mean(axis=0), np.cov(vecs, rowvar=False)
    thr = max(float(qvec @ mu) + dense_z(svc.encoder.name) * float(np.sqrt(qvec @ cov @ qvec)), svc.config.dense_min_sim)
    matched = lex | (cos >= thr - 1e-6)

    def passes(p: Product, key: str, val) -> bool:
        if key == "brand":
            return p.brand in val
        if key == "category":
            return CAT_SEP.join(p.category).startswith(val) and (
                len(CAT_SEP.join(p.category)) == len(val) or CAT_SEP.join(p.category)[len(val) :].startswith(CAT_SEP)
            )
        if key.startswith("attributes."):
            have = p.attributes.get(key.split(".", 1)[1], [])
            return any(v in have for v in val)
        raise AssertionError(key)

    out = {}
    for facet in FACETS:
        allowed = np.array([all(passes(p, k, v) for k, v in filters.items() if k != facet) for p in products])
        c: Counter = Counter()
        for i in np.flatnonzero(matched & allowed):
            p = products[i]
            if facet == "brand" and p.brand:
                c[p.brand] += 1
            elif facet == "category":
                for d in range(1, len(p.category) + 1):
                    c[CAT_SEP.join(p.category[:d])] += 1
            elif facet == "attributes.风格":
                for v in p.attributes.get("风格", []):
                    c[v] += 1
        out[facet] = c
    return out


@pytest.mark.integration  # builds and searches a large slice
def test_facets_equal_brute_force(ob_svc: SearchService, openbg) -> None:
    products = openbg[:400]
    rng = random.Random(7)
    brands = sorted({p.brand for p in products if p.brand})
    cats = sorted({CAT_SEP.join(p.category[: d + 1]) for p in products for d in range(len(p.category))})
    styles = sorted({v for p in products for v in p.attributes.get("风格", [])})
    checked = 0
    for _ in range(100):
        p = rng.choice(products)
        query = p.title[: rng.randint(2, 6)]
        filters: dict = {}
        if rng.random() < 0.6:
            filters["brand"] = rng.sample(brands, rng.randint(1, 3)) + ([p.brand] if p.brand and rng.random() < 0.5 else [])
        if rng.random() < 0.5:
            filters["category"] = rng.choice(cats) if rng.random() < 0.5 else CAT_SEP.join(p.category[:1])
        if rng.random() < 0.4:
            filters["attributes.风格"] = rng.sample(styles, rng.randint(1, 3))
        res = ob_svc.search(query, filters=filters, facets=FACETS, per_page=5, explain=False)
        if res.query.recovery_steps:  # nothing matched under these filters: a rewritten query (tests/search/test_facet_agreement.py)
            checked += 1
            continue
        expected = _brute_facets(ob_svc, products, query, filters)
        for f in res.facets:
            got = {v.value: v.count for v in f.values}
            assert got == dict(expected[f.name]), (query, filters, f.name)
        checked += 1
    assert checked == 100


@pytest.mark.integration  # builds and searches a large slice
def test_filters_apply_inside_retrieval(ob_svc: SearchService) -> None:
    res = ob_svc.search("手机", filters={"brand": ["MIUI/小米"]}, per_page=50)
    assert res.total > 0 and all(h.brand == "MIUI/小米" for h in res.hits)
    res = ob_svc.search("皮鞋", filters={"category": "大服饰"}, per_page=50)
    assert res.hits and all(h.category.startswith("大服饰") for h in res.hits)
    res = ob_svc.search("裙", filters={"attributes.风格": ["通勤"]}, per_page=50)
    assert res.hits and all("通勤" in ob_svc.table.attribute_values("风格", ob_svc.table.row_of[h.id]) for h in res.hits)


def test_why_block(ob_svc: SearchService) -> None:
    hit = ob_svc.search("护手霜").hits[0]
    assert hit.why is not None and hit.why.matched_terms and hit.why.bm25 > 0 and hit.why.dense_similarity is not None


@pytest.fixture(scope="module")
def priced(openbg, tmp_path_factory) -> tuple[SearchService, list[Product]]:
    """OpenBG items have no price in the data; price = title length here, only to test numeric plumbing."""
    prods = [p.model_copy(update={"price": float(len(p.title)), "stock": i % 5}) for i, p in enumerate(openbg[:300])]
    prods = [Product.model_validate(p.model_dump()) for p in prods]
    cfg = SearchConfig(stages=StageSwitches(dense=False))
    return SearchService.build(prods, None, tmp_path_factory.mktemp("priced"), cfg), prods


def test_price_filter_sort_and_paging(priced) -> None:
    svc, prods = priced
    res = svc.search("新款", filters={"price": {"min": 20, "max": 28}}, sort="price_asc", per_page=100)
    prices = [h.price for h in res.hits]
    assert prices and all(20 <= x <= 28 for x in prices) and prices == sorted(prices)
    desc = [h.price for h in svc.search("新款", sort="price_desc", per_page=100).hits]
    assert desc == sorted(desc, reverse=True)
    full = svc.search("新款", per_page=1000)
    pages = [h.id for page in range(1, 4) for h in svc.search("新款", page=page, per_page=7).hits]
    assert pages == [h.id for h in full.hits[:21]]
    assert len(set(pages)) == len(pages) and full.total == len(full.hits) - full.related
    assert full.related == sum(h.why.related for h in full.hits) and all(h.why.match for h in full.hits if not h.why.related)
    stock = svc.search("新款", filters={"in_stock": True}, per_page=1000)
    assert all(prods[svc.table.row_of[h.id]].in_stock for h in stock.hits) and stock.total < full.total
    fac = svc.search("新款", facets=["price", "in_stock"]).facets
    assert sum(b.count for b in fac[0].ranges) == full.total


def test_query_price_becomes_filter(priced) -> None:
    svc, _ = priced
    res = svc.search("女鞋 40元以下", per_page=100)
    assert res.query.price.max == 40 and res.hits and all(h.price <= 40 for h in res.hits)
    assert res.query.recovery is None


@pytest.mark.integration  # builds and searches a large slice
def test_upsert_visible_and_delete(hd_slice, tmp_path) -> None:
    base = hd_slice[:300]
    svc = SearchService.build(base, None, tmp_path, SearchConfig())
    new = hd_slice[1500]
    svc.upsert([new])
    res = svc.search(new.title, per_page=5)  # searchable on return (no refresh, no rebuild)
    assert res.hits[0].id == new.id
    # replace: same id, another real title; the old text no longer finds it first
    other = hd_slice[1600]
    svc.upsert([new.model_copy(update={"title": other.title})])
    assert svc.search(other.title, per_page=3).hits[0].id == new.id
    assert svc.search(new.title, per_page=50).total == svc.search(new.title, per_page=50).total
    assert sum(h.id == new.id for h in svc.search(other.title, per_page=50).hits) == 1
    svc.delete([new.id, base[0].id])
    assert new.id not in [h.id for h in svc.search(other.title, per_page=50).hits]
    assert base[0].id not in [h.id for h in svc.search(base[0].title, per_page=50).hits]


def test_save_load_roundtrip(ob_svc: SearchService) -> None:
    again = SearchService.load(ob_svc.out_dir)
    for q in ["洗发水", "黑色 休闲皮鞋", "galanz 微波炉"]:
        a = ob_svc.search(q, facets=FACETS)
        b = again.search(q, facets=FACETS)
        assert [h.id for h in a.hits] == [h.id for h in b.hits] and a.total == b.total
        assert [f.model_dump() for f in a.facets] == [f.model_dump() for f in b.facets]


def test_rules(ob_svc: SearchService) -> None:
    base = ob_svc.search("洗发水", per_page=10)
    ids = [h.id for h in base.hits]
    pin_id = ob_svc.table.ids[0]
    rules = [
        MerchRule(name="p", query="洗发水", action="pin", ids=[pin_id]),
        MerchRule(name="h", query="洗发水", action="hide", ids=[ids[1]]),
        MerchRule(name="b", query="洗发水", action="bury", ids=[ids[2]], factor=100),
    ]
    old = ob_svc.config
    ob_svc.config = old.model_copy(update={"rules": rules})
    try:
        got = ob_svc.search("洗发水", per_page=10)
        gids = [h.id for h in got.hits]
        assert gids[0] == pin_id and "pin:p" in got.hits[0].why.rules
        assert ids[1] not in gids
        assert ids[2] not in gids[:3]
        assert ob_svc.search("面膜", per_page=5).hits[0].id != pin_id
    finally:
        ob_svc.config = old


def test_zero_result_recovery(ob_svc: SearchService, priced) -> None:
    res = ob_svc.search("洗发水", filters={"brand": ["Galanz/格兰仕"]}, per_page=5)
    # the shopper's filter is honoured: Galanz sells no shampoo, so nothing matches and its nearest products are shown as related
    assert res.total == 0 and res.related == len(res.hits) > 0 and res.query.recovery == "related"
    assert all(h.brand == "Galanz/格兰仕" and h.why.related and not h.why.match for h in res.hits)
    svc, _ = priced
    res = svc.search("女鞋 1元以下", per_page=5)  # nothing that cheap: the query's price limit is relaxed
    assert res.total > 0 and res.query.recovery == "relaxed q:price" and res.hits[0].price > 1
    res = svc.search("zzzzqqq", filters={"brand": ["MIUI/小米"]})  # no vectors in this service: honest zero
    assert res.total == 0 and res.hits == []


def test_suggest(ob_svc: SearchService) -> None:
    sug = ob_svc.suggest("洗发")
    assert sug and all(s.startswith("洗发") for s in sug)


def test_chinese_known_item(shared_data: Path, zh_products, tmp_path) -> None:
    """Multi-CPR: each query's one correct product must rank in the top 3 for most queries."""
    d = shared_data / "search" / "multicpr-zh"
    queries = dict(line.split("\t") for line in (d / "queries.tsv").read_text(encoding="utf-8").splitlines())
    qrels = {line.split("\t")[0]: line.split("\t")[1] for line in (d / "qrels.tsv").read_text(encoding="utf-8").splitlines()}
    qids = sorted(qrels)[:25]
    targets = {qrels[q] for q in qids}
    pool = [p for p in zh_products if p.id in targets] + [p for p in zh_products if p.id not in targets][:175]
    svc = SearchService.build(pool, None, tmp_path, SearchConfig())
    top3 = [qrels[q] in [h.id for h in svc.search(queries[q], per_page=3, explain=False).hits] for q in qids]
    assert np.mean(top3) >= 0.8


def test_pinyin_query_finds_chinese_title(zh_products, tmp_path) -> None:
    svc = SearchService.build(zh_products[:300], None, tmp_path, SearchConfig(stages=StageSwitches(dense=False)))
    target = next(p for p in zh_products[:300] if "床围栏" in p.title)
    assert target.id in [h.id for h in svc.search("chuang weilan", per_page=5).hits]
