"""FAQ matching on the shipped template: multi-word keywords by stems, questions that span two sections."""

from __future__ import annotations

from shopmind.assistant.faq import Faq


def test_multi_word_keyword_matches_inflected_words():
    faq = Faq.load(None)
    section, score = faq.match("what's your policy on sending items back?")
    assert section is not None and section.heading.startswith("Returns") and score >= 3.0


def test_question_about_two_topics_gets_both_sections():
    faq = Faq.load(None)
    both = [s.heading.split()[0] for s in faq.matches("退换货怎么处理？")]
    assert set(both) == {"Returns", "Exchanges"}
    assert [s.heading.split()[0] for s in faq.matches("how do refunds work?")] == ["Returns"]
    assert faq.matches("what is the capital of france") == []


def test_chat_answers_warranty_from_the_product_before_the_policy(assistant, shared_data):
    from shopmind.assistant import datasets as ds

    products, _ = ds.epqa(shared_data)
    p = next((p for p in products if any("warrant" in k for k in p.attributes)), None)
    assert p is not None
    assistant.tools.shop.catalog.upsert([p])
    r = assistant.chat("warranty-1", "how long is the warranty?", product_id=p.id)
    key = next(k for k in p.attributes if "warrant" in k)
    assert r.sentences[0].source.field == f"attributes.{key}"
    assert any(s.source.kind == "faq" and s.source.section.startswith("Warranty") for s in r.sentences)
