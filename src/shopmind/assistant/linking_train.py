"""Fit the entity linker's probability model (`link_model.json`) on questions generated from catalog titles.

The questions are made here, from a TRAIN slice of the shop's real data (MovieLens titles, Home Depot titles, ePQA
products, Multi-CPR Chinese titles), never from a bench set: a product named by its full title, a part of it that no
other title holds, the part with two letters swapped, or (Chinese questions) with its words in their CC-CEDICT Chinese
renderings, inside a short request or inside a real shopper question (hetPQA train) whose "it" / "this" is replaced by
the name; and messages that name nothing — real search queries of both languages, questions over a shown list, and
the real shopper questions as they were asked.
The three best-scored candidates of every message are examples (1: it is the product named); a logistic regression over FEATURES
gives the probability, fitted on one half of the messages and checked on the other.

    python -m shopmind.assistant.linking_train --data /work/shared/data     # writes link_model.json beside this file
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

from shopmind.assistant import datasets as ds
from shopmind.assistant.linking import FEATURES, MODEL_FILE, EntityLinker, LinkModel, _lexicon, load_dictionary
from shopmind.assistant.trainset import het_questions
from shopmind.domain import Product
from shopmind.text.normalize import normalize
from shopmind.text.tokenize import english_tokens

logger = logging.getLogger(__name__)

EN_NAMED = ["tell me more about {m}", "is {m} any good?", "how much is {m}", "{m}: what colour does it come in?",
            "I'd like details on {m}", "does {m} come in other sizes", "anything you can tell me on {m}?", "{m}", "what's {m} like"]
ZH_NAMED = ["{m}多少钱", "请问{m}有货吗", "我想了解一下{m}", "{m}怎么样", "{m}的尺寸是多少", "{m}", "介绍下{m}这个商品"]
EN_NONE = ["{q}", "looking for {q}", "any {q}?", "I want to buy {q}", "which of them is the lightest?", "what's the cheapest here",
           "how heavy is it?", "compare the two", "got something newer?", "which one is older"]
ZH_NONE = ["{q}", "想买{q}", "有{q}卖吗", "哪个最便宜", "最新的是哪个", "这两个比一下", "它多重", "有更轻的吗"]


def _spoken(title: str) -> str:
    """A catalog title as people say it: 'Shining, The' → 'The Shining' (MovieLens moves the article last)."""
    m = re.match(r"^(.*), (The|A|An)( \(.*\))?$", title)
    return f"{m.group(2)} {m.group(1)}" if m else title


def _unique(phrase: str, folded: Sequence[str]) -> bool:
    p = phrase.casefold()
    return sum(1 for t in folded if p in t) == 1


def _typo(phrase: str, rng: random.Random) -> str | None:
    words = [w for w in phrase.split() if len(w) >= 5 and w.isalpha()]
    if not words:
        return None
    w = rng.choice(words)
    i = rng.randrange(1, len(w) - 2)
    return phrase.replace(w, w[:i] + w[i + 1] + w[i] + w[i + 2 :], 1)


def _in_chinese(phrase: str) -> str | None:
    """The phrase with each word that has a CC-CEDICT Chinese rendering replaced by it (None when fewer than half do)."""
    lex = _lexicon()
    if lex is None:
        return None
    words = phrase.split()
    out = [(lex.to_chinese(w.strip(",.:").lower()) or (w,))[0] for w in words]
    done = sum(1 for a, b in zip(out, words, strict=True) if a != b)
    return "".join(o if not o.isascii() else f" {o} " for o in out).strip() if done * 2 >= len(words) else None


_PRONOUN = re.compile(r"\b(?:this (?:item|product|one|unit|thing)|these|this|it)\b", re.IGNORECASE)


def frames(questions: Sequence[str]) -> list[str]:
    """Real shopper questions that point at their product with a pronoun, as frames for a name ("does it fold?" →
    "does {m} fold?"): the wording around a name in a real question, longer and more varied than a template's."""
    out = []
    for q in questions:
        q = q.strip().replace("{", "(").replace("}", ")")
        if 12 <= len(q) <= 120 and _PRONOUN.search(q):
            out.append(_PRONOUN.sub("{m}", q, count=1))
    return out


