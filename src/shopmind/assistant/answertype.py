"""What kind of value a question asks for, and which attributes can hold one.

- A quantity in a unit ("how many watts", "is it heavy, how many pounds?", "多少瓦") is answered only by a value stated in
  that unit's dimension, or by an attribute named for the dimension: a part number is never the answer to "how many
  watts does it draw?".
- "Who" is answered only by an attribute that names an agent (brand, maker, author, cast…), "where" only by one that
  names a place (origin, country, location…) and "when" only by a year or date: genres never answer "who are the lead
  actors?".
- A question ("does it come with subtitles?", "what's the running time?", "带遥控器吗") is answered by an attribute it is
  about — one whose name or value shares a word with the question, or of the aspect it names — or one the ranker is
  near certain of (grounding.POLAR_TRUST). A colour does not answer "can I put it in the dishwasher?", a film's year
  does not answer "what's the age rating?". (Held-out hetPQA test + dev, 391 answerable / 400 not: extending the
  check from yes/no questions to all questions moved answered right 0.957 → 0.931, abstained right 0.320 → 0.527.)
The attribute ranker compares a product's own attributes with each other, so one of them always wins; these are the
checks that a winner could be an answer at all."""

from __future__ import annotations

import re
from collections.abc import Callable

from shopmind.assistant.attrank import ASPECT_KEYS, HINTS
from shopmind.assistant.factcheck import colours_in
from shopmind.assistant.slots import aspect_of
from shopmind.text.normalize import normalize_units
from shopmind.text.stopwords import EN_ATTRIBUTE_QUESTION_STOPWORDS, ZH_A_NOT_A
from shopmind.text.tokenize import tokenize

# dimension → (unit words a question may name, canonical unit suffixes of shopmind.text.normalize, attribute-name words)
DIMENSIONS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "power": (r"watts?|wattage|瓦", ("w",), ("watt", "power")),
    "voltage": (r"volts?|voltage|伏", ("v",), ("volt",)),
    "weight": (r"pounds?|lbs?|ounces?|kilograms?|kilos?|grams?|磅|公斤|千克|克", ("lb", "oz", "kg"), ("weight",)),
    "length": (r"inches|inch|feet|foot|centimeters?|millimeters?|meters?|英寸|英尺|厘米|毫米|米", ("in", "ft", "cm", "mm"),
               ("length", "width", "height", "depth", "dimension", "size", "diameter", "thickness")),
    "volume": (r"gallons?|liters?|litres?|milliliters?|加仑|升|毫升", ("gal", "ml"), ("volume", "capacity")),
    "time": (r"hours?|minutes?|小时|分钟", (), ("time", "life", "hour", "runtime", "duration")),
}
# wh-word → attribute-name words that can answer it (English names; a Chinese question is checked on its own words)
WH: dict[str, tuple[re.Pattern[str], tuple[str, ...]]] = {
    "agent": (re.compile(r"^\s*who\b|\bwho (?:is|are|made|makes|directed|starred|stars|wrote|plays?)\b|"
                         r"^\s*which \w+ (?:made|makes|produced|produces|manufactured|manufactures|published|directed|released)\b|谁"),
              ("brand", "manufacturer", "maker", "author", "artist", "director", "actor", "actress", "cast", "star", "designer",
               "publisher", "creator", "composer", "performer", "studio", "label", "by", "vendor", "seller")),
    "place": (re.compile(r"\bwhere\b(?! (?:can|could|should|would|do) (?:i|you|we)\b)|\b(?:which|what) country\b|"
                         r"(?:哪里|哪儿|哪个国家|哪国)(?:制造|生产|产|出产|做|拍)|产地|原产"),
              ("origin", "country", "made in", "location", "region", "place", "city", "state", "manufactured", "produced")),
    # a point in time: "when was it released?", "what year…", "哪一年", "什么时候上映" (not "when can I use it?")
    # ("do you know when…", "remind me when…" ask it inside a clause; "…came out when?" at the end; a release date)
    "time": (re.compile(r"(?:^\s*|[,;:—–?!.？！。]\s*|\b(?:and|so|but|then|know|tell me|remind me|wonder|wondering|ask)\s+)when\b"
                        r"(?! (?:(?:can|could|should|would|do|will|may) )?(?:i|you|we)\b)|\bwhen\s*\?*\s*$|\brelease date\b|\bdate of release\b|\bhow old (?:is|are|was|were)\b|\b(?:what|which) year\b|哪一?年|几几年|(?:什么|哪个|啥)年代|(?:什么|啥)时候(?:上映|出|拍|发行|推出|生产|制造)"),
             ("year", "date", "release", "released", "launch", "introduced", "season", "era", "decade", "period", "time")),
    # the product's class: "what kind of movie is it?" (a kind of the product itself, named by a generic noun for it,
    # not "what kind of battery / stuff…", which asks an attribute), "how would you classify it?"
    "class": (re.compile(r"\b(?:what|which) (?:kind|type|sort|genre|category|class|style)s? of (?:an? |the )?"
                         r"(?:movie|film|picture|flick|story|show|book|album|product|item|thing|one)s?\b"
                         r"|\bhow (?:would|do|should|could) (?:you|i|we) (?:classify|categori[sz]e)\b"
                         # 什么片 / 哪类电影 / 啥题材 (a kind of the film itself, not 什么类型的电池) and 片子属于哪一类
                         r"|(?:什么|啥|哪一?[类种路个样])(?:类型|种类|类)?的?(?:片子?|电影|影片|题材)|(?:片子?|电影|影片)(?:属于|算|是)(?:哪一?[类种]|什么类型|啥类型)"),
              ("genre", "genres", "type", "category", "class", "kind", "style")),
}
_ASK = r"(?:how many|how much|in|多少|几)"
_ASKS = {dim: re.compile(rf"{_ASK}\s*(?:\w+\s+){{0,2}}?(?:{words})(?![a-z])", re.IGNORECASE) for dim, (words, _, _) in DIMENSIONS.items()}


