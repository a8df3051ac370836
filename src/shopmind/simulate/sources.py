"""Where simulated shoppers come from: real data only.

- Search: real queries with graded judgements (a labelled set folder: queries.tsv, qrels.tsv — Home Depot by default).
- Recommendations: real next items from held-out ends of real sequences — MovieLens-100K ratings in time order (the
  demo shop's ids: `u<user>`, `m<item>`), or an Amazon sequence file (`user item1 item2 …`, ids as written).
- Known-item search for the movie demo shop: a held-out next movie's title words are the query, that movie grade 3.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["NextItemTask", "SearchTask", "data_dir", "known_item_tasks", "next_items_ml100k", "next_items_seqrec", "search_tasks"]


def data_dir() -> Path:
    """The real-data folder: $SHOPMIND_SHARED_DATA, else ../shared/data beside the checkout."""
    env = os.environ.get("SHOPMIND_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[3].parent / "shared" / "data"


@dataclass(frozen=True)
class SearchTask:
    """One real query and its graded judgements (product id → grade 0–3; unjudged products count as 0)."""

    query: str
    judged: dict[str, float] = field(default_factory=dict)
    query_id: str = ""


@dataclass(frozen=True)
class NextItemTask:
    """A real shopper's real transition: they looked at `previous`, their next item was `next`."""

    user: str
    previous: str
    next: str


def search_tasks(folder: Path, *, judged_only: bool = True) -> list[SearchTask]:
    """Queries (queries.tsv) with their judgements (qrels.tsv) from a labelled search set."""
    judged: dict[str, dict[str, float]] = {}
    for line in (folder / "qrels.tsv").read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3:
            judged.setdefault(parts[0], {})[parts[1]] = float(parts[2])
    out = []
    for line in (folder / "queries.tsv").read_text(encoding="utf-8").splitlines():
        qid, _, text = line.partition("\t")
        if text.strip() and (qid in judged or not judged_only):
            out.append(SearchTask(text.strip(), judged.get(qid, {}), qid))
    return out


def _ml_ratings(folder: Path) -> np.ndarray:
    """ml-100k.inter as an (n, 3) int array: user, item, timestamp (RecBole atomic format, header skipped)."""
    rows = np.loadtxt(folder / "ml-100k.inter", delimiter="\t", skiprows=1, usecols=(0, 1, 3), dtype=np.int64)
    return rows[np.lexsort((rows[:, 1], rows[:, 2], rows[:, 0]))]  # by user, then time (item id breaks ties)


def next_items_ml100k(folder: Path, holdout: int = 5) -> list[NextItemTask]:
    """Each user's last `holdout` transitions in time order (previous → next rated movie), in the demo shop's ids."""
    r = _ml_ratings(folder)
    users, starts = np.unique(r[:, 0], return_index=True)
    ends = np.r_[starts[1:], len(r)]
    out = []
    for u, s, e in zip(users, starts, ends, strict=True):
        for j in range(max(s + 1, e - holdout), e):
            out.append(NextItemTask(f"u{u}", f"m{r[j - 1, 1]}", f"m{r[j, 1]}"))
    return out


def next_items_seqrec(path: Path, prefix: str = "") -> list[NextItemTask]:
    """Leave-one-out test transitions of an Amazon sequence file: second-to-last → last item of every user."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 3:
            out.append(NextItemTask(prefix + parts[0], prefix + parts[-2], prefix + parts[-1]))
    return out


_ARTICLE = re.compile(r",\s*(The|A|An|Les|La|Le|Il|Das|Der|Die|El)$", re.IGNORECASE)


def known_item_tasks(folder: Path, tasks: list[NextItemTask]) -> list[SearchTask]:
    """Search for the next movie by its title (a trailing ", The" dropped), that movie judged 3."""
    titles: dict[str, str] = {}
    with open(folder / "ml-100k.item", encoding="utf-8") as f:
        next(f)
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2:
                titles[f"m{parts[0]}"] = parts[1]
    out = []
    for t in tasks:
        title = _ARTICLE.sub("", titles.get(t.next, "")).strip(" ,")
        if title:
            out.append(SearchTask(title.lower(), {t.next: 3.0}, f"title:{t.next}"))
    return out
