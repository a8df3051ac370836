"""Writes the fourth sealed part of the assistant generalisation set (sealed4.jsonl) from the catalog records alone.

Same catalogs, record format and gold derivation as build_set.py / build_set2.py / build_set3.py (build_set.py's catalogs
and helpers and build_set2.py's stricter filters are imported), but a different seed, no product that dev.jsonl,
sealed.jsonl, sealed2.jsonl or sealed3.jsonl asks about (ids collected by code), none that an earlier generator renders in
Chinese, and question wording written by hand for this part only (English and Chinese, two to four phrasings per intent).
Every gold value is read from the product records by this script, never from the assistant. Run once; the file is then
frozen (SHA256SUMS).

    python bench/assistant_sets/build_set4.py [--data /work/shared/data] [--out DIR]
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
import build_set2 as bs2
import build_set3 as bs3

REPO = bs.REPO
SEED = 20261209
PREFIX = "s4"  # record ids: s4-<lang>-<kind>-<n>
EARLIER = ("dev.jsonl", "sealed.jsonl", "sealed2.jsonl", "sealed3.jsonl")

# ------------------------------------------------------------------------------------------ hand-written wording
# Attribute questions that never name the catalog key word for word. {key: ([EN], [ZH])}
ATTR_Q: dict[str, tuple[list[str], list[str]]] = {
    "color": (["what does the finish look like — dark, light, which shade?", "if I order it, what shade turns up?", "which tint is this one?"],
              ["这个外观是什么色调的", "拿到手是黑的白的还是别的色", "这款啥色的哈"]),
    "material": (["what's the build — plastic, metal, wood?", "what is it actually made of?", "what's the outer shell made out of?"],
                 ["用的什么料子做的", "是塑料的还是金属的，啥做的", "这东西拿啥做的呀"]),
    "size": (["how large is this one, in numbers?", "what are its measurements?", "what dimensions does it come in?"],
             ["这个规格多大", "具体尺寸是多少", "大小能跟我说下吗"]),
    "item_weight": (["how heavy is this thing, roughly?", "is it light enough to carry around? how heavy?", "how many pounds would this be?"],
                    ["这个大概几斤", "拎起来重吗，多少公斤", "净重是多少啊"]),
    "target_audience": (["who is this product for?", "is this for adults, kids, men, women?"], ["适合哪类人用", "是给男的还是女的，还是都行"]),
    "power_source_type": (["does it plug in, or run on batteries?", "how does it get its juice?"], ["插电用还是电池用的", "它拿什么来供电啊"]),
    "model_year": (["how new is this version — when did it come out?", "when was this edition first made?"], ["这是几几年的款", "这款是哪一年推出的"]),
    "voltage": (["what's it rated for electrically?", "what supply rating does it need to work?"], ["工作电压是多少", "要接多少伏的电"]),
    "item_form": (["is it a cream, a liquid, a bar, or something else?", "what consistency does it come as?"], ["是膏状的还是液体的", "是什么质地的，乳液还是膏"]),
    "manufacturer": (["which company makes this?", "who's the maker of this thing?", "what brand produces it?"],
                     ["这是哪家公司做的", "什么厂家出的", "哪个牌子生产的呀"]),
    "form_factor": (["what kind of design is it — compact, folding?", "is it a compact design or a folding one?"], ["是什么样的结构，折叠的还是紧凑型", "外形结构是哪种"]),
    "hardware_platform": (["what kind of device is it meant to run on — PC, tablet?", "does it work on a computer or a tablet?"],
                          ["是电脑上用的还是平板上用的", "支持在什么设备上跑"]),
    "specific_uses_for_product": (["what is this actually for?", "what's the purpose of this thing?"], ["这是干嘛用的", "主要拿来干什么"]),
    "surface_recommendation": (["where is it meant to be used — carpets, floors, roads?", "what does it work best on?"], ["适合用在什么表面上", "在哪种地面上用最好"]),
    "compatible_with_vehicle_type": (["what kind of car does it fit?", "is it for sedans, SUVs, trucks?"], ["适合什么车型", "轿车能用还是SUV用的"]),
    "material_feature": (["is there anything special about what goes into it — natural, plant-based?", "what's notable about its makeup?"],
                         ["是有机的还是纯素的", "成分有什么特别的，天然有机吗"]),
    "battery": (["what cell chemistry does it use?", "what kind of cells does it take?"], ["用的什么电池", "电池是哪种类型的"]),
    "year": (["when was this flick made?", "is this from the 80s, 90s? when exactly?", "roughly when did this come out in theaters?", "how long ago was this film made?"],
             ["这部是哪年的老片", "几几年拍的呀", "上映是什么时候", "这片子有年头了吧，哪年的"]),
    "genres": (["what kind of film is it — comedy, drama, something else?", "what type of story should I expect from this?", "how would you label this film?"],
               ["这是喜剧还是剧情片，啥类型", "是什么题材的片子", "这片算哪一类的"]),
}
GOODS_KEYS = [k for k in ATTR_Q if k not in ("year", "genres")]
NAMED_KEYS = ("color", "material", "size", "item_weight")  # what an ePQA product named in the message is asked about
BROKEN = {"metalplastic/resin", "personal"}  # values seen to be two values glued together, or no answer to the question asked

# Questions no attribute answers: (topic, [EN], [ZH], key/value fragments that would answer it, title/value pattern that would, catalogs)
PLACES = (r"paris|london|new york|texas|manhattan|brooklyn|washington|harlem|tokyo|berlin|chicago|vegas|l\.a\.|los angeles|hollywood|boston|"
          r"rome|venice|alaska|africa|america|china|mississippi|sarajevo|rangoon|tulsa|philadelphia|seattle|san francisco|cherbourg|denver|"
          r"madison|idaho|carolina|egypt|maine|mars|space|sea\b|island|jungle|west|city|town|planet|moon|earth|world|street|garden|farm")
UNANSWERABLE: list[tuple[str, list[str], list[str], tuple[str, ...], str, tuple[str, ...]]] = [
    ("screenwriter", ["who wrote the screenplay?", "who did the script for this one?"], ["编剧是谁", "剧本是谁写的"],
     ("writer", "screenplay", "author", "written", "script"), r"'s\b", ("movies",)),
    ("freezer_safe", ["can it go in the freezer?", "is it OK to store in the freezer?"], ["能放冰箱冷冻吗", "可以冻在冷冻室里吗"],
     ("freez", "cold", "care", "temperature", "frost"), r"freez|frost|\bice\b|cold|cooler|refrigerat", ("epqa", "semipqa")),
    ("source_material", ["is it based on a book?", "was this adapted from a novel or a true story?"], ["是根据小说改编的吗", "这故事是真事改编的吗"],
     ("based", "novel", "book", "source", "adapt", "documentary"), r"'s\b|story|tale|book|novel|legend|adventures of|shakespeare|true", ("movies",)),
    ("pet_safe", ["is it safe to use around pets?", "would it harm my dog or cat?"], ["家里有猫狗，用这个安全吗", "对宠物有没有害"],
     ("pet", "animal", "dog", "cat", "toxic", "safety", "cautionary", "warning"), r"\bpets?\b|\bdogs?\b|\bcats?\b|animal|toxic|safe", ("epqa", "homedepot")),
    ("remake", ["is this a remake of an older film?", "has it ever been remade?"], ["这部是翻拍的吗", "后来有人翻拍过吗"],
     ("remake", "original", "version"), r"\(|:|\b(2|3|4|ii|iii|iv)\b|return|again|\bnew\b|remake", ("movies",)),
    ("cord_length", ["how long is the power cord?", "how much cord do I get with it?"], ["电源线有多长", "线够长吗，几米"],
     ("cord", "cable", "length", "power", "wire", "plug"), r"cord|cable|\bft\b|feet|foot|wire|\d+\s*in\b|\bin\.|length|plug", ("homedepot", "epqa")),
    ("story_setting", ["where does the story take place?", "what city or country is it set in?"], ["故事发生在哪里", "剧情是在哪个地方展开的"],
     ("setting", "location", "place", "country"), PLACES, ("movies",)),
    ("outdoor_use", ["can I leave it outside?", "is it suitable for outdoor use?"], ["能放户外用吗", "可以在室外用吗"],
     ("outdoor", "indoor", "weather", "water", "environment", "location", "exterior"),
     r"outdoor|indoor|patio|garden|lawn|weather|exterior|interior|deck|yard|pool|porch|garage", ("homedepot", "epqa", "semipqa")),
    ("director", ["who's the director on this?", "which director made it?"], ["导演是哪个", "是谁执导的"], ("director",), r"$^", ("movies",)),
    ("max_temperature", ["how much heat can it take?", "what's the highest temperature it can handle?"], ["耐高温吗，最高多少度", "能耐多少度"],
     ("temperature", "heat", "degree", "thermal", "fire"), r"heat|temp|°|degree|fire|thermal|oven|grill|stove|\d\s*f\b", ("epqa", "semipqa", "homedepot")),
    ("cast", ["who's in it?", "which stars appear in this one?"], ["都有哪些演员", "主角是谁演的"], ("cast", "actor", "actress", "star"), r"$^", ("movies",)),
    ("recyclable", ["is it recyclable?", "can I put it in the recycling when I'm done with it?"], ["能回收吗", "用完可以当可回收垃圾扔吗"],
     ("recycl", "material", "eco", "environment", "biodegrad", "compost", "green"), r"recycl|\beco|biodegrad|compost|green|sustainab|reusable",
     ("epqa", "homedepot")),
    ("runtime", ["how long does it run?", "what's the length in minutes?"], ["多长时间的片子", "片子一共多少分钟"],
     ("runtime", "length", "duration", "minute"), r"$^", ("movies",)),
    ("origin", ["what country is this made in?", "where does it come from, manufacturing-wise?"], ["是哪国造的", "原产地是哪里"],
     ("country", "origin", "made_in", "manufacturer"), r"\bmade in\b|\busa\b|\bu\.s\.|china|germany|japan|italy|import|america", ("homedepot", "epqa", "semipqa")),
]

# Chinese titles of demo-shop movies as Chinese audiences know them (hand-written; none of the earlier generators')
ZH_TITLES = {
    "m957": "推手", "m1019": "喋血双雄", "m1591": "堕落天使", "m1536": "爱情万岁", "m1345": "天国逆子", "m1323": "五魁", "m1350": "乌鸦与麻雀",
    "m1418": "喜福会", "m371": "廊桥遗梦", "m427": "杀死一只知更鸟", "m485": "窈窕淑女", "m521": "猎鹿人", "m607": "蝴蝶梦", "m606": "彗星美人",
    "m655": "伴我同行", "m182": "好家伙", "m178": "十二怒汉", "m192": "愤怒的公牛", "m205": "巴顿将军", "m1126": "老人与海", "m1647": "花火",
    "m1347": "楢山节考", "m1121": "瑟堡的雨伞", "m820": "空中大灌篮", "m768": "鬼马小精灵", "m955": "爱在黎明破晓前", "m966": "金玉盟",
    "m1013": "狂蟒之灾", "m1159": "潜行者", "m1198": "怒海沉尸", "m632": "苏菲的抉择", "m616": "活死人之夜", "m499": "热铁皮屋顶上的猫",
    "m509": "我的左脚", "m504": "雌雄大盗", "m505": "电话谋杀案",
}
# Home Depot products as a Chinese shopper would name them (brand/model kept; hand-written), with the English fragment of the
# title that must name exactly this product in the whole shop
ZH_HD = {
    "104934": ("胡佛 Hoover WindTunnel Air 可转向免集尘袋立式吸尘器", "Hoover WindTunnel Air Steerable"),
    "177071": ("必胜 Bissell 充电式无线扫地机", "Bissell Rechargeable Cordless Sweeper"),
    "100069": ("鲨客 Shark Rotator Slim-Light Lift-Away 轻便可拆吸尘器", "Shark Rotator Slim-Light Lift-Away"),
    "121915": ("路创 Lutron Caseta 无线智能入墙调光开关套装", "Lutron Caseta Wireless Smart Lighting In-Wall Dimmer Kit"),
    "101027": ("惠而浦 Whirlpool Duet 4.2立方英尺高效滚筒洗衣机，白色", "Whirlpool Duet 4.2 cu. ft."),
    "102383": ("本田 Honda 3000瓦超静音带轮子便携变频发电机", "Honda 3000-Watt Super Quiet"),
    "127831": ("Honda 本田 HS720AS 20寸单级电启动扫雪机", "Honda HS720AS"),
    "113048": ("Kwikset Kevo 蓝牙智能门锁，缎面镍色单锁芯", "Kwikset Kevo Single Cylinder Satin Nickel Bluetooth"),
    "109517": ("Kwikset SmartCode 909 电子密码锁", "Kwikset SmartCode 909"),
    "119851": ("Schlage Camelot 古铜色按键密码锁", "Schlage Camelot Aged Bronze Keypad Deadbolt"),
    "101148": ("三星 Samsung 25.5立方英尺法式对开门冰箱，不锈钢色", "Samsung 25.5 cu. ft. French Door Refrigerator in Stainless Steel"),
    "100055": ("摩恩 MOEN Essie 单把手抽拉式厨房龙头", "MOEN Essie Single-Handle Pull-Down"),
    "104326": ("乐柏美 Rubbermaid Big Max 7x7英尺户外储物棚", "Rubbermaid Big Max 7 ft. x 7 ft."),
    "103002": ("良明 Ryobi 40伏锂电无绳打草机/修边机", "Ryobi 40-Volt Lithium-Ion Cordless String Trimmer/Edger"),
}
EN_NAMED_ATTR = {"year": ["when was {t} made?", "{t} — is that an old one? when's it from?", "what's the release date on {t}?"],
                 "genres": ["what type of story is {t}?", "how would you describe {t} — comedy, drama, action?"],
                 "color": ["what shade does the {t} come in?", "is the {t} a dark or a light one? which shade?"],
                 "material": ["what's the {t} made out of, plastic or metal?"], "size": ["what are the dimensions of the {t}?"],
                 "item_weight": ["how many pounds is the {t}?"]}
ZH_NAMED_ATTR_MOVIE = {"year": ["《{t}》是哪年的片子来着", "{t}是什么年代的电影", "{t}啥时候上的映"],
                       "genres": ["《{t}》是什么题材", "{t}算哪类片子啊"]}
ZH_NAMED_ATTR_GOODS = {"color": ["{t}是什么颜色款", "{t}啥色的"], "material": ["{t}是什么料做的"], "size": ["{t}规格多大"],
                       "item_weight": ["{t}净重多少"]}
EN_NAMED_ID = ["do you sell {t}?", "is {t} available here?", "I'd like to order {t}", "got {t} in stock?", "point me to {t}"]
EN_PARTIAL = ["a movie called something like {w}", "the film with {w} in the title"]  # a partial film title, sometimes with a slip
ZH_NAMED_ID = ["{t}，店里有吗", "我想买{t}，有没有", "帮我找下{t}", "{t}，能下单吗"]
ZH_NAMED_ID_MOVIE = ["有《{t}》卖吗", "{t}这片店里有货没", "想找《{t}》", "《{t}》有没有"]

# listing turns and the set questions that follow them
EN_LIST_MOVIES = ["any gangster pictures?", "I want to see something scary", "what comedies have you got?", "looking for a good war picture",
                  "any cartoons for my kids?", "what cowboy movies do you have?", "something romantic for date night", "show me some spy films",
                  "space movies, anything?", "I'd like a serious drama", "films the whole family can watch", "any swashbuckling adventure movies?",
                  "a detective mystery would be nice", "song-and-dance musicals?", "real-life documentaries?", "moody old noir pictures"]
ZH_LIST_MOVIES = ["有黑帮片吗", "想看点吓人的电影", "有啥好笑的喜剧", "战争片给推荐几部", "给小孩看的卡通片有没有", "牛仔片有哪些",
                  "约会看的爱情片来几部", "间谍片有没有", "太空题材的电影有吗", "想看部正经点的剧情片", "适合全家一块看的电影",
                  "冒险片来几部呗", "侦探片有没有", "歌舞片都有哪些", "纪录片有啥好看的", "来几部 film noir"]
EN_LIST_GOODS = ["any space heaters?", "I'm looking for a baby monitor", "show me some headphones", "I need a phone charger",
                 "do you have storage organizers?", "looking for bookshelf speakers"]
ZH_LIST_GOODS = ["有没有取暖器", "想买个婴儿监视器", "耳机给我看看", "手机充电器有哪些", "收纳整理盒有吗", "书架音箱来几款"]
EN_LIST_TOYS = ["a toy for a toddler's birthday?", "what do you have for kids to play with?"]
ZH_LIST_TOYS = ["小朋友过生日送什么玩具好", "有给孩子玩的玩具吗"]
SET_Q = {  # op → ([EN], [ZH])
    "oldest": (["which of them is the oldest one?", "which film there goes back the furthest?"], ["里面哪部年份最早", "哪部是最老的片子"]),
    "newest": (["which of those is the latest?", "which one there is newest?"], ["最新的是哪部", "哪部拍得最晚"]),
    "has_genre": (["which ones there would you call {g}?", "is any of those a {g} film?"], ["哪部属于{gz}", "这些里面算{gz}的是哪几部"]),
    "diff": (["what separates the first one from the second?", "tell me how the first two compare", "first one or second one — how are they different?"],
             ["第一个跟第二个差别在哪", "头两个对比一下", "前两个哪里不一样"]),
    "heaviest": (["which is the heaviest one there?", "which of them weighs the most?"], ["哪个分量最重", "最沉的是哪个"]),
    "cheapest": (["which one is cheapest?", "which would cost me the least?"], ["哪个价最低啊", "哪样最省钱"]),
}
GENRE_ZH = {"Comedy": "喜剧片", "Drama": "剧情片", "Thriller": "惊悚片", "Romance": "爱情片", "Action": "动作片", "Sci-Fi": "科幻片", "War": "战争片",
            "Adventure": "冒险片", "Horror": "恐怖片", "Crime": "犯罪片", "Mystery": "悬疑片", "Animation": "动画片", "Western": "西部片",
            "Documentary": "纪录片", "Musical": "歌舞片", "Children's": "儿童片", "Film-Noir": "黑色电影", "Fantasy": "奇幻片"}
# (first message, position, attribute, follow-up message or None)
REF_EN = [("and the second one — when was that made?", 1, "year", None), ("what kind of film is the first one?", 0, "genres", None),
          ("the third one, how old is it?", 2, "year", None), ("the one at the end, what's its release date?", -1, "year", None),
          ("second one looks cool", 1, "genres", "what type of story is that?"), ("go with number three", 2, "year", "when was it made?"),
          ("pull up the first", 0, "genres", "what kind of movie is it?"), ("the one at the bottom", -1, "genres", "how would you describe it — comedy, drama?"),
          ("is the first one old? when's it from?", 0, "year", None)]
REF_EN_GOODS = [("the second product — which shade?", 1, "color", None), ("item number one, how heavy?", 0, "item_weight", None),
                ("ooh, the second one", 1, "color", "which shade is it?"), ("show me the first", 0, "item_weight", "how many pounds is it?"),
                ("the very last one, how heavy is it?", -1, "item_weight", None)]
REF_ZH = [("第二部是哪一年的", 1, "year", None), ("头一部是啥类型的片", 0, "genres", None), ("第三部什么时候上映的", 2, "year", None),
          ("最后那一部是哪年的片子", -1, "year", None), ("第二部我有兴趣", 1, "genres", "它算什么类型"), ("选第三部", 2, "year", "它是哪一年的片"),
          ("打开第一部看看", 0, "genres", "这部是啥题材"), ("最末尾那部", -1, "genres", "这是什么片子"), ("第一部年头久吗，哪年的", 0, "year", None)]
REF_ZH_GOODS = [("第二件啥颜色的", 1, "color", None), ("第一件有多重", 0, "item_weight", None), ("第二件挺好看", 1, "color", "它是什么颜色的呀"),
                ("先瞧瞧第一件", 0, "item_weight", "它多少斤"), ("最后一件多重啊", -1, "item_weight", None)]

# record id → (phrase as it should be found in the shop's titles, the product): filled by build(), read by the pre-freeze checks
NAMED_PHRASES: dict[str, tuple[str, str]] = {}


# ------------------------------------------------------------------------------------------ helpers
def gold_ok(key: str, value: object) -> bool:
    """build_set2.gold_ok, and not a machine code ('lithium_manganese_dioxide', 'no_operating_system') that no answer would state,
    a value glued from two ('metalplastic/resin') or no answer to its question ('personal' as a use), or a weight in the size slot
    ('110lbs')."""
    v = str(value).strip(". ").casefold()
    return (bs2.gold_ok(key, value) and "_" not in v and v not in BROKEN
            and not (key == "size" and re.search(r"\d\s*(lb|lbs|pound|pounds|kg)\b", v)))


def used_before() -> set[str]:
    """Products dev.jsonl, sealed.jsonl, sealed2.jsonl or sealed3.jsonl ask about (ids only, by code), and those the earlier
    generators render in Chinese: left out here."""
    ids: set[str] = set()
    for name in EARLIER:
        for line in (HERE / name).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            ids |= {t["product_id"] for t in r["turns"] if t.get("product_id")}
            if r["gold"].get("product_id"):
                ids.add(r["gold"]["product_id"])
    for mod in (bs, bs2, bs3):
        ids |= set(mod.ZH_TITLES) | set(mod.ZH_HD)
    return ids


# ------------------------------------------------------------------------------------------ the records
def build(data: Path) -> list[dict]:
    cat = bs.catalog(data)
    uniq = bs.Unique([p for ps in cat.values() for p in ps])
    rng = random.Random(SEED)
    taken = used_before()  # grows as products are picked: each product at most once in the part
    movies = [p for p in cat["movies"] if p.id not in taken]
    movie_by = {p.id: p for p in cat["movies"]}
    hd_by = {p.id: p for p in cat.get("homedepot", [])}
    goods = [p for p in cat["epqa"] + cat["semipqa"] if p.attributes and p.id not in taken]
    recs: list[dict] = []
    counters: dict[tuple[str, str], int] = {}
    NAMED_PHRASES.clear()

    def add(lang: str, kind: str, catalog_name: str, turns: list[dict], gold: dict) -> str:
        n = counters.get((lang, kind), 0)
        counters[(lang, kind)] = n + 1
        rid = f"{PREFIX}-{bs.record_id(lang, kind, n)}"
        recs.append({"id": rid, "language": lang, "kind": kind, "catalog": catalog_name, "turns": turns, "gold": gold})
        return rid

    def free(ps: list) -> list:
        return [p for p in ps if p.id not in taken and p.id not in ZH_TITLES and p.id not in ZH_HD]

    def source(pid: str) -> str:
        return {"m": "movies", "pqa": "epqa", "spqa": "semipqa"}[re.match(r"[a-z]+", pid).group()]

    def nameable(p) -> bool:
        """An ePQA product the named part could still use (its first words name it alone): kept for that part."""
        ks = [k for k in NAMED_KEYS if k in p.attributes and gold_ok(k, p.attributes[k])]
        phrase = bs2.trim(bs.short_title(p.title, 5))
        return bool(ks) and "&" not in phrase and len(phrase.split()) >= 3 and uniq.owner(phrase) == p.id and not any(
            str(p.attributes[k]).casefold() in phrase.casefold() for k in ks)

    reserved = {p.id for p in cat["epqa"] if p.id not in taken and p.attributes and nameable(p)}
    reserved = set(rng.sample(sorted(reserved), min(8, len(reserved))))  # 4 per language for the named part

    for li, lang in enumerate(("en", "zh")):
        # a. attribute questions on the product page (18 goods, 7 movies)
        pool = [(p, k) for p in free(goods) if p.id not in reserved for k in p.attributes if k in GOODS_KEYS and gold_ok(k, p.attributes[k])]
        rng.shuffle(pool)
        picked: list = []
        for p, k in pool:
            if p.id in taken or sum(1 for _, kk in picked if kk == k) >= 3:
                continue
            taken.add(p.id)
            picked.append((p, k))
            if len(picked) == 18:
                break
        for p in rng.sample(free(movies), 25 - len(picked)):
            taken.add(p.id)
            picked.append((p, rng.choice(["year", "genres"])))
        for p, k in picked:
            add(lang, "attribute", source(p.id), [{"message": rng.choice(ATTR_Q[k][li]), "product_id": p.id}],
                {"product_id": p.id, "attribute": k, "values": bs.value_list(p.attributes[k])})

        # b. products named in the message only: (catalog, phrase in the message, phrase in the shop's titles, product, attribute)
        named: list = []
        if lang == "en":
            cand = [p for p in free(movies) if len(p.title) > 6 and uniq.owner(p.title) == p.id]
            full = [p for p in cand if bs3.plain_title(p.title)]
            for p in rng.sample(full, 6):  # full title
                taken.add(p.id)
                named.append(("movies", p.title, p.title, p, rng.choice(["year", "genres", None])))
            n_part = 0
            for p in rng.sample(free(cand), 40):  # partial title, every other one with a typing slip
                words = sorted(re.findall(r"[A-Za-z']{6,}", p.title), key=len, reverse=True)
                if not words or uniq.owner(words[0]) != p.id:
                    continue
                slip = bs.typo(words[0], rng) if n_part % 2 == 0 else words[0]
                if n_part % 2 == 0 and slip == words[0]:
                    continue
                taken.add(p.id)
                named.append(("movies", EN_PARTIAL[n_part % 2].format(w=slip), words[0], p, rng.choice(["year", "genres"])))
                n_part += 1
                if n_part == 6:
                    break
            hd = [p for p in rng.sample(free(cat.get("homedepot", [])), 300) if len(p.title.split()) >= 5 and "&" not in p.title]
            n_hd = 0
            for p in hd:
                words = p.title.split()
                phrase = p.title if n_hd % 3 == 0 else bs2.trim(bs.short_title(p.title, max(4, len(words) // 2)))
                if uniq.owner(phrase) != p.id or not re.match(r"[A-Za-z]{2,}", phrase):  # a phrase that starts with a word (a brand)
                    continue
                shown = phrase
                if n_hd % 3 == 2:  # a typo in the longest word of the partial title
                    w = max(phrase.split(), key=len)
                    shown = phrase.replace(w, bs.typo(w, rng), 1)
                    if shown == phrase:
                        continue
                taken.add(p.id)
                named.append(("homedepot", shown, phrase, p, None))
                n_hd += 1
                if n_hd == 9:
                    break
        else:
            zh_ids = [i for i in ZH_TITLES if i in movie_by and i not in taken and uniq.owner(movie_by[i].title) == i]
            for i in rng.sample(zh_ids, 12):
                taken.add(i)
                named.append(("movies", ZH_TITLES[i], movie_by[i].title, movie_by[i], rng.choice(["year", "genres", None])))
            n_hd = 0
            for i in rng.sample(sorted(ZH_HD), len(ZH_HD)):
                name, key = ZH_HD[i]
                if i in hd_by and i not in taken and uniq.owner(key) == i:
                    taken.add(i)
                    named.append(("homedepot", name, key, hd_by[i], None))
                    n_hd += 1
                    if n_hd == 9:
                        break
        for p in [p for p in cat["epqa"] if p.id in reserved and p.id not in taken][:4]:  # ePQA products by their first words
            ks = [k for k in NAMED_KEYS if k in p.attributes and gold_ok(k, p.attributes[k])]
            phrase = bs2.trim(bs.short_title(p.title, 5))
            taken.add(p.id)
            named.append(("epqa", phrase, phrase, p, rng.choice(ks)))
        for cat_name, shown, phrase, p, attr in named:
            movie_zh = lang == "zh" and cat_name == "movies"
            if attr:
                table = EN_NAMED_ATTR if lang == "en" else (ZH_NAMED_ATTR_MOVIE if movie_zh else ZH_NAMED_ATTR_GOODS)
                tpl = rng.choice(table[attr])
                gold = {"product_id": p.id, "attribute": attr, "values": bs.value_list(p.attributes[attr])}
            else:
                tpl = rng.choice(EN_NAMED_ID if lang == "en" else (ZH_NAMED_ID_MOVIE if movie_zh else ZH_NAMED_ID))
                gold = {"product_id": p.id, "attribute": None, "values": None}
            rid = add(lang, "named", cat_name, [{"message": tpl.format(t=shown)}], gold)
            NAMED_PHRASES[rid] = (phrase, p.id)

        # c. unanswerable on the product page (checked by code: nothing of the product could answer)
        pools = {"movies": cat["movies"], "epqa": cat["epqa"], "semipqa": cat["semipqa"], "homedepot": cat.get("homedepot", [])}
        for j in range(25):
            topic, en, zh, frags, title_re, cats = UNANSWERABLE[j % len(UNANSWERABLE)]
            for k in range(len(cats)):  # the catalog in turn; the next one where that one has no product left (semiPQA is small)
                cname = cats[(j // len(UNANSWERABLE) + li + k) % len(cats)]
                ok = [p for p in free(pools[cname]) if p.id not in reserved and not bs2.answers(p, frags, title_re)]
                if ok:
                    break
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
                listing, op, cname = movie_lists[(j * 3 + li + j // len(movie_lists)) % len(movie_lists)], ("has_genre", "oldest", "diff", "newest")[j % 4], "movies"
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
                listing, (first, pos, attr, follow), cname = movie_lists[(j * 7 + 2) % len(movie_lists)], refs[j % len(refs)], "movies"
            else:
                listing, (first, pos, attr, follow), cname = goods_lists[(j + 3) % len(goods_lists)], refs_goods[j % len(refs_goods)], "epqa"
            turns = [{"message": listing}, {"message": first}] + ([{"message": follow}] if follow else [])
            add(lang, "reference", cname, turns, {"ref": pos, "attribute": attr, "listing_turn": 0})
    return recs


def write(recs: list[dict], out: Path) -> str:
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs)
    (out / "sealed4.jsonl").write_text(body, encoding="utf-8")
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
    print(json.dumps({"records": len(recs), "counts": counts, "sha256": {"sealed4.jsonl": digest}}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
