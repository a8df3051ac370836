"""Writes the sixth sealed part of the assistant generalisation set (sealed6.jsonl) from the catalog records alone.

Same catalogs, record format and gold derivation as build_set.py … build_set5.py (build_set.py's catalogs and helpers,
build_set2.py's stricter filters, build_set3.py's plain_title and build_set5.py's gold filter and device patterns are imported),
but a different seed, no product that dev.jsonl, sealed.jsonl … sealed5.jsonl asks about (ids collected by code), none that an
earlier generator renders in Chinese, and question wording written by hand for this part only (English and Chinese, two to five
phrasings per intent). Every gold value is read from the product records by this script, never from the assistant. Run once;
the file is then frozen (SHA256SUMS).

    python bench/assistant_sets/build_set6.py [--data /work/shared/data] [--out DIR]
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

REPO = bs.REPO
SEED = 20261222
PREFIX = "s6"  # record ids: s6-<lang>-<kind>-<n>
EARLIER = ("dev.jsonl", "sealed.jsonl", "sealed2.jsonl", "sealed3.jsonl", "sealed4.jsonl", "sealed5.jsonl")
GENERATORS = (bs, bs2, bs3, bs4, bs5)

# ------------------------------------------------------------------------------------------ hand-written wording
# Attribute questions that never name the catalog key word for word. {key: ([EN], [ZH])}. The goods the earlier parts left
# hold few colours or weights, so most keys here are ones no earlier part asked about.
ATTR_Q: dict[str, tuple[list[str], list[str]]] = {
    "color": (["tell me what it looks like: dark, pale, which tint?", "which tint am I getting here?"], ["到手是什么色儿的", "这个颜色是哪种"]),
    "material": (["what's the thing fashioned from?", "which raw stuff went into making it?"], ["是拿什么材质做的", "做工用料是啥"]),
    "size": (["what are its dimensions?", "roughly how large are we talking?"], ["个头多大", "尺码是多少"]),
    "item_weight": (["how many pounds does it come in at?", "would it be a pain to carry? how many pounds?"], ["分量有多少", "净重多少"]),
    "manufacturer": (["whose factory does this come out of?", "who's the maker of this?", "which firm puts this out?"],
                     ["厂家是哪个", "谁家做的这个", "是哪个厂出的"]),
    "language": (["can I read it if I only speak English? what's it written in?", "the words printed in it, are they English or something else?"],
                 ["里面的字是哪国文字", "是英文版的吗，用的哪种文字"]),
    "country_string": (["where in the world is this produced?", "which nation does it come from?"], ["是哪国产的", "原产国是哪里"]),
    "compatible_material": (["what does it stick to, or work on?", "which things can I apply it to?"], ["这个可以用在哪种料子上", "能对付什么材质的东西"]),
    "sub_brand": (["which product line is this part of?", "what series does it belong to?"], ["是哪个系列的", "属于他们家哪条产品线"]),
    "included_components": (["what's packed in with it?", "what will I find when I open the package?"], ["开箱有哪些东西", "里面配了些啥"]),
    "hardware_platform": (["which kind of gadget is it made to pair with?", "phone, laptop or tablet: which is it built around?"],
                          ["它是配哪种设备的", "给平板用的还是给电脑用的"]),
    "connector_type": (["what sort of plug is on the end of it?", "which port does it connect through?"], ["接口是哪种", "插头是什么样的接口"]),
    "specific_uses_for_product": (["what would someone mainly buy this to do?", "what activity is it made to serve?"], ["买它主要干嘛用", "这是用来干什么的"]),
    "operating_system": (["which console or computer does it run on?", "what does it run on, software-wise?"], ["是哪个平台的，电脑还是游戏机", "在什么机子上运行"]),
    "connectivity_technology": (["does it need a cable, or is it cord-free?", "how does it hook up, with a lead or over the air?"],
                                ["连线用的还是无线的", "需要插线吗，还是无线连"]),
    "platform": (["will it run on my PC or a Mac?", "what computer does it install on?"], ["能装在什么电脑上", "电脑上能跑吗，支持啥系统"]),
    "hardware_interface": (["what port does it plug in with?", "which socket does the cable go into?"], ["插哪个口", "是靠什么接口连上的"]),
    "wireless_communication_technology": (["how does it talk to my router or phone?", "what does it use to get a signal without cables?"],
                                          ["它靠什么信号连网", "无线是走哪种协议"]),
    "surface_recommendation": (["where's it meant to be used, floors or furniture?", "which spots in the house is it made to clean?"],
                               ["能拿来清洁哪儿", "适合在哪种表面上用"]),
    "blade": (["what are the cutting edges made of?", "what is the sharp bit made from?"], ["刃口是什么钢", "刀刃用的啥材料"]),
    "paper_finish": (["is the print shiny or dull?", "glossy or not, how does the sheet look?"], ["是亮面还是哑光", "纸面是什么效果的"]),
    "band": (["what's the strap like?", "what's on the wrist part?"], ["表带是啥样的", "腕带是什么颜色材质"]),
    "hair_type": (["which sort of mane is it meant to treat?", "is it made with curly, fine or brittle manes in mind?"], ["针对什么样的头发", "什么头发的人适合用"]),
    "target_gender": (["is this a men's thing or a women's thing?", "would this be for him or for her?"], ["男士用的还是女士用的", "这是买给男生的还是女生的"]),
    "frame": (["what is the skeleton of it made from?", "what holds it together, what's the chassis made of?"], ["骨架是什么材质", "架子是什么材料"]),
    "cuisine": (["what style of cooking is this?", "which country's dishes is it?"], ["这是哪国口味的菜", "属于什么菜系"]),
    "container": (["how does it come packed?", "what does it ship inside?"], ["是什么包装的", "外包装是哪种"]),
    "age_range_description": (["how old should the one using it be?", "how young can someone be to use it?"], ["多大年纪的能用", "几岁起能用"]),
    "back": (["what wood is the rear of it?", "and the rear side, what's that made from?"], ["背板是什么木头", "后面那块是啥料"]),
    "hand_orientation": (["can a southpaw use it too?", "lefty or righty, who can use it?"], ["左撇子能用吗", "左右手都能用吗"]),
    "sport_type": (["what game is it used in?", "which athletic activity is it meant for?"], ["是哪项运动用的", "拿来玩什么球的"]),
    "lens": (["how are the optics treated?", "what kind of coating does the glass have?"], ["镜片有镀膜吗，什么镀膜", "光学玻璃是怎么处理的"]),
    "cellular_technology": (["which mobile network standard does it run on?", "what carrier network does it work with?"], ["支持什么网络制式", "能插什么卡，哪种网络"]),
    "wireless_network_technology": (["which mobile standard does it talk on for calls?", "what radio standard does it use for calls?"],
                                    ["是哪种制式的手机网络", "通话走的什么网"]),
    "multiline_operation": (["can it handle more than one phone number?", "does it do one line or several?"], ["能同时接几条线路", "支持多线路吗"]),
    "subject_character": (["which show or franchise is it themed on?", "whose story or figure is it based on?"], ["上面印的是哪个剧的角色", "是什么主题的周边"]),
    "voltage": (["what mains supply does it expect?", "how many volts should I feed it?"], ["得插多少伏的插座", "用电电压多少"]),
    "year": (["when did it first play in theaters?", "when's this flick from?", "how far back does this one go? when was it out?"],
             ["这片子哪年出来的", "多少年的老片了，哪年上映", "这电影上映是啥时候"]),
    "genres": (["is this a laugh, a scare, or a weepie?", "what sort of story am I in for with this one?", "how would you pigeonhole this flick?"],
               ["这片子是哪一挂的", "看着吓人还是搞笑，啥类型", "这部算什么片"]),
}
GOODS_KEYS = [k for k in ATTR_Q if k not in ("year", "genres")]
NAMED_KEYS = ("color", "material", "size", "item_weight", "manufacturer")  # what an ePQA product named in the message may be asked about
# values that do not answer their question (a sentence as the contents)
BROKEN = {"includes cut-out template for easy installation"}
# a value the product's title shows to be filed in the wrong slot: not asked about (product id → key)
MISFILED = {
    "pqa-B000BUU5XG": "target_gender",  # 'male' on a generator exhaust venting system: a male fitting, not a gender
    "pqa-B001VEK1IU": "platform",  # 'windows' on shaver replacement foils
    "pqa-B00H790VSS": "language",  # 'italian' on a dive buoy camera grip
    "pqa-B0000696Q1": "cellular_technology",  # 'gsm' on a corded landline telephone system
    "pqa-B00325ME90": "hair_type",  # 'dry' on a hair-dryer attachment: what it does, not a hair type
    "pqa-B00IDBY0RC": "manufacturer",  # 'lg' on an ePartSolution replacement screen for an LG phone
}

# Questions no attribute answers: (topic, [EN], [ZH], key/value fragments that would answer it, title/value pattern that would, catalogs).
# Films and goods alternate (9 + 9 topics), so the 25 questions of a language split 13 films / 12 goods. FITS: the kind of goods a
# question is asked about (a corded device for mains voltage, a metal part for rust, a mat or step for slipping …), so that
# "not stated" is the answer and "it has none" is not. All topics are new to this part.
UNANSWERABLE: list[tuple[str, list[str], list[str], tuple[str, ...], str, tuple[str, ...]]] = [
    ("costume_designer", ["who designed the costumes?", "who was in charge of wardrobe on this film?"], ["服装是谁设计的", "戏服设计师是哪位"],
     ("costume", "wardrobe", "design"), r"costume|dress|fashion|wear|pret", ("movies",)),
    ("dual_voltage", ["can I use it abroad on 220 volts?", "will it work on European mains power?"], ["带去国外220伏能用吗", "支持宽电压吗，出国能不能用"],
     ("volt", "power", "plug", "electric", "watt"), r"volt|\d\s*v\b|batter|cordless|\bgas\b|propane|solar|220|240|international|universal|dual|usb",
     ("homedepot", "epqa")),
    ("theme_song", ["who sings the theme song?", "is there a famous song on the soundtrack?"], ["主题曲是谁唱的", "片里有什么好听的插曲吗"],
     ("song", "music", "soundtrack", "musical", "composer"), r"song|sing|music|melod|tune|blues|jazz|rock|dance|ballroom|opera|\bband\b", ("movies",)),
    ("sun_fade", ["will it fade if it sits in the sun?", "is it UV resistant, or will the sun bleach it?"], ["放太阳底下会褪色吗", "抗紫外线吗，晒久了掉不掉色"],
     ("uv", "fade", "sun", "weather", "outdoor", "resist"), r"\buv\b|fade|\bsun|outdoor|weather|patio|exterior|resin|marine|polywood",
     ("homedepot", "epqa", "semipqa")),
    ("festival_premiere", ["where did it premiere, at a festival?", "was it shown at Cannes or some other festival?"], ["它是在哪个电影节首映的", "参加过戛纳之类的影展吗"],
     ("festival", "premiere", "award", "release"), r"festival|cannes|premiere|venice|venezia|berlin|sundance", ("movies",)),
    ("rust", ["will it rust if it gets wet?", "how does it hold up against rust?"], ["淋了雨会生锈吗", "防锈吗，用久了会不会锈"],
     ("rust", "corros", "stainless", "galvan", "coat", "finish", "material", "resist"),
     (r"rust|corros|stainless|galvaniz|zinc|chrome|brass|alumin|plastic|resin|vinyl|coat|copper|nickel|bronze|powder|paint|finish|poly|nylon|enamel|"
      r"fiberglass|plated|wood|rubber|oil[- ]rubbed|black|white|satin|steel|iron|titanium|carbide|composite|pewter|brushed|polished|antique"), ("homedepot", "epqa", "semipqa")),
    ("film_editor", ["who edited the film?", "who did the cutting in the editing room?"], ["剪辑师是谁", "这片是谁剪的"], ("editor", "edit"), r"$^", ("movies",)),
    ("flame_retardant", ["is it flame retardant?", "would it catch fire easily?"], ["阻燃吗", "遇火容易烧起来吗"],
     ("fire", "flame", "flammab", "retard", "certif", "specification", "safety"), r"fire|flame|retard|\bfr\b|class a|\bul\b|rated|proof",
     ("homedepot", "epqa", "semipqa")),
    ("surround_sound", ["does the disc have 5.1 surround sound?", "is the audio in Dolby surround?"], ["碟是5.1声道的吗", "音轨是杜比环绕声吗"],
     ("audio", "sound", "dolby", "surround", "format"), r"sound|audio|dolby|silent|music|3-d", ("movies",)),
    ("left_handed", ["can a left-handed person use it comfortably?", "is it okay for lefties?"], ["左撇子用着顺手吗", "适合左手用吗"],
     ("hand", "orientation", "ambidex", "left", "right"), r"left|right|\bhand|ambidex|lefty", ("homedepot", "epqa", "semipqa")),
    ("audio_description", ["does it have audio description for blind viewers?", "is there a described-video track for the visually impaired?"],
     ["有给盲人听的口述影像音轨吗", "视障人士能听的解说版有没有"], ("audio", "description", "accessib", "caption", "subtitle"), r"$^", ("movies",)),
    ("stackable", ["can I stack several on top of each other?", "do they stack for storage?"], ["能叠起来放吗", "几个可以摞在一起收纳吗"],
     ("stack", "nest", "modular"), r"stack|nest|modular|interlock", ("homedepot", "epqa", "semipqa")),
    ("critic_reviews", ["what did the critics make of it?", "how was it reviewed when it came out?"], ["影评人怎么评价这部", "口碑怎么样，评分高吗"],
     ("review", "rating", "score", "critic"), r"$^", ("movies",)),
    ("non_slip", ["does it slide around on a smooth floor?", "is the bottom non-skid?"], ["放地上会打滑吗", "底部防滑吗"],
     ("slip", "grip", "skid", "traction", "rubber", "sole", "backing"), r"slip|grip|skid|traction|rubber|tread|anti|grab|textur|cork|suction|vinyl|latex",
     ("homedepot", "epqa", "semipqa")),
    ("special_effects", ["were the effects done with computers or practically?", "does it use a lot of CGI?"], ["特效是电脑做的吗", "用了很多CG特效吗"],
     ("effect", "cgi", "animation", "visual"), r"effect|3-d|animat|cartoon", ("movies",)),
    ("vegan", ["is it vegan, free of animal products?", "does it contain anything from animals?"], ["是纯素的吗，有没有动物成分", "含动物来源的成分吗"],
     ("vegan", "animal", "leather", "wool", "silk", "ingredient", "material", "diet", "fabric"),
     (r"vegan|leather|wool|silk|animal|beef|chicken|fish|milk|whey|honey|gelatin|\bdown\b|beeswax|collagen|keratin|bone|cheese|\begg|plant|organic|"
      r"natural|suede|vegetable|vegetarian|pork|meat|lanolin|shea"), ("epqa",)),
    ("disc_count", ["how many discs are in the case?", "is it a single disc or a multi-disc set?"], ["一共几张碟", "是单碟还是多碟装"],
     ("disc", "count", "pack", "number"), r"collection|trilogy|\bset\b|pack|edition|\bvol|box|series|\bii\b|\b\d{1,2}\b", ("movies",)),
    ("lifespan", ["how many years should it last?", "what's the expected service life?"], ["大概能用几年", "使用寿命有多长"],
     ("life", "year", "hour", "durab", "warranty", "lasting"), r"life|year|hour|durab|lasting|\blong|lifetime|warrant|heavy[- ]duty|commercial|\d,?000",
     ("homedepot", "epqa")),
]
PLUG_IN = (r"\b(desk lamp|floor lamp|table lamp|fan|heater|microwave|radio|monitor|charger|vacuum|blender|maker|cooker|kettle|toaster|"
           r"dehumidifier|humidifier|purifier|clock|printer|router|shredder|fryer|mixer|juicer|food processor|sander|grinder|air conditioner)\b")
FITS = {
    "dual_voltage": PLUG_IN,
    "lifespan": PLUG_IN,
    "sun_fade": (r"\b(cushions?|umbrella|chaise|hammock|flag|awning|tarp|planter|adirondack|deck box|lounge chair|canopy|doormat|mailbox|"
                 r"patio (chair|table|set|sofa|loveseat|bench|dining set)|outdoor (rug|pillow|chair|bench|swing)|porch swing|rollup shade)\b"),
    "rust": (r"\b(hinges?|hooks?|brackets?|rake|shovel|hoe|spade|trowel|pry bar|crowbar|grate|latch|hasp|anchors?|wrench|hammer|pliers|vise|clamp|"
             r"chisel|hatchet|axe|tongs|skewers?)\b"),
    "flame_retardant": r"\b(curtains?|drapes?|area rug|carpet|mattress|foam|tent|blanket|tarp|costume|upholstery|sofa|throw|canopy)\b",
    "left_handed": (r"\b(scissors|shears|pruners?|knife|knives|wireless mouse|optical mouse|guitar|baseball glove|mitt|can opener|peeler|golf|snips|"
                    r"sickle|machete|pruning saw|bypass pruner)\b"),
    "stackable": (r"\b(chairs?|stools?|storage bins?|bins?|totes?|crates?|baskets?|storage box(es)?|food storage containers?|buckets?|pails?|"
                  r"storage cubes?|planters?)\b"),
    "non_slip": (r"\b(mats?|rugs?|runner|doormat|stools?|step ?stools?|ladders?|bath mat|shower mat|tub mat|slippers?|socks?|shoes?|boots?|"
                 r"stair treads?)\b"),
    "vegan": (r"\b(soap|shampoo|conditioner|lotion|cream|balm|lipstick|makeup|mascara|nail polish|supplements?|vitamins?|protein|snacks?|candy|"
              r"cookies?|wallet|handbag|sauce|serum|cleanser|gummies|chewing gum|tea|coffee|seasoning|spices?|chocolates?|granola|cereal|crackers|"
              r"rain suit|jacket)\b"),
}
# goods the FITS pattern matches by a word that is not what they are ('Mickey Mouse' night light, 'Chair Rail' tile, a drill's 'step' bit)
UNFIT = {
    "dual_voltage": (r"ceiling|hardwire|hood|wall mount|flush|recessed|fixture|chandelier|\bgas\b|propane|oil fired|stove|cleaner|blade|diamond|"
                     r"tooth|wood|cover|\bbag|parts?\b|\bkit\b|stand|cabinet|cart|shelf|\bcase\b|mount|valve|solenoid|replaces|compatible|cord|watch|\bbit\b|"
                     r"for range|timer for|water heater|thermostat|connector|\bfip\b|hose"),
    "lifespan": (r"ceiling|hardwire|hood|wall mount|flush|recessed|fixture|chandelier|stove|cleaner|blade|cover|\bbag|\bkit\b|stand|cabinet|"
                 r"cart|shelf|\bcase\b|furniture|receptacle|outlet|switch|valve|solenoid|replaces|compatible|for range|timer for|thermostat|connector|"
                 r"\bfip\b|hose|cord|supply|ice mak|\bbit\b"),
    "sun_fade": r"light|lamp|bulb|fixture|stand|base|pole|replacement|\bkit\b|hood|range|bed canopy|nintendo|wii|game|clip|felt|underlay|sq\. ft\.|carpet|density|\bpad",
    "rust": (r"diaper|nail art|refill|drill|impact|cordless|volt|\bled\b|light|lamp|\bpad|\bbag|mirror|rail|tile|arm and hammer|curtain|towel|"
             r"robe|coat|bucket|pocket|tote|rotary|core bit|spline|\bsds|storage|sterilite|sanding|disc|grit|command|glue|"
             r"epoxy|adhesive|caulk|patch panel|\bport|category|ethernet|electrical"),
    "flame_retardant": (r"tool|attachment|cleaner|shampoo|steel|heat|grill|light|lamp|rod|hook|ring|bracket|tie|clip|stake|pole|tree|nickel|"
                        r"bronze|chrome|brass|ceiling|canopy kit|canopy cover|weatherstrip|seal|tape|kayak|carrier|pump|block|filter|a/c"),
    "left_handed": r"disney|mickey|sander|\bamp\b|rangefinder|replacement|night light|painting|sharpener|block|holder|stand|case|sheath|blade|in-drawer|bamboo|organizer",
    "stackable": r"ceiling|electrical|outlet|switch|rail|tile|drawer kit|microwave|\bwall\b|gang|junction|chocolate|coffee|filter|light|lamp|\bfan\b|"
                 r"mount|cover|liner|cushion|\bpad|glide|\bleg|\bcap\b|tip|refill|sewing|seat\b|rail|frame|shelf|kit|hardware|toilet|caster|"
                 r"kettle|office chair|swivel|recliner|rocking|chair mat|high chair|massage|lift chair|rice cooker|soap nuts|measuring|grill|hanging|tool set|grid",
    "non_slip": r"laminate|flooring|plank|\bmm\b|drill|\bbit\b|drain|basket|roller|mouse|eraser|magic|board|matte|tray|mat cutter|heat|tent|"
                r"insert|replacement|cleaner|shel|rack|organizer|cabinet|bench|caddy|laces|compressor|\bfan\b",
    "vegan": r"spray paint|killer|drive|edger|air conditioner|filter|basket|veterinar|\bpet\b|\bdog|\bcat\b|tea ?light|coffee table|tea cart|"
             r"coffee maker|tea kettle|candy cane|soap dispenser|soap dish|lotion pump|maker|grinder|mug|cup|pot\b|warmer|machine|dispenser|"
             r"brewer|rack|stand|holder|canister|\bjar\b|tin\b|organizer|drawer|storage",
}
# parts and accessories are no device: a voltage or service-life question about them asks about something they do not do
NOT_DEVICE = bs5.NOT_DEVICE

# Chinese titles of demo-shop movies as Chinese audiences know them (hand-written; none of the earlier generators')
ZH_TITLES = {
    "m25": "鸟笼", "m27": "绝地战警", "m29": "永远的蝙蝠侠", "m31": "红潮风暴", "m47": "艾德·伍德", "m48": "篮球梦", "m52": "疯狂的乔治王",
    "m54": "极度恐慌", "m58": "益智游戏", "m61": "蓝白红三部曲之白", "m68": "乌鸦", "m76": "情枭的黎明", "m77": "糖衣陷阱", "m81": "影子大亨",
    "m83": "无事生非", "m92": "真实罗曼史", "m136": "史密斯先生到华盛顿", "m141": "海底两万里", "m142": "飞天万能床", "m147": "特工狂花",
    "m151": "欢乐糖果屋", "m160": "拜金一族", "m186": "福禄双霸天", "m190": "亨利五世", "m193": "太空先锋", "m201": "鬼玩人2", "m208": "新科学怪人",
    "m219": "猛鬼街", "m225": "101斑点狗", "m228": "星际旅行2：可汗怒吼", "m230": "星际旅行4：抢救未来", "m244": "冰雪谜案", "m253": "枕边书",
    "m254": "蝙蝠侠与罗宾", "m261": "飞狗巴迪", "m285": "秘密与谎言", "m291": "绝对权力", "m310": "造雨人", "m311": "鸽之翼", "m312": "午夜善恶花园",
    "m323": "天崩地裂", "m328": "连锁阴谋", "m343": "异形4", "m354": "婚礼歌手", "m355": "深海圆疑", "m380": "星际旅行7：斗转星移",
    "m383": "摩登原始人", "m386": "阿达一族2", "m387": "纯真年代", "m391": "幻影英雄", "m398": "超级马里奥兄弟", "m411": "肥佬教授", "m416": "老黄狗",
    "m417": "天生一对", "m420": "爱丽丝梦游仙境", "m421": "罗密欧与朱丽叶", "m430": "鸭羹", "m433": "希德姐妹帮", "m434": "禁忌星球", "m458": "白宫风暴",
    "m462": "巧克力情人", "m468": "追梦赤子心", "m471": "生死豪情", "m472": "魔龙传奇", "m476": "大老婆俱乐部", "m491": "侠盗罗宾汉", "m493": "瘦人",
    "m513": "第三人", "m518": "米勒的十字路口", "m538": "真假公主", "m539": "捕鼠记", "m552": "异种", "m553": "云中漫步", "m562": "致命快感",
    "m591": "一级恐惧", "m596": "钟楼怪人", "m597": "蒸发密令", "m602": "一个美国人在巴黎", "m611": "罗拉秘史", "m627": "侠盗王子罗宾汉",
    "m648": "蓬门今始为君开", "m652": "君臣人子小命呜呼", "m657": "满洲候选人", "m661": "正午", "m662": "时光倒流七十年", "m665": "异形3",
    "m675": "诺斯费拉图", "m678": "活火熔城", "m679": "野蛮人柯南", "m682": "我知道你去年夏天干了什么", "m685": "最高危机", "m686": "完美的世界",
    "m691": "移魂都市", "m709": "舞国英雄", "m713": "奥赛罗", "m720": "第一武士", "m740": "简·爱", "m750": "断锁怒潮", "m754": "红色角落",
    "m756": "新岳父大人2", "m771": "捍卫机密", "m781": "情定巴黎", "m792": "子弹横飞百老汇", "m809": "旭日追凶", "m831": "洛杉矶大逃亡",
    "m836": "妮诺契卡", "m849": "雷霆壮志", "m856": "地球之夜", "m894": "小鬼当家3", "m895": "惊声尖叫2", "m896": "意外的春天", "m904": "玫瑰少年梦",
    "m916": "迷失太空", "m917": "终极密码战", "m918": "天使之城", "m919": "童梦失魂夜", "m922": "离魂异客", "m924": "白色风暴", "m947": "碧海蓝天",
    "m959": "年少轻狂", "m969": "小熊维尼与大风吹", "m971": "地中海", "m990": "安娜·卡列尼娜", "m1009": "偷香", "m1020": "煤气灯下",
    "m1028": "斗气老顽童2", "m1031": "灵犬莱西", "m1060": "木偶奇遇记", "m1066": "雪地灵犬", "m1073": "浅坟", "m1074": "四个毕业生",
    "m1089": "生死时速2", "m1101": "六度分离", "m1115": "第十二夜", "m1154": "阿尔法城", "m1168": "小活佛", "m1171": "野芦苇", "m1195": "草莓和巧克力",
    "m1203": "礼帽", "m1204": "你逃我也逃", "m1239": "割喉岛", "m1252": "蔑视", "m1260": "全蚀狂爱", "m1268": "苦月亮", "m1269": "黄昏之恋",
    "m1316": "马语者", "m1386": "铁男2", "m1401": "蝴蝶君", "m1404": "我与长指甲", "m1409": "天鹅公主", "m1451": "海外特派员", "m1459": "蝴蝶夫人",
    "m1488": "萌芽", "m1512": "阿普的世界", "m1597": "光头党", "m1613": "东京之拳", "m1615": "五行战士", "m1672": "基卡", "m1674": "罗马妈妈",
}
# Home Depot products as a Chinese shopper would name them (brand/model kept; hand-written), with the English fragment of the
# title that must name exactly this product in the whole shop
ZH_HD = {
    "147344": ("亚马逊 Amazon Echo 智能音箱", "Amazon Echo"),
    "157890": ("戴森 Dyson Ball Compact Animal 立式吸尘器，养宠物家用的", "Dyson Ball Compact Animal"),
    "172484": ("Rachio 连 Wi-Fi 的智能浇水控制器", "Rachio Wi-Fi Smart Irrigation Controller"),
    "138215": ("琢美 Dremel 4200系列电磨全套工具", "Dremel 4200 Series Ultimate Rotary Tool Kit"),
    "122528": ("Genie ChainLift 600 链条式车库门开门机，1/2马力直流电机", "Genie ChainLift 600"),
    "109094": ("胡佛 Hoover WindTunnel 2 Rewind 宠物款无尘袋立式吸尘器", "WindTunnel 2 Rewind Pet"),
    "128853": ("胡佛 Hoover FloorMate Deluxe 硬地板清洗机", "Hoover FloorMate Deluxe"),
    "123157": ("爱适易 InSinkErator Badger 5 厨余垃圾处理器，1/2马力", "InSinkErator Badger 5 1/2 HP"),
    "161438": ("爱适易 InSinkErator Evolution Excel 1马力垃圾处理器", "Evolution Excel 1 HP"),
    "101213": ("Lasko 18寸 Cyclone 落地扇，黑色带遥控", "Lasko 18 in. Cyclone Pedestal Fan"),
    "118452": ("Lasko 36寸无叶塔扇", "Lasko 36 in. Bladeless Tower Fan"),
    "135223": ("美膳雅 Cuisinart 台式对流小烤箱，带上火烧烤，银色", "Cuisinart Convection Countertop Toaster Oven"),
    "145077": ("Vornado Evap2 全屋蒸发式加湿器", "Vornado Evap2"),
    "177408": ("Generac XG 一万瓦汽油便携发电机", "Generac XG 10,000-Watt"),
    "125445": ("凯膳怡 KitchenAid 30寸 5.8立方英尺燃气灶，烤箱能自清洁", "KitchenAid 30 in. 5.8 cu. ft. Gas Range"),
    "173471": ("KitchenAid 六头双腔燃气烧烤炉，送烤炉罩", "KitchenAid 6-Burner Dual Chamber Gas Grill"),
    "174850": ("伊莱克斯 Electrolux IQ-Touch 22.19立方英尺法式对开门冰箱", "Electrolux IQ-Touch 22.19"),
    "143851": ("海尔 Haier 24寸滚筒洗烘一体机 2.0立方英尺，白色", "Haier 2.0 cu. ft. 24 in. Wide Front Load Washer/Dryer"),
    "151412": ("海尔 Haier 3.2立方英尺双门小冰箱，冷冻室独立", "Haier 3.2 cu. ft. 2 Door Mini Refrigerator"),
    "101415": ("本田 Honda 21寸 Nexite 外壳电启动汽油割草机", "Honda 21 in. Nexite Deck"),
    "114026": ("本田 Honda 11寸 57cc 轻型汽油松土机", "Honda 11 in. 57cc"),
    "184669": ("ECHO 16寸 34cc 汽油油锯", "ECHO 16 in. 34 cc Gas Chainsaw"),
    "102189": ("托罗 Toro TimeCutter SS5000 50寸零转弯坐骑式割草机", "Toro TimeCutter SS5000"),
    "203300": ("托罗 Toro Power Clear 621 QZR 单级扫雪机", "Power Clear 621 QZR"),
    "146634": ("Broan QT20000 静音油烟机 30寸 不锈钢", "Broan QT20000 Quiet Hood"),
    "124488": ("Porter-Cable 1.75马力固定底座修边机套装", "Porter-Cable 1.75 HP Fixed Base Router Kit"),
    "111245": ("SKILSAW 7-1/4寸蜗杆电圆锯，15安，配 Diablo 锯片", "SKILSAW 15 Amp 7-1/4 in. Worm Drive"),
    "142390": ("碧然德 Brita Redi-Twist 单级直饮净水系统", "Redi-Twist 1-Stage"),
    "164669": ("路创 Lutron Maestro 人走灯灭感应开关，白色", "Lutron Maestro 5 Amp Single-Pole/3-Way Vacancy Sensing Switch"),
    "177191": ("Kidde Worry Free 120伏联网烟雾报警器，内置十年电池备用", "Kidde Worry Free 120-Volt Hardwired"),
    "124961": ("First Alert 插座式一氧化碳报警器，有数字显示", "First Alert Plug-In Carbon Monoxide Alarm"),
    "143704": ("松下 Panasonic WhisperGreen Select 浴室排气扇，带LED灯", "WhisperGreen Select"),
    "172783": ("速易洁 Swiffer Sweeper XL 干湿两用拖把入门套装", "Swiffer Sweeper XL"),
    "138000": ("格力博 Greenworks G-MAX 40伏 24寸充电绿篱机，带电池和充电器", "Greenworks G-MAX 24 in. 40-Volt"),
}
EN_NAMED_ATTR = {"year": ["when did {t} first come out?", "how long ago was {t} released?", "{t}: when was that one in theaters?"],
                 "genres": ["what kind of picture is {t}?", "{t}: is that a funny one or a serious one?"],
                 "color": ["which tint does the {t} come in?"], "material": ["what's the {t} made out of?"], "size": ["how big does the {t} measure?"],
                 "item_weight": ["how many pounds does the {t} come to?"], "manufacturer": ["which company produces the {t}?"]}
ZH_NAMED_ATTR_MOVIE = {"year": ["《{t}》是哪年的电影啊", "{t}这部是几几年出的", "{t}出来多少年了"],
                       "genres": ["《{t}》算哪一类的片子", "{t}是啥类型的，讲什么的"]}
ZH_NAMED_ATTR_GOODS = {"color": ["{t}什么颜色"], "material": ["{t}用的啥材料"], "size": ["{t}尺寸有多大"], "item_weight": ["{t}重多少"],
                       "manufacturer": ["{t}是哪个厂家的"]}
EN_NAMED_ID = ["do you guys sell {t}?", "looking for {t}, got it?", "search for {t} please", "I'd like to see {t}", "have {t} by any chance?"]
EN_PARTIAL = ["the flick called something like {w}", "the film with {w} in its title"]  # a partial film title, sometimes with a slip
ZH_NAMED_ID = ["{t}这儿能买着吗", "我想入一个{t}", "麻烦搜下{t}", "{t}还有货不"]
ZH_NAMED_ID_MOVIE = ["你们有《{t}》吗", "想买张{t}的碟", "《{t}》店里能找到不", "{t}，这片有没有"]

# listing turns and the set questions that follow them
EN_LIST_MOVIES = ["got any heist or mob movies?", "something creepy for Halloween night?", "I need a good laugh, any comedies?",
                  "films about the war, please", "cartoons for my kids?", "cowboy movies, anything?", "romantic films for date night",
                  "spy movies, do you have some?", "space adventures or robots?", "a serious drama that makes you think",
                  "something the whole family can watch together", "big action blockbusters?", "detective mysteries, got any?",
                  "films with song and dance numbers?", "true-story documentaries?", "moody old crime noir?"]
ZH_LIST_MOVIES = ["有没有黑帮抢劫的片子", "万圣节想看点阴森的", "想乐呵乐呵，有喜剧吗", "讲战争的电影来几部", "给孩子看的卡通有哪些",
                  "有没有牛仔枪战的西部片", "约会看的浪漫电影", "特工间谍片有没有", "太空机器人那类科幻片", "想看部有深度的剧情片",
                  "全家人一块儿看的电影", "火爆的动作大片", "侦探破案的有吗", "有唱有跳的老歌舞片", "真实事件的纪录片", "有没有老派的黑色犯罪片"]
EN_LIST_GOODS = ["any ceiling fans?", "I'm shopping for a garden hose", "show me water filters", "looking at cordless drills",
                 "yoga mats, what do you have?", "any bathroom faucets?"]
ZH_LIST_GOODS = ["吊扇有哪些", "想买根浇花水管", "净水滤芯看看", "充电式电钻有吗", "瑜伽垫有卖吗", "浴室水龙头给我看看"]
EN_LIST_TOYS = ["stocking stuffer toys for a kid?", "which toys would a preschooler enjoy?"]
ZH_LIST_TOYS = ["给幼儿园小朋友挑玩具", "有适合当圣诞礼物的玩具吗"]
SET_Q = {  # op → ([EN], [ZH])
    "oldest": (["which of them goes back the furthest?", "who's the old-timer of the bunch? which came out first?"], ["哪部年头最老", "这些里最早出的是哪部"]),
    "newest": (["which is the freshest release of these?", "which one's the latest to come out?"], ["哪部是最新出的", "离现在最近的是哪部"]),
    "has_genre": (["do any of them count as {g}?", "are there {g} titles in that list?"], ["这几部里哪些算{gz}", "有没有{gz}在里面"]),
    "diff": (["compare the first two for me", "what sets the first one apart from the second?", "first versus second, what's the difference?"],
             ["第一个跟第二个差在哪", "比较一下前两个", "头两个哪里不一样"]),
    "heaviest": (["which of these weighs the most?", "which one would be hardest to lift?"], ["哪样东西最压秤", "哪样拿起来最沉"]),
    "cheapest": (["which of these is easiest on the wallet?", "what's the lowest-priced option there?"], ["哪个价钱最低", "最便宜的是哪样"]),
}
GENRE_ZH = {"Comedy": "喜剧片", "Drama": "剧情片", "Thriller": "惊悚片", "Romance": "爱情片", "Action": "动作片", "Sci-Fi": "科幻片", "War": "战争片",
            "Adventure": "冒险片", "Horror": "恐怖片", "Crime": "犯罪片", "Mystery": "悬疑片", "Animation": "动画片", "Western": "西部片",
            "Documentary": "纪录片", "Musical": "歌舞片", "Children's": "儿童片", "Film-Noir": "黑色电影", "Fantasy": "奇幻片"}
# (first message, position, attribute, follow-up message or None)
REF_EN = [("the second pick there, when did it come out?", 1, "year", None), ("first on your list: comedy, drama, what?", 0, "genres", None),
          ("film three, when was it released?", 2, "year", None), ("the bottom one, how old is it?", -1, "year", None),
          ("second one sounds interesting", 1, "genres", "what kind of story is it?"), ("open up number three", 2, "year", "and when was that made?"),
          ("I'll take a look at the top one", 0, "genres", "what sort of picture would you call it?"),
          ("the one at the end of the list", -1, "genres", "what category does it fall under?"), ("your first suggestion, when is it from?", 0, "year", None)]
REF_EN_GOODS = [("what tint is item two?", 1, "color", None), ("first product there, how many pounds?", 0, "item_weight", None),
                ("that second one catches my eye", 1, "color", "which tint is it?"), ("pull up the first product", 0, "item_weight", "what does that one weigh?"),
                ("the last product, how heavy?", -1, "item_weight", None)]
REF_ZH = [("第二部哪年拍的", 1, "year", None), ("第一部讲的是哪类故事", 0, "genres", None), ("第三部是几几年上映的", 2, "year", None),
          ("最末那部是哪年的", -1, "year", None), ("第二部看着挺带劲", 1, "genres", "它是哪种类型的片"), ("打开第三部看看", 2, "year", "它是哪一年上的"),
          ("我瞅瞅第一部", 0, "genres", "它属于啥片种"), ("列表里最后一部", -1, "genres", "它是什么风格的片子"), ("你推荐的第一部是哪年的", 0, "year", None)]
REF_ZH_GOODS = [("第二款是什么颜色的啊", 1, "color", None), ("第一款多少斤", 0, "item_weight", None), ("第二个款式我喜欢", 1, "color", "它什么色"),
                ("点开第一款", 0, "item_weight", "它有多重啊"), ("最后一款多沉", -1, "item_weight", None)]

# record id → (phrase as it should be found in the shop's titles, the product): filled by build(), read by the pre-freeze checks
NAMED_PHRASES: dict[str, tuple[str, str]] = {}


# ------------------------------------------------------------------------------------------ helpers
def gold_ok(key: str, value: object) -> bool:
    """build_set5.gold_ok (build_set2's and build_set4's filters, lists in one string, separators, BROKEN), and not one of BROKEN here."""
    v = str(value).strip(". ").casefold()
    return bs5.gold_ok(key, value) and v not in BROKEN


def used_before() -> set[str]:
    """Products dev.jsonl … sealed5.jsonl ask about (ids only, by code; no message is read), and those the earlier generators render
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
        """An ePQA product whose first words name it alone (at least three words, no '&')."""
        phrase = phrase_of(p)
        return "&" not in phrase and len(phrase.split()) >= 3 and uniq.owner(phrase) == p.id

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
                      and not re.search(UNFIT.get(topic, r"$^"), p.title.casefold())
                      and not (topic in ("dual_voltage", "lifespan") and re.search(NOT_DEVICE, p.title.casefold()))]
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
    (out / "sealed6.jsonl").write_text(body, encoding="utf-8")
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
    print(json.dumps({"records": len(recs), "counts": counts, "sha256": {"sealed6.jsonl": digest}}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
