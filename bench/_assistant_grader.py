"""Independent grader for the assistant generalisation set: reads only the answer TEXT (and, reported apart, the
response's structured fields) and the catalog records; it imports nothing from shopmind.assistant.

A fact stated in the answer (a number with or without unit, a colour, a film genre, a brand, an attribute value string
of the catalog) is false when no evidence record (the products of the conversation: the page, the gold product, the
cards shown, the products the answer cites) nor the shopper's own words nor the shop FAQ holds it. An answer is correct
when it states the gold value (normalised: case, punctuation, units spacing, Chinese numerals, the small EN↔ZH lexicon
below) and no false fact. The lexicon was written before the first run on the set and is frozen with it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# ------------------------------------------------------------------------------------------ lexicon (frozen with the set)
COLOURS = {
    "red": ["红色", "红"], "blue": ["蓝色", "蓝"], "green": ["绿色", "绿"], "black": ["黑色", "黑"], "white": ["白色", "白"], "silver": ["银色"],
    "gold": ["金色"], "grey": ["灰色"], "gray": ["灰色"], "pink": ["粉色", "粉红"], "purple": ["紫色"], "brown": ["棕色", "褐色", "咖啡色"],
    "yellow": ["黄色"], "orange": ["橙色", "橘色"], "beige": ["米色"], "navy": ["藏青", "海军蓝"], "ivory": ["象牙白"], "chrome": ["镀铬"],
    "bronze": ["青铜色", "古铜色"], "clear": ["透明"], "multicolor": ["多色", "彩色"],
}
GENRES = {
    "action": ["动作"], "adventure": ["冒险"], "animation": ["动画"], "children's": ["儿童"], "comedy": ["喜剧"], "crime": ["犯罪"],
    "documentary": ["纪录"], "drama": ["剧情"], "fantasy": ["奇幻", "魔幻"], "film-noir": ["黑色电影"], "horror": ["恐怖"],
    "musical": ["歌舞", "音乐剧"], "mystery": ["悬疑", "推理"], "romance": ["爱情", "浪漫"], "sci-fi": ["科幻"], "thriller": ["惊悚"],
    "war": ["战争"], "western": ["西部"],
}
WORDS = {  # other attribute words a Chinese answer may translate
    "steel": ["钢"], "stainless": ["不锈"], "plastic": ["塑料"], "wood": ["木"], "cotton": ["棉"], "polyester": ["涤纶", "聚酯"], "leather": ["皮"],
    "aluminum": ["铝"], "glass": ["玻璃"], "rubber": ["橡胶"], "silicone": ["硅胶"], "metal": ["金属"], "nylon": ["尼龙"], "male": ["男"],
    "female": ["女"], "unisex": ["男女通用", "中性", "通用"], "women": ["女"], "men": ["男"], "kid": ["儿童", "孩子", "小孩"], "kids": ["儿童", "孩子"],
    "adult": ["成人"], "wireless": ["无线"], "wired": ["有线"], "round": ["圆"], "rectangular": ["长方", "矩形"], "square": ["方"], "quartz": ["石英"],
    "automatic": ["自动"], "analog": ["指针", "模拟"], "digital": ["数字", "数显"], "battery": ["电池"], "powered": ["供电", "驱动"],
    "tablet": ["片"], "powder": ["粉"], "liquid": ["液"], "capsule": ["胶囊"], "lotion": ["乳液"], "grape": ["葡萄"], "large": ["大"],
    "small": ["小"], "medium": ["中"], "little": ["小"], "full": ["全"], "led": ["led"],
}
ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
NOT_STATED = [
    r"\b(?:does|do|did) ?(?:not|n't) (?:say|state|list|mention|include|specify|show|give|contain|tell|have (?:that|this|any|a|an))",
    r"\b(?:doesn|don|didn)'?t (?:say|state|list|mention|include|specify|show|give|contain|tell|have (?:that|this|any|a|an))",
    r"\bnot (?:stated|listed|specified|mentioned|given|recorded|known|provided|included|in (?:the|our) catalog)",
    r"\bno (?:information|info|data|details?|record|mention|entry)\b", r"\b(?:can't|cannot|can not|couldn't|unable to) (?:find|tell|say|confirm|answer)",
    r"\bunknown\b", r"\bnone of (?:them|these|those|the)\b", r"\bi don'?t know\b", r"\bnot available\b",
    r"没有?写明", r"没写", r"没有?注明", r"未注明", r"未?标明", r"没有?标注", r"未标注", r"没有?提[到及]", r"未提及", r"没有?说明", r"未说明",
    r"没有相关", r"没有这(?:方面|项|个信息)", r"不清楚", r"无法确定", r"查不到", r"没有记录", r"未列出", r"没有?列出", r"没有?提供", r"未提供",
    r"都不是", r"没有(?:找到|查到)", r"不知道", r"没有(?:该|此)(?:信息|属性)", r"未知",
]
_NS = re.compile("|".join(NOT_STATED), re.IGNORECASE)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_NUM = re.compile(r"(?<![A-Za-z0-9_.])(\d+(?:\.\d+)?)\.?(?![\d])")
_ZH_RUN = re.compile(r"[零〇一二两三四五六七八九十百千]+")


# ------------------------------------------------------------------------------------------ normalisation
def zh_numeral(run: str) -> int | None:
    """'一九九五' → 1995, '十二' → 12, '一百二十' → 120."""
    if not any(c in ZH_UNITS for c in run):
        return int("".join(str(ZH_DIGITS[c]) for c in run)) if all(c in ZH_DIGITS for c in run) else None
    total, cur = 0, 0
    for c in run:
        if c in ZH_DIGITS:
            cur = ZH_DIGITS[c]
        else:
            total += (cur or 1) * ZH_UNITS[c]
            cur = 0
    return total + cur


def normalise(text: str, zh_numbers: str = "long") -> str:
    """Case, full-width forms, '&', spacing between a number and its unit; Chinese numerals → digits
    ('long': only runs of 3+ characters or with 百/千, as in 一九九五年; 'all': every run)."""
    t = text.casefold().replace("＆", "&").replace("&", " and ")
    t = "".join(chr(ord(c) - 0xFEE0) if 0xFF01 <= ord(c) <= 0xFF5E else c for c in t)

    def conv(m: re.Match) -> str:
        run = m.group()
        if zh_numbers == "long" and len(run) < 3 and not any(c in "百千" for c in run):
            return run
        n = zh_numeral(run)
        return f" {n} " if n is not None else run

    t = _ZH_RUN.sub(conv, t)
    t = re.sub(r"(\d)\s+([a-z%])", r"\1\2", t)
    return re.sub(r"\s+", " ", t)


def numbers(text: str) -> list[float]:
    """Every Arabic number in already-normalised text."""
    return [float(m) for m in _NUM.findall(text)]


def _word_in(term: str, text: str) -> bool:
    """Term in text as a whole word (ASCII terms) or as a substring (Chinese terms)."""
    if _CJK.search(term):
        return term in text
    return re.search(rf"(?<![a-z0-9]){re.escape(term)}(?![a-z0-9])", text) is not None


def _plain(v: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w.%'/-]+", " ", normalise(v, "all"))).strip(" .")


def _as_number(v: str) -> float | None:
    try:
        return float(v.strip().rstrip("."))
    except ValueError:
        return None


def states_value(answer: str, values: Sequence[str]) -> bool:
    """Whether the answer states every gold value (numbers by value; strings verbatim or through the EN↔ZH lexicon)."""
    text = normalise(answer, "all")
    plain = _plain(answer)
    nums = numbers(text)
    for v in values:
        n = _as_number(str(v))
        if n is not None:
            if not any(abs(n - x) < 1e-6 for x in nums):
                return False
            continue
        pv = _plain(str(v))
        if pv and (_word_in(pv, plain) or _word_in(pv.replace("-", " "), plain.replace("-", " "))):
            continue
        tokens = [t for t in re.split(r"[\s/,-]+", pv) if t]
        lex = {**COLOURS, **GENRES, **WORDS}
        if tokens and all(_word_in(t, plain) or any(z in text for z in lex.get(t, [])) or (pv in lex and any(z in text for z in lex[pv])) for t in tokens):
            continue
        if pv in lex and any(z in text for z in lex[pv]):
            continue
        return False
    return True


def says_not_stated(answer: str) -> bool:
    """The text says the catalog does not give it (EN and ZH wordings, written for this grader)."""
    return _NS.search(answer) is not None


# Added after the first dev run (2026-12-06 21:15), reported BESIDE the strict figures, never instead of them:
# wordings of "not stated" the strict list missed, and counts of the products shown ("of the 2 products").
NOT_STATED_EXTRA = [r"没有给出", r"没有可以直接对比", r"\bno (?:comparable|common) (?:values?|fields?)\b", r"\bdoes(?: not|n't) give\b"]
_NS_LENIENT = re.compile("|".join(NOT_STATED + NOT_STATED_EXTRA), re.IGNORECASE)
_COUNT = re.compile(r"(?:\b(?:of the|of these|these|all|the) (\d{1,2}) ?(?:products|items|films|movies)\b|(\d{1,2}) ?(?:件|部|个)商品)")
_QUOTE = re.compile(r"「[^」]*」|《[^》]*》|“[^”]*”|\"[^\"]*\"")


def says_not_stated_lenient(answer: str) -> bool:
    """says_not_stated plus wordings added after the first run (reported beside the strict rate)."""
    return _NS_LENIENT.search(answer) is not None


def false_facts_lenient(answer: str, records: Sequence[dict], messages: Sequence[str], lexicon: Lexicon, faq: str = "") -> list[str]:
    """false_facts, minus the counts of products an answer states ("of the 2 products with a year"); reported beside."""
    counts = {float(a or b) for a, b in _COUNT.findall(normalise(answer, "long"))}
    return [f for f in false_facts(answer, records, messages, lexicon, faq) if not (f.startswith("number:") and float(f[7:]) in counts)]


def answer_language_lenient(answer: str, quoted: Iterable[str] = ()) -> str:
    """answer_language with quoted spans (「…」, 《…》, "…") and attribute key names (snake_case words or their spaced
    forms, passed in `quoted`) also set aside; reported beside the strict agreement."""
    return answer_language(_QUOTE.sub(" ", answer), quoted)


def answer_language(answer: str, quoted: Iterable[str] = ()) -> str:
    """'zh' or 'en' for the answer's own words (product titles and catalog values quoted in it set aside)."""
    t = answer
    for q in sorted({q for q in quoted if q and len(q) >= 2}, key=len, reverse=True):
        t = t.replace(q, " ")
    cjk = len(_CJK.findall(t))
    latin = len(re.findall(r"[A-Za-z]", t))
    return "zh" if cjk >= 2 and cjk * 3 >= latin else "en"


