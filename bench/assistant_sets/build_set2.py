"""Writes the second sealed part of the assistant generalisation set (sealed2.jsonl) from the catalog records alone.

Same catalogs, record format and gold derivation as build_set.py (its helpers are imported), but a different seed,
products not used by build_set.py (dev or sealed) where the catalog allows, and question wording written by hand for
this part only (English and Chinese, several phrasings per intent; none taken from build_set.py, dev.jsonl,
bench/assistant.py, the intent training set or the assistant's rules). Every gold value is read from the product
records by this script, never from the assistant. Run once; the file is then frozen (SHA256SUMS).

    python bench/assistant_sets/build_set2.py [--data /work/shared/data] [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import build_set as bs

REPO = bs.REPO
SEED = 20261207
PREFIX = "s2"  # record ids: s2-<lang>-<kind>-<n>, apart from the first set's ids


# ------------------------------------------------------------------------------------------ hand-written wording
# Attribute questions that never name the catalog key word for word. {key: ([EN], [ZH])}
ATTR_Q: dict[str, tuple[list[str], list[str]]] = {
    "color": (["which hue is this one?", "what tint does this item have?", "what does it look like — which shade exactly?"],
              ["这款是啥色的？", "实物是什么色儿的", "这个是哪个色的呀？"]),
    "material": (["what's it built from?", "what is this thing fabricated from?", "what's the main stuff it's made with?"],
                 ["这东西用啥做的？", "是拿什么料子制成的", "摸起来什么质地，用的啥料"]),
    "size": (["how large is it?", "what's the measurement on this one?", "which fit is this, how big?"],
             ["这个多大？", "规格是多大的", "买的话是哪个码"]),
    "item_weight": (["roughly how heavy would this be?", "will it be a pain to lift — how heavy?", "is it light? how much does it come to on a scale?"],
                    ["有多沉啊？", "东西沉不沉，具体多重", "拿着累不累，分量多少"]),
    "model_year": (["what year's version is this?", "is this the latest edition — from which year?"],
                   ["这个型号是几年出的？", "是新款吗？哪年的"]),
    "target_gender": (["would this suit a man or a woman?", "is it a men's or a ladies' item?"],
                      ["男的女的都能用吗？", "这个是给男士还是女士的"]),
    "display": (["what's the screen like?", "what type of screen is fitted?"], ["屏幕是什么类型？", "这个的屏是啥屏"]),
    "connectivity_technology": (["how do I connect it to my other gear?", "does it link up by cable or wirelessly?"],
                                ["用什么方式连设备？", "连接要插线吗还是无线"]),
    "voltage": (["what's the volt rating?", "how many volts does it take?"], ["需要多少伏的电？", "额定电压多少"]),
    "operating_system": (["what software system is it running?", "which platform software does it run on?"], ["系统是什么？", "跑的是什么系统"]),
    "power_source_type": (["what does it run on for power?", "do I plug it in or put batteries in?"], ["用电池还是插电？", "供电方式是什么"]),
    "sport_type": (["what sport is it for?", "which activity would I use this for?"], ["是什么运动用的？", "适合做什么运动"]),
    "light_source": (["what kind of lamp is inside?", "what bulb type lights it?"], ["发光用的是什么灯？", "光源类型是啥"]),
    "mounting_type": (["how does it get mounted?", "does it hang on a wall or stand on its own?"], ["怎么安装固定？", "是挂墙的还是落地放的"]),
    "seasons": (["which time of year is it for?", "is it something for summer or for winter?"], ["适合什么季节？", "一年里哪几季用"]),
    "target_audience": (["who's the intended user?", "what kind of person is it made for?"], ["适合什么人用？", "针对的是哪类人群"]),
    "fabric_type": (["what textile is it?", "what kind of cloth is this?"], ["什么布料？", "面料成分是什么"]),
    "year": (["what year is this film from?", "when did it first hit theatres?", "what's the release year?", "how old is this picture?"],
             ["这片子是哪一年的？", "什么时候上映的呀", "几几年的片子", "这部老不老，哪年出的"]),
    "genres": (["how would you classify this movie?", "what category of film is this?", "what type of movie am I looking at?"],
               ["这部电影归哪一类？", "这片子算什么片", "这是哪种题材的电影"]),
}
GOODS_KEYS = [k for k in ATTR_Q if k not in ("year", "genres")]
# values that are another field's text in this slot (seen in the records; never used as gold)
SUSPECT = {"finish", "samsung", "aid", "accessory", "general/trade", "basic", "quality ruber", "bpa free", "bpa-free"}

# Questions no attribute answers: (topic, [EN], [ZH], key/value fragments that would answer it, title pattern that would, catalogs)
UNANSWERABLE: list[tuple[str, list[str], list[str], tuple[str, ...], str, tuple[str, ...]]] = [
    ("director", ["who was behind the camera on this one?", "do you know who directed this picture?"], ["这片是哪个导演拍的？", "导演叫什么名字"],
     ("director",), r"$^", ("movies",)),
    ("runtime", ["how many minutes long is it?", "roughly how long will it take to watch?"], ["看完要多长时间？", "这部片子有多少分钟"],
     ("runtime", "length", "duration", "minute"), r"$^", ("movies",)),
    ("cast", ["who plays the main character?", "is anyone famous acting in it?"], ["男主角是谁演的？", "里面有哪些明星"],
     ("cast", "actor", "actress", "star"), r"$^", ("movies",)),
    ("awards", ["did it win any Oscars?", "has this film won any awards?"], ["这部拿过奥斯卡吗？", "得过什么奖没有"],
     ("award", "oscar", "prize"), r"$^", ("movies",)),
    ("box_office", ["how much money did it make at the box office?", "was it a hit — what did it gross?"], ["票房多少？", "当年票房怎么样"],
     ("box", "gross", "revenue"), r"$^", ("movies",)),
    ("dubbing", ["is there a Spanish dub on it?", "which audio tracks does it have?"], ["有国语配音吗？", "是原声还是配音版的"],
     ("language", "audio", "dub", "subtitle"), r"$^", ("movies",)),
    ("launch_date", ["when did this model first come out?", "how long has this product been on the market?"], ["这款是什么时候上市的？", "上市多久了"],
     ("year", "date", "release", "launch"), r"\b(19|20)\d\d\b|new|model", ("epqa", "semipqa", "homedepot")),
    ("origin", ["where was it manufactured?", "is this made in the USA or overseas?"], ["是国产的还是进口的？", "哪个国家产的"],
     ("country", "origin", "made_in"), r"\bmade in\b|\busa\b|\bu\.s\.|china|germany|japan|italy|import", ("homedepot", "epqa", "semipqa")),
    ("noise", ["how loud is it when it's running?", "how many decibels does it make?"], ["用起来噪音大吗？", "声音有多少分贝"],
     ("noise", "decibel", "db", "sound", "quiet"), r"quiet|silent|\bdb\b|decibel|noise", ("homedepot", "epqa", "semipqa")),
    ("weight", ["how many pounds is this?", "would it be heavy to carry — what's its weight?"], ["这个有几斤重？", "分量重吗，多少公斤"],
     ("weight",), r"\b(lb|lbs|oz|pound|pounds|kg|ton|tons|gram|grams)\b", ("semipqa", "homedepot", "epqa")),
    ("dishwasher", ["is it safe to run through the dishwasher?", "can this go in the dishwasher for cleaning?"], ["可以用洗碗机洗吗？", "能不能扔洗碗机里"],
     ("dishwasher", "care", "clean"), r"dishwasher", ("epqa", "semipqa")),
    ("battery_life", ["how long does one charge last?", "how many hours do I get from a full charge?"], ["充一次电能用几个小时？", "续航怎么样"],
     ("battery", "power", "runtime", "life", "charge"), r"battery|batteries|hour|mah|recharge", ("epqa", "semipqa")),
    ("assembly", ["is it hard to put together?", "does it arrive already assembled?"], ["到手需要自己安装吗？", "组装麻烦吗"],
     ("assembl", "install"), r"assembl|install|kit\b", ("homedepot", "epqa")),
    ("certification", ["is it UL certified?", "does it carry any safety certification?"], ["有3C认证吗？", "通过安全认证了吗"],
     ("certif", "ul", "listed", "safety", "cpsia", "complian", "regulat"), r"\bul\b|certified|energy star|listed|approved", ("epqa", "semipqa", "homedepot")),
]

# Chinese titles of demo-shop movies as Chinese shoppers know them (hand-written; none of build_set.py's ZH_TITLES)
ZH_TITLES = {
    "m921": "霸王别姬", "m923": "大红灯笼高高挂", "m45": "饮食男女", "m1129": "重庆森林", "m6": "摇啊摇，摇到外婆桥",
    "m1099": "炮打双灯", "m55": "这个杀手不太冷", "m156": "落水狗", "m127": "教父", "m187": "教父2", "m196": "死亡诗社",
    "m96": "终结者2：审判日", "m195": "终结者", "m172": "帝国反击战", "m99": "白雪公主和七个小矮人", "m24": "红番区",
    "m128": "警察故事3：超级警察", "m705": "雨中曲", "m271": "星河战队", "m170": "天堂电影院", "m559": "夜访吸血鬼",
    "m435": "虎豹小霸王", "m582": "钢琴课", "m213": "看得见风景的房间", "m62": "星际之门", "m527": "甘地传", "m153": "一条叫旺达的鱼",
    "m67": "神探飞机头", "m235": "火星人玩转地球", "m222": "星际迷航：第一类接触",
}
# Home Depot products as a Chinese shopper would name them (brand/model kept; hand-written), with the English fragment of the
# title that must name exactly this product in the whole shop
ZH_HD = {
    "102184": ("Milwaukee 米沃奇 M12 12伏锂电无绳迷你吸尘器（裸机）", "Milwaukee M12 12-Volt Lithium-Ion Cordless Compact Vacuum"),
    "118847": ("博世 Bosch 7安培插电曲线锯", "Bosch 7-Amp Corded Jig Saw"),
    "138150": ("Husky 33加仑静音移动式电动空压机", "Husky 33 gal. Quiet Portable"),
    "116496": ("科勒 KOHLER Flipside 四种出水模式壁挂花洒，亮铬色", "KOHLER Flipside 4-Spray"),
    "115458": ("霍尼韦尔 Honeywell 9英寸三档空气循环落地扇", "Honeywell 9 in. 3 Speed Whole Room Circulator"),
    "117655": ("RIDGID JobMax 12伏锂电往复锯套装", "JobMax 12-Volt Lithium-Ion Reciprocating Saw"),
    "124593": ("Toro Power Clear 518 ZR 18英寸单级汽油扫雪机", "Power Clear 518 ZR"),
    "118540": ("Frigidaire 5000 BTU 窗式空调", "Frigidaire 5,000 BTU Window Air Conditioner"),
    "106872": ("Char-Broil 三头丙烷燃气烤炉（带侧炉）", "Char-Broil 3-Burner Propane Gas Grill with Side Burner"),
    "137246": ("BEHR MARQUEE 1加仑装 纯白哑光内墙漆（自带底漆）", "BEHR MARQUEE 1-gal. Ultra Pure White Matte Interior"),
}
EN_NAMED_ATTR = {"year": ["which year is {t} from?", "{t} — when did that one hit cinemas?", "remind me what year {t} was released"],
                 "genres": ["which category of film does {t} fall into?", "how would you categorise {t}?"],
                 "color": ["I saw the {t} — which hue is it?", "what shade does the {t} have?"],
                 "material": ["what's the {t} built from?"], "size": ["how large is the {t}?"], "item_weight": ["how heavy is the {t} roughly?"]}
ZH_NAMED_ATTR_MOVIE = {"year": ["《{t}》是哪年拍的？", "{t}是几几年的电影", "{t}上映是哪一年来着"],
                       "genres": ["《{t}》算什么类型的片子？", "{t}是哪类电影啊"]}
ZH_NAMED_ATTR_GOODS = {"color": ["{t}这款是什么色的呀？", "{t}是啥颜色"], "material": ["{t}是拿什么做的？"], "size": ["{t}有多大？"],
                       "item_weight": ["{t}多重啊？"]}
EN_NAMED_ID = ["have you got {t}?", "I want to buy {t}", "show me {t} please", "where would I find {t} in your store?", "do you carry {t} at all?"]
ZH_NAMED_ID = ["你们有卖{t}吗？", "想入手{t}", "帮我搜一下{t}", "{t}有货吗", "我要看看{t}"]
ZH_NAMED_ID_MOVIE = ["《{t}》你们这儿有吗？", "想看{t}，店里有没有", "帮我找一下电影《{t}》", "{t}这部片有吗"]

# listing turns and the set questions that follow them
EN_LIST_MOVIES = ["got any documentaries?", "I want to watch a mystery tonight", "what fantasy movies do you carry?", "looking for a good thriller",
                  "suggest a few family films for the kids", "any action flicks?", "something romantic to watch", "do you have noir detective movies?",
                  "recommend me a drama", "I'm after a comedy", "cartoon movies please", "movies about soldiers and battles",
                  "space and sci-fi films", "scary movies for halloween", "westerns with cowboys", "crime movies with gangsters"]
ZH_LIST_MOVIES = ["有纪录片吗？", "今晚想看悬疑片，推荐几部", "来点奇幻电影", "想找几部惊悚片看看", "有适合全家一起看的儿童片吗", "推荐几部动作片",
                  "有没有浪漫一点的爱情片", "想看老的黑色电影", "给我推荐几部剧情片", "来几部搞笑的喜剧片", "有卡通动画电影吗", "有什么好看的战争题材电影",
                  "科幻片推荐几部", "想看吓人的鬼片", "有没有 thriller 电影", "推荐几部 action movie"]
EN_LIST_GOODS = ["I need a blender", "looking for a thermostat", "show me office chairs", "bike lights?", "I'm shopping for a luggage lock",
                 "any photo scanners?"]
ZH_LIST_GOODS = ["想买个搅拌机", "有温控器吗", "看看办公椅", "自行车灯有哪些", "找个行李箱密码锁", "有扫描仪卖吗"]
EN_LIST_TOYS = ["something for a little one to play with", "gift ideas for children — toys?"]
ZH_LIST_TOYS = ["给小朋友挑个玩具", "有什么适合送孩子的玩具"]
SET_Q = {  # op → ([EN], [ZH])
    "oldest": (["out of these, which was made earliest?", "which film on that list is the oldest release?"],
               ["这些里面哪部年代最久远？", "上面哪部片子拍得最早", "列出来的哪部最老"]),
    "newest": (["out of these, which is the latest release?", "which film here is the most recent one?"],
               ["上面哪部最新？", "这些里哪部上映时间最晚"]),
    "has_genre": (["any {g} among these? which ones?", "which of the ones you listed are {g}?"], ["里面有{gz}吗？哪几部是", "刚才那些里哪部算{gz}"]),
    "diff": (["how are the first two different?", "what sets the first apart from the second?", "first vs second — what's the difference?"],
             ["头两个区别在哪？", "第一个跟第二个比有什么不一样", "前两个差在哪里"]),
    "heaviest": (["if I had to carry one, which would be the heaviest?", "which has the greatest weight?"], ["哪件最沉？", "这几样里最重的是哪个"]),
    "cheapest": (["which is the least expensive?", "what's the lowest-priced one here?"], ["哪款价钱最低", "最划算最便宜的是哪个"]),
}
GENRE_ZH = {"Comedy": "喜剧片", "Drama": "剧情片", "Thriller": "惊悚片", "Romance": "爱情片", "Action": "动作片", "Sci-Fi": "科幻片", "War": "战争片",
            "Adventure": "冒险片", "Horror": "恐怖片", "Crime": "犯罪片", "Mystery": "悬疑片", "Animation": "动画片", "Western": "西部片",
            "Documentary": "纪录片", "Fantasy": "奇幻片"}
# (first message, position, attribute, follow-up message or None)
REF_EN = [("which year did number two come out?", 1, "year", None), ("the top one — what type of film is that?", 0, "genres", None),
          ("the third film, what year is it?", 2, "year", None), ("what about the final one on the list — release year?", -1, "year", None),
          ("the second looks interesting", 1, "genres", "how would you classify it?"), ("let's go with the third", 2, "year", "when did it come out?"),
          ("open the first one", 0, "genres", "what kind of film is this?"), ("the last one on there", -1, "genres", "what category is it?"),
          ("the first film — when was it made?", 0, "year", None)]
REF_EN_GOODS = [("what shade is the second item?", 1, "color", None), ("the first product, how heavy is it?", 0, "item_weight", None),
                ("the second one caught my eye", 1, "color", "which hue is it?"), ("I'll check the first one", 0, "item_weight", "what's it weigh, roughly?"),
                ("and the last item — how heavy is that?", -1, "item_weight", None)]
REF_ZH = [("第二部是几几年的？", 1, "year", None), ("排第一的那部是啥类型？", 0, "genres", None), ("第三部哪年上映", 2, "year", None),
          ("列表最后那部是哪一年的？", -1, "year", None), ("第二部看着不错", 1, "genres", "它属于什么类型？"), ("就第三部吧", 2, "year", "它哪年上的？"),
          ("点开第一部", 0, "genres", "这部是什么片？"), ("最后那部呢", -1, "genres", "它是哪类电影？"), ("头一部是哪年拍的？", 0, "year", None)]
REF_ZH_GOODS = [("第二件是什么颜色？", 1, "color", None), ("第一个重量多少？", 0, "item_weight", None), ("第二个我挺喜欢", 1, "color", "它是啥颜色的？"),
                ("先看看第一个", 0, "item_weight", "它有多沉？"), ("最后一个有多重？", -1, "item_weight", None)]


# ------------------------------------------------------------------------------------------ helpers
def gold_ok(key: str, value: object) -> bool:
    """build_set.usable, and not a value seen to be another field's text; a size that is a pack count is not a size."""
    v = str(value).strip(". ").casefold()
    return bs.usable(key, value) and v not in SUSPECT and not (key == "size" and re.search(r"pack|piece|set|count", v))


