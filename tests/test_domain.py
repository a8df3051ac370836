"""Domain records: the import/API contract and its validation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shopmind.domain import Event, EventType, Product, User


def test_product_category_path_forms_and_stock_flag():
    assert Product(id="1", title="t", category="Tools > Hand Tools > Hammers").category == ["Tools", "Hand Tools", "Hammers"]
    assert Product(id="1", title="t", category=["A", " B "]).category == ["A", "B"]
    assert Product(id=100001, title="t").id == "100001"
    assert Product(id="1", title="t", stock=0).in_stock is False
    assert Product(id="1", title="t", stock=0).available is False
    assert Product(id="1", title="t").available is True
    assert Product(id="1", title="t", currency="cny").currency == "CNY"


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"id": "1"}, "title"),
        ({"id": "", "title": "t"}, "id"),
        ({"id": "1", "title": "t", "price": -1}, "price"),
        ({"id": "1", "title": "t", "price": float("nan")}, "price"),
        ({"id": "1", "title": "t", "stock": -2}, "stock"),
        ({"id": "1", "title": "t", "colour": "red"}, "colour"),
        ({"id": "1", "title": "t", "attributes": ["red"]}, "attributes"),
        ({"id": "1", "title": "t", "currency": "euro"}, "currency"),
    ],
)
def test_bad_products_name_the_field(record, field):
    with pytest.raises(ValidationError) as info:
        Product.model_validate(record)
    assert field in str(info.value)


@pytest.mark.parametrize("ts", ["2024-05-01T10:00:00Z", "2024-05-01T10:00:00+00:00", 1714557600, "1714557600", 1714557600.0])
def test_event_timestamps_iso_or_epoch_seconds(ts):
    e = Event(type="view", user_id="u", item_id="p", timestamp=ts)
    assert e.timestamp == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_naive_iso_time_is_utc():
    assert Event(type="view", user_id="u", item_id="p", timestamp="2024-05-01T10:00:00").timestamp.tzinfo is not None


def test_event_shape_rules():
    with pytest.raises(ValidationError, match="needs item_id"):
        Event(type="add_to_cart", user_id="u")
    with pytest.raises(ValidationError, match="needs a query"):
        Event(type="search", user_id="u")
    with pytest.raises(ValidationError, match="quantity"):
        Event(type="purchase", user_id="u", item_id="p", quantity=0)
    assert Event(type="search", user_id="u", query="red shoes").type is EventType.SEARCH


def test_event_ids_are_stable_content_hashes_when_missing():
    a = Event(type="view", user_id="u", item_id="p", timestamp=1)
    b = Event(type="view", user_id="u", item_id="p", timestamp=1)
    c = Event(type="view", user_id="u", item_id="p", timestamp=2)
    assert a.id == b.id != c.id
    assert Event(id="mine", type="view", user_id="u", item_id="p").id == "mine"


def test_event_context_keeps_known_and_custom_keys():
    e = Event(type="click", user_id="u", item_id="p", context={"device": "mobile", "position": 3, "ab_bucket": "B"})
    assert e.context.device == "mobile" and e.context.position == 3
    assert e.context.model_dump(exclude_none=True) == {"device": "mobile", "position": 3, "ab_bucket": "B"}
    assert Event(type="click", user_id="u", item_id="p").context is None


def test_user_attributes():
    assert User(id=7, attributes={"city": "Hangzhou"}).id == "7"
    with pytest.raises(ValidationError):
        User(id="u", attributes="nope")
