"""Intent classification: high-precision rules first, then a linear model (softmax regression on word and
character n-grams plus conversation context) trained on a labelled set built from real catalog data.

The labelled set ships as `intent_train.jsonl` (made by `shopmind.assistant.trainset`); the model trains in
about a second on first use and is cached on disk as plain .npy + JSON (keyed by the training file's hash).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from shopmind.assistant.models import INTENTS
from shopmind.text.normalize import CJK_RE

TRAIN_FILE = "intent_train.jsonl"

# rules: (intent, pattern, needs products in focus). Only unambiguous phrasings; the model does the rest.
RULES: list[tuple[str, re.Pattern[str], bool]] = [
    ("chitchat", re.compile(r"^(hi|hello|hey|hiya|yo|good (morning|afternoon|evening|night)|morning|evening|thanks?( you)?( so much| very much| a lot)?|thx|ty|cheers|bye|goodbye|see you( later| soon)?|ok(ay)?|cool|great|nice|"
                            r"你好|您好|嗨|哈喽|谢谢(你|您)?|谢了|多谢|再见|拜拜|好的|嗯|早上好|下午好|晚上好|晚安)"
                            r"([\s,，]*(there|again|that'?s all|that is all|all good|bye|呀|啊|啦|哈|了|哦|噢))*[\s!.。！~]*$"), False),
    ("compare", re.compile(r"\b(compare|comparison|versus|vs\.?|difference between|differences between|side by side)\b|\b(top|first|these|the) two\b.*\bdiffer|"
                           r"比较一下|对比一下|对比|有什么区别|有啥区别|有什么不同|哪个(更|比较)?(好|便宜|贵|轻|大|小|划算)"), False),
    ("recommend", re.compile(r"\b(goes? (well |nicely )?with|go(es)? along with|to go with|pairs? (well |nicely )?with|match(es)? (well )?with|"
                             r"similar (items?|products?|ones?|to)|something similar|recommend|recommendations?|suggest(ions?)?|what else)\b|搭配|推荐|类似|相似|一起买|配什么"), False),
    ("refine", re.compile(r"^(any(thing|one)?|something|show me|got|do you have|i want|i'd like)?\s*(a |some )?(cheaper|less expensive|less pricey|more affordable|lower[- ]priced|more expensive|pricier)"
                          r"( ones?| options?| alternatives?| items?| things?)?( please)?[?.!]*$|^(in|any in|what about in|how about in)\s+\w+[?.!]*$|"
                          r"\b(another|a different|other) brands?\b|^换个?(牌子|品牌|颜色)|^(有没有|有|还有|看看)?(别的|其他|其它)(牌子|品牌)|^(有没有|有)?(更)?便宜(一)?点的?(吗|呢)?[?？]?$|^再便宜(一)?点"), True),
]
# intents that only make sense about products already shown
NEEDS_FOCUS = ("refine", "ask")
POLICY_ASPECTS = ("shipping", "returns", "warranty")
FAQ_MIN = 3.0  # one keyword phrase of a FAQ section (see Faq.score); chosen on the training set
FIND_SURE = 0.7  # a search the model is this sure of stays a search when a FAQ keyword also matches ("I need a phone case")


def _clean(text: str) -> str:
    t = unicodedata.normalize("NFKC", text).casefold().strip()
    return re.sub(r"\s+", " ", t)


def features(text: str, has_focus: bool) -> list[str]:
    """Word uni/bigrams (EN), character uni/bigrams (ZH), numbers folded, plus context flags."""
    t = re.sub(r"\d+(?:\.\d+)?", " 0 ", _clean(text))
    feats = ["__focus__" if has_focus else "__nofocus__"]
    words = re.findall(r"[a-z]+|0|\$|¥|\?", t)
    feats += [f"w:{w}" for w in words]
    feats += [f"b:{a}_{b}" for a, b in itertools.pairwise(words)]
    if words:
        feats.append(f"first:{words[0]}")
        feats.append(f"len:{min(len(words), 8)}")
    for run in re.findall(r"[\u3400-\u9fff]+", t):
        feats += [f"c:{c}" for c in run]
        feats += [f"cc:{run[i:i + 2]}" for i in range(len(run) - 1)]
        feats.append(f"zhlen:{min(len(run) // 3, 6)}")
    if CJK_RE.search(t):
        feats.append("__zh__")
        if re.search(r"[吗呢？?]\s*$", t):
            feats.append("zhq")
    return feats


class LinearIntentModel:
    """Multinomial logistic regression over hashed-free n-gram features (vocabulary kept as JSON)."""

    def __init__(self, vocab: dict[str, int], W: np.ndarray, b: np.ndarray, labels: Sequence[str]) -> None:
        self.vocab, self.W, self.b, self.labels = vocab, W, b, list(labels)

    def _X(self, rows: list[list[str]]) -> sp.csr_matrix:
        ind, ptr = [], [0]
        for feats in rows:
            ids = sorted({self.vocab[f] for f in feats if f in self.vocab})
            ind.extend(ids)
            ptr.append(len(ind))
        return sp.csr_matrix((np.ones(len(ind), np.float64), ind, ptr), shape=(len(rows), len(self.vocab)))

    @classmethod
    def fit(cls, rows: list[list[str]], y: list[str], l2: float = 1e-3, iters: int = 300) -> LinearIntentModel:
        """L-BFGS on softmax cross-entropy with L2."""
        from scipy.optimize import minimize

        vocab: dict[str, int] = {}
        for feats in rows:
            for f in feats:
                vocab.setdefault(f, len(vocab))
        labels = [c for c in INTENTS if c in set(y)]
        model = cls(vocab, np.zeros((len(vocab), len(labels))), np.zeros(len(labels)), labels)
        X = model._X(rows)
        Y = np.zeros((len(y), len(labels)))
        Y[np.arange(len(y)), [labels.index(v) for v in y]] = 1.0
        n, d, k = X.shape[0], X.shape[1], len(labels)

        def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
            W, b = theta[: d * k].reshape(d, k), theta[d * k :]
            Z = X @ W + b
            Z -= Z.max(axis=1, keepdims=True)
            P = np.exp(Z)
            P /= P.sum(axis=1, keepdims=True)
            f = -np.sum(Y * np.log(P + 1e-12)) / n + 0.5 * l2 * np.sum(W * W)
            G = (P - Y) / n
            gW = X.T @ G + l2 * W
            return f, np.concatenate([np.asarray(gW).ravel(), G.sum(axis=0)])

        res = minimize(loss, np.zeros(d * k + k), jac=True, method="L-BFGS-B", options={"maxiter": iters})
        model.W, model.b = res.x[: d * k].reshape(d, k), res.x[d * k :]
        return model

    def predict_proba(self, feats: list[str]) -> np.ndarray:
        ids = [self.vocab[f] for f in set(feats) if f in self.vocab]
        z = self.W[ids].sum(axis=0) + self.b
        z = np.exp(z - z.max())
        return z / z.sum()

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        np.save(path / "W.npy", self.W)
        np.save(path / "b.npy", self.b)
        (path / "model.json").write_text(json.dumps({"vocab": self.vocab, "labels": self.labels}, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LinearIntentModel:
        meta = json.loads((path / "model.json").read_text(encoding="utf-8"))
        return cls(meta["vocab"], np.load(path / "W.npy"), np.load(path / "b.npy"), meta["labels"])


@dataclass
class IntentPrediction:
    intent: str
    confidence: float
    by: str  # "rule" | "model"


def load_training(path: Path | None = None) -> list[dict]:
    """The labelled set: one {text, intent, lang, focus, source} object per line."""
    f = path if path is not None else files("shopmind.assistant") / TRAIN_FILE
    return [json.loads(line) for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]


class IntentClassifier:
    """Rules, then the linear model; `predict(text, has_focus)`."""

    _shared: ClassVar[dict[str, LinearIntentModel]] = {}
    _lock = threading.Lock()

    def __init__(self, model: LinearIntentModel) -> None:
        self.model = model

    @classmethod
    def default(cls, cache_dir: Path | None = None) -> IntentClassifier:
        """Train on the shipped labelled set (or load the cached weights for exactly that set)."""
        raw = (files("shopmind.assistant") / TRAIN_FILE).read_bytes()
        key = hashlib.blake2b(raw, digest_size=8).hexdigest()
        with cls._lock:
            if key not in cls._shared:
                base = cache_dir or Path(os.environ.get("SHOPMIND_CACHE", Path.home() / ".cache" / "shopmind"))
                path = base / f"assistant-intent-{key}"
                if (path / "model.json").is_file():
                    model = LinearIntentModel.load(path)
                else:
                    rows = [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
                    model = LinearIntentModel.fit([features(r["text"], r["focus"]) for r in rows], [r["intent"] for r in rows])
                    with contextlib.suppress(OSError):  # a read-only home still works; it just trains again next time
                        model.save(path)
                cls._shared[key] = model
            return cls(cls._shared[key])

    def predict(self, text: str, has_focus: bool, faq_score: float = 0.0) -> IntentPrediction:
        """Intent of one message given whether products are in focus and how well the shop's FAQ matches it."""
        t = _clean(text)
        for intent, rx, needs_focus in RULES:
            if (has_focus or not needs_focus) and rx.search(t):
                return IntentPrediction(intent, 1.0, "rule")
        from shopmind.assistant.slots import aspect_of

        p = self.model.predict_proba(features(text, has_focus))
        order = np.argsort(-p)
        labels = [self.model.labels[i] for i in order]
        aspect = aspect_of(text)
        sure_find = labels[0] == "find" and p[order[0]] >= FIND_SURE
        if labels[0] in ("ask", "find", "out_of_scope") and (aspect in POLICY_ASPECTS or (faq_score >= FAQ_MIN and not sure_find and (not has_focus or labels[0] != "ask"))):
            return IntentPrediction("faq", float(p[order[0]]), "model+faq")
        if not has_focus:
            # nothing on screen: a question or refinement can only be about the catalog or the shop
            i = next(j for j, lab in zip(order, labels, strict=True) if lab not in NEEDS_FOCUS)
            return IntentPrediction(self.model.labels[i], float(p[i]), "model" if i == order[0] else "model+context")
        if labels[0] == "find" and aspect is not None and len(_clean(text)) <= 40:
            return IntentPrediction("ask", float(p[order[0]]), "model+aspect")
        return IntentPrediction(labels[0], float(p[order[0]]), "model")