# a weight asked without a unit word ("how much does it weigh?", "有多重")
_WEIGHT_RE = re.compile(r"\bweigh(?:s|ed)?\b|\bhow heavy\b|多重|多沉|重量|(?:几|多少)(?:公斤|斤|克|千克)")
# a duration asked without a unit word ("how long does the battery last?", "what's the running time?", "能用多久", "片长")
_DURATION_RE = re.compile(r"\bhow long (?:does|will|do|can|would)\b|\brun(?:ning)?[ -]?time\b|\bduration\b|多久|多长时间|时长|片长")
# "how long is it?": a length or a duration, whichever the product has ("extent": either dimension fits)
_EXTENT_RE = re.compile(r"\bhow long (?:is|are|was|were)\b")


def asked_dimension(question: str) -> str | None:
    """The dimension a question asks a quantity in ("how many watts" → 'power', "how much does it weigh?" →
    'weight', "how long is it?" → 'extent': a length or a duration), or None."""
    q = question.casefold()
    found = {dim for dim, rx in _ASKS.items() if rx.search(q)} | ({"weight"} if _WEIGHT_RE.search(q) else set())
    found |= {"time"} if _DURATION_RE.search(q) else set()
    if not found and _EXTENT_RE.search(q):
        return "extent"
    return found.pop() if len(found) == 1 else None


def fits(dimension: str, key: str, value: str) -> bool:
    """Whether an attribute can answer a quantity in `dimension`: its value carries one of the dimension's units, or
    its name is the dimension's own ("item_weight" for a weight); for "extent", a length or a duration."""
    if dimension == "extent":
        return fits("length", key, value) or fits("time", key, value)
    _, units, names = DIMENSIONS[dimension]
    if any(n in key.casefold() for n in names):
        return True
    v = normalize_units(value.casefold())
    return any(re.search(rf"\d{u}(?![a-z])", v) for u in units)


_FOR_WHOM = re.compile(r"给谁|为谁|适合谁|谁(?:来)?用|\bwho (?:is|are) (?:it|this|these|they) (?:for|meant for|aimed at)\b|\bfor whom\b")


def asked_kind(question: str) -> str | None:
    """'agent' for a who-question, 'place' for a where-question, 'time' for a when-question, else None ("who is it
    for?" asks an audience)."""
    q = question.casefold()
    if _FOR_WHOM.search(q):
        return None
    found = [kind for kind, (rx, _) in WH.items() if rx.search(q)]
    return found[0] if len(found) == 1 else None


_YEAR_OR_DATE = re.compile(r"^\s*(?:1[89]|20)\d\d(?:[-/.]\d{1,2}){0,2}\s*$")


def names_kind(kind: str, key: str, value: str = "") -> bool:
    """Whether an attribute's name says it holds an answer of that kind ('director' for a who-question; for a
    when-question also a value that is a year or a date); a name with no Latin words (a Chinese key) is not judged."""
    if kind == "time" and _YEAR_OR_DATE.match(value):
        return True
    name = key.casefold().replace("_", " ")
    words = set(re.findall(r"[a-z]+", name))
    return not words or any((w in name) if " " in w else (w in words) for w in WH[kind][1])


