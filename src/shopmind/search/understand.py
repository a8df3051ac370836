"""Query understanding: price limits (English and Chinese), spelling from the catalog's own vocabulary (spelling.py),
synonyms (config file + mined from query reformulations), brand/attribute values and category intent.

Every piece is learned from the catalog (and the event log when there is one) at build time and saved
as plain JSON / .npy, so load() needs no rebuild.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from shopmind.search.crosslang import Translation
from shopmind.search.price import CHEAP_WORDS, PRICE_PATTERNS, PriceIntent, parse_price  # noqa: F401 (re-exported)
from shopmind.search.spelling import MAX_SPELL_LEN, Speller  # noqa: F401 (re-exported)
from shopmind.search.timeq import YearSpan
from shopmind.text.normalize import CJK_RE, normalize
from shopmind.text.tokenize import tokenize


# ---------------------------------------------------------------------------------------------- synonyms
def read_synonyms(path: Path) -> dict[str, list[str]]:
    """Synonym file: 'a, b, c' (all equivalent) or 'a => b, c' (one way); '#' comments."""
    out: dict[str, list[str]] = defaultdict(list)
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if "=>" in line:
            left, right = line.split("=>", 1)
            targets = [normalize(t) for t in right.split(",") if t.strip()]
            for src in (normalize(s) for s in left.split(",") if s.strip()):
                out[src].extend(t for t in targets if t != src)
        else:
            terms = [normalize(t) for t in line.split(",") if t.strip()]
            for t in terms:
                out[t].extend(o for o in terms if o != t)
    return dict(out)


def mine_reformulations(events, min_count: int = 2, window_s: float = 120.0) -> dict[str, list[str]]:
    """Synonyms from sessions where a search with no click is followed, soon, by a one-word-different
    search that got a click: the swapped words are taken as synonyms when seen min_count times."""
    if events is None or events.num_rows == 0:
        return {}
    cols = events.select(["type", "user_id", "session_id", "query", "ts"]).to_pydict()
    by_session: dict[str, list[tuple[float, str, str]]] = defaultdict(list)
    for typ, user, sess, q, ts in zip(cols["type"], cols["user_id"], cols["session_id"], cols["query"], cols["ts"], strict=True):
        by_session[sess or user].append((ts, typ, normalize(q) if q else ""))
    pairs: Counter[tuple[str, str]] = Counter()
    for evs in by_session.values():
        evs.sort()
        searches = [(i, ts, q) for i, (ts, typ, q) in enumerate(evs) if typ == "search" and q]
        for (i1, t1, q1), (i2, t2, q2) in pairwise(searches):
            if t2 - t1 > window_s or q1 == q2:
                continue
            clicked_between = any(evs[j][1] in ("click", "add_to_cart", "purchase") for j in range(i1 + 1, i2))
            if clicked_between:
                continue
            w1, w2 = q1.split(), q2.split()
            if len(w1) != len(w2):
                continue
            diff = [(a, b) for a, b in zip(w1, w2, strict=True) if a != b]
            if len(diff) == 1:
                pairs[diff[0]] += 1
    out: dict[str, list[str]] = defaultdict(list)
    for (a, b), c in pairs.items():
        if c >= min_count:
            out[a].append(b)
    return dict(out)


# ---------------------------------------------------------------------------------------------- entities
GENERIC_VALUES = frozenset(
    ["other", "others", "其他", "其它", "其他品牌", "见描述", "无", "通用", "无品牌", "other其他", "true", "false", "none", "n/a", "not", "specified", "默认", "不详", "以上都有"]
)


def _usable_value(nv: str) -> bool:
    """A normalised value worth recognising in queries: not generic, not a lone character."""
    if not nv or nv in GENERIC_VALUES:
        return False
    return len(nv) >= 2 if CJK_RE.search(nv) else len(nv) >= 3


def brand_aliases(brand: str) -> list[str]:
    """Normalised names a shopper may type for a brand: 'Galanz/格兰仕' → ['galanz 格兰仕', 'galanz', '格兰仕']."""
    base = re.sub(r"[（(].*?[)）]", "", brand)
    names = [normalize(base)] + [normalize(part) for part in re.split(r"[/|]", base)]
    return [n for n in dict.fromkeys(names) if _usable_value(n)]


class EntityMatcher:
    """Recognises the catalog's own brand and attribute values inside a query."""

    def __init__(self, brands: Mapping[str, str], attributes: Mapping[str, list[list[str]]]) -> None:
        self.brands = dict(brands)  # normalised → display
        self.attributes = {k: [tuple(x) for x in v] for k, v in attributes.items()}  # normalised → [(key, value)]
        self.max_words = max([len(k.split()) for k in [*self.brands, *self.attributes]] or [1])
        self.cjk_keys = [k for k in [*self.brands, *self.attributes] if CJK_RE.search(k) and len(k) >= 2]

    @classmethod
    def from_table(cls, table) -> EntityMatcher:
        """Brand names and short attribute values (numbers excluded) from a ProductTable."""
        brands: dict[str, str] = {}
        for b in table.brands.values:
            for alias in brand_aliases(b):
                brands.setdefault(alias, b)
        attrs: dict[str, list[list[str]]] = defaultdict(list)
        for key, voc in table.attr_vocab.items():
            for v in voc.values:
                nv = normalize(v)
                if _usable_value(nv) and len(nv.split()) <= 3 and not re.fullmatch(r"[\d.\s/]+", nv):
                    attrs[nv].append([key, v])
        return cls(brands, dict(attrs))

    def match(self, text: str) -> tuple[list[str], dict[str, list[str]], str]:
        """Brands, attribute values and the text with them cut out (longest matches first)."""
        words_ = text.split()
        brands: list[str] = []
        attrs: dict[str, list[str]] = defaultdict(list)
        used = [False] * len(words_)
        for n in range(min(self.max_words, len(words_)), 0, -1):
            for i in range(len(words_) - n + 1):
                if any(used[i : i + n]):
                    continue
                gram = " ".join(words_[i : i + n])
                hit = False
                if gram in self.brands:
                    brands.append(self.brands[gram])
                    hit = True
                for key, value in self.attributes.get(gram, ()):
                    attrs[key].append(value)
                    hit = True
                if hit:
                    used[i : i + n] = [True] * n
        rest = " ".join(w for w, u in zip(words_, used, strict=True) if not u)
        if self.cjk_keys and CJK_RE.search(rest):
            for key in sorted(self.cjk_keys, key=len, reverse=True):
                if key in rest:
                    if key in self.brands:
                        brands.append(self.brands[key])
                    for k, v in self.attributes.get(key, ()):
                        attrs[k].append(v)
                    rest = rest.replace(key, " ")
        return brands, dict(attrs), re.sub(r"\s+", " ", rest).strip()

    def to_json(self) -> dict:
        return {"brands": self.brands, "attributes": self.attributes}

    @classmethod
    def from_json(cls, data: Mapping) -> EntityMatcher:
        return cls(data["brands"], data["attributes"])


