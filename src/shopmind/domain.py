"""Validated records that flow through ShopMind: products, users, events and reviews.

Field names are the import/API contract (README, "Record formats"); every other module receives these
objects, never raw dicts, so a bad record is rejected once, at the door, with the field that is wrong.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

ID_MAX = 200
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=ID_MAX)]


def _now() -> datetime:
    return datetime.now(UTC)


def parse_time(value: Any) -> datetime:
    """ISO 8601 string, epoch seconds (int/float/numeric string) or datetime → aware UTC datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool):
        raise ValueError("timestamp must be ISO 8601 or epoch seconds, not a boolean")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError("timestamp must be finite")
        return datetime.fromtimestamp(float(value), tz=UTC)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError("timestamp is empty")
        try:
            return datetime.fromtimestamp(float(text), tz=UTC)
        except ValueError:
            pass
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"timestamp {text!r} is neither ISO 8601 nor epoch seconds") from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ValueError(f"timestamp must be ISO 8601 or epoch seconds, got {type(value).__name__}")


def _check_id(value: Any, field: str) -> str:
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{field} is required")
    if isinstance(value, (int, float)):
        value = str(int(value)) if float(value).is_integer() else str(value)
    if not isinstance(value, str):
        raise ValueError(f"{field} must be a string")
    value = value.strip()
    if not value:
        raise ValueError(f"{field} must not be empty")
    if len(value) > ID_MAX:
        raise ValueError(f"{field} is longer than {ID_MAX} characters")
    return value


