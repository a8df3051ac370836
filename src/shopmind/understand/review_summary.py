"""Per-product aspect summaries from stored reviews ("battery: 82 % positive over 57 mentions") with quoted evidence.

A build runs the ABSA models over every review once and keeps the mentions (product, review, author, aspect,
polarity, confidence, sentence) as one JSONL file in the artifact version; summaries are counted from them on load.
Aspect terms are grouped by a key (lower case; English words stemmed) and shown by their most frequent wording.
The author id is kept so a user's deletion can remove their mentions from every kept version (`scrub`).
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from shopmind.understand.absa import Absa, default_absa

log = logging.getLogger(__name__)
MENTIONS = "mentions.jsonl"
MIN_MENTIONS = 2  # an aspect named once is not summarised (it still counts in `mentions`)
EVIDENCE = 3  # quoted sentences per aspect
MAX_QUOTE = 300  # characters of a quoted sentence


@dataclass(frozen=True, slots=True)
class Mention:
    """One aspect judged in one review sentence."""

    product_id: str
    review_id: str
    user_id: str
    key: str
    term: str
    polarity: str
    confidence: float
    sentence: str
    rating: float | None = None


def aspect_key(term: str, language: str) -> str:
    """The grouping key of an aspect term: lower case, whitespace collapsed, English words stemmed."""
    words = term.lower().split()
    if language == "zh":
        return "".join(words)
    import Stemmer  # PyStemmer, a core dependency (the search tokenizer's stemmer)

    return " ".join(Stemmer.Stemmer("english").stemWords(words))


def mentions_of(reviews: Iterable[Any], absa: Absa | None = None) -> list[Mention]:
    """ABSA over reviews (domain.Review records) → mentions."""
    absa = absa or default_absa()
    out: list[Mention] = []
    for r in reviews:
        text = f"{r.title}. {r.text}" if r.title else r.text
        for m in absa.analyse(text, r.language):
            lang = r.language if r.language in ("en", "zh") else ("zh" if any("\u4e00" <= c <= "\u9fff" for c in m.term) else "en")
            out.append(Mention(r.product_id, str(r.id), r.user_id, aspect_key(m.term, lang), m.term, m.polarity, m.confidence,
                               m.sentence[:MAX_QUOTE], r.rating))
    return out


def _summary_line(name: str, positive: int, total: int) -> str:
    return f"{name}: {round(100 * positive / total)} % positive over {total} mentions"


class ReviewSummaries:
    """Mentions of one build, indexed by product; `summary(product_id)` counts and quotes them."""

    def __init__(self, mentions: list[Mention], meta: dict[str, Any] | None = None) -> None:
        self.meta = meta or {}
        self._by_product: dict[str, list[Mention]] = defaultdict(list)
        for m in mentions:
            self._by_product[m.product_id].append(m)

    @classmethod
    def build(cls, reviews: Iterable[Any], out_dir: Path, absa: Absa | None = None) -> ReviewSummaries:
        """Analyse every review and write the mentions into `out_dir`."""
        started = time.perf_counter()
        reviews = list(reviews)
        mentions = mentions_of(reviews, absa)
        out_dir.mkdir(parents=True, exist_ok=True)
        _write(out_dir / MENTIONS, mentions)
        meta = {"part": "review_aspects", "reviews": len(reviews), "mentions": len(mentions), "products": len({m.product_id for m in mentions}),
                "seconds": round(time.perf_counter() - started, 2)}
        (out_dir / "meta.json").write_bytes(orjson.dumps(meta))
        log.info("review summaries: %d mentions from %d reviews in %.1f s", len(mentions), len(reviews), meta["seconds"])
        return cls(mentions, meta)

    @classmethod
    def load(cls, out_dir: Path) -> ReviewSummaries:
        """Read a built version folder."""
        meta = orjson.loads((out_dir / "meta.json").read_bytes()) if (out_dir / "meta.json").is_file() else {}
        return cls(_read(out_dir / MENTIONS), meta)

    def summary(self, product_id: str, *, max_aspects: int = 10, evidence: int = EVIDENCE) -> dict[str, Any]:
        """Aspects of a product, most mentioned first: counts, positive share, a summary line and quoted sentences."""
        mentions = self._by_product.get(product_id, [])
        groups: dict[str, list[Mention]] = defaultdict(list)
        for m in mentions:
            groups[m.key].append(m)
        aspects: list[dict[str, Any]] = []
        for ms in sorted(groups.values(), key=lambda g: (-len(g), g[0].key)):
            if len(ms) < MIN_MENTIONS or len(aspects) >= max_aspects:
                continue
            counts = Counter(m.polarity for m in ms)
            name = Counter(m.term.lower() for m in ms).most_common(1)[0][0]
            pos = counts.get("Positive", 0)
            aspects.append({"aspect": name, "mentions": len(ms), "positive": pos, "negative": counts.get("Negative", 0),
                            "neutral": counts.get("Neutral", 0), "positive_share": round(pos / len(ms), 4),
                            "summary": _summary_line(name, pos, len(ms)), "evidence": _evidence(ms, evidence)})
        return {"product_id": product_id, "mentions": len(mentions), "reviews": len({m.review_id for m in mentions}), "aspects": aspects}

    def user_ids(self) -> set[str]:
        """Authors whose mentions are held (deletion matches them)."""
        return {m.user_id for ms in self._by_product.values() for m in ms}

    def forget_user(self, user_id: str) -> int:
        """Drop a user's mentions from memory; how many went."""
        n = 0
        for pid, ms in list(self._by_product.items()):
            kept = [m for m in ms if m.user_id != user_id]
            n += len(ms) - len(kept)
            self._by_product[pid] = kept
        return n


def _evidence(ms: list[Mention], k: int) -> list[dict[str, Any]]:
    """Up to k quotes: the most confident of each polarity in turn (majority first), one per review."""
    by_pol: dict[str, list[Mention]] = defaultdict(list)
    for m in sorted(ms, key=lambda m: (-m.confidence, m.review_id)):
        by_pol[m.polarity].append(m)
    order = sorted(by_pol, key=lambda p: -len(by_pol[p]))
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    while len(out) < k and any(by_pol.values()):
        for p in order:
            while by_pol[p] and by_pol[p][0].review_id in seen:
                by_pol[p].pop(0)
            if by_pol[p] and len(out) < k:
                m = by_pol[p].pop(0)
                seen.add(m.review_id)
                out.append({"review_id": m.review_id, "quote": m.sentence, "term": m.term, "polarity": m.polarity})
    return out


def _write(path: Path, mentions: Iterable[Mention]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        for m in mentions:
            fh.write(orjson.dumps(asdict(m)) + b"\n")
    tmp.replace(path)


def _read(path: Path) -> list[Mention]:
    if not path.is_file():
        return []
    with path.open("rb") as fh:
        return [Mention(**orjson.loads(line)) for line in fh if line.strip()]


def scrub(out_dir: Path, remove: set[str]) -> dict[str, int]:
    """Remove the mentions of deleted users from one built version folder (atomic file replacement)."""
    path = out_dir / MENTIONS
    mentions = _read(path)
    kept = [m for m in mentions if m.user_id not in remove]
    if len(kept) != len(mentions):
        _write(path, kept)
    return {"review_mentions": len(mentions) - len(kept)}