# ---------------------------------------------------------------------------------------------- category
class CategoryIntent:
    """Multinomial naive Bayes from words to leaf category paths, trained on the catalog (title, brand, category
    names, attribute values) and on the queries that led to clicks on a category's products."""

    def __init__(self, vocab: dict[str, int], counts: sp.csr_matrix, labels: list[str], prior: np.ndarray, alpha: float = 0.1) -> None:
        self.vocab = vocab
        self.counts = counts.tocsr()
        self.labels = labels
        self.prior = prior
        self.alpha = alpha
        totals = np.asarray(self.counts.sum(axis=0)).ravel()
        self.norm = np.log(totals + alpha * max(len(vocab), 1))

    @classmethod
    def fit(cls, docs: Sequence[Sequence[str]], labels: Sequence[str | None], alpha: float = 0.1) -> CategoryIntent | None:
        """Train on (tokens, category path) pairs; None when the catalog has < 2 categories."""
        names = sorted({lab for lab in labels if lab})
        if len(names) < 2:
            return None
        lab_id = {n: i for i, n in enumerate(names)}
        vocab: dict[str, int] = {}
        rows, cols = [], []
        for toks, lab in zip(docs, labels, strict=True):
            if not lab:
                continue
            for t in set(toks):
                rows.append(vocab.setdefault(t, len(vocab)))
                cols.append(lab_id[lab])
        counts = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(vocab), len(names)))
        counts.sum_duplicates()
        freq = np.bincount([lab_id[lab] for lab in labels if lab], minlength=len(names)).astype(np.float64)
        prior = np.log(freq / freq.sum())
        return cls(vocab, counts, names, prior, alpha)

    def predict(self, tokens: Sequence[str]) -> tuple[str | None, float]:
        """Most likely category path and its posterior probability (None when no token is known)."""
        ids = [self.vocab[t] for t in tokens if t in self.vocab]
        if not ids:
            return None, 0.0
        rows = self.counts[ids].toarray()
        score = self.prior + np.log1p(rows / self.alpha).sum(axis=0) + len(ids) * (math.log(self.alpha) - self.norm)
        score -= score.max()
        p = np.exp(score)
        p /= p.sum()
        best = int(np.argmax(p))
        return self.labels[best], float(p[best])

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        c = self.counts.tocsr()
        np.save(path / "intent_data.npy", c.data)
        np.save(path / "intent_indices.npy", c.indices)
        np.save(path / "intent_indptr.npy", c.indptr)
        np.save(path / "intent_prior.npy", self.prior)
        (path / "intent.json").write_text(json.dumps({"vocab": self.vocab, "labels": self.labels, "alpha": self.alpha, "shape": list(c.shape)}, ensure_ascii=False))

    @classmethod
    def load(cls, path: Path) -> CategoryIntent | None:
        if not (path / "intent.json").exists():
            return None
        meta = json.loads((path / "intent.json").read_text())
        counts = sp.csr_matrix(
            (np.load(path / "intent_data.npy"), np.load(path / "intent_indices.npy"), np.load(path / "intent_indptr.npy")),
            shape=tuple(meta["shape"]),
        )
        return cls(meta["vocab"], counts, meta["labels"], np.load(path / "intent_prior.npy"), meta["alpha"])


