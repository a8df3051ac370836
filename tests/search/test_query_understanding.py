"""Hand-written query-understanding tables: price limits, spelling, brands, attributes, category intent
(English and Chinese), against real catalogs (OpenBG Taobao items, Home Depot titles)."""

from __future__ import annotations

import json

import pytest

from shopmind.search import SearchConfig, SearchService, StageSwitches
from shopmind.search.understand import Speller, parse_price

CHEAP = 9.5

EN_PRICE = [
    ("drill under $50", None, 50),
    ("under 50 dollars", None, 50),
    ("lamp less than 30 dollars", None, 30),
    ("between 20 and 40", 20, 40),
    ("between $20 and $40 faucet", 20, 40),
    ("$20-$40 faucet", 20, 40),
    ("20 to 40 dollars", 20, 40),
    ("20-40 dollars rug", 20, 40),
    ("from $10 to $20", 10, 20),
    ("over 100 dollars", 100, None),
    ("above $100 grill", 100, None),
    ("more than 200 dollars", 200, None),
    ("at least $15", 15, None),
    ("$15 or more", 15, None),
    ("$30 and up", 30, None),
    ("over $5 hooks", 5, None),
    ("around $30", 24, 36),
    ("about 50 dollars", 40, 60),
    ("no more than $80", None, 80),
    ("at most 25 dollars", None, 25),
    ("cheaper than $10", None, 10),
    ("up to $300 refrigerator", None, 300),
    ("below 99.99", None, 99.99),
    ("max $45", None, 45),
    ("$60 or less", None, 60),
    ("within $200", None, 200),
    ("under $1,000 grill", None, 1000),
    ("less than 20 usd", None, 20),
    ("$25 drill bits", 20, 30),
    ("40 dollars paint", 32, 48),
    ("cheap lamp", None, CHEAP),
    ("budget microwave", None, CHEAP),
    ("affordable desk", None, CHEAP),
    ("inexpensive rug", None, CHEAP),
    ("cheapest toilet seat", None, CHEAP),
]
EN_NO_PRICE = ["under 50 lbs sander", "under 50 inch tv", "2x4 8 ft", "under cabinet light", "2-4 inch pipe", "32 in tv", "1/2 in. copper pipe"]
EN_SPELLING = [
    ("toliet", "toilet"),
    ("refridgerator", "refrigerator"),
    ("fauset", "faucet"),
    ("mirowave", "microwave"),
    ("dishwaser", "dishwasher"),
    ("lawnmover", "lawnmower"),
    ("chandeleir", "chandelier"),
    ("thermastat", "thermostat"),
    ("pluming", "plumbing"),
    ("insulaton", "insulation"),
    ("gazbo", "gazebo"),
    ("cabnet", "cabinet"),
]
EN_BRAND = [
    ("galanz microwave", "格兰仕"),
    ("laneige primer", "兰芝"),
    ("flyco shaver", "飞科"),
    ("sony headphones", "索尼"),
    ("adidas pants", "阿迪达斯"),
    ("huawei phone", "华为"),
    ("nestle coffee", "雀巢"),
    ("joyoung blender", "九阳"),
    ("midea air conditioner", "美的"),
    ("supor pot", "苏泊尔"),
    ("vitasoy", "维他奶"),
    ("sealy mattress", "丝涟"),
]

ZH_PRICE = [
    ("红色跑鞋 300元以下", None, 300),
    ("耳机300块以下", None, 300),
    ("300以内的耳机", None, 300),
    ("低于500元的手机", None, 500),
    ("不超过100元的面膜", None, 100),
    ("不到50块 袜子", None, 50),
    ("小于99元", None, 99),
    ("50元内 零食", None, 50),
    ("1000元以下的空调", None, 1000),
    ("耳机200-300元", 200, 300),
    ("200到300元的鞋", 200, 300),
    ("200至300元之间", 200, 300),
    ("¥200-¥300 口红", 200, 300),
    ("价格在100到200之间", 100, 200),
    ("100元以上 茶叶", 100, None),
    ("高于1000元", 1000, None),
    ("超过500块的手表", 500, None),
    ("至少200元", 200, None),
    ("5000元起 笔记本", 5000, None),
    ("300元左右 耳机", 240, 360),
    ("100块钱左右的礼物", 80, 120),
    ("99元的咖啡", 79.2, 118.8),
    ("便宜的耳机", None, CHEAP),
    ("实惠 洗发水", None, CHEAP),
    ("平价面膜", None, CHEAP),
    ("性价比高的手机", None, CHEAP),
]
ZH_BRAND = [
    ("兰芝隔离霜", "兰芝"),
    ("格兰仕微波炉", "格兰仕"),
    ("飞科剃须刀", "飞科"),
    ("九阳破壁机", "九阳"),
    ("苏泊尔电饭煲", "苏泊尔"),
    ("雀巢咖啡", "雀巢"),
    ("华为手机", "华为"),
    ("小米手机", "小米"),
    ("红蜻蜓皮鞋", "红蜻蜓"),
    ("百丽女鞋", "百丽"),
    ("索尼耳机", "索尼"),
    ("阿迪达斯运动裤", "阿迪达斯"),
    ("南极人保暖内衣", "南极人"),
]
ZH_ATTR = [
    ("黑色 休闲皮鞋", "颜色分类", "黑色"),
    ("白色衬衫", "颜色分类", "白色"),
    ("北欧风格床头柜", "风格", "北欧风格"),
    ("通勤 半身裙", "风格", "通勤"),
    ("韩版毛衣", "风格", "韩版"),
    ("中式茶具", "风格", "中式"),
    ("日式 餐具", "风格", "日式"),
    ("人造板 梳妆台", "材质", "人造板"),
    ("涤纶 卫裤", "材质", "涤纶"),
    ("牛皮 男士包", "材质", "牛皮"),
    ("金属置物架", "材质", "金属"),
]
ZH_CATEGORY = [
    ("洗发水", "美妆洗护 > 洗发水"),
    ("螺蛳粉", "食品 > 螺蛳粉"),
    ("游戏耳机", "消费电子 > 游戏电竞头戴耳机"),
    ("空调", "消费电子 > 空调"),
    ("面膜", "美妆洗护 > 贴片面膜"),
    ("剃须刀", "消费电子 > 剃须刀"),
    ("微波炉", "消费电子 > 微波炉"),
    ("床头柜", "大百货 > 床头柜"),
    ("牛仔裤", "大服饰 > 牛仔裤"),
    ("护手霜", "美妆洗护 > 护手霜"),
    ("速溶咖啡", "食品 > 速溶咖啡"),
    ("破壁机", "消费电子 > 破壁机"),
    ("地毯", "大百货 > 地毯"),
    ("垃圾桶", "大百货 > 垃圾桶"),
    ("单反镜头", "消费电子 > 单反镜头"),
    ("帽子", "大服饰 > 帽子"),
    ("功夫茶具", "大百货 > 功夫茶具"),
]


