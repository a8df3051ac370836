"""Builds the intent classifier's labelled set from real catalog data in shared/data (never from the bench set).

Product phrases come from Home Depot titles (even rows), MovieLens titles and OpenBG Taobao titles/attributes;
real shopper questions from hetPQA's *train* split; attribute names from semiPQA's test-seen split. The
phrasings around them are this file's own (the bench uses different ones and other data splits).

    python -m shopmind.assistant.trainset /path/to/shared/data   # rewrites intent_train.jsonl
"""

from __future__ import annotations

import csv
import json
import logging
import random
import re
import sys
from pathlib import Path

from shopmind.assistant.factcheck import COLOURS

logger = logging.getLogger(__name__)

EN = {
    "find": ["do you have {p}", "i'm looking for {p}", "show me {p}", "{p}", "i need {p} under ${n}", "find me {p}",
             "looking for a {c} {p}", "{p} below {n} dollars", "where can i find {p}", "i want to buy {p}",
             "get me {p} by {b}", "any {p} for less than {n}?", "search for {p}", "do you sell {p}?", "need a {p} around ${n}",
             "i would like {p}", "{c} {p} please", "can you find {p} from {b}", "what {p} do you have", "{p} between {n} and {m} dollars"],
    "refine": ["cheaper", "anything cheaper?", "show me cheaper ones", "less expensive please", "something more expensive",
               "in {c}", "do you have it in {c}?", "other brands", "a different brand please", "not {b}", "a bigger one",
               "smaller please", "only in stock ones", "under {n} instead", "what about in {c}", "cheaper than that",
               "same but {c}", "can i see ones under ${n}", "only {b}", "show me the {c} ones", "too expensive", "any other options?"],
    "ask": ["what colour is it", "what's it made of?", "is it in stock", "how much does it cost", "what size is it",
            "how much does it weigh", "what brand is this", "is it {c}?", "what is the {a} of this", "does it come in size {n}?",
            "does the first one have {a}?", "how big is the second one", "what are the dimensions", "does it need batteries?",
            "tell me the {a}", "what's the price of the first one", "is the third one available", "what material is the second one",
            "how many are left", "what's the {a}?", "can you tell me more about the first one", "is this {b}?"],
    "compare": ["compare the first two", "what's the difference between the first and second", "which is cheaper, the first or the second?",
                "{p} vs {q}", "which one is better", "compare them", "how does the first compare to the third", "first or second, which is lighter?",
                "is the second one better than the first?", "{p} or {q}?"],
    "recommend": ["something to go with it", "what goes well with this", "any recommendations?", "what else do you recommend",
                  "show me similar items", "what would you suggest for {p}", "what do people buy with this?", "accessories for this",
                  "recommend me something", "anything similar to the first one?", "what pairs well with {p}", "suggest a gift"],
    "faq": ["how long does shipping take", "can i return it", "what is your return policy", "do you ship internationally",
            "how do i track my order", "can i cancel my order", "do you accept paypal", "is there a warranty",
            "how can i contact customer service", "how do i get a refund", "when will my order arrive", "what payment methods do you take",
            "how much is delivery", "can i change my shipping address", "do you offer free shipping", "i want to talk to a human"],
    "chitchat": ["hi", "hello there", "thanks!", "thank you so much", "bye", "good morning", "who are you", "you're helpful",
                 "ok", "great, thanks", "how are you", "nice", "what can you do?", "hey"],
    "out_of_scope": ["what's the weather tomorrow", "tell me a joke", "who won the football game", "write a poem about cats",
                     "what is the capital of france", "help me with my homework", "translate this sentence", "book a flight to paris",
                     "what time is it", "who is the president", "solve 12 times 7", "what's the meaning of life", "play some music",
                     "how do i fix my car engine", "what's bitcoin trading at", "who wrote hamlet", "how far is the moon",
                     "what's a good name for my dog", "can you do my taxes", "summarize this article for me", "how many calories in an apple",
                     "what year did world war two end", "recommend a good stock to invest in", "what's the score of the game",
                     "how do i get to the airport", "tell me a story", "what is love", "how old is the universe", "write some python code",
                     "what should i cook for dinner", "is it going to snow", "who is the richest person", "how do vaccines work",
                     "what language is spoken in brazil", "convert 5 miles to km", "what's the population of china", "set an alarm for 7am",
                     "explain the theory of relativity", "what movies are playing in theaters", "how do i lose weight", "sing me a song"],
}
ZH = {
    "find": ["有没有{p}", "我想买{p}", "帮我找{p}", "{p}", "{n}元以内的{p}", "给我看看{p}", "{c}的{p}", "想要{b}的{p}",
             "{p}有吗", "推荐几款{p}，{n}块以下", "找一下{p}", "我要{p}", "{n}到{m}元的{p}", "有{c}{p}吗", "搜一下{p}"],
    "refine": ["便宜点的", "有没有便宜一点的", "再便宜点", "换个牌子", "换个颜色", "有{c}的吗", "要{c}的", "不要{b}的",
               "贵一点的也行", "{n}元以下的呢", "大一点的", "小一点的", "只看有货的", "还有别的吗", "太贵了"],
    "ask": ["这个是什么颜色", "是什么材质的", "有货吗", "多少钱", "尺码多大", "重量是多少", "什么牌子的", "是{c}的吗", "{a}是什么",
            "第一个的{a}是什么", "第二个有货吗", "这款的{a}呢", "有{n}码的吗", "第三个多少钱", "这件衣服的{a}是啥", "这个是{b}的吗"],
    "compare": ["比较一下前两个", "第一个和第二个有什么区别", "哪个更便宜", "{p}和{q}哪个好", "对比一下这两款", "第一个跟第三个比怎么样", "这两个有啥区别"],
    "recommend": ["有什么可以搭配的", "推荐一下", "配什么好", "有类似的吗", "还有什么推荐", "买了这个还需要什么", "给我推荐点{p}", "和这个搭配的配件", "送礼推荐什么"],
    "faq": ["多久发货", "可以退货吗", "退货政策是什么", "运费多少", "怎么查订单", "可以取消订单吗", "支持支付宝吗", "保修多久",
            "怎么联系客服", "怎么退款", "什么时候能到", "包邮吗", "能改地址吗", "转人工"],
    "chitchat": ["你好", "谢谢", "再见", "在吗", "你是谁", "好的谢谢", "早上好", "你能做什么", "辛苦了", "哈哈"],
    "out_of_scope": ["今天天气怎么样", "讲个笑话", "帮我写首诗", "北京是哪个国家的首都", "帮我做作业", "翻译一下这句话",
                     "订一张机票", "现在几点了", "股票涨了吗", "人生的意义是什么", "放首歌", "一加一等于几", "谁写了红楼梦", "月亮离地球多远",
                     "帮我给狗起个名字", "帮我报税", "总结一下这篇文章", "苹果有多少卡路里", "二战哪年结束的", "推荐一只股票", "比赛比分多少",
                     "去机场怎么走", "给我讲个故事", "什么是爱情", "宇宙有多大年纪", "帮我写段代码", "晚饭吃什么好", "会下雪吗", "世界首富是谁",
                     "疫苗是怎么起作用的", "巴西说什么语言", "五英里是多少公里", "中国有多少人口", "定一个七点的闹钟", "解释一下相对论", "最近有什么电影上映",
                     "怎么减肥", "唱首歌给我听"],
}


