"""Assistant bench: ≥ 300 chat turns (≥ 100 Chinese) generated from the real catalogs in shared/data, each
with a known answer, run through `Assistant.chat` over a shop built from all of those catalogs.

Catalogs: every search set under shared/data/search (products + real queries + qrels; a set added later in
the same format joins automatically), MovieLens-100K items, OpenBG (ecomgpt) Taobao items with brands and
attributes, MEPAVE (ecomgpt) JD texts with labelled attribute spans, ePQA and semiPQA (productqa) Amazon
products with attributes and real shopper questions whose answering attribute is labelled, and the four
hetPQA toys with a real list price.

Metrics (overall and per language):
- intent_accuracy over all turns; slot_f1 (micro) over turns whose gold slots are known, on the slot names
  each turn declares (price, brand, attributes, colour, aspect, refine, references);
- fact_accuracy over turns with a known answer: the value from the labelled catalog field (with that
  field as its source; for real shopper questions also another field of the product with the identical text,
  reported apart as fact_accuracy_labelled_fields), "the catalog does not say" where the catalog lacks it, the right FAQ section,
  a correct refinement (cheaper & same category / other brand), a comparison citing both products;
- hallucinated_facts: numbers, sizes, colours and brands in the final text that no record shown or cited,
  the FAQ or the shopper's message contains (checked from the raw records, independently of the answer);
- find_hit@5 on the search sets' real queries (a product with the set's grade ≥ 2 in the cards);
- p50/p95 latency per turn.
The intent classifier never sees these phrasings or data splits (it trains on intent_train.jsonl; see
shopmind.assistant.trainset).

    nice python bench/assistant.py --json [--backend none] [--backend openai://127.0.0.1:8080/v1 --limit 60]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

from shopmind.assistant import Assistant, ChatResponse
from shopmind.assistant import datasets as ds
from shopmind.assistant.factcheck import FactChecker
from shopmind.domain import Product
from shopmind.engine import ShopMind

REPO = Path(__file__).resolve().parents[1]
csv.field_size_limit(10**8)


@dataclass
class Turn:
    lang: str
    message: str
    intent: str
    kind: str
    gold: set[tuple[str, str]] | None = None  # gold slot pairs (None: slots not scored)
    scored: tuple[str, ...] = ()  # slot-name prefixes this turn scores
    setup: list[str] = field(default_factory=list)
    product_id: str | None = None
    answer: tuple | None = None  # ("value", field, value) | ("any_value", ((field, value), …), field, value) | ("unknown",) | ("faq", heading) | ("cheaper",) | ("other_brand",) | ("compare",)
    qrels: dict[str, int] | None = None


# ------------------------------------------------------------------------------------------ catalogs
def discover_search_sets(data: Path) -> list[Path]:
    root = data / "search"
    return sorted(d for d in root.iterdir() if d.is_dir() and all((d / f).exists() for f in ("products.jsonl", "queries.tsv", "qrels.tsv")))


def semipqa(data: Path, limit: int, rng: random.Random) -> tuple[list[Product], list[ds.Question]]:
    """semiPQA dev: one product per question (its attribute set) and the labelled answering attribute."""
    with open(data / "productqa/semiPQA__attribute_ranking__dev.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    by: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by[r["qid"]].append(r)
    products, questions = [], []
    for qid in sorted(by, key=int):
        attrs, answer, every = {}, None, []
        for r in by[qid]:
            k, v = ds._parse_candidate(r["candidate"])
            if v and v.lower() not in ("true", "false") and len(v) < 120:
                attrs[k] = v
                if r["label"] == "1":
                    answer = (k, v)
                    every.append((k, v))
        if not answer or answer[0] == "brand":
            continue
        brand = attrs.pop("brand", None)
        # semiPQA gives no titles: the product is named by its data-set id (an identifier, not a claim)
        pid = f"spqa-{qid}"
        products.append(Product(id=pid, title=f"semiPQA item {qid}" + (f" by {brand}" if brand else ""), brand=brand, attributes=attrs, language="en"))
        questions.append(ds.Question(pid, by[qid][0]["question"], answer[0], answer[1], tuple(every)))
    pick = sorted(rng.sample(range(len(products)), min(limit, len(products))))
    return [products[i] for i in pick], [questions[i] for i in pick]


def build_shop(data: Path, home: Path, rng: random.Random) -> tuple[ShopMind, dict]:
    cat: dict = {"sets": {}}
    products: list[Product] = []
    for d in discover_search_sets(data):
        ps = ds.read_products(d / "products.jsonl")
        lang = "zh" if sum(1 for p in ps[:200] if re.search(r"[\u4e00-\u9fff]", p.title)) > 100 else "en"
        cat["sets"][d.name] = {"lang": lang, "queries": ds.queries(d / "queries.tsv"), "qrels": ds.qrels(d / "qrels.tsv")}
        products += ps
    cat["movies"] = ds.movies(data)
    cat["openbg"] = ds.openbg_products(data)
    cat["mepave"] = ds.mepave(data)
    cat["epqa"], cat["epqa_q"] = ds.epqa(data)
    cat["semipqa"], cat["semipqa_q"] = semipqa(data, 80, rng)
    cat["toys"] = ds.priced_toys(data)
    products += cat["movies"] + cat["openbg"] + [p for p, _ in cat["mepave"]] + cat["epqa"] + cat["semipqa"] + cat["toys"]
    shop = ShopMind.open(home, search={"stages": {"dense": False}})  # BM25 + understanding; dense off keeps the build bounded
    shop.catalog.upsert(products)
    t0 = time.perf_counter()
    shop.build(["search"])
    cat["build_s"] = time.perf_counter() - t0
    cat["n_products"] = len(products)
    return shop, cat


# ------------------------------------------------------------------------------------------ turns
EN_FIND = ["{q}", "can you show me {q}", "i'm shopping for {q}", "got any {q}?", "{q} please", "i'd love to see some {q}"]
EN_PRICE = [("{q} for under ${n}", "price_max"), ("{q} less than {n} dollars", "price_max"), ("{q} over ${n}", "price_min"), ("{q} at most {n} dollars", "price_max")]
ZH_FIND = ["{q}", "我在找{q}", "有{q}卖吗", "帮我看看{q}", "想买{q}"]
ZH_PRICE = [("{q}，{n}元以内", "price_max"), ("{n}块以下的{q}", "price_max"), ("{q} {n}元以上", "price_min")]
EN_FAQ = [("what's your policy on sending items back?", "Returns"), ("how quickly will my parcel get here?", "Shipping"),
          ("which cards can i pay with?", "Payment"), ("is there any guarantee if it breaks?", "Warranty"),
          ("how can i reach customer service?", "Contact"), ("can i still cancel my order?", "Order"),
          ("could i swap it for another size?", "Exchanges"), ("do you charge for delivery?", "Shipping"),
          ("how do refunds work?", "Returns"), ("where can i track my order?", "Order"), ("do you take paypal or credit cards?", "Payment"),
          ("what happens if the item arrives broken, is there a warranty?", "Warranty"), ("can i exchange an item?", "Exchanges"),
          ("what is the phone number of your support?", "Contact"), ("when will my delivery arrive?", "Shipping")]
ZH_FAQ = [("退换货怎么处理？", "Returns"), ("下单后几天能收到？", "Shipping"), ("能用信用卡付款吗？", "Payment"), ("坏了可以保修吗", "Warranty"),
          ("客服电话是多少", "Contact"), ("订单能取消吗", "Order"), ("尺码不合适能换货吗", "Exchanges"), ("运费怎么算", "Shipping"),
          ("退款多久到账", "Returns"), ("我的订单到哪了", "Order"), ("可以用微信支付吗", "Payment"), ("质保期是多久", "Warranty"),
          ("想换一个尺码", "Exchanges"), ("怎么找人工客服", "Contact"), ("什么时候发货", "Shipping")]
EN_CHAT = ["hey there", "cheers, that's all", "good evening!", "thank you very much", "see you later", "hello!", "thanks a lot", "good morning"]
ZH_CHAT = ["您好", "谢谢啦", "拜拜", "早上好", "你好呀", "多谢", "晚上好", "谢谢你"]
EN_OOS = ["who will win the election?", "can you write my essay", "how tall is mount everest", "what's 15 squared",
          "give me a cake recipe", "what's in the news today", "how do i learn python", "explain quantum physics to me"]
ZH_OOS = ["明天会下雨吗", "帮我写一篇作文", "珠穆朗玛峰有多高", "十五的平方是多少", "教我做蛋糕", "今天有什么新闻", "怎么学编程", "给我讲讲量子力学"]


def _noun_zh(title: str) -> str:
    import jieba

    toks = [t for t in jieba.cut(title) if t.strip() and not re.search(r"[\d\W]", t)]
    return toks[-1] if toks else title[-2:]


def make_turns(cat: dict, rng: random.Random) -> list[Turn]:
    turns: list[Turn] = []
    # -- find: real queries of every search set, relevance from the set's own labels
    for name, s in cat["sets"].items():
        zh = s["lang"] == "zh"
        qids = sorted(q for q in s["qrels"] if q in s["queries"] and max(s["qrels"][q].values()) >= 2)
        for i, q in enumerate(rng.sample(qids, min(120 if zh else 90, len(qids)))):
            text = s["queries"][q]
            gold: set[tuple[str, str]] = set()
            if i % 4 == 0:
                tpl, slot = rng.choice(ZH_PRICE if zh else EN_PRICE)
                n = rng.choice([20, 50, 99, 150, 200, 300, 500])
                msg = tpl.format(q=text, n=n)
                gold.add((slot, f"{n:g}"))
            else:
                msg = rng.choice(ZH_FIND if zh else EN_FIND).format(q=text)
            turns.append(Turn("zh" if zh else "en", msg, "find", f"find:{name}", gold, ("price_min", "price_max"), qrels=s["qrels"][q]))
    # -- ZH find by attribute value (MEPAVE spans are the gold attribute slots)
    for prod, spans in rng.sample(cat["mepave"], 30):
        typ, terms = rng.choice(sorted(spans.items()))
        noun = _noun_zh(prod.title)
        if terms[0] in noun or len(terms[0]) < 2:
            continue
        msg = rng.choice(["有没有{v}的{n}", "想要{v}的{n}", "找一款{v}{n}"]).format(v=terms[0], n=noun)
        turns.append(Turn("zh", msg, "find", "find:attribute", {(f"attr:{typ}", terms[0].casefold())}, ("attr:",)))
    # -- ask: real shopper questions (ePQA, semiPQA dev) with the labelled answering attribute
    # Every attribute the data labels as answering counts (15 of the 62 ePQA questions label two or three);
    # the single label kept before that fix is still scored apart (fact_accuracy_single_label).
    # A different attribute of the same product holding the very same text (sport_type and recommended_uses both
    # "camping hiking mountaineering …") states the same fact: it counts in fact_accuracy, not in
    # fact_accuracy_labelled_fields. Bare numbers never do: item_weight 0.25 and package_weight 0.25 are two facts.
    by_id = {p.id: p for p in cat["epqa"] + cat["semipqa"]}
    for q in cat["epqa_q"] + cat["semipqa_q"]:
        accepted = tuple((_answer_field(k), v) for k, v in (q.alternatives or ((q.answer_key, q.answer_value),)))
        values = {_norm_value(v) for _, v in accepted}
        same = tuple((f"attributes.{k}", str(v)) for k, v in by_id[q.product_id].attributes.items()
                     if _norm_value(str(v)) in values and re.search(r"[a-z]{3}", _norm_value(str(v))) and (f"attributes.{k}", str(v)) not in accepted)
        turns.append(Turn("en", q.text, "ask", "ask:real-question", product_id=q.product_id,
                          answer=("any_value", accepted, _answer_field(q.answer_key), q.answer_value, same)))
    # -- ask: templated questions with known answers (EN)
    for p in cat["toys"]:
        for msg in ("how much is this one?", "what does it cost?"):
            turns.append(Turn("en", msg, "ask", "ask:price", {("aspect", "price")}, ("aspect",), product_id=p.id, answer=("value", "price", f"{p.price:.2f}")))
    for p in rng.sample(cat["movies"], 15):
        turns.append(Turn("en", rng.choice(["which year did this come out?", "what year is this from?"]), "ask", "ask:attribute", product_id=p.id,
                          answer=("value", "attributes.year", str(p.attributes["year"]))))
    branded = [p for p in cat["epqa"] if p.brand]
    for p in rng.sample(branded, 12):
        turns.append(Turn("en", rng.choice(["who's the maker of this?", "which brand makes it?"]), "ask", "ask:brand", {("aspect", "brand")}, ("aspect",),
                          product_id=p.id, answer=("value", "brand", p.brand)))
    for p in rng.sample(cat["epqa"], 12):
        msg, aspect = rng.choice([("is this available right now?", "stock"), ("how much is it?", "price"), ("what's the price?", "price")])
        turns.append(Turn("en", msg, "ask", f"ask:{aspect}-unknown", {("aspect", aspect)}, ("aspect",), product_id=p.id, answer=("unknown",)))
    # -- ask: ZH (MEPAVE attribute spans; OpenBG brand; price the catalog lacks)
    aspect_zh = {"颜色": "colour", "材质": "material"}
    for prod, spans in rng.sample(cat["mepave"], 60):
        typ, terms = rng.choice(sorted(spans.items()))
        msg = rng.choice(["这件的{t}是什么？", "请问{t}是哪种", "它的{t}是啥样的", "{t}是什么样的？"]).format(t=typ)
        gold = {("aspect", aspect_zh[typ])} if typ in aspect_zh else set()
        turns.append(Turn("zh", msg, "ask", "ask:attribute", gold, ("aspect",), product_id=prod.id, answer=("value", f"attributes.{typ}", terms[0])))
    for p in rng.sample([p for p in cat["openbg"] if p.brand], 20):
        turns.append(Turn("zh", rng.choice(["这是哪个牌子的？", "什么品牌？"]), "ask", "ask:brand", {("aspect", "brand")}, ("aspect",), product_id=p.id,
                          answer=("value", "brand", p.brand)))
    for p in rng.sample(cat["openbg"], 12):
        turns.append(Turn("zh", rng.choice(["这个卖多少钱？", "价格是多少"]), "ask", "ask:price-unknown", {("aspect", "price")}, ("aspect",), product_id=p.id, answer=("unknown",)))
    # -- compare, refine, recommend (multi-turn: a find first, unscored)
    hd = cat["sets"].get("homedepot")
    en_q = [hd["queries"][q] for q in sorted(hd["qrels"])[:400]] if hd else [p.title for p in cat["epqa"][:50]]
    for q in rng.sample(en_q, 10):
        turns.append(Turn("en", rng.choice(["how do the top two differ?", "put the first two side by side", "compare the first and second one"]),
                          "compare", "compare", {("ref", "0"), ("ref", "1")}, ("ref",), setup=[q], answer=("compare",)))
    zh_q = [p.title[:8] for p in rng.sample(cat["openbg"], 10)]
    for q in zh_q:
        turns.append(Turn("zh", rng.choice(["这两个有什么不同", "对比一下前两个", "第一个和第二个比较一下"]), "compare", "compare", {("ref", "0"), ("ref", "1")}, ("ref",), setup=[q], answer=("compare",)))
    toy_q = ["board games puzzles for kids", "kitchen for kid", "glow stars", "case gift for girls and boys", "toys for kids", "games and puzzles"]
    for q in toy_q:
        turns.append(Turn("en", rng.choice(["anything less pricey?", "show me cheaper options", "something more affordable"]), "refine", "refine:cheaper",
                          {("refine", "cheaper")}, ("refine",), setup=[q], answer=("cheaper",)))
    for p in rng.sample(branded, 8):
        turns.append(Turn("en", rng.choice(["show me a different brand", "any other brands?", "i'd prefer another brand"]), "refine", "refine:other_brand",
                          {("refine", "other_brand")}, ("refine",), setup=[" ".join(p.title.split()[:4])], answer=("other_brand",)))
    for p in rng.sample([p for p in cat["openbg"] if p.brand], 12):
        turns.append(Turn("zh", rng.choice(["换个牌子吧", "有别的品牌吗", "换个品牌看看"]), "refine", "refine:other_brand", {("refine", "other_brand")}, ("refine",),
                          setup=[_noun_zh(p.title)], answer=("other_brand",)))
    for p in rng.sample(cat["epqa"], 8):
        turns.append(Turn("en", rng.choice(["what else would pair nicely with this?", "anything that goes along with it?", "suggest something similar"]),
                          "recommend", "recommend", product_id=p.id))
    for p in rng.sample(cat["openbg"], 8):
        turns.append(Turn("zh", rng.choice(["有什么能搭配它的？", "推荐点类似的", "还有什么值得一起买的"]), "recommend", "recommend", product_id=p.id))
    # -- policy FAQ, chit-chat, out of scope
    for msg, sec in EN_FAQ:
        turns.append(Turn("en", msg, "faq", "faq", answer=("faq", sec)))
    for msg, sec in ZH_FAQ:
        turns.append(Turn("zh", msg, "faq", "faq", answer=("faq", sec)))
    turns += [Turn("en", m, "chitchat", "chitchat") for m in EN_CHAT] + [Turn("zh", m, "chitchat", "chitchat") for m in ZH_CHAT]
    turns += [Turn("en", m, "out_of_scope", "out_of_scope") for m in EN_OOS] + [Turn("zh", m, "out_of_scope", "out_of_scope") for m in ZH_OOS]
    return turns


def _norm_value(v: str) -> str:
    """A value as its words (case, punctuation and '&' aside): equal strings state the same fact."""
    return " ".join(re.findall(r"[a-z0-9.]+", v.casefold().replace("&", " ")))


def _answer_field(key: str) -> str:
    """The catalog field an answering attribute lives in (the readers move "brand" to Product.brand)."""
    return "brand" if key == "brand" else f"attributes.{key}"


# ------------------------------------------------------------------------------------------ scoring
def _states(r: ChatResponse, fld: str, value: str) -> bool:
    return any(s.source.field and fld in s.source.field.split(",") and value.casefold() in s.text.casefold() for s in r.sentences)


def fact_correct(t: Turn, r: ChatResponse, before: dict, mode: str = "fact") -> bool:
    """Whether the answer states the known fact with its source. `mode` for real questions: "fact" (a labelled
    answering attribute, or another attribute of the product with the identical value), "labelled" (labelled
    attributes only), "single" (only the one label the readers kept before every labelled attribute counted)."""
    kind = t.answer[0]
    if kind == "value":
        _, fld, value = t.answer
        return _states(r, fld, value)
    if kind == "any_value":
        _, accepted, fld, value, same = t.answer
        if mode == "single":
            return _states(r, fld, value)
        return any(_states(r, f, v) for f, v in accepted + (same if mode == "fact" else ()))
    if kind == "unknown":
        return any(s.source.field == "none" for s in r.sentences) and not any(s.source.field in ("price", "stock") for s in r.sentences)
    if kind == "faq":
        return any(s.source.kind == "faq" and (s.source.section or "").startswith(t.answer[1]) for s in r.sentences)
    if kind == "cheaper":
        cap, cat_ = before.get("price"), before.get("category")
        if cap is not None and not before.get("cheaper_exists"):
            return not r.products  # nothing cheaper in that category: the right answer is "none found"
        return bool(r.products) and cap is not None and all(p.price is not None and p.price < cap and (p.category or "") == (cat_ or "") for p in r.products)
    if kind == "other_brand":
        old = before.get("brands", set())
        return bool(r.products) and bool(old) and not any(p.brand in old for p in r.products)
    if kind == "compare":
        cited = {s.source.product_id for s in r.sentences if s.source.product_id}
        return len(r.products) == 2 and {p.id for p in r.products} <= cited
    return False


def hallucinations(r: ChatResponse, t: Turn, shop: ShopMind, checker: FactChecker, faq_text: str, seen: list[str]) -> list[str]:
    """Claims in the final text that no shown/cited record, the FAQ or the shopper's words contain."""
    ids = {p.id for p in r.products} | {s.source.product_id for s in r.sentences if s.source.product_id} | set(seen)
    records = shop.catalog.get_many(ids)
    evidence = "\n".join([t.message, *t.setup, faq_text] + [json.dumps(p.model_dump(mode="json"), ensure_ascii=False) for p in records.values()])
    bad = []
    for s in r.sentences:
        bad += [f"{c.kind}:{c.value} in {s.text[:80]!r}" for c in checker.unsupported(s.text, evidence)]
    return bad