# ------------------------------------------------------------------------------------------ products named in the answer
def title_keys(record: dict) -> list[str]:
    """Strings whose presence in an answer names this product: its title, its core title ('The X' for 'X, The'),
    and for long titles their first clause / first five words."""
    title = record.get("title") or ""
    keys = {title.casefold().strip()}
    m = re.match(r"^(.*), (the|a|an)$", title, re.IGNORECASE)
    if m:
        keys |= {m.group(1).casefold(), f"{m.group(2)} {m.group(1)}".casefold()}
    first = re.split(r"[,(]| - ", title)[0].strip()
    if len(first) >= 4:
        keys.add(first.casefold())
    words = title.split()
    if len(words) > 6:
        keys.add(" ".join(words[:5]).casefold())
    return [k for k in keys if len(k) >= 3]


def mentioned(answer: str, records: Sequence[dict]) -> list[str]:
    """Ids of the given products the answer names, in order of first mention (longest key wins at a position)."""
    text = answer.casefold()
    pos: dict[str, int] = {}
    for r in records:
        hits = [text.find(k) for k in title_keys(r) if k in text]
        if hits:
            pos[r["id"]] = min(hits)
    return sorted(pos, key=pos.get)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ false facts
@dataclass
class Lexicon:
    """Catalog-wide strings that state a fact when they appear in an answer: brands and attribute value strings
    (minus strings common in product titles, which an answer uses as plain words)."""

    brands: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)

    @classmethod
    def from_records(cls, records: Iterable[dict]) -> Lexicon:
        records = list(records)
        grams: Counter[str] = Counter()
        for r in records:
            w = re.findall(r"[a-z0-9']+", (r.get("title") or "").casefold())
            grams.update(set(w) | {" ".join(w[i:i + 2]) for i in range(len(w) - 1)} | {" ".join(w[i:i + 3]) for i in range(len(w) - 2)})
        common = {g for g, c in grams.items() if c > 20}
        skip = set(COLOURS) | set(GENRES) | set(WORDS) | common
        brands, values = set(), set()
        for r in records:
            b = (r.get("brand") or "").strip().casefold()
            if len(b) >= 4 and re.search(r"[a-z\u4e00-\u9fff]", b) and b not in skip:
                brands.add(b)
            for v in (r.get("attributes") or {}).values():
                for s in v if isinstance(v, list) else [v]:
                    s = str(s).strip().casefold()
                    if 5 <= len(s) <= 40 and re.search(r"[a-z]{4}", s) and not re.fullmatch(r"[\d.\s]+", s) and s not in skip:
                        values.add(s)
        return cls(sorted(brands), sorted(values))