def mentions(products: Sequence[Product], n: int, rng: random.Random, real: Sequence[str] = ()) -> list[tuple[str, str, str]]:
    """(message, language, product id) for `n` products named in full, in part, with a typo or in Chinese words; an
    English name goes into a real question's frame half the time (when `real` has any)."""
    folded = [p.title.casefold() for p in products]
    en = [p for p in products if p.title.isascii()]
    out: list[tuple[str, str, str]] = []
    while len(out) < n:
        p = rng.choice(en)
        spoken = _spoken(p.title)
        words = spoken.split()
        how = rng.choice(["full", "part", "typo", "zh", "zh_latin"])
        m: str | None = spoken
        if how in ("part", "typo") and len(words) > 2:
            k = rng.randint(2, min(4, len(words) - 1))
            s = rng.randrange(0, len(words) - k + 1)
            m = " ".join(words[s : s + k])
            if not _unique(m, folded):
                continue
        if how == "typo":
            m = _typo(spoken if m is None else m, rng)
        elif how == "zh":
            m = _in_chinese(spoken)
        if m is None:
            continue
        zh = how.startswith("zh")
        frame = rng.choice(ZH_NAMED) if zh else rng.choice(real) if real and rng.random() < 0.5 else rng.choice(EN_NAMED)
        out.append((frame.format(m=m), "zh" if zh else "en", p.id))
    return out


def nothing_named(queries_en: Sequence[str], queries_zh: Sequence[str], products: Sequence[Product], n: int,
                  rng: random.Random, asked: Sequence[str] = ()) -> list[tuple[str, str, None]]:
    """Messages that name no product: real search queries (those that are not a part of exactly one title), questions
    over a shown list, and (a quarter of the English ones, when `asked` has any) real shopper questions as asked."""
    folded = [p.title.casefold() for p in products]
    out: list[tuple[str, str, None]] = []
    while len(out) < n:
        zh = rng.random() < 0.5
        if not zh and asked and rng.random() < 0.25:
            out.append((rng.choice(asked), "en", None))
            continue
        q = rng.choice(queries_zh if zh else queries_en)
        if _unique(q, folded):
            continue
        out.append((rng.choice(ZH_NONE if zh else EN_NONE).format(q=q), "zh" if zh else "en", None))
    return out


def asked_idf(questions: Sequence[str], min_df: int = 3) -> dict[str, float]:
    """A word's IDF among real shopper questions, for the words in at least `min_df` of them: how much of a question's
    usual wording it is (what the linker weighs a message word by, at most)."""
    df: dict[str, int] = {}
    for q in questions:
        for tok in set(english_tokens(normalize(q))):
            df[tok] = df.get(tok, 0) + 1
    n = len(questions)
    return {t: math.log(n / c) for t, c in df.items() if c >= min_df}


def examples(linker: EntityLinker, messages: Sequence[tuple[str, str, str | None]], top: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, y, message index) over the `top` best-scored candidates of every message (the ones a decision is about)."""
    xs, ys, gs = [], [], []
    for g, (msg, _lang, pid) in enumerate(messages):
        rows, X = linker.candidates(msg)
        for r, x in list(zip(rows, X, strict=True))[:top]:
            xs.append(x)
            ys.append(float(linker.search.table.ids[r] == pid))
            gs.append(g)
    return np.array(xs), np.array(ys), np.array(gs)


def fit(X: np.ndarray, y: np.ndarray, l2: float = 1e-4) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression (scipy L-BFGS)."""
    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = X @ w[:-1] + w[-1]
        p = 1 / (1 + np.exp(-z))
        eps = 1e-9
        val = -np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps)) + l2 * np.sum(w[:-1] ** 2)
        g = (p - y) / len(y)
        return float(val), np.r_[X.T @ g + 2 * l2 * w[:-1], g.sum()]

    res = minimize(loss, np.zeros(X.shape[1] + 1), jac=True, method="L-BFGS-B")
    return res.x[:-1], float(res.x[-1])


