"""Writes the third sealed part of the assistant generalisation set (sealed3.jsonl) from the catalog records alone.

Same catalogs, record format and gold derivation as build_set.py / build_set2.py (their helpers are imported, with
build_set2's stricter filters), but a different seed, no product that dev.jsonl, sealed.jsonl or sealed2.jsonl asks
about (ids collected by code), and question wording written by hand for this part only (English and Chinese, two to four
phrasings per intent). Every gold value is read from the product records by this script, never from the assistant.
Run once; the file is then frozen (SHA256SUMS).

    python bench/assistant_sets/build_set3.py [--data /work/shared/data] [--out DIR]
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

REPO = bs.REPO
SEED = 20261208
PREFIX = "s3"  # record ids: s3-<lang>-<kind>-<n>
EARLIER = ("dev.jsonl", "sealed.jsonl", "sealed2.jsonl")

# ------------------------------------------------------------------------------------------ hand-written wording
# Attribute questions that never name the catalog key word for word. {key: ([EN], [ZH])}
ATTR_Q: dict[str, tuple[list[str], list[str]]] = {
    "color": (["is it black, white, or some other shade?", "what shade would I be getting?", "how does it look, shade-wise?"],
              ["这个是什么色系的？", "到手是啥色儿的呀", "深色还是浅色，具体啥色"]),
    "material": (["what's this made out of?", "is it plastic, metal, or something else?", "what kind of stuff is it constructed from?"],
                 ["这个是啥材质的呀", "塑料的还是金属的？", "做工用料是什么"]),
    "size": (["how big is this exactly?", "what dimensions or fit should I expect?", "is it a small or a large — what's the fit?"],
             ["这个尺码多大", "大小是多少啊", "我该拿哪个号，这个是几号的"]),
    "item_weight": (["is this heavy to pick up? how many pounds or kilos?", "what would it read on a scale?", "how hefty is it?"],
                    ["这玩意儿多少斤？", "称一下大概多重", "重不重啊，有具体数吗"]),
    "model_year": (["how recent is this version — when was it released?", "is this a newer release? from when?"],
                   ["这是哪年的款式？", "这款出来几年了，是哪年的型号"]),
    "target_gender": (["is this meant for guys or for girls?", "is it made for men or for women?"], ["这款男生能用吗，还是女款", "是男式的还是女式的"]),
    "display": (["what kind of screen does it have?", "what's the screen tech on this?"], ["屏幕用的什么屏", "这个显示屏是哪种的"]),
    "connectivity_technology": (["how does it hook up — bluetooth, cable, wifi?", "what ways can I connect to it?"], ["能蓝牙连吗？怎么连接的", "靠什么连手机电脑"]),
    "voltage": (["how many volts do I need to feed it?", "what's the electrical spec in volts?"], ["要用多少伏的电源", "电压是多少伏的"]),
    "operating_system": (["what OS does it come with?", "is it android, windows, or what software?"], ["用的啥系统呀", "是安卓还是别的系统"]),
    "power_source_type": (["what does it run off?", "does it need batteries or an outlet?"], ["靠什么供电的", "要装电池还是插电用"]),
    "sport_type": (["what game or activity is this meant for?", "what kind of activity is it designed for?"], ["这是玩哪种运动用的", "做什么运动的时候用"]),
    "light_source": (["is it LED or some other kind of bulb?", "what gives off the light in it?"], ["里面是LED灯还是别的灯", "用的什么灯珠发光"]),
    "mounting_type": (["how would I install it — wall, ceiling, or freestanding?", "how does it attach?"], ["这个怎么固定，要打孔上墙吗", "是吸顶的、挂墙的还是放着用的"]),
    "seasons": (["is it for warm or cold weather?", "which part of the year is it made for?"], ["夏天穿还是冬天穿的", "什么季节用比较合适"]),
    "target_audience": (["who is this aimed at?", "who would typically buy this?"], ["这是给谁用的", "主要面向哪些人"]),
    "fabric_type": (["what's the cloth made of?", "is it cotton or synthetic?"], ["布料是棉的还是化纤的", "面料用的什么"]),
    "item_shape": (["is it round, square, or some other form?", "what outline does it have — round or rectangular?"], ["是什么形状的", "圆的还是方的"]),
    "year": (["when did this picture come out?", "how old is this movie — when was it released?", "when was this one released in cinemas?"],
             ["这电影是啥时候拍的", "这片子出来多少年了，哪年的", "是哪个年份上的映", "这是老片还是新片？哪年的"]),
    "genres": (["what sort of movie is this?", "what kind of story is this film?", "which kind of film would you call this?"],
               ["这片子是什么风格的", "这部讲的是哪路题材", "这属于啥类型的片儿"]),
}
GOODS_KEYS = [k for k in ATTR_Q if k not in ("year", "genres")]

# Questions no attribute answers: (topic, [EN], [ZH], key/value fragments that would answer it, title/value pattern that would, catalogs)
UNANSWERABLE: list[tuple[str, list[str], list[str], tuple[str, ...], str, tuple[str, ...]]] = [
    ("director", ["who made this film — the director, I mean?", "which filmmaker directed it?"], ["这部谁导的", "谁当的导演啊"],
     ("director",), r"$^", ("movies",)),
    ("origin", ["which country is this from?", "where is it produced?"], ["这是哪里生产的", "产地在哪儿"],
     ("country", "origin", "made_in", "manufacturer"), r"\bmade in\b|\busa\b|\bu\.s\.|china|germany|japan|italy|import|america", ("homedepot", "epqa", "semipqa")),
    ("runtime", ["is it a long watch? how many minutes roughly?", "how long is the movie?"], ["片长多久", "这片子要看多长时间"],
     ("runtime", "length", "duration", "minute"), r"$^", ("movies",)),
    ("noise", ["is it noisy?", "how quiet is it when it's switched on?"], ["噪音大不大", "开着吵不吵"],
     ("noise", "decibel", "db", "sound", "quiet", "loud"), r"quiet|silent|\bdb\b|decibel|noise|loud|whisper", ("homedepot", "epqa", "semipqa")),
    ("original_language", ["what language is it in originally?", "is it in English or another language?"], ["原版是什么语言的", "是英语片还是别的语言"],
     ("language", "audio", "dub", "country"), r"\(|, (il|le|la|les|der|die|das|el|los|det|o)$", ("movies",)),
    ("assembly", ["will I have to build it myself?", "does it need putting together when it arrives?"], ["要自己组装吗", "收到以后还得装吗"],
     ("assembl", "install", "included"), r"assembl|install|kit\b|ready", ("homedepot", "epqa")),
    ("sequel", ["is there a sequel to this one?", "did they ever make a follow-up to it?"], ["这部有续集吗", "后来还拍了第二部没有"],
     ("sequel", "series", "franchise"), r"\b(2|3|4|5|ii|iii|iv)\b|:|\bpart\b|return|again|revenge|bride of|son of", ("movies",)),
    ("microwave", ["can I put this in the microwave?", "is it microwave safe?"], ["能进微波炉吗", "可以放微波炉里加热吗"],
     ("microwave", "care", "heat", "oven"), r"microwave|oven", ("epqa", "semipqa")),
    ("filming_location", ["where was it shot?", "which country did they film it in?"], ["在哪儿取景拍的", "拍摄地点在哪"],
     ("location", "country", "filmed"), r"$^", ("movies",)),
    ("washable", ["can I throw it in the washing machine?", "is it machine washable?"], ["能机洗吗", "可以丢洗衣机里洗吗"],
     ("wash", "care", "clean", "laundry", "fabric"), r"wash|laundry|clean", ("epqa", "semipqa")),
    ("composer", ["who wrote the music for it?", "who composed the soundtrack?"], ["配乐是谁做的", "电影原声是谁作曲的"],
     ("music", "composer", "soundtrack", "score"), r"music|song|sing", ("movies",)),
    ("load_capacity", ["how much weight can it hold?", "what's the maximum load it supports?"], ["最大承重多少", "能承受多重的东西"],
     ("capacity", "load", "weight", "max", "support"), r"\b(lb|lbs|pound|pounds|kg)\b|capacity|load|heavy duty|heavy-duty|rated", ("homedepot", "epqa")),
    ("budget", ["how much did it cost to make?", "what was the production budget?"], ["拍这部花了多少钱", "制作成本多少"],
     ("budget", "cost", "gross"), r"$^", ("movies",)),
    ("charge_time", ["how long does it take to charge fully?", "how many hours to recharge it?"], ["充满电要多久", "充电得几个小时"],
     ("charg", "battery", "batteries", "power", "hour", "time", "usb"), r"battery|batteries|charg|hour|mah|usb|cordless|wireless|volt", ("epqa", "semipqa")),
    ("bpa", ["is it BPA-free?", "does the plastic contain BPA?"], ["含不含双酚A", "是不是无BPA的"],
     ("bpa", "material", "plastic", "free"), r"bpa", ("epqa", "semipqa")),
]

# Chinese titles of demo-shop movies as Chinese audiences know them (hand-written; none of build_set.py's or build_set2.py's)
ZH_TITLES = {
    "m14": "邮差", "m72": "变相怪杰", "m82": "侏罗纪公园", "m91": "圣诞夜惊魂", "m118": "龙卷风", "m131": "蒂凡尼的早餐", "m176": "异形2",
    "m181": "星球大战：绝地归来", "m185": "惊魂记", "m206": "阿基拉", "m357": "飞越疯人院", "m455": "警察故事4：简单任务", "m498": "非洲女王号",
    "m507": "欲望号街车", "m524": "大独裁者", "m526": "宾虚", "m599": "超级计划", "m646": "西部往事", "m649": "美国往事", "m650": "第七封印",
    "m690": "西藏七年", "m699": "小妇人", "m739": "风月俏佳人", "m751": "007之明日帝国", "m902": "谋杀绿脚趾", "m958": "活着",
    "m1240": "攻壳机动队", "m1586": "辣手神探", "m265": "猎杀红色十月", "m51": "燃情岁月", "m65": "不一样的天空", "m550": "虎胆龙威3",
    "m226": "虎胆龙威2", "m255": "新娘不是我", "m1483": "铁面人", "m905": "远大前程", "m584": "秘密花园", "m531": "闪亮的风采",
    "m488": "日落大道", "m481": "桃色公寓", "m671": "科学怪人的新娘", "m1413": "街头霸王",
}
# Home Depot products as a Chinese shopper would name them (brand/model kept; hand-written), with the English fragment of the
# title that must name exactly this product in the whole shop
ZH_HD = {
    "185314": ("戴森 Dyson Ball Allergy 立式吸尘器（防过敏款）", "Dyson Ball Allergy Upright Vacuum"),
    "115615": ("Dyson 戴森 V6 Motorhead 无线手持吸尘器", "Dyson V6 Motorhead Cordless Stick Vacuum"),
    "183230": ("戴森AM06 10寸无叶摇头风扇，蓝色带遥控", "Dyson AM06 10 in. Oscillating Personal Fan"),
    "167136": ("iRobot 的 Roomba 870 扫地机器人", "Roomba 870 Robotic Vacuum"),
    "199184": ("Nest 第二代智能学习温控器", "Nest Learning Thermostat, 2nd Generation"),
    "110102": ("Nest Protect 烟雾加一氧化碳报警器（电池款）", "Nest Protect Battery Smoke and Carbon Monoxide Detector"),
    "100501": ("Ring 无线可视门铃", "Ring Wireless Video Door Bell"),
    "110415": ("韦伯 Weber Go-Anywhere 便携单头丙烷烤炉", "Weber Go-Anywhere Portable Single Burner"),
    "167444": ("美膳雅 Cuisinart Prep 11 Plus 11杯量食物料理机", "Cuisinart Prep 11 Plus 11-Cup Food Processor"),
    "140781": ("Cuisinart PerfectWeight 电子厨房秤", "Cuisinart PerfectWeight Digital Kitchen Scale"),
    "179798": ("牧田 Makita 18V LXT 锂电九件套组合工具", "Makita 18-Volt LXT Lithium-Ion Combo Kit (9-Tool)"),
    "135892": ("Makita 牧田 15安 7寸角磨机，带软启动", "Makita 15 Amp 7 in. Angle Grinder with Soft Start"),
    "186803": ("Scotts 18寸手推滚刀割草机", "Scotts 18 in. Deluxe Reel Mower"),
    "104764": ("LG 12000 BTU 移动空调，带除湿和遥控，灰色", "LG Electronics 12,000 BTU Portable Air Conditioner and Dehumidifier"),
}
EN_NAMED_ATTR = {"year": ["{t} came out when?", "do you know when {t} was first shown?", "how old is {t}? when did it come out"],
                 "genres": ["what sort of story is {t}?", "which kind of film is {t} considered?"],
                 "color": ["the {t} — what shade is that?", "which shade is the {t} sold in?"],
                 "material": ["the {t} — what's it made out of?"], "size": ["how big is the {t}?"], "item_weight": ["the {t}, how hefty is it?"]}
ZH_NAMED_ATTR_MOVIE = {"year": ["《{t}》是什么时候的片子？", "{t}是哪年出的来着", "{t}大概是哪一年上映的"],
                       "genres": ["《{t}》是什么风格的电影", "{t}这部属于哪一类"]}
ZH_NAMED_ATTR_GOODS = {"color": ["{t}有什么色？", "{t}是什么色系"], "material": ["{t}用的什么材质"], "size": ["{t}尺寸多少"],
                       "item_weight": ["{t}有几斤重"]}
EN_NAMED_ID = ["do you stock {t}?", "I'm hunting for {t}", "can I get {t} here?", "looking to pick up {t}", "find {t} for me"]
EN_PARTIAL = ["the movie titled something like {w}", "a film with {w} in its name"]  # a partial film title, sometimes with a slip
ZH_NAMED_ID = ["店里能买到{t}吗", "{t}还有卖的不", "想买{t}，帮我找找", "搜一下{t}看看"]
ZH_NAMED_ID_MOVIE = ["有没有《{t}》？", "《{t}》能买到吗", "我在找{t}这部电影", "想收一部《{t}》"]

# listing turns and the set questions that follow them
EN_LIST_MOVIES = ["what have you got in the way of horror?", "I fancy a crime film tonight", "suggestions for a funny movie?", "show me your war movies",
                  "I'd like something animated", "any classic westerns in stock?", "I'm in the mood for a love story", "looking for a spy thriller",
                  "got anything sci-fi?", "a tearjerker drama, please", "movies for a family night with small children",
                  "what adventure films can you suggest?", "need a whodunit mystery", "any musicals?", "documentary films you'd recommend?",
                  "black-and-white film noir?"]
ZH_LIST_MOVIES = ["有什么好笑的喜剧推荐", "想看犯罪片，有吗", "来几部打仗的电影", "有没有好看的动画片给小孩看", "西部牛仔片有吗", "想看点谈恋爱的片子",
                  "推荐部间谍惊悚片", "科幻类的有啥", "来部催泪的剧情片", "周末一家人看什么电影好", "冒险片有哪些", "想看侦探推理片",
                  "有歌舞片吗，推荐下", "纪录片给我推荐几个", "有没有恐怖片，越吓人越好", "来几部 sci-fi 看看"]
EN_LIST_GOODS = ["do you sell electric razors?", "I'm looking for a keypad deadbolt", "show me SD memory cards", "a rolling storage cart, please",
                 "any raised dog bowls?", "I want a makeup organizer"]
ZH_LIST_GOODS = ["电动剃须刀有吗", "想买个密码门锁", "SD 存储卡看看", "带轮子的收纳推车", "狗狗喂食碗有哪些", "化妆品收纳盒"]
EN_LIST_TOYS = ["what toys would a six-year-old like?", "toy suggestions for my nephew?"]
ZH_LIST_TOYS = ["给侄子买玩具，有推荐吗", "小孩玩的东西有哪些"]
SET_Q = {  # op → ([EN], [ZH])
    "oldest": (["which of those was released first?", "of the ones shown, which is the earliest film?"],
               ["这几部哪部最早出的", "刚才那些里最老的片子是哪部", "哪部年头最久"]),
    "newest": (["which one of these came out most recently?", "what's the newest film in that bunch?"], ["哪部是最近才出的", "这些里面最新的一部是哪个"]),
    "has_genre": (["do any of them count as {g}? which?", "from that list, which are {g} films?"], ["这里头哪几部是{gz}", "有没有{gz}？是哪部"]),
    "diff": (["compare the first and second for me", "what's different between item one and item two?", "how do the top two differ?"],
             ["第一和第二个有啥区别", "前面两个比一比呢", "排前两个的差别是啥"]),
    "heaviest": (["which one is the heaviest to carry?", "which of these has the most heft?"], ["这几样哪样最重啊", "哪个拿着最沉"]),
    "cheapest": (["which of these costs the least?", "what's the cheapest option there?"], ["里面哪样最便宜呀", "价格最低的是哪样"]),
}
GENRE_ZH = {"Comedy": "搞笑片", "Drama": "剧情片", "Thriller": "惊悚片", "Romance": "爱情片", "Action": "动作片", "Sci-Fi": "科幻片", "War": "战争片",
            "Adventure": "冒险片", "Horror": "恐怖片", "Crime": "犯罪片", "Mystery": "悬疑片", "Animation": "动画片", "Western": "西部片",
            "Documentary": "纪录片", "Musical": "歌舞片", "Children's": "儿童片", "Film-Noir": "黑色电影"}
# (first message, position, attribute, follow-up message or None)
REF_EN = [("when did the second one come out?", 1, "year", None), ("the opening pick — what sort of film is it?", 0, "genres", None),
          ("third on the list: when was it made?", 2, "year", None), ("the bottom one, when was that released?", -1, "year", None),
          ("number two sounds fun", 1, "genres", "what sort of story is it?"), ("I'm curious about the third", 2, "year", "and when was that one released?"),
          ("tell me more about the first", 0, "genres", "what kind of film is it?"), ("the final one", -1, "genres", "what sort of movie is that?"),
          ("how old is the first film on there?", 0, "year", None)]
REF_EN_GOODS = [("the second item — what shade?", 1, "color", None), ("how hefty is item one?", 0, "item_weight", None),
                ("I like the look of the second", 1, "color", "what shade is it exactly?"), ("let me see the first", 0, "item_weight", "is it heavy? how much?"),
                ("the final item, how heavy?", -1, "item_weight", None)]
REF_ZH = [("第二部哪年出的", 1, "year", None), ("第一个是什么片", 0, "genres", None), ("第三个是哪年的片子", 2, "year", None),
          ("最后一部啥时候上映的", -1, "year", None), ("第二部好像挺有意思", 1, "genres", "它是哪类片子？"), ("想了解下第三部", 2, "year", "它是哪年拍的"),
          ("给我说说第一部", 0, "genres", "这部算啥类型"), ("最底下那部", -1, "genres", "它属于哪种电影"), ("第一部有多老了，哪年的", 0, "year", None)]
REF_ZH_GOODS = [("第二样是啥颜色", 1, "color", None), ("头一个多重", 0, "item_weight", None), ("第二个看着不错", 1, "color", "它有什么颜色"),
                ("我看看第一个", 0, "item_weight", "它重不重，多少"), ("最后那个多沉", -1, "item_weight", None)]

# record id → (phrase as it should be found in the shop's titles, the product): filled by build(), read by the pre-freeze checks
NAMED_PHRASES: dict[str, tuple[str, str]] = {}


# ------------------------------------------------------------------------------------------ helpers
def used_before() -> set[str]:
    """Products dev.jsonl, sealed.jsonl or sealed2.jsonl ask about (ids only, by code), and those build_set.py / build_set2.py
    render in Chinese: left out here."""
    ids: set[str] = set()
    for name in EARLIER:
        for line in (HERE / name).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            ids |= {t["product_id"] for t in r["turns"] if t.get("product_id")}
            if r["gold"].get("product_id"):
                ids.add(r["gold"]["product_id"])
    return ids | set(bs.ZH_TITLES) | set(bs.ZH_HD) | set(bs2.ZH_TITLES) | set(bs2.ZH_HD)


def plain_title(title: str) -> bool:
    """A film title that reads as a shopper would type it (no ', The' at the end, no parenthesis)."""
    return bs.core_title(title) == title and "(" not in title


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
        return [p for p in ps if p.id not in taken]

    def source(pid: str) -> str:
        return {"m": "movies", "pqa": "epqa", "spqa": "semipqa"}[re.match(r"[a-z]+", pid).group()]

    for li, lang in enumerate(("en", "zh")):
        # a. attribute questions on the product page (18 goods, 7 movies)
        pool = [(p, k) for p in free(goods) for k in p.attributes if k in GOODS_KEYS and bs2.gold_ok(k, p.attributes[k])]
        rng.shuffle(pool)
        picked: list = []
        for p, k in pool:
            if p.id in taken or sum(1 for _, kk in picked if kk == k) >= 3:
                continue
            taken.add(p.id)
            picked.append((p, k))
            if len(picked) == 18:
                break
        for p in rng.sample([p for p in free(movies) if p.id not in ZH_TITLES], 7):
            taken.add(p.id)
            picked.append((p, rng.choice(["year", "genres"])))
        for p, k in picked:
            add(lang, "attribute", source(p.id), [{"message": rng.choice(ATTR_Q[k][li]), "product_id": p.id}],
                {"product_id": p.id, "attribute": k, "values": bs.value_list(p.attributes[k])})

        # b. products named in the message only: (catalog, phrase in the message, phrase in the shop's titles, product, attribute)
        named: list = []
        if lang == "en":
            cand = [p for p in free(movies) if len(p.title) > 6 and uniq.owner(p.title) == p.id and p.id not in ZH_TITLES]
            full = [p for p in cand if plain_title(p.title)]
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
            hd = [p for p in rng.sample(free(cat.get("homedepot", [])), 300) if len(p.title.split()) >= 5 and "&" not in p.title
                  and p.id not in ZH_HD]
            n_hd = 0
            for p in hd:
                words = p.title.split()
                phrase = p.title if n_hd % 3 == 0 else bs2.trim(bs.short_title(p.title, max(4, len(words) // 2)))
                if uniq.owner(phrase) != p.id:
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
        n_ep = 0
        ep = free([p for p in cat["epqa"] if p.attributes])
        for p in rng.sample(ep, len(ep)):  # ePQA products by their first words
            ks = [k for k in ("color", "material", "size", "item_weight") if k in p.attributes and bs2.gold_ok(k, p.attributes[k])]
            phrase = bs2.trim(bs.short_title(p.title, 5))
            if (not ks or "&" in phrase or len(phrase.split()) < 3 or uniq.owner(phrase) != p.id
                    or any(str(p.attributes[k]).casefold() in phrase.casefold() for k in ks)):
                continue
            taken.add(p.id)
            named.append(("epqa", phrase, phrase, p, rng.choice(ks)))
            n_ep += 1
            if n_ep == 4:
                break
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
                ok = [p for p in free(pools[cname]) if not bs2.answers(p, frags, title_re) and p.id not in ZH_TITLES and p.id not in ZH_HD]
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
                listing, op, cname = movie_lists[(j * 7 + li + j // len(movie_lists)) % len(movie_lists)], ("newest", "has_genre", "diff", "oldest")[j % 4], "movies"
            elif j < 23:
                listing, op, cname = goods_lists[j % len(goods_lists)], ("diff", "heaviest")[j % 2], "epqa"
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
                listing, (first, pos, attr, follow), cname = movie_lists[(j * 5 + 3) % len(movie_lists)], refs[j % len(refs)], "movies"
            else:
                listing, (first, pos, attr, follow), cname = goods_lists[(j + 1) % len(goods_lists)], refs_goods[j % len(refs_goods)], "epqa"
            turns = [{"message": listing}, {"message": first}] + ([{"message": follow}] if follow else [])
            add(lang, "reference", cname, turns, {"ref": pos, "attribute": attr, "listing_turn": 0})
    return recs


def write(recs: list[dict], out: Path) -> str:
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs)
    (out / "sealed3.jsonl").write_text(body, encoding="utf-8")
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
    print(json.dumps({"records": len(recs), "counts": counts, "sha256": {"sealed3.jsonl": digest}}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
