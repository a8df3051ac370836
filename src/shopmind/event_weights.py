"""What each event type says about a shopper and an item: the one table of event weights, and its named variants.

Two scales exist because two different questions are asked of an event:

* `EVENT_WEIGHTS` — *interest strength*: how much an event adds to a user's affinity for an item (online
  profiles, recommendation training). A purchase says much more than a view; taking an item out of the cart
  says a little against it; impressions and searches say nothing about one item.
* `RELEVANCE_GRADES` — *graded relevance* of an item to the search that led to it, on the 0–3 scale of
  graded judgments (click/view 1, cart/favourite 2, purchase 3). Search's learned ranker, its fusion tuning
  and its popularity feature were tuned on this scale, so search keeps it; it is a separate concept (a
  judgment label), not a copy of the interest weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

EVENT_WEIGHTS: Mapping[str, float] = MappingProxyType({
    "view": 1.0,
    "click": 1.0,
    "favorite": 2.0,
    "add_to_cart": 3.0,
    "remove_from_cart": -1.0,
    "purchase": 5.0,
    "impression": 0.0,
    "search": 0.0,
})

# the event types that count as positive interest, with their weight (recommendation trains on these only)
POSITIVE_EVENT_WEIGHTS: Mapping[str, float] = MappingProxyType({t: w for t, w in EVENT_WEIGHTS.items() if w > 0})

RELEVANCE_GRADES: Mapping[str, float] = MappingProxyType({
    "click": 1.0,
    "view": 1.0,
    "favorite": 2.0,
    "add_to_cart": 2.0,
    "purchase": 3.0,
})