def prf(tp: int, fp: int, fn: int) -> float:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return 2 * p * r / (p + r) if p + r else 0.0


def run(assistant: Assistant, shop: ShopMind, turns: list[Turn], faq_text: str, prefix: str = "bench") -> dict:
    checker = FactChecker(list(assistant.tools.brands()))
    rows = []
    for i, t in enumerate(turns):
        sid = f"{prefix}-{i}"  # one conversation per turn; sessions live in the shop's database, so each backend has its own
        seen: list[str] = []
        for m in t.setup:
            seen += [p.id for p in assistant.chat(sid, m).products]
        before: dict = {}
        if t.answer and t.answer[0] in ("cheaper", "other_brand"):
            state = assistant.store.get(sid)
            fp = assistant.tools.get(state.focus if state else [])
            anchor = next((p for p in fp if p.price is not None), None)  # "cheaper" = cheaper than the first priced product shown
            before = {"price": anchor.price if anchor else None, "category": " > ".join(anchor.category) if anchor else None,
                      "brands": {p.brand for p in fp if p.brand}}
            if anchor is not None:
                priced = [p for p in shop.store.iter_products() if p.price is not None]
                before["cheaper_exists"] = any(p.price < anchor.price and p.category == anchor.category for p in priced)
        t0 = time.perf_counter()
        r = assistant.chat(sid, t.message, product_id=t.product_id)
        ms = (time.perf_counter() - t0) * 1e3
        if t.product_id:
            seen.append(t.product_id)
        row = {"lang": t.lang, "kind": t.kind, "ms": ms, "intent_ok": r.intent == t.intent, "pred": r.intent, "gold": t.intent, "msg": t.message,
               "backend": r.llm.backend, "fallback": r.llm.fallback, "dropped": len(r.llm.dropped)}
        if t.gold is not None and t.scored:
            pred = {(k, v) for k, v in r.slots.pairs() if k.startswith(t.scored)}
            gold = {(k, v) for k, v in t.gold if k.startswith(t.scored)}
            row.update(tp=len(pred & gold), fp=len(pred - gold), fn=len(gold - pred))
        if t.answer and not (t.answer[0] == "other_brand" and not before.get("brands")):
            row["fact_ok"] = fact_correct(t, r, before)  # "another brand" is only checkable when the shown products have brands
            row["fact_ok_labelled"] = fact_correct(t, r, before, mode="labelled")
            row["fact_ok_single"] = fact_correct(t, r, before, mode="single")
            if t.answer[0] in ("value", "any_value"):  # the catalog has the fact: did the answer state some catalog value at all?
                row["answered"] = not any(s.source.field == "none" for s in r.sentences) and any(s.source.kind == "catalog" and s.source.field for s in r.sentences)
        if t.qrels is not None:
            row["hit5"] = any(t.qrels.get(p.id, 0) >= 2 for p in r.products[:5])
        row["halluc"] = hallucinations(r, t, shop, checker, faq_text, seen)
        rows.append(row)
    return summarize(rows)


