"""What search learns from the event log at build time: the query log (and how many people typed each
query), popularity / CTR / conversion per product, and each user's brand and category shares."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import numpy as np

from shopmind.event_weights import RELEVANCE_GRADES
from shopmind.search.catalog import ProductTable
from shopmind.text.normalize import normalize

Events = Any  # a pyarrow Table of events (type, user_id, session_id, item_id, query, ts) or None


def query_log(events: Events) -> Counter[str]:
    """Normalised search queries and how often they were issued."""
    if events is None or events.num_rows == 0 or "query" not in events.column_names:
        return Counter()
    qs = [q for t, q in zip(events.column("type").to_pylist(), events.column("query").to_pylist(), strict=True) if t == "search" and q]
    return Counter(normalize(q) for q in qs)


def query_users(events: Events) -> dict[str, int]:
    """Normalised search queries and how many distinct users typed each."""
    if events is None or events.num_rows == 0 or "query" not in events.column_names:
        return {}
    who: dict[str, set[str]] = defaultdict(set)
    cols = (events.column("type").to_pylist(), events.column("query").to_pylist(), events.column("user_id").to_pylist())
    for t, q, u in zip(*cols, strict=True):
        if t == "search" and q:
            who[normalize(q)].add(u)
    return {q: len(us) for q, us in who.items()}


def public_queries(events: Events, min_users: int) -> Counter[str]:
    """The query log restricted to queries at least min_users distinct users typed (one person's query never
    becomes public text: completions, spelling words)."""
    log, users = query_log(events), query_users(events)
    return Counter({q: c for q, c in log.items() if users.get(q, 0) >= min_users})


def query_words(log: Counter[str], min_count: int) -> dict[str, int]:
    """Latin words typed in searches at least min_count times (they join the spelling vocabulary)."""
    words_: Counter[str] = Counter()
    for q, c in log.items():
        for w in q.split():
            if w.isascii() and w.isalpha():
                words_[w] += c
    return {w: c for w, c in words_.items() if c >= min_count}


def apply_event_stats(table: ProductTable, events: Events) -> None:
    """Popularity (graded-relevance weights), smoothed CTR and conversion per row from item events."""
    if events is None or events.num_rows == 0:
        return
    types = events.column("type").to_pylist()
    items = events.column("item_id").to_pylist()
    n = len(table)
    imp, clk, buy, pop = (np.zeros(n, np.float32) for _ in range(4))
    for t, item in zip(types, items, strict=True):
        row = table.row_of.get(item) if item else None
        if row is None:
            continue
        if t == "impression":
            imp[row] += 1
        elif t in ("click", "view"):
            clk[row] += 1
        elif t == "purchase":
            buy[row] += 1
        pop[row] += RELEVANCE_GRADES.get(t, 0.0)
    table.popularity = np.log1p(pop).astype(np.float32)
    base = float(clk.sum() / imp.sum()) if imp.sum() else 0.05
    table.ctr = ((clk + 10 * base) / (np.maximum(imp, clk) + 10)).astype(np.float32)
    cbase = float(buy.sum() / max(clk.sum(), 1.0))
    table.conversion = ((buy + 10 * cbase) / (clk + 10)).astype(np.float32)


def user_affinity(table: ProductTable, events: Events) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Per user: share of item events per brand and per top-level category (top 20 of each)."""
    if events is None or events.num_rows == 0:
        return {}, {}
    users = events.column("user_id").to_pylist()
    items = events.column("item_id").to_pylist()
    ub: dict[str, Counter[str]] = defaultdict(Counter)
    uc: dict[str, Counter[str]] = defaultdict(Counter)
    for user, item in zip(users, items, strict=True):
        row = table.row_of.get(item) if item else None
        if row is None:
            continue
        b = table.brand_of(row)
        c = table.category_of(row)
        if b:
            ub[user][b] += 1
        if c:
            uc[user][c] += 1

    def share(d: dict[str, Counter[str]]) -> dict[str, dict[str, float]]:
        return {u: {k: v / sum(c.values()) for k, v in c.most_common(20)} for u, c in d.items()}

    return share(ub), share(uc)
