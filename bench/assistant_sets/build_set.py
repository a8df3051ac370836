"""Writes the frozen assistant generalisation set (dev.jsonl + sealed.jsonl) from the catalog records alone.

Every gold value is read from the product records by this script (never from the assistant). The wording of the
questions was written by hand for this set (English and Chinese, several phrasings per intent) and is not taken from
bench/assistant.py, the intent training set or the assistant's rules. Run once; the files are then frozen (SHA256SUMS).

    python bench/assistant_sets/build_set.py [--data /work/shared/data] [--check]   # --check: rebuild in memory, compare hashes
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
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "bench"))

import assistant as old_bench
from shopmind.assistant import datasets as ds
from shopmind.domain import Product

SEED = 20261206
DEV_SHARE = 40  # percent of records (by sha256 of the record id) in dev.jsonl; the rest is sealed


# ------------------------------------------------------------------------------------------ catalogs
def catalog(data: Path) -> dict[str, list[Product]]:
    """The shop's products per source, read exactly as bench/assistant.py's build_shop reads them (same seed 13)."""
    out: dict[str, list[Product]] = {}
    for d in old_bench.discover_search_sets(data):
        out[d.name] = ds.read_products(d / "products.jsonl")
    out["movies"] = ds.movies(data)
    out["openbg"] = ds.openbg_products(data)
    out["mepave"] = [p for p, _ in ds.mepave(data)]
    out["epqa"], _ = ds.epqa(data)
    out["semipqa"], _ = old_bench.semipqa(data, 80, random.Random(13))
    out["toys"] = ds.priced_toys(data)
    return out


# ------------------------------------------------------------------------------------------ hand-written wording
# Attribute questions that do not name the catalog key word for word. {key: ([EN phrasings], [ZH phrasings])}
ATTR_Q: dict[str, tuple[list[str], list[str]]] = {
    "color": (["what shade is this?", "which colour does this one come in?", "what colour would I be getting?", "tell me the hue of this item"],
              ["这个是什么颜色的？", "请问是啥颜色", "发过来的是哪种颜色？", "颜色是怎样的"]),
    "material": (["what's this made of?", "what kind of stuff is it made from?", "what is it constructed out of?"],
                 ["这是用什么做的？", "用的什么料？", "是什么材料做的呀"]),
    "size": (["how big is this one?", "which size is this?", "what size would I get?"],
             ["这个是多大号的？", "尺寸是多少呀", "是几码的"]),
    "item_weight": (["how heavy is it?", "what does it weigh?", "is it heavy? how much does it weigh"],
                    ["这个有多重？", "重量大概多少", "拿起来沉吗，多重？"]),
    "model_year": (["which year's model is this?", "what year was this model made?"],
                   ["这是哪一年的款？", "是几几年出的型号"]),
    "target_gender": (["is this meant for men or women?", "who is it designed for, guys or girls?"],
                      ["这是男款还是女款？", "适合男生还是女生用"]),
    "age_range_description": (["what ages is this suited to?", "what age group is it meant for?"],
                              ["适合多大的孩子？", "适合什么年龄段"]),
    "flavor": (["what does it taste like?", "which flavour is it?"], ["是什么口味的？", "啥味道的"]),
    "item_form": (["does it come as a liquid, a powder or a tablet?", "what form does it come in?"], ["是片剂、粉末还是液体？", "这是什么剂型的"]),
    "display": (["what kind of screen does it have?", "what sort of readout does it have?"], ["是什么屏幕？", "显示屏是哪种的"]),
    "connectivity_technology": (["how does it connect — wired or wireless?", "how do I hook it up, cable or wireless?"], ["怎么连接？有线还是无线？", "是无线连接的吗，还是要插线"]),
    "voltage": (["how many volts does it run on?", "what's the power rating in volts?"], ["电压是多少伏？", "用多少伏的电"]),
    "operating_system": (["what OS does it run?", "which software platform runs on it?"], ["是什么系统的？", "装的是哪个操作系统"]),
    "item_shape": (["is it round or square?", "is it round, square or some other outline?"], ["是什么形状的？", "外形是圆的还是方的"]),
    "light_source": (["what kind of bulb does it use?", "what lights it up?"], ["用的什么光源？", "里面是什么灯"]),
    "resolution": (["how sharp is the picture?", "what video quality does it record at?"], ["分辨率多少？", "画质是多少P的"]),
    "water_resistance_depth": (["how deep can it go underwater?", "how far down is it waterproof?"], ["能防水到多深？", "防水深度是多少米"]),
    "watch_movement_type": (["is it automatic or quartz?", "what mechanism drives the hands?"], ["机芯是什么类型的？", "是石英表还是机械表"]),
    "sport_type": (["which sport is it meant for?", "what activity is this designed for?"], ["适合什么运动？", "是做哪项运动用的"]),
    "power_source_type": (["how is it powered?", "does it need batteries or a plug?"], ["靠什么供电？", "是插电的还是用电池"]),
    "fabric_type": (["what fabric is it?", "what's the cloth like — cotton, polyester?"], ["是什么面料的？", "布料是什么"]),
    "band": (["what's the strap made of?", "what is the bracelet made from?"], ["表带是什么材质？", "表链是用什么做的"]),
    "target_audience": (["who is this intended for?", "which shoppers is it aimed at?"], ["这是给谁用的？", "适用人群是哪些"]),
    "year": (["when did this come out?", "what year was it released?", "how old is this film — which year?", "when was this movie made?"],
             ["这部片子是哪年上映的？", "哪一年的电影？", "这是什么年代拍的片子", "上映时间是哪年"]),
    "genres": (["what kind of movie is this?", "what sort of film would you call it?", "how would this film be classified?"],
               ["这是什么类型的电影？", "属于哪种片子", "这部是啥类型的片"]),
}
# Questions no attribute answers, with the attribute-key fragments that would answer them (a product having one is skipped)
UNANSWERABLE: list[tuple[str, str, str, tuple[str, ...], tuple[str, ...]]] = [
    # (topic, EN, ZH, key fragments that would answer it, catalogs it is asked on)
    ("director", "who directed it?", "这部电影的导演是谁？", ("director",), ("movies",)),
    ("runtime", "how long does the film run, in minutes?", "片长多少分钟？", ("runtime", "length", "duration"), ("movies",)),
    ("cast", "who are the lead actors?", "主演都有谁？", ("cast", "actor", "star"), ("movies",)),
    ("subtitles", "does it come with subtitles?", "有中文字幕吗？", ("subtitle", "language"), ("movies",)),
    ("studio", "which studio produced it?", "是哪家电影公司出品的？", ("studio", "producer", "manufacturer"), ("movies",)),
    ("rating", "what's the age rating on it?", "这部片子是什么分级？", ("rating", "age"), ("movies",)),
    ("dishwasher", "can I put it in the dishwasher?", "能放洗碗机里洗吗？", ("dishwasher", "care"), ("epqa", "semipqa")),
    ("origin", "which country is it manufactured in?", "产地是哪里？", ("country", "origin"), ("epqa", "semipqa", "homedepot")),
    ("battery_life", "how many hours does the battery last?", "电池能用多久？", ("battery", "power", "runtime", "life"), ("epqa", "semipqa")),
    ("waterproof", "is it waterproof?", "防水吗？", ("water", "weather"), ("epqa", "semipqa")),
    ("wattage", "how many watts does it draw?", "功率多少瓦？", ("watt", "power", "voltage"), ("epqa", "semipqa")),
    ("remote", "does it come with a remote control?", "带遥控器吗？", ("remote", "included", "control"), ("epqa", "semipqa")),
    ("weight", "how much does it weigh?", "这个有多重？", ("weight",), ("homedepot", "semipqa", "epqa")),
    ("assembly", "does it need assembly, and how long does that take?", "需要自己组装吗？装起来要多久？", ("assembly", "install"), ("homedepot", "epqa")),
]
UNANSWERABLE_EN_ALT = {  # other phrasings of the same unanswerable intents
    "director": ["who was the director of this one?", "who made this film, which director?"],
    "runtime": ["what's the running time?", "is it a long film? how many minutes?"],
    "cast": ["who stars in this?", "which actors are in it?"],
    "origin": ["where is this made?", "what's the country of origin?"],
    "weight": ["is this heavy, how many pounds?", "what's the shipping weight of this one?"],
    "waterproof": ["will it survive getting wet?", "can it get soaked in rain?"],
}
UNANSWERABLE_ZH_ALT = {
    "director": ["谁导的这部片？", "导演是哪位"],
    "runtime": ["这片子多长时间？", "时长大概多久"],
    "cast": ["谁演的？", "演员有哪些"],
    "origin": ["这是哪国生产的？", "在哪里制造的"],
    "weight": ["重不重？有多少斤？", "这东西多沉"],
    "waterproof": ["淋雨会坏吗？", "能沾水吗"],
}
# Chinese titles of demo-shop movies as Chinese shoppers know them (written by hand, not translated word for word)
ZH_TITLES = {
    "m1": "玩具总动员", "m2": "007之黄金眼", "m7": "十二猴子", "m22": "勇敢的心", "m50": "星球大战", "m56": "低俗小说", "m69": "阿甘正传",
    "m71": "狮子王", "m313": "泰坦尼克号", "m100": "冰血暴", "m318": "辛德勒的名单", "m64": "肖申克的救赎", "m98": "沉默的羔羊",
    "m28": "阿波罗13号", "m483": "卡萨布兰卡", "m174": "夺宝奇兵", "m204": "回到未来", "m423": "E.T.外星人", "m385": "真实的谎言",
    "m121": "独立日", "m257": "黑衣人", "m405": "碟中谍", "m393": "窈窕奶爸", "m588": "美女与野兽", "m88": "西雅图夜未眠", "m23": "出租车司机",
    "m191": "莫扎特传", "m479": "迷魂记", "m134": "公民凯恩", "m132": "绿野仙踪", "m180": "现代启示录", "m272": "心灵捕手", "m302": "洛城机密",
    "m298": "变脸", "m237": "甜心先生", "m275": "理智与情感", "m70": "四个婚礼和一个葬礼", "m475": "猜火车", "m97": "与狼共舞", "m79": "亡命天涯",
    "m554": "未来水世界", "m89": "银翼杀手", "m135": "2001太空漫游", "m179": "发条橙", "m188": "全金属外壳", "m200": "闪灵", "m202": "土拨鼠之日",
    "m143": "音乐之声", "m419": "欢乐满人间", "m133": "乱世佳人", "m487": "罗马假日", "m603": "后窗", "m480": "西北偏北", "m511": "阿拉伯的劳伦斯",
    "m161": "壮志凌云", "m12": "非常嫌疑犯", "m11": "七宗罪", "m9": "死囚漫步", "m8": "小猪宝贝", "m273": "盗火线", "m780": "阿呆与阿瓜",
    "m258": "超时空接触", "m117": "勇闯夺命岛", "m286": "英国病人", "m276": "远离赌城", "m173": "公主新娘", "m197": "毕业生", "m474": "奇爱博士",
    "m520": "大逃亡", "m199": "桂河大桥", "m482": "热情似火", "m654": "唐人街", "m157": "野战排", "m294": "大话王", "m755": "勇敢者的游戏",
    "m542": "风中奇缘", "m300": "空军一号", "m1016": "空中监狱", "m250": "第五元素", "m307": "魔鬼代言人", "m1127": "楚门的世界", "m177": "黄金三镖客",
}
# Home Depot products as a Chinese shopper would name them (brand/model kept, the rest in Chinese; written by hand)
ZH_HD = {
    "148380": "Greenworks G-MAX 40伏无绳加长绿篱修剪机", "163670": "得伟 DEWALT 20V MAX 锂电无绳往复锯", "168320": "米沃奇 Milwaukee 1/2英寸重型冲击钻",
    "203685": "Klein Tools 软柄螺丝刀7件套", "111534": "百得 BLACK+DECKER 工作台钻头17件套", "139993": "Cub Cadet 2X 945 SWE 两级电启动扫雪机",
    "104308": "Paula Deen Savannah 系列17件铝制锅具套装", "106752": "Werner 9英尺玻璃钢平台人字梯", "161520": "American Standard 美标 Ovalyn 台下洗手盆",
    "168508": "GE Reveal 60瓦A19灯泡4只装", "173607": "Glidden Premium HDGB42 淡水蓝半光内墙乳胶漆", "119228": "Pro-Lift 2吨卧式千斤顶套装",
    "164156": "ClosetMaid 12英尺通风钢丝层架", "105258": "Hampton Bay Andenne 三头油擦青铜浴室镜前灯", "147180": "Razor-Back 48英寸木柄圆头铁锹",
    "106494": "WEN 8英寸电动高枝锯",
}
EN_NAMED_ATTR = {"year": ["What year did {t} come out?", "When was {t} released?", "is {t} an old film? what year is it from"],
                 "genres": ["What kind of movie is {t}?", "What sort of film is {t}?"],
                 "color": ["What colour is the {t}?", "which shade does the {t} come in?"],
                 "item_weight": ["How heavy is the {t}?"], "material": ["what is the {t} made of?"], "size": ["what size is the {t}?"]}
ZH_NAMED_ATTR = {"year": ["{t}是哪一年上映的？", "{t}是哪年的片子", "请问{t}什么时候上映的"],
                 "genres": ["{t}是什么类型的电影？", "{t}属于哪种片子"],
                 "color": ["{t}是什么颜色的？"], "item_weight": ["{t}有多重？"], "material": ["{t}是什么材质的？"], "size": ["{t}是多大尺寸的？"]}
EN_NAMED_ID = ["do you have {t}?", "I'm looking for {t}", "tell me about {t}", "is {t} in your shop?", "can you pull up {t}"]
ZH_NAMED_ID = ["有{t}吗？", "我想找{t}", "帮我看看{t}", "你们店里有{t}卖吗", "给我介绍一下{t}"]
# listing turns (movies / Amazon products / toys) and the set questions that follow them
EN_LIST_MOVIES = ["show me some sci-fi movies", "any good westerns?", "I'd like a war film", "find me horror movies", "musicals please",
                  "animated films for the kids", "got any crime thrillers?", "film noir classics", "romantic comedies", "recommend some adventure films"]
ZH_LIST_MOVIES = ["有没有科幻电影？", "给我找几部西部片", "想看战争片", "推荐几部恐怖片", "有什么歌舞片", "给孩子找几部动画片",
                  "有犯罪惊悚片吗", "来几部黑色电影", "想看爱情喜剧", "推荐几部冒险片", "有没有 sci-fi 电影", "找几部 western", "war movies 有哪些",
                  "horror 电影推荐一下", "想看 comedy"]
EN_LIST_GOODS = ["show me ice makers", "I need a phone case", "looking for a wrist watch", "kids vitamins", "dishwasher parts"]
ZH_LIST_GOODS = ["给我看看制冰机", "想买个手机壳", "有手表吗", "儿童维生素有哪些", "洗碗机配件"]
SET_Q = {  # op → ([EN], [ZH])
    "oldest": (["which of these is the oldest?", "which one came out first?", "of those, which is the earliest film?"],
               ["这几部里哪部最老？", "哪一部最早上映？", "这些片子里最早的是哪部"]),
    "newest": (["which one is the most recent?", "which of them is the newest?", "which came out last?"],
               ["哪部是最新的？", "这几部里哪一部最晚上映", "最近拍的是哪一部"]),
    "has_genre": (["which of these counts as {g}?", "are any of them {g} films? which?"], ["这几部里哪部是{gz}？", "有{gz}吗？是哪一部"]),
    "diff": (["what's the difference between the first two?", "how do the first and second one differ?", "compare the top two for me"],
             ["前两个有什么区别？", "第一个和第二个有啥不同", "比较一下前两部"]),
    "heaviest": (["which of these is the heaviest?", "which one weighs the most?"], ["哪个最重？", "这几个里哪个分量最重"]),
    "cheapest": (["which of these is the cheapest?", "which one costs the least?"], ["哪个最便宜？", "这几个里价格最低的是哪个"]),
}
GENRE_ZH = {"Comedy": "喜剧", "Drama": "剧情片", "Thriller": "惊悚片", "Romance": "爱情片", "Action": "动作片", "Sci-Fi": "科幻片", "War": "战争片",
            "Adventure": "冒险片", "Horror": "恐怖片", "Crime": "犯罪片", "Musical": "歌舞片", "Children's": "儿童片"}
REF_EN = [("what year is the second one from?", 1, "year", None), ("the first one — what kind of movie is it?", 0, "genres", None),
          ("which year did the third come out?", 2, "year", None), ("and the last one, when was it released?", -1, "year", None),
          ("tell me about the second one", 1, "year", "when was it released?"), ("I like the third one", 2, "genres", "what sort of film is it?"),
          ("show me the first one", 0, "year", "what year is this one from?"), ("the second one looks good", 1, "genres", "what genre would this one be?")]
REF_EN_GOODS = [("what colour is the second one?", 1, "color", None), ("how heavy is the first one?", 0, "item_weight", None),
                ("tell me about the second one", 1, "color", "what colour is it?"), ("the first one looks nice", 0, "item_weight", "how much does it weigh?")]
REF_ZH = [("第二部是哪年上映的？", 1, "year", None), ("第一部是什么类型的片子？", 0, "genres", None), ("第三部是哪一年的？", 2, "year", None),
          ("最后一部呢，哪年的？", -1, "year", None), ("说说第二部", 1, "year", "它是哪一年的？"), ("我对第三部感兴趣", 2, "genres", "它是什么类型的电影？"),
          ("看看第一部", 0, "year", "这部是哪年上映的"), ("第二个不错", 1, "genres", "这个是啥类型的片？")]
REF_ZH_GOODS = [("第二个是什么颜色的？", 1, "color", None), ("第一个有多重？", 0, "item_weight", None), ("看看第二个", 1, "color", "它是什么颜色？"),
                ("第一个不错", 0, "item_weight", "这个多重？")]


# ------------------------------------------------------------------------------------------ helpers
def value_list(v: object) -> list[str]:
    """A catalog value as the list of strings an answer must state."""
    return [str(x) for x in v] if isinstance(v, list) else [str(v)]


NUMERIC_KEYS = ("size", "item_weight", "voltage", "model_year", "water_resistance_depth", "resolution", "year")


def usable(key: str, value: object) -> bool:
    """A catalog value that can be gold: not empty or a placeholder ('n/a', 'other'), not a broken record ('13.5|'), and
    for a categorical attribute not a value of some other field (digits: '12 bars', 'apple watch band 38mm' as a light source)."""
    v = str(value).strip(". ").casefold()
    if not v or len(v) >= 60 or v in ("n/a", "na", "other", "none", "unknown", "not applicable", "not-applicable") or "|" in v:
        return False
    if key == "color" and len(v.split()) > 2:  # 'black pepper spray', 'brown bag kraft': another field's text in the colour slot
        return False
    return key in NUMERIC_KEYS or not re.search(r"\d", v)


def short_title(title: str, n: int) -> str:
    """The first n words of a title, cut before a parenthesis and without trailing punctuation."""
    words = []
    for w in title.split()[:n]:
        if w.startswith("("):
            break
        words.append(w)
        if w.endswith(","):
            break
    return " ".join(words).rstrip(",;:-(/ ")


def core_title(title: str) -> str:
    """'Usual Suspects, The' → 'The Usual Suspects'; long titles → their first clause."""
    m = re.match(r"^(.*), (The|A|An)$", title)
    return f"{m.group(2)} {m.group(1)}" if m else title


def typo(word: str, rng: random.Random) -> str:
    """Swap two adjacent inner letters (a typing slip)."""
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


class Unique:
    """Whether a phrase names exactly one product of the whole shop (case-insensitive substring of one title)."""

    def __init__(self, products: list[Product]) -> None:
        self.titles = [(p.id, p.title.casefold()) for p in products]

    def owner(self, phrase: str) -> str | None:
        phrase = phrase.casefold()
        hits = [i for i, t in self.titles if phrase in t]
        return hits[0] if len(hits) == 1 else None


def record_id(lang: str, kind: str, n: int) -> str:
    return f"{lang}-{kind}-{n:03d}"


def split_of(rid: str) -> str:
    """Fixed split by the record id's sha256: 40 % dev, 60 % sealed."""
    return "dev" if int(hashlib.sha256(rid.encode()).hexdigest()[:8], 16) % 100 < DEV_SHARE else "sealed"


