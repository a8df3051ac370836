"""Aspect polarity: multinomial logistic regression on sparse features of the sentence seen from the aspect.

Features are the sentence's words (English, with a negation scope) or characters and bigrams (Chinese), the words
or characters within a few tokens left and right of the aspect (by side and distance), those of the aspect's own
clause, and the aspect itself. The weights are fitted with L-BFGS (scipy) and shipped as one `.npz` (vocabulary,
weights, bias, classes): no pickles.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shopmind.understand.absa_data import tokens

_NEGATIONS = frozenset({"not", "no", "never", "n't", "nothing", "hardly", "without", "nor", "cannot", "dont", "didnt", "doesnt", "isnt", "wasnt"})
_ZH_NEGATIONS = frozenset("不没无未别非")
_CLAUSE_BREAK = re.compile(r"^[,.;:!?，。；：！？]$|^(but|however|although|though|while|whereas|except)$")


def _bucket(d: int) -> str:
    return "1" if d == 1 else "2" if d == 2 else "3-4" if d <= 4 else "5-8" if d <= 8 else "far"


def aspect_features(text: str, language: str, start: int, end: int, lexicon: dict[str, float] | None = None) -> list[str]:
    """Sparse features of the aspect at [start, end) in `text` (with `lexicon`: the opinion words around it too)."""
    toks = tokens(text, language)
    words = [t.lower() for t, _, _ in toks]
    inside = [i for i, (_, a, b) in enumerate(toks) if a < end and b > start] or [min(range(len(toks)), key=lambda i: abs(toks[i][1] - start))] if toks else []
    if not inside:
        return ["empty"]
    first, last = inside[0], inside[-1]
    negated = _negation_scope(words, language)
    f = [f"a={' '.join(words[first:last + 1])}"] + [f"aw={words[i]}" for i in inside]
    for i, w in enumerate(words):
        if first <= i <= last:
            continue
        tag = ("N" if negated[i] else "") + w
        f.append(f"s={tag}")
        if i < first:
            side, d = "L", first - i
        else:
            side, d = "R", i - last
        if d <= 8:
            f.append(f"{side}{_bucket(d)}={tag}")
            f.append(f"near={tag}")
    for i in range(len(words) - 1):
        bigram = f"{words[i]}|{words[i + 1]}"
        f.append(f"sb={bigram}")
        if first - 6 <= i <= last + 5:
            f.append(f"nb={bigram}")
    lo, hi = first, last
    while lo > 0 and not _CLAUSE_BREAK.match(words[lo - 1]):
        lo -= 1
    while hi < len(words) - 1 and not _CLAUSE_BREAK.match(words[hi + 1]):
        hi += 1
    f.extend(f"cl={'N' if negated[i] else ''}{words[i]}" for i in range(lo, hi + 1) if not first <= i <= last)
    f.append(f"clen={min(hi - lo, 12) // 3}")
    if lexicon:
        f.extend(_lexicon_features(words, language, lexicon, negated, first, last, lo, hi))
    return f


def _lexicon_features(words: list[str], language: str, lexicon: dict[str, float], negated: list[bool], first: int, last: int,
                      lo: int, hi: int) -> list[str]:
    """Opinion words by side, distance and sign (a negated one flips), their sum in the clause, and none-near."""
    f, near_sum, clause_sum = [], 0.0, 0.0
    for i, w in enumerate(words):
        if first <= i <= last:
            continue
        z = lexicon.get(w, 0.0)
        if language == "zh" and i + 1 < len(words):
            z2 = lexicon.get(w + words[i + 1], 0.0)
            z = z2 if abs(z2) > abs(z) else z
        if not z:
            continue
        z = -z if negated[i] else z
        sign = "+" if z > 0 else "-"
        strength = "s" if abs(z) >= 6 else "w"
        d = first - i if i < first else i - last
        f.append(f"lex{'L' if i < first else 'R'}{_bucket(d)}={sign}{strength}")
        if lo <= i <= hi:
            f.append(f"lexcl={sign}{strength}")
            clause_sum += z
        if d <= 4:
            near_sum += z
    f.append(f"lexnear={int(max(-3, min(3, near_sum / 4)))}" if near_sum else "lexnear=none")
    f.append(f"lexclause={int(max(-3, min(3, clause_sum / 4)))}" if clause_sum else "lexclause=none")
    return f


def _negation_scope(words: list[str], language: str) -> list[bool]:
    """True for tokens within three tokens after a negation word (or character), up to a clause break."""
    out, left = [False] * len(words), 0
    for i, w in enumerate(words):
        if _CLAUSE_BREAK.match(w):
            left = 0
            continue
        out[i] = left > 0
        left = max(left - 1, 0)
        if (w in _ZH_NEGATIONS) if language == "zh" else (w in _NEGATIONS or w.endswith("n't")):
            left = 3
    return out


class PolarityModel:
    """Softmax regression over hashed-free sparse features: a fixed vocabulary and a weight matrix per class."""

    def __init__(self, vocab: Sequence[str], weights: np.ndarray, bias: np.ndarray, classes: Sequence[str]) -> None:
        self.vocab = {f: i for i, f in enumerate(vocab)}
        self.weights = weights.astype(np.float32)
        self.bias = bias.astype(np.float32)
        self.classes = list(classes)

    def _matrix(self, rows: Sequence[list[str]]) -> Any:
        from scipy.sparse import csr_matrix

        indptr, indices = [0], []
        for feats in rows:
            cols = sorted({self.vocab[f] for f in feats if f in self.vocab})
            indices.extend(cols)
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float32)
        return csr_matrix((data, np.asarray(indices, dtype=np.int64), np.asarray(indptr)), shape=(len(rows), len(self.vocab)))

    def proba(self, rows: Sequence[list[str]]) -> np.ndarray:
        """Class probabilities per row of features (columns in `classes` order)."""
        if not rows:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        z = self._matrix(rows) @ self.weights + self.bias
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, rows: Sequence[list[str]]) -> list[tuple[str, float]]:
        """(class, probability) per row."""
        p = self.proba(rows)
        best = p.argmax(axis=1)
        return [(self.classes[k], float(p[i, k])) for i, k in enumerate(best)]

    @classmethod
    def fit(cls, rows: Sequence[list[str]], labels: Sequence[str], *, l2: float = 1.0, min_count: int = 2, max_iter: int = 300) -> PolarityModel:
        """Fit on feature rows and their labels (features seen fewer than `min_count` times are dropped)."""
        from collections import Counter

        from scipy.optimize import minimize

        counts = Counter(f for feats in rows for f in set(feats))
        vocab = sorted(f for f, n in counts.items() if n >= min_count)
        classes = sorted(set(labels))
        model = cls(vocab, np.zeros((len(vocab), len(classes))), np.zeros(len(classes)), classes)
        x = model._matrix(rows).astype(np.float64)
        y = np.zeros((len(labels), len(classes)))
        y[np.arange(len(labels)), [classes.index(c) for c in labels]] = 1.0
        n_feat, n_cls = x.shape[1], len(classes)

        def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
            w, b = theta[: n_feat * n_cls].reshape(n_feat, n_cls), theta[n_feat * n_cls :]
            z = x @ w + b
            z -= z.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            p = np.exp(logp)
            value = -(y * logp).sum() + 0.5 * l2 * (w * w).sum()
            g = p - y
            return value, np.concatenate([(x.T @ g + l2 * w).ravel(), g.sum(axis=0)])

        theta0 = np.zeros(n_feat * n_cls + n_cls)
        res = minimize(loss, theta0, jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
        w, b = res.x[: n_feat * n_cls].reshape(n_feat, n_cls), res.x[n_feat * n_cls :]
        keep = np.abs(w).max(axis=1) > 1e-4  # features the fit left at zero are not shipped
        return cls([f for f, k in zip(vocab, keep, strict=True) if k], w[keep], b, classes)

    def save(self, path: Path) -> None:
        """Write vocabulary, float16 weights, bias and classes to one .npz."""
        vocab = sorted(self.vocab, key=self.vocab.__getitem__)
        np.savez_compressed(path, vocab=np.array(vocab), weights=self.weights.astype(np.float16), bias=self.bias, classes=np.array(self.classes))

    @classmethod
    def load(cls, path: Path) -> PolarityModel:
        """Read a model written by `save`."""
        with np.load(path, allow_pickle=False) as z:
            return cls([str(v) for v in z["vocab"]], z["weights"], z["bias"], [str(c) for c in z["classes"]])
