"""One simulated shopper's session → the events a storefront would send, every one marked `context.simulated = "1"`.

The shopper sees a list (search hits or recommendations), clicks by the click model, then adds to cart and buys with
the stated `Funnel` probabilities. Used by the HTTP driver and by the in-process demo seeding alike, so both write
the same events. Impressions, clicks, carts and purchases carry the placement (`search` or the recommendation
placement) and the position, so the dashboard's CTR by placement and funnels see them; a served experiment's id,
variant and (for interleaving) the clicked item's team are carried too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from shopmind.simulate.clickmodel import ClickModel, Funnel
from shopmind.simulate.sources import NextItemTask, SearchTask

__all__ = ["Outcome", "Shown", "recommend_session", "search_session"]


@dataclass
class Shown:
    """What the server answered: ids in order (with prices where known), result count, experiment and teams if any."""

    ids: list[str]
    prices: list[float | None] = field(default_factory=list)
    total: int = 0
    experiment: dict[str, Any] | None = None
    teams: list[int] | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any], key: str) -> Shown:
        """From a /search (key 'hits') or /recommend (key 'items') JSON body."""
        rows = body.get(key) or []
        experiment = body.get("experiment") or None
        teams = (experiment or {}).get("teams")  # an interleaved answer: per position 0 = control, 1 = the other arm
        return cls([str(r["id"]) for r in rows], [r.get("price") for r in rows], int(body.get("total", len(rows)) or 0), experiment,
                   [int(t) for t in teams] if teams else None)


@dataclass
class Outcome:
    """A session's events (JSON-ready dicts) and what happened in it."""

    events: list[dict[str, Any]]
    clicks: int = 0
    carts: int = 0
    purchases: int = 0
    shown: int = 0


class _Writer:
    def __init__(self, run_id: str, n: int, user: str, session: str, placement: str, shown: Shown, now: datetime) -> None:
        self.run_id, self.n, self.user, self.session, self.placement, self.shown = run_id, n, user, session, placement, shown
        self.t = now
        self.events: list[dict[str, Any]] = []

    def add(self, etype: str, item: str | None = None, position: int | None = None, **extra: Any) -> None:
        ctx: dict[str, Any] = {"simulated": "1", "sim_run": self.run_id, "placement": self.placement}
        if position is not None:
            ctx["position"] = position
            if self.shown.teams is not None and position < len(self.shown.teams):
                ctx["team"] = str(self.shown.teams[position])
        if self.shown.experiment:
            ctx["experiment_id"] = str(self.shown.experiment.get("id", ""))
            ctx["variant"] = str(self.shown.experiment.get("variant", ""))
        ctx.update(extra.pop("context", {}))
        self.t += timedelta(milliseconds=1 if etype == "impression" else 2000)  # a shopper's pace; a page shows its list at once
        ev = {"id": f"sim-{self.run_id}-{self.n}-{len(self.events)}", "type": etype, "user_id": self.user, "session_id": self.session,
              "timestamp": self.t.isoformat(), "context": ctx, **extra}
        if item is not None:
            ev["item_id"] = item
        self.events.append(ev)


def _funnel(w: _Writer, out: Outcome, clicked: Sequence[int], grades: np.ndarray, funnel: Funnel, rng: np.random.Generator) -> None:
    for pos in clicked:
        item = w.shown.ids[pos]
        w.add("click", item, pos)
        out.clicks += 1
        if rng.random() < funnel.cart_probability(grades[pos : pos + 1])[0]:
            price = w.shown.prices[pos] if pos < len(w.shown.prices) else None
            w.add("add_to_cart", item, pos, **({"price": price} if price is not None else {}))
            out.carts += 1
            if rng.random() < funnel.purchase_given_cart:
                w.add("purchase", item, pos, **({"price": price} if price is not None else {}))
                out.purchases += 1


def search_session(task: SearchTask, shown: Shown, *, run_id: str, n: int, user: str, rng: np.random.Generator,
                   model: ClickModel | None = None, funnel: Funnel | None = None, now: datetime | None = None) -> Outcome:
    """A search: the search event (with its result count), impressions of the shown hits, clicks by the PBM, the funnel."""
    model, funnel = model or ClickModel(), funnel or Funnel()
    w = _Writer(run_id, n, user, f"{user}-s{n}", "search", shown, now or datetime.now(UTC) - timedelta(seconds=20))
    w.add("search", query=task.query, context={"results": shown.total})
    ids = shown.ids[: model.k]
    out = Outcome(w.events, shown=len(ids))
    for pos, item in enumerate(ids):
        w.add("impression", item, pos)
    grades = np.array([task.judged.get(i, 0.0) for i in ids], np.float64)
    clicked = np.flatnonzero(model.sample_clicks(grades, rng)) if len(ids) else np.array([], int)
    _funnel(w, out, [int(p) for p in clicked], grades, funnel, rng)
    return out


def recommend_session(task: NextItemTask, shown: Shown, *, placement: str, run_id: str, n: int, user: str, rng: np.random.Generator,
                      funnel: Funnel | None = None, now: datetime | None = None, viewed_first: bool = True) -> Outcome:
    """A product page: view of the real previous item, impressions of the recommendations, a click on the real next item
    when it is shown (else, with the stated noise rate, on a random shown item), then the funnel."""
    funnel = funnel or Funnel()
    w = _Writer(run_id, n, user, f"{user}-s{n}", placement, shown, now or datetime.now(UTC) - timedelta(seconds=20))
    if viewed_first:
        w.add("view", task.previous, context={"placement": "product_page"})
    out = Outcome(w.events, shown=len(shown.ids))
    for pos, item in enumerate(shown.ids):
        w.add("impression", item, pos)
    grades = np.array([3.0 if i == task.next else 0.0 for i in shown.ids], np.float64)
    if task.next in shown.ids:
        clicked = [shown.ids.index(task.next)]
    elif shown.ids and rng.random() < funnel.noise_click:
        clicked = [int(rng.integers(len(shown.ids)))]
    else:
        clicked = []
    _funnel(w, out, clicked, grades, funnel, rng)
    return out