# ------------------------------------------------------------------------------------------ the records
def build(data: Path) -> list[dict]:
    cat = catalog(data)
    everything = [p for ps in cat.values() for p in ps]
    uniq = Unique(everything)
    rng = random.Random(SEED)
    movies = cat["movies"]
    movie_by = {p.id: p for p in movies}
    goods = [p for p in cat["epqa"] + cat["semipqa"] if p.attributes]
    recs: list[dict] = []
    counters: dict[tuple[str, str], int] = {}

    def add(lang: str, kind: str, catalog_name: str, turns: list[dict], gold: dict) -> None:
        n = counters.get((lang, kind), 0)
        counters[(lang, kind)] = n + 1
        recs.append({"id": record_id(lang, kind, n), "language": lang, "kind": kind, "catalog": catalog_name, "turns": turns, "gold": gold})

    for li, lang in enumerate(("en", "zh")):
        # a. attribute questions on the product page, attribute named in other words
        pool = [(p, k) for p in goods for k in p.attributes if k in ATTR_Q and usable(k, p.attributes[k])]
        rng.shuffle(pool)
        used: set[str] = set()
        picked = []
        for p, k in pool:
            if p.id in used or sum(1 for _, kk in picked if kk == k) >= 4:
                continue
            used.add(p.id)
            picked.append((p, k))
            if len(picked) == 28:
                break
        for p in rng.sample(movies, 12):
            picked.append((p, rng.choice(["year", "genres"])))
        for p, k in picked:
            msg = rng.choice(ATTR_Q[k][li])
            add(lang, "attribute", {"m": "movies", "pqa": "epqa", "spqa": "semipqa"}[re.match(r"[a-z]+", p.id).group()],
                [{"message": msg, "product_id": p.id}], {"product_id": p.id, "attribute": k, "values": value_list(p.attributes[k])})
        # b. products named in the message only
        named = []
        zh_ids = [i for i in ZH_TITLES if i in movie_by and uniq.owner(movie_by[i].title) == i]
        if lang == "en":
            cand = [p for p in movies if len(p.title) > 6 and uniq.owner(p.title) == p.id]
            for p in rng.sample(cand, 10):  # full title
                named.append(("movies", core_title(p.title), p, rng.choice(["year", "genres", None])))
            for p in rng.sample(cand, 14):  # partial / typo
                words = sorted(re.findall(r"[A-Za-z']{6,}", p.title), key=len, reverse=True)
                if not words or uniq.owner(words[0]) != p.id:
                    continue
                phrase = words[0] if len(named) % 2 else typo(words[0], rng)
                named.append(("movies", f"the {phrase} movie", p, rng.choice(["year", "genres"])))
            hd = [p for p in rng.sample(cat.get("homedepot", []), 200) if len(p.title.split()) >= 5 and "&" not in p.title]
            for j, p in enumerate(hd):
                words = p.title.split()
                phrase = p.title if j % 3 == 0 else short_title(p.title, max(4, len(words) // 2))
                if uniq.owner(phrase) != p.id:
                    continue
                if j % 3 == 2:  # a typo in the longest word of the partial title
                    w = max(phrase.split(), key=len)
                    phrase = phrase.replace(w, typo(w, rng), 1)
                named.append(("homedepot", phrase, p, None))
                if sum(1 for n in named if n[0] == "homedepot") >= 14:
                    break
        else:
            for i in rng.sample(zh_ids, 24):
                named.append(("movies", ZH_TITLES[i], movie_by[i], rng.choice(["year", "genres", None])))
            hd_by = {p.id: p for p in cat.get("homedepot", [])}
            for i, name in ZH_HD.items():
                if i in hd_by:
                    named.append(("homedepot", name, hd_by[i], None))
        for p in rng.sample([p for p in cat["epqa"] if "color" in p.attributes and usable("color", p.attributes["color"])], 30):
            phrase = short_title(p.title, 5)
            if str(p.attributes["color"]).casefold() in phrase.casefold() or "&" in phrase:
                continue
            if uniq.owner(phrase) == p.id and sum(1 for n in named if n[0] == "epqa") < 6:
                named.append(("epqa", phrase, p, "color"))
        for cat_name, phrase, p, attr in named:
            if attr:
                tpl = rng.choice((EN_NAMED_ATTR if lang == "en" else ZH_NAMED_ATTR)[attr])
                gold = {"product_id": p.id, "attribute": attr, "values": value_list(p.attributes[attr])}
            else:
                tpl = rng.choice(EN_NAMED_ID if lang == "en" else ZH_NAMED_ID)
                gold = {"product_id": p.id, "attribute": None, "values": None}
            add(lang, "named", cat_name, [{"message": tpl.format(t=phrase)}], gold)
        # c. unanswerable on the product page
        pools = {"movies": movies, "epqa": cat["epqa"], "semipqa": cat["semipqa"], "homedepot": cat.get("homedepot", [])}
        for j in range(42):
            topic, en, zh, frags, cats = UNANSWERABLE[j % len(UNANSWERABLE)]
            cname = cats[(j // len(UNANSWERABLE)) % len(cats)]
            ok = [p for p in pools[cname] if not any(f in k.casefold() for k in p.attributes for f in frags)
                  and not (topic == "weight" and re.search(r"\b(lb|lbs|oz|pound|kg|ton)\b", p.title.casefold()))]
            p = rng.choice(ok)
            alts = (UNANSWERABLE_EN_ALT if lang == "en" else UNANSWERABLE_ZH_ALT).get(topic, [])
            msg = rng.choice([en if lang == "en" else zh, *alts])
            add(lang, "unanswerable", cname, [{"message": msg, "product_id": p.id}], {"product_id": p.id, "not_stated": True, "topic": topic})
        # d. set questions over the products just shown (gold: an operation, resolved on the catalog records of those products)
        movie_lists = EN_LIST_MOVIES if lang == "en" else ZH_LIST_MOVIES
        goods_lists = EN_LIST_GOODS if lang == "en" else ZH_LIST_GOODS
        for j in range(40):
            if j < 30:
                listing = movie_lists[j % len(movie_lists)]
                op = ("oldest", "newest", "has_genre", "diff")[j % 4]
            elif j < 37:
                listing = goods_lists[j % len(goods_lists)]
                op = ("heaviest", "diff")[j % 2]
            else:
                listing = "toys for kids" if lang == "en" else "儿童玩具"
                op = "cheapest"
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
            add(lang, "set", "movies" if j < 30 else ("epqa" if j < 37 else "toys"), [{"message": listing}, {"message": q}], gold)
        # e. references after a listing turn
        refs = REF_EN if lang == "en" else REF_ZH
        refs_goods = REF_EN_GOODS if lang == "en" else REF_ZH_GOODS
        for j in range(40):
            if j < 30:
                listing, (first, pos, attr, follow) = movie_lists[(j * 3) % len(movie_lists)], refs[j % len(refs)]
            else:
                listing, (first, pos, attr, follow) = goods_lists[j % len(goods_lists)], refs_goods[j % len(refs_goods)]
            turns = [{"message": listing}, {"message": first}] + ([{"message": follow}] if follow else [])
            add(lang, "reference", "movies" if j < 30 else "epqa", turns, {"ref": pos, "attribute": attr, "listing_turn": 0})
    for r in recs:
        r["split"] = split_of(r["id"])
    return recs


def write(recs: list[dict], out: Path) -> dict[str, str]:
    sums = {}
    for split in ("dev", "sealed"):
        path = out / f"{split}.jsonl"
        body = "".join(json.dumps({k: v for k, v in r.items() if k != "split"}, ensure_ascii=False) + "\n" for r in recs if r["split"] == split)
        path.write_text(body, encoding="utf-8")
        sums[path.name] = hashlib.sha256(body.encode()).hexdigest()
    return sums


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("SHOPMIND_SHARED_DATA", REPO.parent / "shared" / "data")))
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args()
    recs = build(args.data)
    sums = write(recs, args.out)
    counts: dict[str, int] = {}
    for r in recs:
        key = f"{r['language']}/{r['kind']}/{r['split']}"
        counts[key] = counts.get(key, 0) + 1
    print(json.dumps({"records": len(recs), "counts": counts, "sha256": sums}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
