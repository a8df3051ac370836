"""Blend ads into an organic result list at fixed slots, each labelled `sponsored`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from shopmind.ads.models import AdSlot, BlendedItem


def _item_id(x: Any) -> str:
    if isinstance(x, str):
        return x
    if isinstance(x, dict):
        return str(x.get("item_id") or x.get("id"))
    return str(getattr(x, "item_id", None) or x.id)


def blend(organic: Sequence[Any], ads: Sequence[AdSlot], slots: Sequence[int] = (0, 4), *,
          item_id: Callable[[Any], str] = _item_id, limit: int | None = None) -> list[BlendedItem]:
    """Put ads (best first) at the given 0-based positions; the organic copy of a sponsored product is dropped.

    Ads beyond the number of slots are not shown; a slot past the end of the list is appended only if
    the organic list reaches it (a page never ends on a run of ads)."""
    shown = list(ads[: len(slots)])
    sponsored = {a.item_id for a in shown}
    rest = [x for x in organic if item_id(x) not in sponsored]
    at = dict(zip(sorted(slots), shown, strict=True))
    out: list[BlendedItem] = []
    o = 0
    for pos in range(len(rest) + len(shown)):
        if limit is not None and pos >= limit:
            break
        if pos in at:
            out.append(BlendedItem(item_id=at[pos].item_id, position=pos, sponsored=True, ad=at[pos]))
        elif o < len(rest):
            out.append(BlendedItem(item_id=item_id(rest[o]), position=pos, sponsored=False, organic=rest[o]))
            o += 1
        else:
            break
    return out