def trim(phrase: str) -> str:
    """A cut title without a dangling last word ('10 in. x', 'Bleach and')."""
    words = phrase.split()
    while len(words) > 1 and words[-1].casefold().strip(",;:") in ("x", "-", "and", "with", "for", "in", "of", "&", "/", "or", "to"):
        words.pop()
    return " ".join(words).rstrip(",;:-(/ ")


def used_before(data: Path) -> set[str]:
    """Products the first set (dev.jsonl, and build_set.py's records in memory) already asks about: left out here."""
    ids: set[str] = set()
    recs = [json.loads(x) for x in (HERE / "dev.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    recs += bs.build(data)
    for r in recs:
        ids |= {t["product_id"] for t in r["turns"] if t.get("product_id")}
        if r["gold"].get("product_id"):
            ids.add(r["gold"]["product_id"])
    return ids | set(bs.ZH_TITLES) | set(bs.ZH_HD)


def answers(p, frags: tuple[str, ...], title_re: str) -> bool:
    """Whether the product holds something that could answer a question: a key or value with one of the fragments, or a title or
    value matching the topic's pattern (for weight: a unit such as lb or oz)."""
    keys = " ".join(k.casefold() for k in p.attributes)
    vals = " ".join(str(v).casefold() for v in p.attributes.values())
    return any(f in keys or f in vals for f in frags) or bool(re.search(title_re, p.title.casefold()) or re.search(title_re, vals))


# ------------------------------------------------------------------------------------------ the records
def build(data: Path) -> list[dict]:
    cat = bs.catalog(data)
    uniq = bs.Unique([p for ps in cat.values() for p in ps])
    rng = random.Random(SEED)
    taken = used_before(data)  # grows as products are picked, so the two languages ask about different products
    movies = [p for p in cat["movies"] if p.id not in taken]
    movie_by = {p.id: p for p in cat["movies"]}
    hd_by = {p.id: p for p in cat.get("homedepot", [])}
    goods = [p for p in cat["epqa"] + cat["semipqa"] if p.attributes and p.id not in taken]
    recs: list[dict] = []
    counters: dict[tuple[str, str], int] = {}

    def add(lang: str, kind: str, catalog_name: str, turns: list[dict], gold: dict) -> None:
        n = counters.get((lang, kind), 0)
        counters[(lang, kind)] = n + 1
        recs.append({"id": f"{PREFIX}-{bs.record_id(lang, kind, n)}", "language": lang, "kind": kind, "catalog": catalog_name,
                     "turns": turns, "gold": gold})

    def free(ps: list) -> list:
        return [p for p in ps if p.id not in taken]

    def source(pid: str) -> str:
        return {"m": "movies", "pqa": "epqa", "spqa": "semipqa"}[re.match(r"[a-z]+", pid).group()]

    for li, lang in enumerate(("en", "zh")):
        # a. attribute questions on the product page (18 goods, 7 movies)
        pool = [(p, k) for p in free(goods) for k in p.attributes if k in GOODS_KEYS and gold_ok(k, p.attributes[k])]
        rng.shuffle(pool)
        picked: list = []
        for p, k in pool:
            if p.id in taken or sum(1 for _, kk in picked if kk == k) >= 3:
                continue
            taken.add(p.id)
            picked.append((p, k))
            if len(picked) == 18:
                break
        for p in rng.sample(free(movies), 7):
            taken.add(p.id)
            picked.append((p, rng.choice(["year", "genres"])))
        for p, k in picked:
            add(lang, "attribute", source(p.id), [{"message": rng.choice(ATTR_Q[k][li]), "product_id": p.id}],
                {"product_id": p.id, "attribute": k, "values": bs.value_list(p.attributes[k])})

        # b. products named in the message only
        named: list = []  # (catalog, phrase, product, attribute or None)
        if lang == "en":
            cand = [p for p in free(movies) if len(p.title) > 6 and uniq.owner(p.title) == p.id and p.id not in ZH_TITLES]
            for p in rng.sample(cand, 6):  # full title
                taken.add(p.id)
                named.append(("movies", bs.core_title(p.title), p, rng.choice(["year", "genres", None])))
            n_part = 0
            for p in rng.sample(free(cand), 30):  # partial title, every other one with a typing slip
                words = sorted(re.findall(r"[A-Za-z']{6,}", p.title), key=len, reverse=True)
                if not words or uniq.owner(words[0]) != p.id:
                    continue
                taken.add(p.id)
                phrase = words[0] if n_part % 2 else bs.typo(words[0], rng)
                named.append(("movies", f"that {phrase} film", p, rng.choice(["year", "genres"])))
                n_part += 1
                if n_part == 6:
                    break
            hd = [p for p in rng.sample(free(cat.get("homedepot", [])), 300) if len(p.title.split()) >= 5 and "&" not in p.title
                  and p.id not in ZH_HD]
            n_hd = 0
            for p in hd:
                words = p.title.split()
                phrase = p.title if n_hd % 3 == 0 else trim(bs.short_title(p.title, max(4, len(words) // 2)))
                if uniq.owner(phrase) != p.id:
                    continue
                if n_hd % 3 == 2:  # a typo in the longest word of the partial title
                    w = max(phrase.split(), key=len)
                    phrase = phrase.replace(w, bs.typo(w, rng), 1)
                taken.add(p.id)
                named.append(("homedepot", phrase, p, None))
                n_hd += 1
                if n_hd == 9:
                    break
        else:
            zh_ids = [i for i in ZH_TITLES if i in movie_by and i not in taken and uniq.owner(movie_by[i].title) == i]
            for i in rng.sample(zh_ids, 12):
                taken.add(i)
                named.append(("movies", ZH_TITLES[i], movie_by[i], rng.choice(["year", "genres", None])))
            for i in rng.sample(sorted(ZH_HD), 9):
                name, key = ZH_HD[i]
                if i in hd_by and i not in taken and uniq.owner(key) == i:
                    taken.add(i)
                    named.append(("homedepot", name, hd_by[i], None))
        n_ep = 0
        for p in rng.sample(free([p for p in cat["epqa"] if p.attributes]), 60):
            ks = [k for k in ("color", "material", "size", "item_weight") if k in p.attributes and gold_ok(k, p.attributes[k])]
            phrase = trim(bs.short_title(p.title, 5))
            if not ks or "&" in phrase or len(phrase.split()) < 3 or uniq.owner(phrase) != p.id or any(str(p.attributes[k]).casefold() in phrase.casefold() for k in ks):
                continue
            taken.add(p.id)
            named.append(("epqa", phrase, p, rng.choice(ks)))
            n_ep += 1
            if n_ep == 4:
                break
        for cat_name, phrase, p, attr in named:
            movie_zh = lang == "zh" and cat_name == "movies"
            if attr:
                table = EN_NAMED_ATTR if lang == "en" else (ZH_NAMED_ATTR_MOVIE if movie_zh else ZH_NAMED_ATTR_GOODS)
                tpl = rng.choice(table[attr])
                gold = {"product_id": p.id, "attribute": attr, "values": bs.value_list(p.attributes[attr])}
            else:
                tpl = rng.choice(EN_NAMED_ID if lang == "en" else (ZH_NAMED_ID_MOVIE if movie_zh else ZH_NAMED_ID))
                gold = {"product_id": p.id, "attribute": None, "values": None}
            add(lang, "named", cat_name, [{"message": tpl.format(t=phrase)}], gold)

        # c. unanswerable on the product page (checked by code: nothing of the product could answer)
        pools = {"movies": cat["movies"], "epqa": cat["epqa"], "semipqa": cat["semipqa"], "homedepot": cat.get("homedepot", [])}
        for j in range(25):
            topic, en, zh, frags, title_re, cats = UNANSWERABLE[j % len(UNANSWERABLE)]
            cname = cats[(j // len(UNANSWERABLE) + li) % len(cats)]
            ok = [p for p in free(pools[cname]) if not answers(p, frags, title_re)]
            p = rng.choice(ok)
            taken.add(p.id)
            add(lang, "unanswerable", cname, [{"message": rng.choice(en if lang == "en" else zh), "product_id": p.id}],
                {"product_id": p.id, "not_stated": True, "topic": topic})

        # d. set questions over the products just shown (gold: an operation, resolved on the catalog records of those products)
        movie_lists = EN_LIST_MOVIES if lang == "en" else ZH_LIST_MOVIES
        goods_lists = EN_LIST_GOODS if lang == "en" else ZH_LIST_GOODS
        toy_lists = EN_LIST_TOYS if lang == "en" else ZH_LIST_TOYS
        for j in range(25):
            if j < 17:
                listing, op, cname = movie_lists[(j * 5 + li + j // len(movie_lists)) % len(movie_lists)], ("oldest", "newest", "has_genre", "diff")[j % 4], "movies"
            elif j < 23:
                listing, op, cname = goods_lists[j % len(goods_lists)], ("heaviest", "diff")[j % 2], "epqa"
            else:
                listing, op, cname = toy_lists[j % len(toy_lists)], "cheapest", "toys"
            g = rng.choice(sorted(GENRE_ZH))
            q = rng.choice(SET_Q[op][li]).format(g=g.casefold(), gz=GENRE_ZH[g])
            gold = {"op": op, "over": "listed"}
            if op in ("oldest", "newest"):
                gold["attribute"] = "year"
            elif op == "has_genre":
                gold.update(attribute="genres", value=g)
            elif op == "heaviest":
                gold["attribute"] = "item_weight"
            elif op == "cheapest":
                gold["attribute"] = "price"
            elif op == "diff":
                gold["positions"] = [0, 1]
            add(lang, "set", cname, [{"message": listing}, {"message": q}], gold)

        # e. references after a listing turn
        refs = REF_EN if lang == "en" else REF_ZH
        refs_goods = REF_EN_GOODS if lang == "en" else REF_ZH_GOODS
        for j in range(25):
            if j < 19:
                listing, (first, pos, attr, follow), cname = movie_lists[(j * 3 + 1) % len(movie_lists)], refs[j % len(refs)], "movies"
            else:
                listing, (first, pos, attr, follow), cname = goods_lists[(j + 2) % len(goods_lists)], refs_goods[j % len(refs_goods)], "epqa"
            turns = [{"message": listing}, {"message": first}] + ([{"message": follow}] if follow else [])
            add(lang, "reference", cname, turns, {"ref": pos, "attribute": attr, "listing_turn": 0})
    return recs


def write(recs: list[dict], out: Path) -> str:
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs)
    (out / "sealed2.jsonl").write_text(body, encoding="utf-8")
    return hashlib.sha256(body.encode()).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("SHOPMIND_SHARED_DATA", REPO.parent / "shared" / "data")))
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args()
    recs = build(args.data)
    digest = write(recs, args.out)
    counts: dict[str, int] = {}
    for r in recs:
        key = f"{r['language']}/{r['kind']}"
        counts[key] = counts.get(key, 0) + 1
    print(json.dumps({"records": len(recs), "counts": counts, "sha256": {"sealed2.jsonl": digest}}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
