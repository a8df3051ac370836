"""Writes the fifth sealed part of the assistant generalisation set (sealed5.jsonl) from the catalog records alone.

Same catalogs, record format and gold derivation as build_set.py … build_set4.py (build_set.py's catalogs and helpers,
build_set2.py's stricter filters, build_set3.py's plain_title and build_set4.py's gold filter are imported), but a different
seed, no product that dev.jsonl, sealed.jsonl, sealed2.jsonl, sealed3.jsonl or sealed4.jsonl asks about (ids collected by
code), none that an earlier generator renders in Chinese, and question wording written by hand for this part only (English
and Chinese, two to five phrasings per intent). Every gold value is read from the product records by this script, never from
the assistant. Run once; the file is then frozen (SHA256SUMS).

    python bench/assistant_sets/build_set5.py [--data /work/shared/data] [--out DIR]
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
import build_set4 as bs4

REPO = bs.REPO
SEED = 20261215
PREFIX = "s5"  # record ids: s5-<lang>-<kind>-<n>
EARLIER = ("dev.jsonl", "sealed.jsonl", "sealed2.jsonl", "sealed3.jsonl", "sealed4.jsonl")
GENERATORS = (bs, bs2, bs3, bs4)

# ------------------------------------------------------------------------------------------ hand-written wording
# Attribute questions that never name the catalog key word for word. {key: ([EN], [ZH])}
ATTR_Q: dict[str, tuple[list[str], list[str]]] = {
    "color": (["what hue would I be getting with this?", "is this one dark or light, and what's the shade called?", "what does it look like, shade-wise?"],
              ["这款是啥颜色呀", "收到的会是什么颜色", "颜色偏深还是偏浅，具体啥色"]),
    "material": (["what's this thing built from?", "is the body plastic, metal, or something else?"], ["这个是啥材料的", "摸上去是塑料还是金属"]),
    "size": (["how big is it, exactly?", "how much does one hold, or how large is it?"], ["有多大呀", "容量或者大小是多少"]),
    "item_weight": (["what does it tip the scales at?", "is it heavy? give me a number", "how much would this weigh on a scale?"],
                    ["这东西有几斤", "分量多少，重不重", "称一下大概多沉"]),
    "target_audience": (["who's it made for, men, women or kids?", "would this suit a guy or a girl?"], ["男的穿还是女的穿", "这是给谁用的，男款女款"]),
    "manufacturer": (["which outfit produces this?", "who actually makes it?", "what company is behind this thing?"],
                     ["这是哪个厂子生产的", "生产商是谁", "出自哪家公司"]),
    "top": (["what's the upper surface made of?", "the part you set things on, what is it made from?"], ["台面是什么材料的", "上面那块板是啥做的"]),
    "target_species": (["which animal is this meant for?", "what kind of pet would use this?"], ["这是给什么动物用的", "适合养什么宠物的人买"]),
    "breed_recommendation": (["how big a dog suits it?", "is it right for a small dog or a big one?"], ["适合多大的狗", "小型犬还是大型犬用的"]),
    "hair_type": (["which kind of locks does it work best with?", "is it meant for curly, dry or oily tresses?"], ["适合什么发质", "干性头发能用吗，适合哪种发质"]),
    "light_source": (["what kind of bulbs does it use?", "how is it lit, halogen or something else?"], ["里面的灯是什么类型的", "照明用的是哪种灯"]),
    "blade": (["what are the cutters made of?", "what's the cutting part made from?"], ["刀头是什么材质", "刀片是啥做的"]),
    "control_method": (["how do I operate it, what do I press?", "buttons or a screen, how do I work it?"], ["是按键操作还是触屏", "怎么操作的，按钮还是触摸"]),
    "connectivity_technology": (["does it hook up with cables or without?", "how does it link up with other gear?"], ["是有线连接还是无线的", "怎么连接其他设备"]),
    "mounting_type": (["does it need bolting down, or does it just stand on its own?", "how is it installed?"], ["要固定安装还是直接放着就行", "是怎么安装的"]),
    "subject": (["what sort of game is it?", "what style of gameplay is this?"], ["这是什么玩法的游戏", "属于哪类游戏"]),
    "form_factor": (["how is it built, what kind of keys?", "what style of design is it?"], ["是机械的还是薄膜的", "是什么结构的"]),
    "hardware_platform": (["what gadget is it designed to go with?", "is it aimed at phones, laptops or tablets?"], ["是配什么设备用的", "手机平板电脑，适合哪个"]),
    "specific_uses_for_product": (["what activity is it built for?", "what would somebody mainly do with it?"], ["这主要是拿来做什么的", "用途是什么"]),
    "surface_recommendation": (["what is it meant to be used on?", "will it work on my carpets, my sofa, my floors?"], ["适合清洁哪种地方", "地毯沙发地板，用在哪"]),
    "battery": (["what chemistry is the cell?", "what kind of cell is it, which chemistry?"], ["这是哪种电池", "电芯是锂的还是铅酸的"]),
    "special_feature": (["what's its standout trick?", "anything notable that sets it apart?"], ["有什么特色功能", "亮点是什么"]),
    "specification_met": (["what safety listing or certification does it carry?", "is it certified by anyone, which mark?"], ["有什么认证", "通过了哪种安全认证"]),
    "compatible_devices": (["what can I plug this into?", "what gear will it work with?"], ["能配什么设备用", "可以接哪些东西"]),
    "included_components": (["what comes in the box?", "what do I get in the package?"], ["包装里都有什么", "买了会附带哪些东西"]),
    "language": (["what tongue are the instructions written in?", "which lingo does it use, will I be able to read it?"], ["说明书是什么语言的", "上面的文字是中文还是外文"]),
    "variety": (["what flavour is it?", "what does it taste like, which kind?"], ["这是啥口味的呀", "啥味的"]),
    "scent": (["does it smell of anything?", "what's the fragrance like?"], ["有香味吗，什么味", "闻起来是什么味道"]),
    "year": (["when did this first hit the big screen?", "how old is this picture, when was it released?", "what decade is this one from, and when exactly?",
              "when did audiences first see this?"],
             ["这片是哪年拍的呀", "什么年份的电影", "这部出来多少年了，哪年的", "这电影啥年代的"]),
    "genres": (["is it a comedy, a thriller, or what?", "what sort of movie is this one?", "what category of film would this be?"],
               ["这片子属于什么类型", "是搞笑的还是正经的，什么类型", "讲的是什么类型的故事"]),
}
GOODS_KEYS = [k for k in ATTR_Q if k not in ("year", "genres")]
NAMED_KEYS = ("color", "material", "size", "item_weight", "manufacturer")  # what an ePQA product named in the message may be asked about
# values seen to be no answer to the question asked ('easy to use' as a feature, 'all' as the contents), a category or packaging
# note in another field's slot, or a value the title contradicts ('penne' for a spaghetti)
BROKEN = {"easy to use", "all", "this is a genuine replacement part", "party lights bulbs", "certified frustration-free", "no", "penne",
          "include: nintendo land wii u game", "games & cd-roms"}

# Questions no attribute answers: (topic, [EN], [ZH], key/value fragments that would answer it, title/value pattern that would, catalogs).
# Films and goods alternate, so the 25 questions of a language split 13 films / 12 goods. FITS: the kind of goods a question is
# asked about (an appliance for energy use, a device for batteries …), so that "not stated" is the answer and "it has none" is not.
UNANSWERABLE: list[tuple[str, list[str], list[str], tuple[str, ...], str, tuple[str, ...]]] = [
    ("cinematographer", ["who was the cinematographer?", "who shot it, who was the director of photography?"], ["摄影师是谁", "谁掌的镜"],
     ("cinematograph", "camera", "photograph"), r"$^", ("movies",)),
    ("energy_efficiency", ["how energy efficient is it?", "does it carry an Energy Star rating?"], ["省电吗，能效等级多少", "是几级能效的"],
     ("energy", "efficien", "watt", "power", "star", "consumption"), r"energy|efficien|\bstar\b|watt|\bkwh\b|\bamp\b", ("homedepot", "epqa")),
    ("producer", ["who produced it?", "which producer was behind it?"], ["制片人是谁", "是谁监制的"],
     ("producer", "production", "studio"), r"'s\b|presents", ("movies",)),
    ("batteries_included", ["are batteries included?", "do I need to buy batteries separately?"], ["送电池吗", "电池要另外买吗"],
     ("batter", "power", "included", "component", "cell"), r"batter|cordless|rechargeable|includ|volt|\bkit\b|power|solar|lithium|electric",
     ("epqa", "semipqa", "homedepot")),
    ("colour_format", ["is it in black and white or in colour?", "was it filmed in colour?"], ["是黑白片还是彩色的", "这部是彩色电影吗"],
     ("color", "colour", "black", "white"), r"colou?r|black|white|blue|red\b|technicolor|3-d", ("movies",)),
    ("smart_home", ["does it work with Alexa or Google Home?", "can I control it from a phone app?"], ["能接入智能家居吗，比如Alexa", "能用手机APP控制吗"],
     ("alexa", "google", "smart", "wifi", "wi-fi", "wireless", "compatib", "app", "connect", "bluetooth", "control"),
     r"alexa|google|smart|wi-?fi|\bapp\b|bluetooth|wireless|z-wave|zigbee|\bnest\b|remote|phone", ("homedepot", "epqa")),
    ("ending", ["does it have a happy ending?", "how does it end, sad or happy?"], ["结局是好的吗", "结尾圆满吗，还是悲剧"],
     ("ending", "plot", "story"), r"\bend\b|ending|happ|dead|death|\bdie\b|kill|funeral", ("movies",)),
    ("scratch_resistant", ["does it scratch easily?", "how well does the surface resist scratches?"], ["耐刮吗", "用久了表面会不会刮花"],
     ("scratch", "finish", "coating", "surface", "durab", "resist", "protect"),
     r"scratch|resist|coat|durable|tough|heavy duty|heavy-duty|tempered|protect|armor|rugged", ("epqa", "homedepot", "semipqa")),
    ("bonus_features", ["does the disc come with any bonus features?", "are there extras like commentary or deleted scenes?"],
     ["碟里有花絮吗", "带导演评论音轨之类的附加内容吗"], ("bonus", "extra", "feature", "edition"), r"edition|collection|special|\bcut\b|\(|:", ("movies",)),
    ("odor", ["does it have a strong smell out of the box?", "any chemical odour when it's new?"], ["刚拿到有没有异味", "味道大不大，有没有刺鼻的味"],
     ("scent", "smell", "odor", "odour", "fragrance", "flavor"), r"scent|fragran|odou?r|smell|unscented|deodor|fresh|aroma", ("epqa", "semipqa")),
    ("dvd_region", ["which DVD region is it coded for?", "will the disc play on a European player, what region is it?"], ["碟片是几区的", "国内的播放机能放吗，是哪个区码"],
     ("region", "format", "dvd", "disc"), r"$^", ("movies",)),
    ("child_safe", ["is it safe to have around small children?", "any small parts a toddler could choke on?"], ["家里有小孩，安全吗", "有小零件会被宝宝误吞吗"],
     ("age", "child", "kid", "safety", "warning", "cautionary", "choking", "toddler", "baby"),
     r"\bkids?\b|child|baby|toddler|infant|\btoys?\b|safe|junior|youth|nursery|teen", ("epqa", "homedepot")),
    ("widescreen", ["is it widescreen or full screen?", "what aspect ratio is the picture?"], ["是宽屏版的吗", "画面比例是多少"],
     ("screen", "aspect", "ratio", "format"), r"screen|imax|3-d|cinemascope", ("movies",)),
]

DEVICE = (r"\b(lamp|(led|ceiling|puck|flood|work|night|string|desk|floor|pendant|track|security|landscape) ?lights?|fan|heater|microwave|washer|dryer|conditioner|radio|speakers?|monitor|camera|charger|pump|vacuum|oven|gas range|electric range|"
          r"refrigerator|freezer|dishwasher|tv|player|clock|printer|router|thermostat|blender|maker|cooker|kettle|toaster|dock|mouse|"
          r"keyboard|headset|headphones?|phone|adapter|scale|timer|alarm|detector|chime|doorbell|lock|translator|console|sander|drill|"
          r"saw|trimmer|mower|blower|opener|hood|dehumidifier|humidifier|purifier|fixture|sconce|controller|tablet|watch)\b")
FITS = {
    "energy_efficiency": DEVICE,
    "batteries_included": r"\b(remote|clock|scale|timer|alarm|detector|chime|doorbell|translator|mouse|keyboard|headset|headphones?|"
                          r"thermometer|monitor|camera|radio|speakers?|toy|controller|watch|flashlight|tracker|tester)\b",
    "smart_home": r"\b(lamp|light bulbs?|light switch|wall switch|toggle switch|dimmer|plug|outlet|camera|lock|doorbell|chime|speakers?|fan|conditioner|heater|vacuum|tv|"
                  r"thermostat|sprinkler|monitor|opener|fixture|washer|dryer|refrigerator|oven|gas range|electric range|dehumidifier|purifier)\b",
    "scratch_resistant": r"\b(table|desk|case|screen|glass|sink|tub|counter|countertop|floor|flooring|tray|board|panel|cabinet|shelf|"
                         r"phone|watch|lens|pan|pot|door|faucet|mirror|frame|chair|bowl|vanity|tile|console|housing)\b",
    "odor": r"\b(mat|rug|foam|rubber|plastic|vinyl|mattress|pad|liner|curtain|paint|stain|sealant|glue|adhesive|cleaner|spray|bag|case|"
            r"toy|mask|glove|hose|tire|bin|seat|cushion|pillow|bellow|gasket|cover|tarp|carpet|gel|cream|lotion|soap|shampoo)\b",
}
# parts and accessories are no device: an energy, battery or smart-home question about them asks about something they do not do
NOT_DEVICE = r"\b(vent|kit|parts?|replacement|cover|filter|hose|rack|bracket|mount|accessor\w*|adapter|tubing|tie|strap|bulb|attachment|refill|mix|plate)\b"

# Chinese titles of demo-shop movies as Chinese audiences know them (hand-written; none of the earlier generators')
ZH_TITLES = {
    "m168": "巨蟒与圣杯", "m203": "不可饶恕", "m210": "夺宝奇兵3", "m216": "当哈利遇到莎莉", "m217": "惊情四百年", "m218": "恐怖角",
    "m241": "最后的莫希干人", "m249": "王牌大贱谍", "m259": "森林泰山", "m269": "光猪六壮士", "m289": "贝隆夫人", "m293": "忠奸人",
    "m327": "警察帝国", "m367": "独领风骚", "m429": "地球停转之日", "m432": "幻想曲", "m443": "群鸟", "m448": "凶兆", "m470": "墓碑镇",
    "m473": "飞天巨桃历险记", "m484": "马耳他之鹰", "m490": "捉贼记", "m496": "生活多美好", "m497": "育婴奇谭", "m506": "无因的反叛",
    "m512": "柏林苍穹下", "m515": "从海底出击", "m519": "碧血金沙", "m525": "夜长梦多", "m528": "战火屠城", "m529": "狗脸的岁月",
    "m589": "日落黄沙", "m604": "一夜风流", "m615": "三十九级台阶", "m641": "光荣之路", "m664": "德州巴黎", "m684": "火线狙击",
    "m693": "赌城风云", "m753": "烈日灼人", "m805": "曼哈顿谋杀疑案", "m853": "群尸玩过界", "m945": "谜中谜", "m965": "甜姐儿",
    "m1005": "两生花", "m1021": "八部半", "m1214": "感官世界", "m1652": "风月", "m1344": "杏花三月天", "m1156": "三轮车夫",
    "m1193": "暴雨将至", "m1472": "时空急转弯", "m171": "黑店狂想曲", "m207": "大鼻子情圣", "m212": "布拉格之恋", "m214": "迷墙",
    "m221": "破浪", "m30": "白日美人", "m60": "蓝白红三部曲之蓝", "m18": "白气球", "m53": "天生杀人狂", "m86": "长日将尽",
    "m165": "恋恋山城", "m166": "甘泉玛侬", "m194": "骗中骗", "m209": "摇滚万万岁", "m211": "陆军野战医院", "m317": "因父之名",
    "m340": "不羁夜", "m17": "杀出个黎明", "m4": "矮子当道", "m164": "深渊", "m260": "黑洞表面", "m436": "美国狼人在伦敦",
    "m441": "鬼哭神嚎", "m489": "美人计", "m576": "绝岭雄风", "m578": "超级战警", "m601": "战地钟声", "m612": "消失的地平线",
    "m622": "海角一乐园", "m625": "石中剑", "m629": "雌雄莫辨", "m659": "毒药与老妇",
}
# Home Depot products as a Chinese shopper would name them (brand/model kept; hand-written), with the English fragment of the
# title that must name exactly this product in the whole shop
ZH_HD = {
    "100011": ("Toro 托罗 Personal Pace Recycler 22寸自走式汽油割草机，配 Briggs & Stratton 发动机",
               "Toro Personal Pace Recycler 22 in. Variable Speed Self-Propelled Gas Lawn Mower with Briggs"),
    "100068": ("瑞美 Rheem Performance Plus 50加仑 9年质保 40,000 BTU 高效天然气热水器", "Rheem Performance Plus 50 Gal. Tall 9 Year 40,000 BTU"),
    "100093": ("Milwaukee 米沃奇 M18 FUEL Hole Hawg 直角电钻（裸机）", "Hole Hawg 1/2 in. Right Angle Drill (Bare Tool)"),
    "100095": ("GE Adora 5.0立方英尺燃气灶，带自清洁对流烤箱", "GE Adora 5.0 cu. ft. Gas Range"),
    "100120": ("得伟 DEWALT 2.4安培 1/4张砂纸平板砂光机", "DEWALT 2.4-amp 1/4-Sheet Pad Sander"),
    "100295": ("Ryobi 良明 ONE+ 18伏小收音机，能连蓝牙", "Ryobi ONE+ 18-Volt Compact Radio"),
    "100308": ("美泰克 Maytag 7.0立方英尺电烘干机，白色", "Maytag 7.0 cu. ft. Electric Dryer in White"),
    "100334": ("琢美 Dremel 电磨工作台 Rotary Tool WorkStation", "Dremel Rotary Tool WorkStation"),
    "100407": ("Cub Cadet 2X 524 SWE 24寸两级电启动扫雪机，带助力转向", "Cub Cadet 2X 524 SWE"),
    "100448": ("科勒 KOHLER Santa Rosa 舒适高度 1.28 GPF 紧凑型单冲连体马桶", "Santa Rosa Comfort Height 1-piece 1.28 GPF Compact Single Flush"),
    "100532": ("三星 Samsung Flex Duo 5.8立方英尺嵌入式双烤箱电灶，不锈钢", "Samsung Flex Duo"),
    "100637": ("飞利浦 Philips 4英尺 T8 17瓦日光色 LED 灯管", "Philips 4 ft. T8 17-Watt Daylight Linear LED"),
    "100638": ("博世 Bosch DareDevil 扁钻头套装（13件）", "Bosch DareDevil Spade Bit Set (13-Piece)"),
    "100704": ("博世 Bosch 130英尺激光测距仪", "Bosch 130 ft. Laser Distance Measurer"),
    "101132": ("LG 26.1立方英尺对开门冰箱，不锈钢，Door-In-Door 门中门", "LG Electronics 26.1 cu. ft. Side by Side Refrigerator in Stainless Steel with Door-In-Door"),
    "101261": ("Frigidaire 富及第 Gallery 30寸 5.0立方英尺燃气灶，QuickBake 对流烤箱", "Frigidaire Gallery 30 in. 5.0 cu. ft. Gas Range"),
    "101326": ("Delta 代尔塔 In2ition 二合一手持花洒加顶喷套装，镀铬", "Delta In2ition Two-in-One"),
    "101334": ("瑞美 Rheem EcoSense RETE-13 即热式电热水器，13千瓦", "Rheem EcoSense RETE-13"),
    "101588": ("霍尼韦尔 Honeywell 6 Tune 电池门铃，带闪光提示", "Honeywell 6 Tune Battery Powered Door Chime"),
}
EN_NAMED_ATTR = {"year": ["when did {t} come out in cinemas?", "{t}, how old is that one?", "remind me when {t} was released"],
                 "genres": ["what sort of picture is {t}?", "is {t} a comedy or something darker?"],
                 "color": ["what hue is the {t}?"], "material": ["what material went into the {t}?"], "size": ["what are the measurements on the {t}?"],
                 "item_weight": ["is the {t} heavy? how heavy exactly?"], "manufacturer": ["who makes the {t}?"]}
ZH_NAMED_ATTR_MOVIE = {"year": ["《{t}》哪年上的", "{t}这片是啥年份的", "{t}是什么时候拍的来着"],
                       "genres": ["《{t}》属于什么类型", "{t}是哪种片子"]}
ZH_NAMED_ATTR_GOODS = {"color": ["{t}是啥颜色的呀"], "material": ["{t}是啥材料的"], "size": ["{t}大概多大尺寸"], "item_weight": ["{t}有多重啊"],
                       "manufacturer": ["{t}是哪家生产的"]}
EN_NAMED_ID = ["is there a listing for {t}?", "can you find {t} for me?", "I'm after {t}", "do you happen to have {t}?", "any chance you carry {t}?"]
EN_PARTIAL = ["that picture titled something like {w}", "the movie whose title has {w} in it"]  # a partial film title, sometimes with a slip
ZH_NAMED_ID = ["{t}有现货吗", "我要买{t}", "请帮我查一下{t}", "{t}，这个你们卖不卖"]
ZH_NAMED_ID_MOVIE = ["《{t}》这部有吗", "我想看{t}，有卖的吗", "帮忙找找《{t}》", "有{t}这部片子吗"]

# listing turns and the set questions that follow them
EN_LIST_MOVIES = ["any crime capers in stock?", "I'm in the mood for a horror flick", "something funny to watch tonight?",
                  "what have you got about soldiers and battles?", "animated films for the little ones?", "any films set in the old west?",
                  "a love story, please", "espionage thrillers?", "anything with aliens or spaceships?", "a heavy, emotional drama",
                  "a kids' movie we can all enjoy", "action-packed adventure films", "whodunit mysteries, anything?",
                  "musicals with lots of singing?", "nonfiction films, documentaries?", "black-and-white detective noir?"]
ZH_LIST_MOVIES = ["有没有犯罪片推荐", "今晚想看恐怖片，来几部", "来点逗乐的片子", "打仗题材的电影有啥", "动画片有没有，给娃看", "西部片来几部",
                  "想看个爱情故事", "有谍战片吗", "外星人飞船那种科幻片有吗", "来部看了会哭的剧情片", "一家老小能一起看的片子", "刺激点的冒险动作片",
                  "推理破案的片子有吗", "又唱又跳的歌舞片", "纪实类的纪录片有吗", "老的黑色侦探片有没有"]
EN_LIST_GOODS = ["any rice cookers?", "show me some sunscreen", "I need a gaming keyboard", "bird feeders, please", "do you carry range hoods?",
                 "soundbars for my TV?"]
ZH_LIST_GOODS = ["电饭煲有哪些", "防晒霜给我看看", "想买个游戏键盘", "喂鸟器有吗", "油烟机有卖吗", "电视用的回音壁有没有"]
EN_LIST_TOYS = ["what toys are good for a 3-year-old?", "any fun toys for a kid's party?"]
ZH_LIST_TOYS = ["三岁小孩玩什么玩具好", "孩子聚会用的玩具有吗"]
SET_Q = {  # op → ([EN], [ZH])
    "oldest": (["out of those, which one's the earliest?", "which was released first?"], ["这几部哪部最先上映", "哪部年代最久远"]),
    "newest": (["which of them came out most recently?", "and the most recent one is?"], ["这里面哪部最新", "最近上映的是哪个"]),
    "has_genre": (["any {g} among those?", "which of these count as {g}?"], ["里面有{gz}吗", "哪几部是{gz}"]),
    "diff": (["how do the first and second differ?", "put the top two side by side for me", "what's different between the first two?"],
             ["头两个有啥区别", "第一和第二比比看", "前面两个有什么不同的地方"]),
    "heaviest": (["which one's the heaviest?", "what's the heaviest of the lot?"], ["这些里哪个最重", "这些里面谁最沉"]),
    "cheapest": (["what's the cheapest of these?", "which would be the least expensive one?"], ["这几样哪个最便宜", "最实惠的是哪个"]),
}
GENRE_ZH = {"Comedy": "喜剧", "Drama": "剧情片", "Thriller": "惊悚片", "Romance": "爱情片", "Action": "动作片", "Sci-Fi": "科幻片", "War": "战争片",
            "Adventure": "冒险片", "Horror": "恐怖片", "Crime": "犯罪片", "Mystery": "悬疑片", "Animation": "动画片", "Western": "西部片",
            "Documentary": "纪录片", "Musical": "歌舞片", "Children's": "儿童片", "Film-Noir": "黑色电影", "Fantasy": "奇幻片"}
# (first message, position, attribute, follow-up message or None)
REF_EN = [("the second film, when's that from?", 1, "year", None), ("number one, what kind of movie?", 0, "genres", None),
          ("how old is film number three?", 2, "year", None), ("and the final one on the list, when was it released?", -1, "year", None),
          ("tell me more about number two", 1, "genres", "what sort of film is that?"), ("let's look at the third", 2, "year", "when did that one come out?"),
          ("click into the first one", 0, "genres", "is it a comedy or a drama or what?"), ("the last one there", -1, "genres", "what kind of movie is that one?"),
          ("the first pick, when was it released?", 0, "year", None)]
REF_EN_GOODS = [("the second item, what hue is it?", 1, "color", None), ("how heavy is the first thing you showed?", 0, "item_weight", None),
                ("number two looks nice", 1, "color", "what hue does it come in?"), ("bring up the first item", 0, "item_weight", "how many pounds does that one come to?"),
                ("and the final product, how heavy is that?", -1, "item_weight", None)]
REF_ZH = [("第二部是啥时候的", 1, "year", None), ("第一部是哪类片", 0, "genres", None), ("第三部年份是多少", 2, "year", None),
          ("列表最后那部哪年上映", -1, "year", None), ("说说第二部吧", 1, "genres", "这是啥类型"), ("第三部看着不错", 2, "year", "它哪年出的"),
          ("把第一部点开看看", 0, "genres", "这片子属于哪一类"), ("最后一部呢", -1, "genres", "它是啥风格的片"), ("排头那部哪年的", 0, "year", None)]
REF_ZH_GOODS = [("第二样东西是啥颜色", 1, "color", None), ("第一样多重", 0, "item_weight", None), ("第二款不错", 1, "color", "它是啥色的"),
                ("看下第一款", 0, "item_weight", "它拿着沉不沉，多重"), ("最后那样有多重", -1, "item_weight", None)]

# record id → (phrase as it should be found in the shop's titles, the product): filled by build(), read by the pre-freeze checks
NAMED_PHRASES: dict[str, tuple[str, str]] = {}


# ------------------------------------------------------------------------------------------ helpers
def gold_ok(key: str, value: object) -> bool:
    """build_set4.gold_ok, and not a list squeezed into one string ('frigidaire,crosley,tappan'), a value with a separator
    ('unit^instruction guide'), or one of BROKEN."""
    v = str(value).strip(". ").casefold()
    return bs4.gold_ok(key, value) and "," not in v and "^" not in v and v not in BROKEN


def used_before() -> set[str]:
    """Products dev.jsonl … sealed4.jsonl ask about (ids only, by code), and those the earlier generators render in Chinese:
    left out here."""
    ids: set[str] = set()
    for name in EARLIER:
        for line in (HERE / name).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            ids |= {t["product_id"] for t in r["turns"] if t.get("product_id")}
            if r["gold"].get("product_id"):
                ids.add(r["gold"]["product_id"])
    for mod in GENERATORS:
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

    def phrase_of(p) -> str:
        return bs2.trim(bs.short_title(p.title, 5))

    def named_keys(p) -> list[str]:
        """What an ePQA product named by its first words may be asked: a gold-worthy value the phrase does not hold."""
        phrase = phrase_of(p).casefold()
        return [k for k in NAMED_KEYS if k in p.attributes and gold_ok(k, p.attributes[k]) and str(p.attributes[k]).casefold() not in phrase]

    def nameable(p) -> bool:
        """An ePQA product whose first words name it alone (at least three words, no '&')."""
        phrase = phrase_of(p)
        return "&" not in phrase and len(phrase.split()) >= 3 and uniq.owner(phrase) == p.id

    def askable(p) -> list[str]:
        return [k for k in p.attributes if k in GOODS_KEYS and gold_ok(k, p.attributes[k])]

    # 8 ePQA products for the named part (4 per language), set aside before the attribute questions are drawn: those with a value
    # to ask first, then products the attribute part could not use anyway
    cand = [p for p in cat["epqa"] if p.id not in taken and p.attributes and nameable(p)]
    with_attr = sorted(p.id for p in cand if named_keys(p))
    plain = sorted(p.id for p in cand if not named_keys(p) and not askable(p))
    reserved_attr = rng.sample(with_attr, min(4, len(with_attr)))
    reserved = reserved_attr + rng.sample(plain, 8 - len(reserved_attr))
    epqa_by = {p.id: p for p in cat["epqa"]}

    for li, lang in enumerate(("en", "zh")):
        # a. attribute questions on the product page (up to 18 goods, the rest movies)
        pool = [(p, k) for p in free(goods) if p.id not in reserved for k in askable(p)]
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
            cand_m = [p for p in free(movies) if len(p.title) > 6 and uniq.owner(p.title) == p.id]
            full = [p for p in cand_m if bs3.plain_title(p.title)]
            for p in rng.sample(full, 6):  # full title
                taken.add(p.id)
                named.append(("movies", p.title, p.title, p, rng.choice(["year", "genres", None])))
            n_part = 0
            for p in rng.sample(free(cand_m), 40):  # partial title, every other one with a typing slip
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
        # ePQA products by their first words (those with a value to ask about first, alternating between the languages)
        for i in reserved[li::2]:
            p = epqa_by[i]
            phrase = phrase_of(p)
            ks = named_keys(p)
            taken.add(p.id)
            named.append(("epqa", phrase, phrase, p, rng.choice(ks) if ks else None))
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
                ok = [p for p in free(pools[cname]) if p.id not in reserved and not bs2.answers(p, frags, title_re)
                      and re.search(FITS.get(topic, ""), p.title.casefold())
                      and not (topic in ("energy_efficiency", "batteries_included", "smart_home") and re.search(NOT_DEVICE, p.title.casefold()))]
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
                listing, op, cname = movie_lists[(j * 5 + li + j // len(movie_lists)) % len(movie_lists)], ("newest", "has_genre", "diff", "oldest")[j % 4], "movies"
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
                listing, (first, pos, attr, follow), cname = movie_lists[(j * 3 + 5) % len(movie_lists)], refs[j % len(refs)], "movies"
            else:
                listing, (first, pos, attr, follow), cname = goods_lists[(j + 1) % len(goods_lists)], refs_goods[j % len(refs_goods)], "epqa"
            turns = [{"message": listing}, {"message": first}] + ([{"message": follow}] if follow else [])
            add(lang, "reference", cname, turns, {"ref": pos, "attribute": attr, "listing_turn": 0})
    return recs


def write(recs: list[dict], out: Path) -> str:
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs)
    (out / "sealed5.jsonl").write_text(body, encoding="utf-8")
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
    print(json.dumps({"records": len(recs), "counts": counts, "sha256": {"sealed5.jsonl": digest}}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