def pick_threshold(model: LinkModel, linker: EntityLinker, messages: Sequence[tuple[str, str, str | None]]) -> float:
    """The probability above which the best candidate is taken as named, chosen on the fitting half: each right link
    counts +1, each wrong one (a product that was not named, or no product was) −1."""
    best = []
    for msg, _lang, pid in messages:
        rows, X = linker.candidates(msg)
        if rows:
            p = model.prob(X)
            i = int(np.argmax(p))
            best.append((float(p[i]), linker.search.table.ids[rows[i]] == pid))
    grid = np.round(np.arange(0.1, 0.91, 0.05), 2)
    gain = [sum(1 if ok else -1 for p, ok in best if p >= t) for t in grid]
    return float(grid[int(np.argmax(gain))])


def top1_report(model: LinkModel, linker: EntityLinker, messages: Sequence[tuple[str, str, str | None]]) -> dict[str, Any]:
    """On held-out messages: named top-1 (per language) and how often a message that names nothing links to something."""
    linker.model = model
    hit: dict[str, list[bool]] = {"en": [], "zh": []}
    false_link: dict[str, list[bool]] = {"en": [], "zh": []}
    for msg, lang, pid in messages:
        link = linker.link(msg)
        (hit if pid else false_link)[lang].append(link.named == pid if pid else bool(link.named))
    return {k: {lang: round(float(np.mean(v)), 4) if v else None for lang, v in d.items()} for k, d in (("top1", hit), ("false_link", false_link))}


def train_slice(data: Path) -> tuple[list[Product], list[str], list[str]]:
    """Every MovieLens title, ePQA products, every third Home Depot title (offset 1) and the Multi-CPR titles, with the
    search sets' real queries."""
    products = ds.movies(data) + ds.epqa(data)[0]
    products += ds.read_products(data / "search/homedepot/products.jsonl", every=3, offset=1)
    products += ds.read_products(data / "search/multicpr-zh/products.jsonl")
    q_en = list(ds.queries(data / "search/homedepot/queries.tsv").values())
    q_zh = list(ds.queries(data / "search/multicpr-zh/queries.tsv").values())
    return products, q_en, q_zh


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--n", type=int, default=600, help="messages of each kind (named, naming nothing)")
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name(MODEL_FILE))
    args = ap.parse_args()
    from shopmind.search.config import SearchConfig, StageSwitches
    from shopmind.search.service import SearchService

    rng = random.Random(18)
    products, q_en, q_zh = train_slice(args.data)
    svc = SearchService.build(products, None, None, SearchConfig(stages=StageSwitches(dense=False)))
    asked = het_questions(args.data)
    msgs = mentions(products, args.n, rng, frames(asked)) + nothing_named(q_en, q_zh, products, args.n, rng, asked)
    rng.shuffle(msgs)
    half = len(msgs) // 2
    asked_w = asked_idf(asked)
    linker = EntityLinker(svc, LinkModel(np.zeros(len(FEATURES)), 0.0, asked=asked_w))
    load_dictionary()
    X, y, _ = examples(linker, msgs[:half])
    coef, intercept = fit(X, y)
    threshold = pick_threshold(LinkModel(coef, intercept, asked=asked_w), linker, msgs[:half])
    model = LinkModel(coef, intercept, threshold, 0.15, {"train_messages": half, "examples": len(y), "positives": int(y.sum()),
                                                   "products": len(products), "questions_for_asked_idf": len(asked)}, asked_w)
    before = LinkModel.from_json(json.loads(args.out.read_text(encoding="utf-8"))) if args.out.is_file() else None
    if before is not None:  # the model this one replaces, on the same held-out messages
        model.meta["held_out_replaced_model"] = top1_report(before, linker, msgs[half:])
    model.meta["held_out"] = top1_report(model, linker, msgs[half:])
    args.out.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
    logger.info("link model: %s", model.meta)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
