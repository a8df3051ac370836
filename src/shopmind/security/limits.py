"""Input limits of the HTTP API: the longest query, message, id and list a request may carry (422 beyond).

They are part of the API contract (each shows in the OpenAPI schema as maxLength/maxItems), sized for what a
real shop needs, and they bound the work one request can ask for. SECURITY.md ("Bounded work") lists them.
"""

from __future__ import annotations

from typing import Annotated, NoReturn

from fastapi import HTTPException, status
from pydantic import StringConstraints

from shopmind.domain import ID_MAX

QUERY_CHARS = 200  # a search box: /search q, /ads q, /recommend query (longest real queries in the data sets: ~130)
SUGGEST_CHARS = 100  # a prefix being typed
MESSAGE_CHARS = 1000  # one chat message (a long paragraph)
ID_CHARS = ID_MAX  # user, session, item, product and campaign ids: the store's own column width
PLACEMENT_CHARS = 64  # placement names and context labels (device, location, segment)
LIST_ITEMS = 200  # ids in /products?ids=, items in /recommend?cart=
FACETS = 20  # facet names per search
FILTERS_CHARS = 2000  # the JSON object of /search filters
LIST_CHARS = LIST_ITEMS * (ID_CHARS + 1)  # a comma-separated list of LIST_ITEMS ids

FacetName = Annotated[str, StringConstraints(max_length=PLACEMENT_CHARS)]


def id_list(raw: str | None, field: str, limit: int = LIST_ITEMS) -> list[str]:
    """Split a comma-separated id list; 422 naming `field` when it has too many ids or one is too long."""
    items = [i for i in (raw or "").split(",") if i]
    if len(items) > limit:
        _bad(field, f"at most {limit} ids, got {len(items)}")
    long = next((i for i in items if len(i) > ID_CHARS), None)
    if long is not None:
        _bad(field, f"each id at most {ID_CHARS} characters, one has {len(long)}")
    return items


def _bad(field: str, msg: str) -> NoReturn:
    raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{"loc": ["query", field], "msg": msg, "type": "value_error"}])