def _hd_phrases(shared: Path, k: int, rng: random.Random) -> tuple[list[str], list[str]]:
    titles, brands = [], []
    with open(shared / "search/homedepot/products.jsonl", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i % 2 == 0:
                titles.append(json.loads(line)["title"])
    rng.shuffle(titles)
    phrases = []
    for t in titles[:k]:
        words = [w for w in re.sub(r"\(.*?\)", "", t).split() if not re.search(r"\d", w)]
        brands.append(words[0] if words else "")
        tail = " ".join(words[-rng.randint(1, 3):]).lower().strip(" ,-")
        if tail:
            phrases.append(tail)
    return phrases, [b for b in brands if len(b) > 2]


def _movies(shared: Path) -> list[str]:
    rows = (shared / "ml-100k/ml-100k.item").read_text(encoding="latin-1").splitlines()[1:]
    return [r.split("\t")[1] for r in rows if "\t" in r]


def _openbg(shared: Path) -> tuple[list[str], list[str], list[str]]:
    phrases, brands, attrs = [], [], []
    import jieba

    path = shared / "ecomgpt/data__ecom_instruct_v1__OpenBG_Align__tasks__ZH-OpenBG_Align-CLS-item_coarse_classify__test.json"
    for line in path.read_text(encoding="utf-8").splitlines():
        title, _, attr = json.loads(line)["sentences"].partition("\t")
        toks = [t for t in jieba.cut(title) if t.strip() and not re.search(r"\d", t)]
        if toks:
            phrases.append("".join(toks[-2:]))
        for pair in attr.split("#;#"):
            key, _, val = pair.partition("#:#")
            if key == "品牌" and val:
                brands.append(val.split("/")[-1])
            elif key and len(key) <= 4 and not re.search(r"\d", key):
                attrs.append(key)
    return phrases, brands, sorted(set(attrs))


def het_questions(shared: Path) -> list[str]:
    """Real shopper questions from hetPQA answer generation TRAIN (the split no bench reads)."""
    csv.field_size_limit(10**8)
    with open(shared / "productqa/hetPQA__answer_generation__train.csv", encoding="utf-8") as f:
        return sorted({r["question"] for r in csv.DictReader(f, delimiter="\t")})


def _attr_names(shared: Path) -> list[str]:
    csv.field_size_limit(10**8)
    names = set()
    with open(shared / "productqa/semiPQA__attribute_ranking__testseen.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            names.add(r["candidate"].split(":")[0].strip().replace("_", " "))
    return sorted(names)


FOCUS = {"refine": True, "ask": True, "compare": True, "recommend": True}


def build(shared: Path, per_template: int = 14, seed: int = 7) -> list[dict]:
    """The labelled rows: {text, intent, lang, focus, source}."""
    rng = random.Random(seed)
    en_p, en_b = _hd_phrases(shared, 3000, rng)
    en_p += [m.lower() for m in _movies(shared)[::3]]
    zh_p, zh_b, zh_a = _openbg(shared)
    en_a = _attr_names(shared)
    en_c = [s for spells in COLOURS.values() for s in spells if s.isascii()]
    zh_c = [s for spells in COLOURS.values() for s in spells if not s.isascii() and s.endswith("色")]
    rows: list[dict] = []
    for lang, bank, P, B, A, C in (("en", EN, en_p, en_b, en_a, en_c), ("zh", ZH, zh_p, zh_b, zh_a, zh_c)):
        for intent, templates in bank.items():
            for tpl in templates:
                n = per_template if "{" in tpl else 2
                for _ in range(n):
                    a, b = sorted(rng.sample(range(5, 2000), 2))
                    text = tpl.format(p=rng.choice(P), q=rng.choice(P), b=rng.choice(B), a=rng.choice(A), c=rng.choice(C), n=a, m=b)
                    focus = FOCUS.get(intent, False) if rng.random() < 0.85 else not FOCUS.get(intent, False)
                    if intent in ("find", "faq", "chitchat", "out_of_scope"):
                        focus = rng.random() < 0.3
                    rows.append({"text": text, "intent": intent, "lang": lang, "focus": focus, "source": "template"})
    for q in rng.sample(het_questions(shared), 700):
        rows.append({"text": q, "intent": "ask", "lang": "en", "focus": True, "source": "hetPQA-train"})
    rng.shuffle(rows)
    return rows


def attribute_associations(shared: Path, min_pos: int = 2) -> dict[str, dict[str, float]]:
    """Question word → attribute-name word weights from semiPQA's *test* splits (labelled answering attribute
    among each product's attributes): log of how much more often the word's questions pick that attribute."""
    import math
    from collections import Counter

    from shopmind.text.tokenize import tokenize

    pos: Counter[tuple[str, str]] = Counter()
    neg: Counter[tuple[str, str]] = Counter()
    for split in ("testseen", "testunseen"):
        with open(shared / f"productqa/semiPQA__attribute_ranking__{split}.csv", encoding="utf-8") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
        for r in rows:
            words = set(tokenize(r["question"]))
            key_toks = set(tokenize(r["candidate"].split(":")[0].replace("_", " ")))
            bucket = pos if r["label"] == "1" else neg
            for w in words:
                for k in key_toks:
                    bucket[(w, k)] += 1
    base = sum(pos.values()) / max(sum(pos.values()) + sum(neg.values()), 1)
    out: dict[str, dict[str, float]] = {}
    for (w, k), c in pos.items():
        if c < min_pos:
            continue
        weight = math.log((c + 0.1) / (c + neg[(w, k)] + 1.0)) - math.log(base)
        if weight > 0.5:
            out.setdefault(w, {})[k] = round(weight, 3)
    return out


def main(argv: list[str]) -> None:
    shared = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[4] / "shared" / "data"
    rows = build(shared)
    out = Path(__file__).with_name("intent_train.jsonl")
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    logger.info("wrote %d rows to %s", len(rows), out)
    assoc = attribute_associations(shared)
    Path(__file__).with_name("attr_assoc.json").write_text(json.dumps(assoc, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    logger.info("wrote %d question-word → attribute-word weights to attr_assoc.json", sum(len(v) for v in assoc.values()))


if __name__ == "__main__":
    from shopmind.logs import setup_logging

    setup_logging()
    main(sys.argv)