@dataclass
class Understood:
    """Everything the understanding stages produced for one query."""

    original: str
    normalized: str
    language: str
    text: str  # what retrieval matches on: corrected, with price/entity words kept
    tokens: list[str] = field(default_factory=list)
    did_you_mean: str | None = None
    corrections: dict[str, str] = field(default_factory=dict)
    synonyms: dict[str, list[str]] = field(default_factory=dict)
    price: PriceIntent | None = None
    brands: list[str] = field(default_factory=list)
    attributes: dict[str, list[str]] = field(default_factory=dict)
    category: str | None = None
    category_confidence: float = 0.0
    stages: list[str] = field(default_factory=list)
    years: YearSpan | None = None  # a year range read from the query (timeq), applied to year-like attributes
    translations: list[Translation] = field(default_factory=list)  # source words and renderings (crosslang)
    interpretations: list[str] = field(default_factory=list)  # every reading that changed what matches, in words

    def note(self, text: str) -> None:
        """Record an interpretation once (a rewrite may run the same step again)."""
        if text not in self.interpretations:
            self.interpretations.append(text)


def expand_synonyms(text: str, synonyms: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Synonyms of the query's words and word pairs found in the synonym map."""
    ws = text.split()
    grams = ws + [" ".join(ws[i : i + 2]) for i in range(len(ws) - 1)]
    return {g: list(synonyms[g]) for g in grams if g in synonyms}


def query_tokens(text: str) -> list[str]:
    """Index tokens of an already normalised query."""
    return tokenize(text, normalized=True)
