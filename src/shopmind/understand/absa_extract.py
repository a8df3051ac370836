"""Aspect-term extraction as sequence labelling: a linear-chain CRF (python-crfsuite) over B/I/O token tags.

English tokens are words and punctuation, Chinese tokens are characters with the jieba word around them as context
(the labelled Chinese sets mark aspects at character level). Features are lexical windows, word shapes and, for
Chinese, the position of the character in its jieba word; the model file is crfsuite's own binary format.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from shopmind.understand.absa_data import Sentence, bio_labels, gold_spans, spans_of_labels, tokens

log = logging.getLogger(__name__)
Tokens = list[tuple[str, int, int]]


def _shape(word: str) -> str:
    out: list[str] = []
    for ch in word[:6]:
        kind = "X" if ch.isupper() else "x" if ch.islower() else "d" if ch.isdigit() else ch
        if not out or out[-1] != kind:
            out.append(kind)
    return "".join(out)


def english_features(toks: Tokens) -> list[list[str]]:
    """Per token: lower-case word, affixes, shape and a ±2 window of words and bigrams."""
    words = [t.lower() for t, _, _ in toks]
    n = len(words)
    out = []
    for i, w in enumerate(words):
        f = [f"w={w}", f"p3={w[:3]}", f"s3={w[-3:]}", f"s2={w[-2:]}", f"sh={_shape(toks[i][0])}", f"len={min(len(w), 8)}"]
        for d in (-2, -1, 1, 2):
            j = i + d
            f.append(f"w{d:+d}={words[j] if 0 <= j < n else '<s>' if j < 0 else '</s>'}")
        f.append(f"b-1={words[i - 1] if i else '<s>'}|{w}")
        f.append(f"b+1={w}|{words[i + 1] if i + 1 < n else '</s>'}")
        f.append(f"t-1={words[i - 1] if i else '<s>'}|{words[i + 1] if i + 1 < n else '</s>'}")
        out.append(f)
    return out


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(60)
    return jieba


def chinese_features(toks: Tokens, text: str) -> list[list[str]]:
    """Per character: ±3 window of characters, bigrams, and the jieba word holding it with the character's place in it."""
    chars = [t for t, _, _ in toks]
    n = len(chars)
    where: dict[int, tuple[str, str]] = {}
    pos = 0
    for word in _jieba().cut(text, HMM=True):
        for k in range(len(word)):
            tag = "S" if len(word) == 1 else "B" if k == 0 else "E" if k == len(word) - 1 else "M"
            where[pos + k] = (word, tag)
        pos += len(word)
    out = []
    for i, c in enumerate(chars):
        word, tag = where.get(toks[i][1], (c, "S"))
        f = [f"c={c}", f"jw={word}", f"jt={tag}", f"jwt={word}|{tag}", f"jl={min(len(word), 4)}"]
        for d in (-3, -2, -1, 1, 2, 3):
            j = i + d
            f.append(f"c{d:+d}={chars[j] if 0 <= j < n else '<s>' if j < 0 else '</s>'}")
        f.append(f"b-1={chars[i - 1] if i else '<s>'}{c}")
        f.append(f"b+1={c}{chars[i + 1] if i + 1 < n else '</s>'}")
        out.append(f)
    return out


def _opinion_signs(toks: Tokens, language: str, lexicon: dict[str, float]) -> list[str]:
    """Per token: '+', '-' or '' by the opinion lexicon (Chinese: the stronger of the character and the bigram it starts)."""
    words = [t.lower() for t, _, _ in toks]
    out = []
    for i, w in enumerate(words):
        z = lexicon.get(w, 0.0)
        if language == "zh" and i + 1 < len(words):
            z2 = lexicon.get(w + words[i + 1], 0.0)
            z = z2 if abs(z2) > abs(z) else z
        out.append("+" if z >= 4 else "-" if z <= -4 else "")
    return out


def features(sentence_text: str, language: str, toks: Tokens, lexicon: dict[str, float] | None = None) -> list[list[str]]:
    """CRF features of one tokenised sentence for its language (with `lexicon`: opinion words around each token)."""
    feats = chinese_features(toks, sentence_text) if language == "zh" else english_features(toks)
    if lexicon:
        signs = _opinion_signs(toks, language, lexicon)
        n = len(signs)
        for i, f in enumerate(feats):
            f.extend(f"op{d:+d}={signs[i + d]}" for d in (-2, -1, 0, 1, 2, 3) if 0 <= i + d < n and signs[i + d])
            f.append(f"opright={'y' if any(signs[i + 1:i + 5]) else 'n'}")
    return feats


def train_crf(sentences: Sequence[Sentence], path: Path, *, c1: float = 0.1, c2: float = 0.05, max_iterations: int = 150,
              lexicon: dict[str, float] | None = None) -> Path:
    """Train a CRF tagger on gold-labelled sentences (one language) and write it to `path`."""
    import pycrfsuite  # type: ignore[import-untyped]

    trainer = pycrfsuite.Trainer(verbose=False)
    for s in sentences:
        toks = tokens(s.text, s.language)
        if toks:
            trainer.append(features(s.text, s.language, toks, lexicon), bio_labels(toks, gold_spans(s)))
    trainer.set_params({"c1": c1, "c2": c2, "max_iterations": max_iterations, "feature.possible_transitions": True})
    path.parent.mkdir(parents=True, exist_ok=True)
    trainer.train(str(path))
    return path


class AspectTagger:
    """A trained CRF: `spans(text)` gives the character spans of aspect terms."""

    def __init__(self, path: Path, language: str, lexicon: dict[str, float] | None = None) -> None:
        import pycrfsuite

        self.language = language
        self.lexicon = lexicon or None
        self._tagger = pycrfsuite.Tagger()
        self._tagger.open(str(path))

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Aspect-term spans [start, end) found in `text`."""
        toks = tokens(text, self.language)
        if not toks:
            return []
        return spans_of_labels(toks, self._tagger.tag(features(text, self.language, toks, self.lexicon)))