def summarize(rows: list[dict]) -> dict:
    def block(rs: list[dict]) -> dict:
        tp, fp, fn = (sum(r.get(k, 0) for r in rs) for k in ("tp", "fp", "fn"))
        facts = [r["fact_ok"] for r in rs if "fact_ok" in r]
        answered = [r for r in rs if r.get("answered")]
        known = [r for r in rs if "answered" in r]
        hits = [r["hit5"] for r in rs if "hit5" in r]
        ms = sorted(r["ms"] for r in rs)
        return {
            "turns": len(rs),
            "intent_accuracy": round(sum(r["intent_ok"] for r in rs) / max(len(rs), 1), 4),
            "slot_f1": round(prf(tp, fp, fn), 4),
            "slot_turns": sum(1 for r in rs if "tp" in r),
            "fact_accuracy": round(sum(facts) / max(len(facts), 1), 4),
            "fact_turns": len(facts),
            # over turns whose answer the catalog holds (None where a kind has none): how often a catalog value was stated, how often it was right
            "answer_rate": round(len(answered) / len(known), 4) if known else None,
            "answered_precision": round(sum(r["fact_ok"] for r in answered) / len(answered), 4) if answered else None,
            "fact_accuracy_labelled_fields": round(sum(r["fact_ok_labelled"] for r in rs if "fact_ok_labelled" in r) / len(facts), 4) if facts else None,
            "fact_accuracy_single_label": round(sum(r["fact_ok_single"] for r in rs if "fact_ok_single" in r) / len(facts), 4) if facts else None,
            "hallucinated_facts": sum(len(r["halluc"]) for r in rs),
            "find_hit@5": round(sum(hits) / max(len(hits), 1), 4),
            "p50_ms": round(statistics.median(ms), 2) if ms else 0.0,
            "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 2) if ms else 0.0,
            "llm_fallbacks": sum(1 for r in rs if r["fallback"]),
            "llm_dropped_sentences": sum(r["dropped"] for r in rs),
        }

    out = block(rows)
    out["en"] = block([r for r in rows if r["lang"] == "en"])
    out["zh"] = block([r for r in rows if r["lang"] == "zh"])
    kinds = sorted({r["kind"] for r in rows})
    out["by_kind"] = {k: {kk: v for kk, v in block([r for r in rows if r["kind"] == k]).items() if kk in ("turns", "intent_accuracy", "slot_f1", "fact_accuracy", "fact_accuracy_labelled_fields", "fact_accuracy_single_label", "answer_rate", "answered_precision", "find_hit@5", "hallucinated_facts", "p50_ms")} for k in kinds}
    out["errors"] = {
        "intent": [f"{r['lang']} {r['msg']!r}: {r['gold']} → {r['pred']}" for r in rows if not r["intent_ok"]][:25],
        "fact": [f"{r['kind']} {r['msg']!r}" for r in rows if r.get("fact_ok") is False][:25],
        "hallucinations": [h for r in rows for h in r["halluc"]][:25],
    }
    return out