def _evidence_text(records: Iterable[dict], messages: Iterable[str], extra: str = "") -> str:
    body = [json.dumps(r, ensure_ascii=False, default=str) for r in records] + list(messages) + [extra]
    return normalise("\n".join(body), "long")


def false_facts(answer: str, records: Sequence[dict], messages: Sequence[str], lexicon: Lexicon, faq: str = "") -> list[str]:
    """Facts the answer states that no evidence record, message or the FAQ holds."""
    text = normalise(answer, "long")
    ev = _evidence_text(records, messages, faq)
    ev_nums = set(numbers(ev))
    bad: list[str] = []
    listing = re.compile(r"(?m)^\s*\d{1,2}[.)、]\s")
    for x in numbers(listing.sub(" ", text)):
        if x not in ev_nums:
            bad.append(f"number:{x:g}")
    for en, zhs in COLOURS.items():
        said = _word_in(en, text) or any(z in text for z in zhs if len(z) >= 2)
        if said and not (_word_in(en, ev) or any(z in ev for z in zhs if len(z) >= 2)):
            bad.append(f"colour:{en}")
    if any("genres" in (r.get("attributes") or {}) for r in records):
        for en, zhs in GENRES.items():
            said = _word_in(en, text) or any(z in text for z in zhs)
            if said and not (_word_in(en, ev) or any(z in ev for z in zhs)):
                bad.append(f"genre:{en}")
    for b in lexicon.brands:
        if b in text and _word_in(b, text) and not _word_in(b, ev):
            bad.append(f"brand:{b}")
    for v in lexicon.values:
        if v in text and _word_in(v, text) and v not in ev:
            bad.append(f"value:{v}")
    return bad