def is_text(value: Any) -> bool:
    """True if every string in `value` (nested lists and dicts, keys too) is valid Unicode, i.e. encodable as UTF-8.

    JSON may carry a lone surrogate ("\\ud800"); Python decodes it into a `str` that no store, JSON writer or
    response can encode. Pydantic rejects it in most `str` fields, but not in free-form values (`Any`), which
    must be checked here so the record is refused at the door (422) instead of failing on write (500).
    """
    if isinstance(value, str):
        if value.isascii():
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(is_text(k) and is_text(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(is_text(v) for v in value)
    return True


NOT_TEXT = "is not valid Unicode text (it contains a lone surrogate such as \\ud800)"


class Record(BaseModel):
    """Base for records: unknown fields are errors (a typo must not silently drop data)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, validate_assignment=False)


class Product(Record):
    """A catalog item. `category` is a path, most general first; `stock=None` means 'not tracked'."""

    id: str
    title: str = Field(min_length=1, max_length=2000)
    description: str = Field(default="", max_length=100_000)
    brand: str | None = Field(default=None, max_length=500)
    category: list[str] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)
    attributes_extracted: dict[str, dict[str, str | float | list[int]]] = Field(default_factory=dict)  # machine-made: understand.enrich
    price: float | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    stock: int | None = Field(default=None, ge=0)
    in_stock: bool | None = None
    images: list[str] = Field(default_factory=list)
    language: str | None = Field(default=None, max_length=16)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, v: Any) -> str:
        return _check_id(v, "id")

    @field_validator("category", mode="before")
    @classmethod
    def _category(cls, v: Any) -> list[str]:
        if v is None or v == "":
            return []
        if isinstance(v, str):
            sep = ">" if ">" in v else "/" if "/" in v else None
            parts = v.split(sep) if sep else [v]
        elif isinstance(v, (list, tuple)):
            parts = list(v)
        else:
            raise ValueError("category must be a list or a path like 'a > b > c'")
        out = []
        for part in parts:
            if not isinstance(part, str):
                raise ValueError("category parts must be strings")
            if part.strip():
                out.append(part.strip())
        return out

    @field_validator("images", mode="before")
    @classmethod
    def _images(cls, v: Any) -> list[str]:
        if v is None or v == "":
            return []
        if isinstance(v, str):
            return [u.strip() for u in v.split("|") if u.strip()]
        return v

    @field_validator("attributes", mode="before")
    @classmethod
    def _attributes(cls, v: Any) -> dict[str, Any]:
        if v is None or v == "":
            return {}
        if isinstance(v, str):
            import orjson

            try:
                v = orjson.loads(v)
            except orjson.JSONDecodeError as exc:
                raise ValueError("attributes must be a JSON object") from exc
        if not isinstance(v, dict):
            raise ValueError("attributes must be an object")
        for key, val in v.items():
            if not is_text(key):
                raise ValueError(f"an attribute name {NOT_TEXT}")
            if not isinstance(val, (str, int, float, bool, list)) and val is not None:
                raise ValueError(f"attribute {key!r} must be a string, number, boolean or list")
            if not is_text(val):
                raise ValueError(f"attribute {key!r} {NOT_TEXT}")
        return v

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, v: Any) -> str | None:
        return v.upper() if isinstance(v, str) and v else (None if v == "" else v)

    @field_validator("price", "stock", "brand", "language", "in_stock", mode="before")
    @classmethod
    def _blank_is_none(cls, v: Any) -> Any:
        return None if v == "" else v

    @field_validator("price")
    @classmethod
    def _finite_price(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError("price must be a finite number")
        return v

    @field_validator("created_at", "updated_at", mode="before")
    @classmethod
    def _times(cls, v: Any) -> datetime | None:
        return None if v in (None, "") else parse_time(v)

    @model_validator(mode="after")
    def _stock_flag(self) -> Product:
        if self.in_stock is None and self.stock is not None:
            self.in_stock = self.stock > 0
        return self

    @property
    def available(self) -> bool:
        """True unless the shop says it is out of stock."""
        return self.in_stock is not False


class User(Record):
    """A shopper. `attributes` holds whatever the shop knows: location, device, age band, gender…"""

    id: str
    attributes: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, v: Any) -> str:
        return _check_id(v, "id")

    @field_validator("attributes", mode="before")
    @classmethod
    def _attributes(cls, v: Any) -> dict[str, Any]:
        return Product._attributes(v)

    @field_validator("created_at", mode="before")
    @classmethod
    def _time(cls, v: Any) -> datetime | None:
        return None if v in (None, "") else parse_time(v)


class EventType(StrEnum):
    VIEW = "view"
    CLICK = "click"
    ADD_TO_CART = "add_to_cart"
    REMOVE_FROM_CART = "remove_from_cart"
    PURCHASE = "purchase"
    SEARCH = "search"
    FAVORITE = "favorite"
    IMPRESSION = "impression"


ITEM_EVENTS = frozenset(EventType) - {EventType.SEARCH}


# A constrained str is checked by pydantic-core as Unicode text (a lone surrogate is a `string_unicode` error on
# the field); a plain `str` in a model without whitespace stripping is passed through unchecked.
ContextText = Annotated[str, StringConstraints(max_length=2000)]


class EventContext(BaseModel):
    """Where the event happened. Known keys are typed; shops may add their own."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    device: ContextText | None = None
    page: ContextText | None = None
    placement: ContextText | None = None
    position: int | None = Field(default=None, ge=0)
    ip: ContextText | None = None
    location: ContextText | None = None

    @model_validator(mode="after")
    def _text(self) -> EventContext:
        """Shop-defined values are free-form (stored as JSON): refuse a lone surrogate in them too."""
        extra = self.__pydantic_extra__
        if extra:
            for name, value in extra.items():
                if not is_text(value):
                    raise ValueError(f"context.{name} {NOT_TEXT}")
        return self


class Event(Record):
    """One user action. `id` makes replays idempotent; without one, a content hash is used.

    This is the hot path of ingestion (50k+/s), so checks are pydantic-native constraints and one
    after-validator; CSV/JSON quirks (empty cells, JSON-in-a-cell) are undone by the readers.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True)

    id: Id | None = None
    type: EventType
    user_id: Id
    session_id: Id | None = None
    item_id: Id | None = None
    query: str | None = Field(default=None, max_length=1000)
    timestamp: datetime = Field(default_factory=_now)
    quantity: int = Field(default=1, ge=1, le=1_000_000)
    price: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    context: EventContext | None = None  # None, not an empty model: building one per event costs ~2x

    @model_validator(mode="after")
    def _shape(self) -> Event:
        if self.type is EventType.SEARCH:
            if not self.query:
                raise ValueError("a search event needs a query")
        elif self.item_id is None:
            raise ValueError(f"a {self.type.value} event needs item_id")
        if self.timestamp.tzinfo is None:
            self.timestamp = self.timestamp.replace(tzinfo=UTC)
        if self.id is None:
            self.id = self.content_id()
        return self

    def content_id(self) -> str:
        """Deterministic id from the event's content, so replaying an id-less file is idempotent too."""
        key = "\x1f".join(
            [
                self.type.value,
                self.user_id,
                self.session_id or "",
                self.item_id or "",
                self.query or "",
                f"{self.timestamp.timestamp():.6f}",
                str(self.quantity),
            ]
        )
        return "h" + hashlib.blake2b(key.encode(), digest_size=12).hexdigest()


class Review(Record):
    """A shopper's review of a product; without an `id` a content hash is used (a replayed file adds nothing twice)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True)

    id: Id | None = None
    product_id: Id
    user_id: Id
    rating: float | None = Field(default=None, ge=0, le=5, allow_inf_nan=False)
    title: str = Field(default="", max_length=1000)
    text: str = Field(min_length=1, max_length=20_000)
    language: str | None = Field(default=None, max_length=16)
    time: datetime = Field(default_factory=_now)

    @field_validator("time", mode="before")
    @classmethod
    def _time(cls, v: Any) -> datetime:
        return _now() if v in (None, "") else parse_time(v)

    @model_validator(mode="after")
    def _content_id(self) -> Review:
        if self.id is None:
            key = "\x1f".join([self.product_id, self.user_id, self.title, self.text, f"{self.time.timestamp():.6f}"])
            self.id = "r" + hashlib.blake2b(key.encode(), digest_size=12).hexdigest()
        return self


RECORD_TYPES: dict[str, type[Record]] = {"products": Product, "users": User, "events": Event, "reviews": Review}


# -- sales history (forecasting) --------------------------------------------------------------------------
def _period_text(value: Any) -> str:
    """A period as stored: a whole number (e.g. a week number) or an ISO date (YYYY-MM-DD)."""
    if isinstance(value, bool) or value is None:
        raise ValueError("period is required: a whole number (week) or an ISO date")
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or not float(value).is_integer():
            raise ValueError(f"period {value!r} must be a whole number or an ISO date")
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return str(int(text))
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError as exc:
        raise ValueError(f"period {text!r} is neither a whole number nor an ISO date") from exc


class Sales(Record):
    """Units sold of one series (store × item) in one period, with the price and promotion flags of that period."""

    store: str = Field(default="", max_length=ID_MAX)
    item_id: Id
    period: str
    units: float = Field(ge=0, le=1e12, allow_inf_nan=False)
    price: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    promotion: bool = False
    feature: bool = False  # featured in an ad or display that period
    brand: str | None = Field(default=None, max_length=500)
    category: str | None = Field(default=None, max_length=1000)

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, value: Any) -> str:
        return _period_text(value)

    @property
    def key(self) -> tuple[str, str, str]:
        """(store, item, period): one row per series and period; a replayed row replaces the stored one."""
        return (self.store, self.item_id, self.period)


RECORD_TYPES["sales"] = Sales