# yes/no forms: an English auxiliary first; 吗 at the end; 是否; A-not-A of one or two characters (能不能, 有没有, 麻烦不麻烦)
POLAR_RE = re.compile(rf"^\s*(?:is|are|does|do|did|can|could|will|would|has|have|should)\b|吗\s*(?:[?？]|$)|是否|{ZH_A_NOT_A}")
_GENERIC = frozenset({"doe", "do", "come", "get", "put", "will", "can", "make", "use", "need", "have", "work", "good"})


_CHOICE_RE = re.compile(r"\bor\b|还是")


def is_polar(question: str) -> bool:
    """Whether the question is a yes/no question ("does it …?", "…吗？"); one that offers choices ("is it round,
    square or some other shape?", "…还是…") asks for a value instead."""
    q = question.casefold()
    return bool(POLAR_RE.search(q)) and not _CHOICE_RE.search(q)


def content_words(question: str) -> list[str]:
    """The question's stemmed content words (question words dropped): what a yes/no question is about."""
    return [t for t in tokenize(question) if t not in EN_ATTRIBUTE_QUESTION_STOPWORDS]


def about(words: list[str], key: str, value: str, assoc: dict[str, dict[str, float]] | None = None) -> bool:
    """Whether a yes/no question with these content words is about this attribute: a hint word for its name ('work' →
    compatible), or a word other than a generic verb that it shares with its name or value (or their first four
    letters: 'waterproof' ~ 'water resistance') or that the attribute ranker learned to associate with a word of its
    name from real questions ('adhere' → material)."""
    own = set(tokenize(key.replace("_", " "))) | set(tokenize(value))
    name = key.casefold().replace("_", " ")
    name_words = set(tokenize(name))
    for w in words:
        if any(f in name for f in HINTS.get(w, ())):
            return True
        if w in _GENERIC:  # "does", "have", "come": associated with every kind of attribute, evidence of none
            continue
        if w in own or (len(w) >= 4 and any(len(o) >= 4 and o[:4] == w[:4] for o in own)) or (assoc and name_words & set(assoc.get(w, {}))):
            return True
    return False


_COLOUR_NAMES = ("color", "colour", "shade", "hue", "finish", "颜色", "色")


def states_colour(key: str, value: str) -> bool:
    """Whether an attribute can answer "what colour is it?": its name is a colour's, or its value names a colour."""
    return any(n in key.casefold() for n in _COLOUR_NAMES) or bool(colours_in(value))


def answer_filter(question: str, english: str | None, title: str, aspect: str | None, assoc: dict[str, dict[str, float]] | None = None,
                  ) -> tuple[Callable[[str, str], bool], Callable[[str, str], bool]]:
    """(can_hold, on_topic) for attributes (key, value text). `can_hold`: the attribute could hold the kind of answer
    asked for (a quantity in its dimension, who / where / when, a colour); `on_topic`: the question's content words
    touch it (true for a wh-question without any, or whose unit or wh-word `can_hold` already checks) — softer
    evidence, which the caller weighs against the ranker's confidence.
    `english`: the question's English gloss (a Chinese question), read for the words the question is about;
    `title`: the product's, whose words are not the question's aspect ("On Golden Pond" asks no colour); `assoc`: the
    ranker's learned question word → name word associations."""
    dimension = asked_dimension(question)
    kind = asked_kind(question)
    q_words = {w.casefold() for w in re.findall(r"\w+", title)}
    rest = " ".join(w for w in re.findall(r"\w+", question.casefold()) if w not in q_words)  # a colour in the title is no aspect
    colour = aspect == "colour" and (aspect_of(rest) == "colour" or bool(colours_in(rest)))
    polar = is_polar(question)
    words = content_words(english or rest)  # the product's own name is not what is asked about
    family = ASPECT_KEYS.get(aspect or "", ())

    def can_hold(key: str, value: str) -> bool:
        if dimension is not None and not fits(dimension, key, value):
            return False
        if kind is not None and not names_kind(kind, key, value):
            return False
        return not colour or states_colour(key, value)

    def on_topic(key: str, value: str) -> bool:
        if kind is not None or dimension is not None or (not polar and not words):
            return True  # the answer type is already checked ("is it old? when's it from?"), or a wh-question with no content words
        return about(words, key, value, assoc) or any(f in key.casefold() for f in family)

    return can_hold, on_topic