@pytest.fixture(scope="module")
def svc(openbg, tmp_path_factory) -> SearchService:
    cfg = SearchConfig(stages=StageSwitches(dense=False))
    return SearchService.build(openbg, None, tmp_path_factory.mktemp("qu"), cfg)


@pytest.fixture(scope="module")
def hd_speller(shared_data) -> Speller:
    path = shared_data / "search" / "homedepot" / "products.jsonl"
    return Speller.from_texts(json.loads(line)["title"] for line in path.read_text(encoding="utf-8").splitlines())


def _expect(q: str, lo, hi) -> None:
    got = parse_price(q, CHEAP)
    assert got is not None, q
    assert (got.min, got.max) == (pytest.approx(lo) if lo is not None else None, pytest.approx(hi) if hi is not None else None), q


@pytest.mark.parametrize(("q", "lo", "hi"), EN_PRICE)
def test_en_price(q: str, lo, hi) -> None:
    _expect(q, lo, hi)


@pytest.mark.parametrize("q", EN_NO_PRICE)
def test_en_sizes_are_not_prices(q: str) -> None:
    assert parse_price(q, CHEAP) is None


@pytest.mark.parametrize(("q", "lo", "hi"), ZH_PRICE)
def test_zh_price(q: str, lo, hi) -> None:
    _expect(q, lo, hi)


@pytest.mark.parametrize(("wrong", "right"), EN_SPELLING)
def test_en_spelling_from_catalog(hd_speller: Speller, wrong: str, right: str) -> None:
    fixed, fixes = hd_speller.correct(f"{wrong} repair")
    assert fixes == {wrong: right} and fixed == f"{right} repair"


@pytest.mark.parametrize(("q", "alias"), EN_BRAND + ZH_BRAND)
def test_brand_recognised(svc: SearchService, q: str, alias: str) -> None:
    u = svc.understand(q)
    assert any(alias in b for b in u.brands), (q, u.brands)


@pytest.mark.parametrize(("q", "key", "value"), ZH_ATTR)
def test_attribute_recognised(svc: SearchService, q: str, key: str, value: str) -> None:
    u = svc.understand(q)
    assert value in u.attributes.get(key, []), (q, u.attributes)


@pytest.mark.parametrize(("q", "category"), ZH_CATEGORY)
def test_category_intent(svc: SearchService, q: str, category: str) -> None:
    u = svc.understand(q)
    assert u.category == category and u.category_confidence >= 0.5, (q, u.category, u.category_confidence)


def test_case_counts() -> None:
    en = len(EN_PRICE) + len(EN_NO_PRICE) + len(EN_SPELLING) + len(EN_BRAND)
    zh = len(ZH_PRICE) + len(ZH_BRAND) + len(ZH_ATTR) + len(ZH_CATEGORY)
    assert en >= 60 and zh >= 60


def test_response_reports_understanding(svc: SearchService) -> None:
    res = svc.search("格兰仕微波炉 500元以下", facets=["brand"])
    q = res.query
    assert q.language == "zh" and q.price is not None and q.price.max == 500
    assert "price" in q.stages and "entities" in q.stages and "category_intent" in q.stages
    assert q.category == "消费电子 > 微波炉"
    # the catalog has no prices, so the price limit is relaxed rather than returning nothing
    assert res.total > 0 and q.recovery == "relaxed q:price"
    assert res.hits[0].why is not None and res.hits[0].why.boosts


def test_stages_switch_off(openbg, tmp_path) -> None:
    cfg = SearchConfig(stages=StageSwitches(dense=False, price=False, entities=False, category_intent=False, spelling=False))
    s = SearchService.build(openbg[:200], None, tmp_path, cfg)
    q = s.search("格兰仕微波炉 500元以下").query
    assert q.price is None and not q.brands and q.category is None
    assert "price" not in q.stages and "entities" not in q.stages