def print_table(results: dict) -> None:
    cols = ("turns", "intent_accuracy", "slot_f1", "fact_accuracy", "hallucinated_facts", "find_hit@5", "p50_ms", "p95_ms", "llm_fallbacks")
    print(f"{'backend':40} {'lang':4} " + " ".join(f"{c:>18}" for c in cols))
    for backend, res in results.items():
        for lang in ("all", "en", "zh"):
            b = res if lang == "all" else res[lang]
            print(f"{backend[:40]:40} {lang:4} " + " ".join(f"{b[c]:>18}" for c in cols))
    first = next(iter(results.values()))
    print("\nby kind (first backend):")
    for k, b in first["by_kind"].items():
        print(f"  {k:28} " + "  ".join(f"{kk}={v}" for kk, v in b.items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("SHOPMIND_SHARED_DATA", REPO.parent / "shared" / "data")))
    ap.add_argument("--backend", action="append", default=None, help="LLM URL (repeatable); default: none")
    ap.add_argument("--limit", type=int, default=0, help="turns per non-`none` backend (a stratified sample; 0 = all)")
    ap.add_argument("--max-tokens", type=int, default=None, help="LLM reply budget (default: the assistant's config)")
    ap.add_argument("--timeout", type=float, default=None, help="LLM call timeout in seconds (default: the assistant's config)")
    ap.add_argument("--json", action="store_true", help="print only the final JSON line after the table")
    args = ap.parse_args()
    rng = random.Random(13)
    with tempfile.TemporaryDirectory(prefix="shopmind-bench-assistant-") as home:
        t0 = time.perf_counter()
        shop, cat = build_shop(args.data, Path(home), rng)
        turns = make_turns(cat, rng)
        faq_text = (Path(__file__).resolve().parents[1] / "src/shopmind/assistant/faq_demo.md").read_text(encoding="utf-8")
        print(f"shop: {cat['n_products']:,} products from {', '.join(cat['sets'])}, ml-100k, openbg, mepave, epqa, semipqa, toys; "
              f"search build {cat['build_s']:.1f}s; {len(turns)} turns ({sum(t.lang == 'zh' for t in turns)} zh)", file=sys.stderr)
        results: dict[str, dict] = {}
        for j, backend in enumerate(args.backend or ["none"]):
            limits = {k: v for k, v in (("max_tokens", args.max_tokens), ("timeout_s", args.timeout)) if v is not None}
            assistant = shop.new_assistant(llm=backend, **limits)
            subset = turns
            if backend != "none" and args.limit:
                subset = random.Random(5).sample(turns, min(args.limit, len(turns)))
            results[backend] = run(assistant, shop, subset, faq_text, prefix=f"bench{j}")
        shop.close()
    print_table(results)
    head = next(iter(results.values()))
    final = {k: head[k] for k in ("intent_accuracy", "slot_f1", "fact_accuracy", "hallucinated_facts", "p50_ms", "turns")}
    final["fact_accuracy_labelled_fields"] = head["fact_accuracy_labelled_fields"]
    final["fact_accuracy_single_label"] = head["fact_accuracy_single_label"]
    final["en"] = {k: head["en"][k] for k in final if k != "en"}
    final["zh"] = {k: head["zh"][k] for k in ("intent_accuracy", "slot_f1", "fact_accuracy", "hallucinated_facts", "p50_ms", "turns")}
    final["find_hit@5"] = head["find_hit@5"]
    final["backends"] = {b: {k: v for k, v in r.items() if k not in ("by_kind",)} for b, r in results.items()}
    final["seconds"] = round(time.perf_counter() - t0, 1)
    out = REPO / "bench" / "results" / ("assistant.json" if (args.backend or ["none"])[0] == "none" else "assistant-llm.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**final, "by_kind": {b: r["by_kind"] for b, r in results.items()}}, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps(final, ensure_ascii=False))


if __name__ == "__main__":
    main()
