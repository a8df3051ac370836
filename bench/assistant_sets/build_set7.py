"""Writes the seventh sealed part of the assistant generalisation set (sealed7.jsonl) from the catalog records alone.

Same catalogs, record format and gold derivation as build_set.py … build_set6.py (build_set.py's catalogs and helpers,
build_set2.py's answers and trim, build_set3.py's plain_title and build_set6.py's gold filter, MISFILED list and genre names are
imported), but a different seed, no product that dev.jsonl, sealed.jsonl … sealed6.jsonl asks about (ids collected by code), none
that an earlier generator renders in Chinese, and question wording written by hand for this part only (English and Chinese, two
to five phrasings per intent). Every gold value is read from the product records by this script, never from the assistant. Run
once; the file is then frozen (SHA256SUMS).

    python bench/assistant_sets/build_set7.py [--data /work/shared/data] [--out DIR]
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
import build_set5 as bs5
import build_set6 as bs6

REPO = bs.REPO
SEED = 20261229
PREFIX = "s7"  # record ids: s7-<lang>-<kind>-<n>
EARLIER = ("dev.jsonl", "sealed.jsonl", "sealed2.jsonl", "sealed3.jsonl", "sealed4.jsonl", "sealed5.jsonl", "sealed6.jsonl")
GENERATORS = (bs, bs2, bs3, bs4, bs5, bs6)
GOODS_PER_LANG = 6  # attribute questions on goods per language; the earlier parts used up nearly every good with a usable value

# ------------------------------------------------------------------------------------------ hand-written wording
# Attribute questions that never name the catalog key word for word. {key: ([EN], [ZH])}. The goods left hold a handful of usable
# values, so the keys here are mostly ones no earlier part asked about (a product guarantee, how it is dispensed, the hair it suits).
ATTR_Q: dict[str, tuple[list[str], list[str]]] = {
    "manufacturer": (["which company turns these out?", "who's the outfit behind it?", "whose company makes it?"],
                     ["这个是哪家公司出的", "生产商是谁呀", "背后是哪个公司在做"]),
    "connector_type": (["what does it plug into on my devices?", "what kind of port do I stick my cable in?"], ["充电口是啥口", "得用什么线插它"]),
    "specific_uses_for_product": (["what's it mainly meant to do?", "what would I buy this one to do?"], ["主要拿它干啥", "这个是干什么活儿用的"]),
    "style": (["what sort of hair is it made to get through?", "is it built with a particular head of hair in mind?"],
              ["适合啥发质用", "它是给哪种头发设计的"]),
    "warranty_description": (["how long is it guaranteed?", "what kind of guarantee comes with it?", "if it breaks, how long am I covered?"],
                             ["质保期多长", "厂家保修管多久", "坏了能保几年"]),
    "special_size_type": (["how is it dispensed, what does it come in?", "what's the packaging it comes in, a tub, a bottle?"],
                          ["它是什么包装形式的", "装在啥容器里"]),
    "year": (["when did this hit the big screen?", "roughly when was it shot and put out?", "how long ago did this one come out?"],
             ["这片是哪一年的", "什么时候上的院线", "这部是哪个年份拍的"]),
    "genres": (["what flavour of movie is this, action, romance, something else?", "how would a video store shelve this one?",
                "what am I in for, tears, laughs or thrills?"],
               ["这片属于哪一类", "看了会哭还是会笑，算啥片", "录像店会把它放哪个架子"]),
}
GOODS_KEYS = [k for k in ATTR_Q if k not in ("year", "genres")]
NAMED_KEYS = ("color", "material", "size", "item_weight", "manufacturer")  # what an ePQA product named in the message may be asked about
# values that do not answer their question ('manufacturer warranty' to "how long is it guaranteed?", 'greenhouse' as the hair type)
BROKEN = {"manufacturer warranty", "greenhouse"}
# a value the product's title shows to be filed in the wrong slot (build_set6's, and a golf net filed as 'soccer')
MISFILED = {**bs6.MISFILED, "pqa-B0047YQ2MK": "sport_type"}

# Questions no attribute answers: (topic, [EN], [ZH], key/value fragments that would answer it, title/value pattern that would, catalogs).
# Films and goods alternate (9 + 9 topics), so the 25 questions of a language split 13 films / 12 goods. FITS: the kind of goods a
# question is asked about (a light fixture for dimming, a shower head for hard water, a planter for frost …), so that "not stated"
# is the answer and "it has none" is not. All topics are new to this part.
UNANSWERABLE: list[tuple[str, list[str], list[str], tuple[str, ...], str, tuple[str, ...]]] = [
    ("stunts", ["who did the stunt work?", "were the stunts done by the actors themselves?"], ["动作替身是谁", "危险镜头是演员亲自上的吗"],
     ("stunt", "double"), r"$^", ("movies",)),
    ("paintable", ["can I paint over it?", "will it take paint or stain if I want a different look?"], ["买回去能自己刷漆吗", "能上漆或者刷木器漆吗"],
     ("paint", "stain", "prime", "finish", "coat"),
     (r"paint|prime|stain|finish|vinyl|pvc|white|black|chrome|nickel|bronze|brass|metal|steel|alumin|plastic|resin|composite|colou?r|coated|"
      r"oak|cherry|walnut|mahogany|espresso|gr[ae]y|brown|natural|veneer|laminate|fiberglass|polyurethane|urethane|foam|mdf|hdf"),
     ("homedepot",)),
    ("post_credits", ["is there an extra scene after the end credits?", "should I keep watching once the credits roll?"],
     ["片尾字幕后面还有彩蛋吗", "结尾字幕放完还有戏吗"], ("credit", "scene", "bonus"), r"$^", ("movies",)),
    ("dimmable", ["will it work with a dimmer switch?", "can I turn the brightness down on it with a dimmer?"], ["能接调光开关吗", "亮度能调吗，配调光器用行不行"],
     ("dimm", "brightness", "control"),
     r"dim|adjustable|3-way|three-way|smart|switch|remote|control|solar|batter|motion|sensor|plug-in|night|lumen|watt|volt", ("homedepot",)),
    ("shoot_length", ["how long did the shoot take?", "how many weeks were they filming it?"], ["拍了多长时间", "这片拍摄周期多久"],
     ("shoot", "filming", "production", "schedule"), r"$^", ("movies",)),
    ("hard_water", ["how does it hold up in hard water with lots of limescale?", "will mineral buildup clog it up?"],
     ["我们这儿水硬，会结水垢吗", "水碱多的地方用会不会堵"], ("hard water", "scale", "mineral", "calcium", "lime", "clog", "filter", "soften"),
     r"hard water|scale|mineral|calcium|lime|clog|filter|soften|descal|self-clean|easy-clean|rub-clean|spray|jet", ("homedepot", "epqa")),
    ("makeup", ["who did the makeup effects?", "who was the makeup artist?"], ["化妆师是谁", "特效化妆是谁做的"], ("makeup", "make-up"), r"$^", ("movies",)),
    ("wind_rating", ["how strong a wind can it stand up to?", "will it blow over in a gusty storm?"], ["刮大风会不会被吹翻", "抗风能力怎么样，几级风扛得住"],
     ("wind", "mph", "anchor", "ballast", "storm", "gust"),
     r"wind|mph|anchor|storm|weighted|heavy[- ]duty|commercial|hurricane|tie[- ]down|base|stake", ("homedepot", "epqa", "semipqa")),
    ("narrator", ["is there a voice-over narrator?", "who narrates it?"], ["有旁白吗，谁配的旁白", "片中的画外音是谁念的"],
     ("narrat", "voice"), r"documentary|animation|story|tale|diar|memoir|remember", ("movies",)),
    ("oven_safe", ["can it go in the oven too?", "is it okay in a 400-degree oven?"], ["能进烤箱吗", "放烤箱里烤会不会坏"],
     ("oven", "heat", "temperature", "degree", "bake", "broil"),
     (r"oven|bak|broil|roast|heat|cast iron|temperature|degree|°|ceramic|stoneware|glass|silicone|pyrex|non-?stick|enamel|stainless|copper|"
      r"alumin|carbon steel|melamine|plastic|bamboo|wood|paper|disposable"), ("homedepot", "epqa", "semipqa")),
    ("film_stock", ["was it shot on film or on digital?", "what camera format did they shoot it on, 35mm or something else?"],
     ["是胶片拍的还是数码拍的", "用的是35毫米胶片吗"], ("film stock", "35mm", "format", "camera"), r"$^", ("movies",)),
    ("frost_proof", ["can it stay outside through a freezing winter?", "will it crack if it freezes?"], ["冬天放外面冻了会裂吗", "零下的天气能放户外吗"],
     ("frost", "freez", "winter", "cold", "weather", "outdoor", "temperature"),
     (r"frost|freez|winter|cold|weather|all[- ]season|outdoor|indoor|resin|plastic|poly|vinyl|metal|steel|alumin|iron|concrete|cement|stone|"
      r"fiberglass|composite|rubber|heated|insulated|wood|cedar|teak|fiber|clay|ceramic|terra|glazed|copper|zinc|bronze"),
     ("homedepot", "epqa", "semipqa")),
    ("cut_version", ["is this the director's cut or the theatrical version?", "is it the uncut version?"], ["这是导演剪辑版还是公映版", "是未删减版吗"],
     ("cut", "version", "edition"), r"cut|edition|version|\(|:|redux|special|remaster", ("movies",)),
    ("refillable", ["once it's used up, can I refill it or do I toss it?", "is this a refillable one?"], ["用完了能续装吗", "能补充装还是一次性的"],
     ("refill", "reusable", "disposable", "cartridge", "single-use", "rechargeable"),
     r"refill|reusable|disposable|cartridge|single[- ]use|rechargeable|replacement|pack|count|\bct\b|pods?\b|\bkit\b", ("homedepot", "epqa", "semipqa")),
    ("tagline", ["what was the tagline on the poster?", "what was its advertising slogan?"], ["海报上的宣传语是什么", "当年的宣传口号是啥"],
     ("tagline", "slogan", "poster"), r"$^", ("movies",)),
    ("gluten_free", ["is it gluten-free?", "can someone with celiac disease eat it?"], ["含麸质吗，乳糜泻的人能吃吗", "是无麸质的吗"],
     ("gluten", "wheat", "celiac", "allergen", "ingredient", "diet", "grain", "barley"),
     r"gluten|wheat|barley|rye|oat|flour|bread|pasta|cracker|cookie|cereal|grain|malt|beer|celiac|allergen|free|organic|paleo|keto|certified",
     ("epqa", "semipqa")),
    ("intermission", ["is there an intermission partway through?", "does it break for an interval halfway?"], ["中间有中场休息吗", "放到一半会有幕间休息吗"],
     ("intermission", "interval"), r"$^", ("movies",)),
    ("hypoallergenic", ["is it hypoallergenic, okay for sensitive skin?", "I react to lots of things; is this gentle on skin?"],
     ["敏感肌能用吗", "会不会过敏，是低敏的吗"], ("allerg", "sensitive", "hypo", "dermatolog", "fragrance", "gentle", "skin type", "ingredient"),
     r"allerg|sensitive|hypo|dermatolog|fragrance|unscented|gentle|natural|organic|baby|latex|nickel|cotton|silk|bamboo|aloe|oat",
     ("epqa", "semipqa", "homedepot")),
]
FITS = {
    "paintable": (r"\b(moulding|molding|trim|baseboard|casing|chair rail|crown mould(ing)?|lattice|spindle|baluster|picket|shutters?|corbel|dowel|"
                  r"newel|window stool|door jamb|jamb|quarter round|cove mould(ing)?|shoe mould(ing)?|board and batten|wainscot)\b"),
    "dimmable": (r"\b(light bulbs?|led bulbs?|downlights?|recessed lights?|flush ?mount|pendant|sconce|chandelier|vanity lights?|track lights?|"
                 r"ceiling lights?|light fixtures?|table lamp|floor lamp|desk lamp)\b"),
    "hard_water": r"\b(shower ?heads?|hand ?showers?|faucets?|kettle|coffee maker|humidifier|steam mop|ice maker|spray nozzle|rain ?shower)\b",
    "wind_rating": (r"\b(umbrella|gazebo|canopy|pergola|shed|awning|carport|greenhouse|trampoline|flag ?pole|basketball (hoop|system)|"
                    r"shade sail|tent|wind chime)\b"),
    "oven_safe": (r"\b(skillet|fry ?pan|saute pan|sauce ?pan|stock ?pot|dutch oven|casserole|ramekin|pie (dish|plate)|baking (dish|pan|sheet)|"
                  r"cookware|wok|griddle|roaster|au gratin)\b"),
    "frost_proof": (r"\b(planters?|flower ?pots?|birdbath|bird bath|fountain|garden statue|statue|urn|pavers?|stepping stones?|rain barrel|"
                    r"gnome|window box)\b"),
    "refillable": (r"\b(soap dispensers?|lotion dispensers?|spray bottles?|lighter|pens?|markers?|highlighters?|air fresheners?|"
                   r"(aroma|oil|reed|essential oil) diffusers?|"
                   r"trigger sprayers?|pump sprayers?|water bottles?|grease gun|fire extinguishers?|lint roller)\b"),
    "gluten_free": (r"\b(snacks?|candy|chocolates?|sauce|seasoning|spices?|powder|tea|coffee|chips|jerky|nuts|bars?|supplements?|gummies|syrup|"
                    r"honey|oil|vinegar|jam|soup|mix|dressing|rub|salt|sugar|sweetener|capsules?|meals?|cereal|granola)\b"),
    "hypoallergenic": (r"\b(lotion|(face|hand|body|skin|eye|night|shaving|diaper) cream|soap|shampoo|hair conditioner|sunscreen|deodorant|cleanser|moisturizer|"
                       r"serum|balm|makeup|earrings?|necklace|bracelet|watch band|pillow|pillowcase|bed sheets?|sheet set|fitted sheet|bedding|"
                       r"mattress (pad|protector|topper)|comforter|duvet|"
                       r"blanket|detergent|wipes)\b"),
}
# goods the FITS pattern matches by a word that is not what they are (a lamp 'shade', a faucet 'cartridge', a 'bar' clamp …)
UNFIT = {
    "paintable": (r"tile|cable|cord|wire|\bled\b|light|\bfan\b|circuit|switch|outlet|drawer|cabinet|\bbit\b|router|\bsaw\b|sander|card|ethernet|"
                  r"electrical|snow|ironing|dart|cork|bulletin|chalk|marker|sign|skate|\bkey\b|basket|tool|ceiling|trim kit|trim ring|"
                  r"recessed|lamp|faucet|valve|shower|tub|toilet|sink|window trim kit|door trim kit|spring|hinge|lock|knob|handle|pull|"
                  r"trimmer|grill|rack|hook|bracket|adhesive|glue|tape|caulk|nail|screw|clip|router bit|gauge|hardware|anchor|fastener|\blok\b|pintel|"
                  r"holdback|filter|media|replacement|strand woven|bamboo|hardwood|flooring|home legend|reducer|t-mold|stair nose|threshold|"
                  r"prefinished|laminate|bolt|panel|heat|enclosure|rail kit|earth|ceramic|bullnose|porcelain|marble|stone|glass|\bmm\b|"
                  r"zamma|saddle|thick x|sanding|sleeve|grit|decor|\bwall\b|\bin [a-z][a-z ]*$|\bred\b|green|blue|burgundy|beige|\btan\b|ivory|almond|clay|\bdog\b(?!-ear)|pet"),
    "dimmable": (r"guard|cage|cover|shade|glass|canopy kit|\bkit\b|adapter|socket|trim|housing|replacement|string|rope|tape|strip|\bfan\b|"
                 r"flashlight|work light|headlamp|changer|heat lamp|grow|\buv\b|infrared|halogen|fluorescent|\bt8\b|\bt12\b|\bcfl\b|hid|sodium|"
                 r"\bexit\b|emergency|christmas|holiday|\bcar\b|auto|solar|lantern|torch|bulb base|chain|hook|ceiling medallion|medallion|"
                 r"mounting|bracket|conversion|switch|outdoor|motion|security|flood|landscape|post|deck|path|step|under cabinet|"
                 r"puck|night light|plug-in|battery|mirror|\bbar\b"),
    "hard_water": (r"handle|cartridge|stem|repair|\bkit\b|parts?\b|trim\b|cover|escutcheon|hose|\barm\b|mount|holder|valve|adapter|flange|"
                   r"aerator|washer|seat|o-ring|wrench|bracket|extension|diverter|tub spout|\bcap\b|hook|caddy|rack|shelf|\bbar\b|tray|"
                   r"\bkey\b|lock|plate|filter|brush|timer|controller|toy|supply line|drain|strainer|sprayer head|soap dispenser|"
                   r"water filter|refrigerator|dishwasher|pad|cleaner|replaces|universal|riser|connector|braided|supply|compression|\bsink\b|bowl|vanity|\btop\b|countertop|breaker|\bnpt\b|female|\bmale\b|towel|ring|robe|paper|wick|replacement"),
    "wind_rating": (r"cover|\bcap\b|light|lamp|bulb|replacement|\bparts?\b|\bkit\b|bracket|hardware|lock|hinge|paint|stain|shelf|shelving|"
                    r"bench|cabinet|organizer|floor kit|ramp|spring|\bnet\b|\bpad\b|ladder|stand|holder|clip|\bbag\b|weights?|toy|"
                    r"bed canopy|mosquito|window|door|vent|tile|roof panel|panel|curtain|drape|lantern|fan|heater|tool shed|shed base|"
                    r"foundation|anchor|stake|sandbag|base|tie[- ]down|storage shed floor|lean-to|leg|pole kit|kitty|\bpet\b|\bdog|\bcat\b|igloo|play tent|kids|"
                    r"children|tunnel|indoor"),
    "oven_safe": (r"toaster|microwave|range|cooker|warmer|\blid\b|rack|holder|stand|cover|handle|knob|liner|plant|flower|garden|\bpet\b|"
                  r"\bdog\b|\bcat\b|light|\bfan\b|lamp|bird|fire|chimney|\bmop\b|bucket|paint|wire|hose|grill|burner|outdoor|"
                  r"electric|camp|fryer|turkey|propane|gas|cabinet|organizer|pull-out|shelf|drawer|divider|storage"),
    "frost_proof": (r"light|lamp|pump|\bkit\b|parts?\b|liner|tray|saucer|hanger|stand|holder|hook|bracket|reel|nozzle|wand|sprayer|timer|"
                    r"connector|coupler|mender|washer|faucet|spigot|valve|adapter|cooking|stock ?pot|pot rack|pot filler|coffee|\btea\b|"
                    r"plant food|soil|seed|heater|de-?icer|solar|caddy|dolly|mover|caster|wheel|self[- ]watering|drinking|\bwall\b|tabletop|table top|"
                    r"indoor|desktop|desk|paint|stain|colou?r|#"),
    "refillable": (r"holder|mount|bracket|shelf|caddy|stand|organizer|\bbag\b|case|replacement|nozzle|wand|hose|\bhead\b|holster|\btip\b|"
                   r"parts?\b|\bkit\b|paint|charger|battery|pressure washer|washer|garden|lawn|weed|insect|stain|pole|tree|attachment|"
                   r"marker light|lamp|boat|trailer|flag|stencil|drill|cabinet|sign|post|dispenser pump|light|electric|plug|damper|register|grille|hvac"),
    "gluten_free": (r"dispenser|maker|grinder|machine|warmer|holder|rack|stand|\bmug\b|\bcup\b|pot\b|kettle|clip|\bmill\b|press|scale|bbq|"
                    r"grill\b|smoker|chair|table|lamp|light|spray paint|lubric|motor oil|engine|hydraulic|fuel|paint|stain|wood|hair|skin|"
                    r"\bnail|\bpet\b|\bdog|\bcat\b|bird|fish|aquarium|planted|soap|lotion|shampoo|massage|\bgun\b|tool|\bwax|candle|sealer|"
                    r"cleaner|clamp|grab bar|tow bar|bar stool|pry bar|towel bar|light bar|sound ?bar|crow ?bar|oil[- ]rubbed|oil filter|"
                    r"oil pan|hand ?rail|rail|roll bar|detox|laxative|sleep|melatonin|protein powder|charcoal|baking soda|epsom|bath|"
                    r"plant|fertiliz|garden|lawn|pool|spa|powder coat|powder room|gunpowder|talc|toner|ink"),
    "hypoallergenic": (r"dispenser|pump|holder|\bdish\b|rack|caddy|bottle|maker|machine|scrubber|brush|sponge|tool|guitar|rubber band|"
                       r"resistance band|loom|band saw|clamp|pipe|hose|\bsaw\b|\bbox\b|\bbag\b|case|\bice\b|work gloves|welding|leather|"
                       r"garden|nitrile|vinyl|mechanic|grill|oven mitt|heat|pot holder|insulated|\bpet\b|\bdog|\bcat\b|horse|car\b|auto|"
                       r"wood|floor|carpet|laundry|dish ?washer|dishwashing|\bhand\b soap dispenser|cover|shelf|cleaner|stand|\brug\b|\bmat\b|tile|"
                       r"paint|runner|magnet|air conditioner|\bbtu\b"),
}

# Chinese titles of demo-shop movies as Chinese audiences know them (hand-written; none of the earlier generators')
ZH_TITLES = {
    "m3": "四个房间", "m10": "理查三世", "m13": "非强力春药", "m38": "网络惊魂", "m44": "热泪伤痕", "m169": "超级无敌掌门狗：引鹅入室",
    "m184": "鬼玩人3", "m198": "尼基塔", "m229": "星际旅行3：石破天惊", "m281": "狂野之河", "m282": "杀戮时刻", "m331": "势不两立",
    "m364": "神探飞机头2", "m381": "穆里尔的婚礼", "m382": "沙漠妖姬", "m384": "白头神探3", "m388": "比佛利山超级警探3", "m450": "星际旅行5：终极先锋",
    "m452": "大白鲨2", "m508": "性书大亨", "m537": "不羁的天空", "m543": "悲惨世界", "m549": "赤胆豪情", "m557": "绝代艳姬", "m637": "破胆三次",
    "m640": "厨师、大盗、他的太太和她的情人", "m644": "细细的蓝线", "m694": "劝导", "m704": "幽灵之家", "m730": "玛戈皇后", "m770": "蓝衣魔鬼",
    "m778": "天生爱情狂", "m906": "奥斯卡与露辛达", "m1006": "直到世界末日", "m1018": "捆着我，绑着我", "m1091": "妙妙龙", "m1097": "怒火青春",
    "m1163": "贵妇画像", "m1411": "太空英雌芭芭丽娜", "m1640": "第八日", "m1651": "西班牙囚犯",
}
# Home Depot products as a Chinese shopper would name them (brand/model kept; hand-written), with the English fragment of the
# title that must name exactly this product in the whole shop
ZH_HD = {
    "177940": ("Keurig K10 Mini Plus 胶囊咖啡机，红色那款", "Keurig K10 Mini Plus"),
    "111000": ("史丹利 Stanley FatMax AntiVibe 防震羊角锤，20盎司", "FatMax 20 oz. AntiVibe Curve Claw"),
    "175130": ("史丹利 Stanley FATMAX 充电式三脚架LED工作灯", "FATMAX LED Rechargeable Tri-Pod Work Light"),
    "113008": ("Ninja Master Prep 专业款料理机", "Ninja Master Prep"),
    "151120": ("Ninja Mega Kitchen System 多功能厨房料理机套装", "Ninja Mega Kitchen System"),
    "100109": ("鲨客 Shark Navigator Lift-Away Deluxe 无尘袋吸尘器", "Shark Navigator Lift-Away Deluxe"),
    "110854": ("Traeger Junior Elite 木颗粒烧烤炉", "Traeger Junior Elite"),
    "108756": ("凯驰 Karcher WV50 电动擦窗机", "Karcher WV50"),
    "100106": ("Sun Joe Shredder Joe 电动碎叶机，13安的", "Shredder Joe"),
    "114346": ("威克士 Worx AeroCart 多功能园艺手推车", "Worx AeroCart"),
    "107211": ("霍尼韦尔 Honeywell WaterDefense 漏水报警器", "Honeywell WaterDefense"),
    "103199": ("霍尼韦尔 Honeywell 470 CFM 四档移动冷风扇", "Honeywell 470 CFM 4-Speed Portable Evaporative Cooler"),
    "102002": ("EGO 56伏 480 CFM 三档充电吹叶机", "EGO 480 CFM 3-Speed Turbo 56-Volt"),
    "100616": ("摩恩 MOEN Halo 三功能9寸顶喷花洒，镀铬", "MOEN Halo 3-Spray 9 in. Rainshower"),
    "114867": ("博世 Bosch 800英尺自动安平旋转激光水平仪套装", "Bosch 800 ft. Self-Leveling Rotary Laser Level Kit"),
    "100435": ("亨特 Hunter Princeton 52寸室内吊扇，拉丝镍", "Hunter Princeton 52 in."),
}
EN_NAMED_ATTR = {"year": ["what year did {t} hit screens?", "{t}: how old is that film?", "when was {t} first shown in cinemas?"],
                 "genres": ["{t}, what type of movie is it?", "would {t} count as a comedy, a drama, or what?"],
                 "color": ["the {t}, which shade does it come in?"], "material": ["the {t}, what's it built from?"],
                 "size": ["how large is the {t}, in numbers?"], "item_weight": ["how much does the {t} weigh, roughly?"],
                 "manufacturer": ["who's the company making the {t}?"]}
ZH_NAMED_ATTR_MOVIE = {"year": ["《{t}》哪一年拍的", "{t}是什么年份的片子", "{t}上映多少年了"],
                       "genres": ["《{t}》是哪种类型的电影", "{t}这片属于什么风格"]}
ZH_NAMED_ATTR_GOODS = {"color": ["{t}是什么颜色的呢"], "material": ["{t}什么材料做的呀"], "size": ["{t}尺寸是多少呢"], "item_weight": ["{t}有多沉"],
                       "manufacturer": ["{t}是哪个牌子哪家厂做的"]}
EN_NAMED_ID = ["is {t} something you sell?", "hunting around for {t}, do you have it?", "could you look up {t}?", "I want {t}, is it here?",
               "pull {t} up for me"]
EN_PARTIAL = ["a film whose name includes {w}", "that movie with something like {w} in the name"]  # a partial film title, sometimes with a slip
ZH_NAMED_ID = ["有卖{t}的吗", "{t}，帮我找一下", "想要个{t}", "{t}在你们这能买到吗"]
ZH_NAMED_ID_MOVIE = ["《{t}》这片你们有没有", "我在找电影{t}", "有{t}的光盘吗", "{t}这部能买到吗"]

# listing turns and the set questions that follow them
EN_LIST_MOVIES = ["any good whodunits in stock?", "I want something that'll give me nightmares", "a comedy to cheer me up after a long day?",
                  "movies set during a war, please", "animated films my kids would like?", "shoot-'em-up westerns, got any?",
                  "a love story for a quiet evening in", "films about secret agents?", "science fiction with aliens or spaceships?",
                  "a heavy, thought-provoking drama please", "a film the grandparents and the kids can all enjoy",
                  "fast-paced action, explosions and car chases", "crime thrillers with a twist?", "old Hollywood musicals?",
                  "nonfiction films about real people?", "fantasy movies with magic and quests"]
ZH_LIST_MOVIES = ["有推理破案的电影吗", "想看点晚上不敢关灯的恐怖片", "下班累了，来部轻松的喜剧", "打仗的片子推荐几部", "孩子爱看的动画电影有哪些",
                  "来几部骑马打枪的西部片", "两个人在家看的爱情片", "讲特务的电影有吗", "外星人飞船那种科幻片", "想看部沉重点、引人思考的片子",
                  "老人小孩都能看的电影", "节奏快、爆炸飙车的动作片", "有反转的犯罪惊悚片", "好莱坞老歌舞片有吗", "讲真人真事的纪录片来几部",
                  "有魔法和冒险的奇幻片吗"]
EN_LIST_GOODS = ["show me some bluetooth speakers", "I want a new toaster", "any flashlights?", "looking for work gloves",
                 "hair dryers, what's there?", "I'm after a kitchen knife set"]
ZH_LIST_GOODS = ["蓝牙音箱有哪些", "想换个烤面包机", "手电筒看看", "劳保手套有吗", "吹风机有啥推荐", "厨房刀具套装来看看"]
EN_LIST_TOYS = ["a birthday present for a five-year-old, any toys?", "toys that keep a toddler busy?"]
ZH_LIST_TOYS = ["五岁孩子生日送啥玩具", "能让小娃安静玩一会儿的玩具"]
SET_Q = {  # op → ([EN], [ZH])
    "oldest": (["which one is the most vintage?", "out of these, which was released earliest?"], ["这一堆里哪部年头最久", "哪一部上映得最早"]),
    "newest": (["which title here is the most up to date?", "which of those came out last?"], ["最新的是哪一部", "哪部上映时间最晚"]),
    "has_genre": (["which ones would you file under {g}?", "is anything there a {g} film?"], ["哪几部能算{gz}啊", "这些当中有没有{gz}呀"]),
    "diff": (["in what ways are the first two not alike?", "tell me the differences between number one and number two", "what's different about the top two?"],
             ["第一个和第二个有啥区别", "把前两个放一块儿比比", "前两款差别在哪儿"]),
    "heaviest": (["which one of those is the heaviest to carry?", "which of them has the most heft?"], ["哪一样拿着最沉手", "这些里谁分量最重"]),
    "cheapest": (["which of them has the smallest price tag?", "what's the most budget-friendly of these?"], ["哪个最实惠，价钱最低", "最省钱的是哪个"]),
}
GENRE_ZH = bs6.GENRE_ZH
# (first message, position, attribute, follow-up message or None)
REF_EN = [("when did the second one hit theaters?", 1, "year", None), ("the first title, what kind of film would you call it?", 0, "genres", None),
          ("the third pick, which year is that from?", 2, "year", None), ("and the very last one, when was it made?", -1, "year", None),
          ("hmm, that second pick looks fun", 1, "genres", "what sort of film is this one?"), ("tell me more about the third", 2, "year", "when did it come out, then?"),
          ("let's go with the first", 0, "genres", "what category of movie does it belong to?"),
          ("the final one you listed", -1, "genres", "what type of story does it tell?"), ("top of the list, how old is it?", 0, "year", None)]
REF_EN_GOODS = [("the second item, which color?", 1, "color", None), ("how many pounds is the first item?", 0, "item_weight", None),
                ("I like the look of item two", 1, "color", "what color does it come in?"), ("click into the first item", 0, "item_weight", "how heavy is that?"),
                ("the last one on the list, what does it weigh?", -1, "item_weight", None)]
REF_ZH = [("第二部是什么年份的", 1, "year", None), ("排头那部属于哪种片", 0, "genres", None), ("第三部是哪年拍的呀", 2, "year", None),
          ("最后那部是啥年代的", -1, "year", None), ("第二部好像不错", 1, "genres", "它讲的是哪类故事"), ("第三部给我说说", 2, "year", "它是哪年面世的"),
          ("先看第一部", 0, "genres", "它是啥类型"), ("末尾那部", -1, "genres", "它算哪类电影"), ("你列的头一部是哪年的", 0, "year", None)]
REF_ZH_GOODS = [("第二个东西什么颜色呀", 1, "color", None), ("第一样东西几斤重", 0, "item_weight", None), ("第二样挺顺眼", 1, "color", "它是哪种颜色"),
                ("打开第一样", 0, "item_weight", "它多重"), ("列表最后那个有多重", -1, "item_weight", None)]

# record id → (phrase as it should be found in the shop's titles, the product): filled by build(), read by the pre-freeze checks
NAMED_PHRASES: dict[str, tuple[str, str]] = {}


# ------------------------------------------------------------------------------------------ helpers
def gold_ok(key: str, value: object) -> bool:
    """build_set6.gold_ok (build_set2's, build_set4's and build_set5's filters and build_set6's BROKEN), and not one of BROKEN here."""
    v = str(value).strip(". ").casefold()
    return bs6.gold_ok(key, value) and v not in BROKEN


def used_before() -> set[str]:
    """Products dev.jsonl … sealed6.jsonl ask about (ids only, by code; no message is read), and those the earlier generators render
    in Chinese: left out here."""
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
        return [k for k in NAMED_KEYS if k in p.attributes and gold_ok(k, p.attributes[k]) and MISFILED.get(p.id) != k
                and str(p.attributes[k]).casefold() not in phrase]

    def nameable(p) -> bool:
        """An ePQA product whose first words name it alone (at least three words, no '&', bracket, quote or '+')."""
        phrase = phrase_of(p)
        return (not re.search(r"[&\[\]()\"+]", phrase) and bool(re.fullmatch(r"[A-Za-z0-9].*[A-Za-z0-9.]", phrase))
                and len(phrase.split()) >= 3 and phrase.split()[-1].casefold() not in ("the", "a", "an", "per", "by", "at", "on")
                and uniq.owner(phrase) == p.id)

    def askable(p) -> list[str]:
        return [k for k in p.attributes if k in GOODS_KEYS and gold_ok(k, p.attributes[k]) and MISFILED.get(p.id) != k]

    # 8 ePQA products for the named part (4 per language), set aside before the attribute questions are drawn: those with a value
    # to ask first, then products the attribute part could not use anyway
    cand = [p for p in cat["epqa"] if p.id not in taken and p.attributes and nameable(p)]
    with_attr = sorted(p.id for p in cand if named_keys(p))
    plain = sorted(p.id for p in cand if not named_keys(p) and not askable(p))
    reserved_attr = rng.sample(with_attr, min(4, len(with_attr)))
    reserved = reserved_attr + rng.sample(plain, 8 - len(reserved_attr))
    epqa_by = {p.id: p for p in cat["epqa"]}

    for li, lang in enumerate(("en", "zh")):
        # a. attribute questions on the product page (up to GOODS_PER_LANG goods, the rest movies)
        pool = [(p, k) for p in free(goods) if p.id not in reserved for k in askable(p)]
        pool.sort(key=lambda pk: (pk[0].id, pk[1]))
        rng.shuffle(pool)
        picked: list = []
        for p, k in pool:
            if p.id in taken or sum(1 for _, kk in picked if kk == k) >= 3:
                continue
            taken.add(p.id)
            picked.append((p, k))
            if len(picked) == GOODS_PER_LANG:
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
            for k in range(len(cats)):  # the catalog in turn; the next one where that one has no product left
                cname = cats[(j // len(UNANSWERABLE) + li + k) % len(cats)]
                ok = [p for p in free(pools[cname]) if p.id not in reserved and not bs2.answers(p, frags, title_re)
                      and re.search(FITS.get(topic, ""), p.title.casefold())
                      and not re.search(UNFIT.get(topic, r"$^"), p.title.casefold())]
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
                listing = movie_lists[(j * 5 + li + j // len(movie_lists)) % len(movie_lists)]
                op, cname = ("oldest", "has_genre", "newest", "diff")[j % 4], "movies"
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
                listing, (first, pos, attr, follow), cname = movie_lists[(j * 7 + 3) % len(movie_lists)], refs[j % len(refs)], "movies"
            else:
                listing, (first, pos, attr, follow), cname = goods_lists[(j + 2) % len(goods_lists)], refs_goods[j % len(refs_goods)], "epqa"
            turns = [{"message": listing}, {"message": first}] + ([{"message": follow}] if follow else [])
            add(lang, "reference", cname, turns, {"ref": pos, "attribute": attr, "listing_turn": 0})
    return recs


def write(recs: list[dict], out: Path) -> str:
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs)
    (out / "sealed7.jsonl").write_text(body, encoding="utf-8")
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
    print(json.dumps({"records": len(recs), "counts": counts, "sha256": {"sealed7.jsonl": digest}}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
