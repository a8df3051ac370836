"""Writes the eighth sealed part of the assistant generalisation set (sealed8.jsonl) from the catalog records alone.

Same catalogs, record format and gold derivation as build_set.py … build_set7.py (build_set.py's catalogs and helpers,
build_set2.py's answers and trim, build_set3.py's plain_title and build_set7.py's gold filter, MISFILED list and genre names are
imported), but a different seed, no product that dev.jsonl, sealed.jsonl … sealed7.jsonl asks about (ids collected by code), none
that an earlier generator renders in Chinese, and question wording written by hand for this part only (English and Chinese, two
to five phrasings per intent). Every gold value is read from the product records by this script, never from the assistant. Run
once; the file is then frozen (SHA256SUMS).

    python bench/assistant_sets/build_set8.py [--data /work/shared/data] [--out DIR]
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
import build_set7 as bs7

REPO = bs.REPO
SEED = 20261230
PREFIX = "s8"  # record ids: s8-<lang>-<kind>-<n>
EARLIER = ("dev.jsonl", "sealed.jsonl", "sealed2.jsonl", "sealed3.jsonl", "sealed4.jsonl", "sealed5.jsonl", "sealed6.jsonl",
           "sealed7.jsonl")
GENERATORS = (bs, bs2, bs3, bs4, bs5, bs6, bs7)
GOODS_PER_LANG = 5  # attribute questions on goods per language at most; the earlier parts used up nearly every good with a usable value
# the goods keys a Chinese question asks about: values a Chinese answer states as they are (a series name, a part code). The others
# ('parts', 'trees', 'food', 'labor+parts', 'performance part') a Chinese answer would translate, and the grader's EN-ZH lexicon does
# not hold them, so they are asked in English only
ZH_GOODS_KEYS = ("model_name", "model_number")

# ------------------------------------------------------------------------------------------ hand-written wording
# Attribute questions that never name the catalog key word for word. {key: ([EN], [ZH])}. The goods left hold seven usable values,
# all under keys no earlier part asked about (a model line, a part code, a part's grade, what a plant is, what the maker's guarantee
# covers, what it is meant to be used on).
_COVER_EN = ["does the maker's guarantee pay for labour too, or only replacement pieces?", "if it fails, what will the manufacturer cover?",
             "what exactly does the factory guarantee take care of?"]
_COVER_ZH = ["厂家保修管不管人工，还是只换零件", "坏了厂家包哪些", "原厂保修都保点啥"]
ATTR_Q: dict[str, tuple[list[str], list[str]]] = {
    "model_name": (["what does the maker call this particular line?", "which series is it sold as?"], ["这款厂家叫它啥系列", "这个系列名叫什么"]),
    "model_number": (["what's the code I'd quote to reorder exactly this one?", "which catalogue code is on its box?"],
                     ["货号是多少，我记一下", "包装上的型号编码是啥"]),
    "product_grade": (["what class of part is this, stock or upgraded?", "is it an ordinary piece or a higher-tier one?"],
                      ["这配件是什么级别的", "算普通件还是高端件"]),
    "plant_or_animal_product_type": (["what kind of living thing arrives, exactly?", "is it a shrub, a tree, a succulent?"],
                                     ["寄来的是棵树还是一盆草", "这是哪一类苗木"]),
    "mfg_warranty_description_type": (_COVER_EN, _COVER_ZH),
    "mfg_warranty_description_parts": (_COVER_EN, _COVER_ZH),
    "recommended_uses_for_product": (["what's it best used on or in?", "what would the maker tell me to use it with?"],
                                     ["厂家建议拿它干嘛", "这个主要推荐用在哪儿"]),
    "year": (["what's the release date on this, roughly?", "is this an eighties film, a nineties one, older?", "how recent is this picture?"],
             ["这部是几几年出的片", "这电影有多少年头了", "哪年拍出来的呀"]),
    "genres": (["what kind of picture is this, a thriller, a comedy?", "how would you pigeonhole this movie?",
                "which section of the film aisle does it belong in?"],
               ["这片是走哪个路子的", "算动作片还是文艺片，什么类的", "这片子归哪一挂的"]),
}
GOODS_KEYS = [k for k in ATTR_Q if k not in ("year", "genres")]
NAMED_KEYS = ("color", "material", "size", "item_weight", "manufacturer")  # what an ePQA product named in the message may be asked about
# values that do not answer their question, or that an answer reading the product would not repeat: a product name filed as a model
# number, a model name glued from the brand and title words with a space dropped, a placeholder size
BROKEN = {"organic turmeric with bioperine", "sterilite large fliptop", "no size"}
MISFILED = dict(bs7.MISFILED)  # a value the product's title shows to be filed in the wrong slot (build_set6's and build_set7's)

# Questions no attribute answers: (topic, [EN], [ZH], key/value fragments that would answer it, title/value pattern that would, catalogs).
# Films and goods alternate (9 + 9 topics), so the 25 questions of a language split 13 films / 12 goods. FITS: the kind of goods a
# question is asked about (a tap for lead, a paint for coverage, a fridge or a storm door for the door swing …), so that "not stated"
# is the answer and "it has none" is not. All topics are new to this part.
UNANSWERABLE: list[tuple[str, list[str], list[str], tuple[str, ...], str, tuple[str, ...]]] = [
    ("choreographer", ["who did the choreography?", "who choreographed the dance numbers?"], ["编舞是谁呀", "里面的舞蹈是谁编的"],
     ("choreograph", "danc"), r"choreograph|danc", ("movies",)),
    ("lead_free", ["is it lead-free? it's the tap we drink from", "any lead in the parts the water runs through?"],
     ["是无铅的吗，家里要接饮用水", "出水的地方含不含铅"], ("lead", "nsf", "certif", "drinking", "potable", "water quality"),
     r"lead|nsf|certif|ab ?1953|plastic|pex|cpvc|pvc|filter|drinking|potable", ("homedepot",)),
    ("production_designer", ["who designed the sets?", "who was in charge of production design?"], ["美术指导是谁", "布景是谁设计的"],
     ("design", "art direct"), r"$^", ("movies",)),
    ("coverage", ["how many square feet will one container cover?", "roughly how much wall can I do with a single can?"],
     ["一桶能刷多少平米", "这一罐大概够刷多大面积"], ("coverage", "sq", "square", "area", "spread"),
     r"sq\.? ?ft|square f|coverage|covers\b|per gallon|spread", ("homedepot",)),
    ("casting_director", ["who handled the casting?", "who picked the actors for it?"], ["选角导演是谁", "演员是谁挑的"], ("casting",), r"$^",
     ("movies",)),
    ("mounting_hardware", ["does it come with the screws and anchors to hang it?", "will I need to buy fixings separately to put it up?"],
     ["送安装螺丝和膨胀管吗", "挂墙用的配件要另买吗"], ("includ", "hardware", "mount", "screw", "component", "anchor", "install"),
     (r"hardware|screw|anchor|mount(ing)? kit|\bkit\b|includ|adhesive|command|tension|suction|no[- ]drill|install|with bracket|brackets|"
      r"magnetic|over[- ]the[- ]door|clamp|stick"), ("homedepot",)),
    ("animal_welfare", ["were any animals harmed while making it?", "was there an animal-safety monitor on set?"],
     ["拍的时候有没有伤到动物", "片场有动物保护监督吗"], ("animal", "humane"), r"animation|documentary", ("movies",)),
    ("uv_protection", ["how well does it block UV rays?", "does it keep out the sun's ultraviolet, any UPF figure?"],
     ["防紫外线效果怎么样", "能挡多少紫外线，有没有标UPF"], ("uv", "upf", "spf", "protect", "polariz", "tint", "ultraviolet"),
     r"\buv|upf|spf|polariz|uva|uvb|sun ?block|protect|tint|blackout|solar|reflect|\bray|heat control|energy saving|ultraviolet",
     ("homedepot",)),
    ("china_release", ["did it ever get a cinema release in China?", "was it shown in mainland Chinese theaters back then?"],
     ["这片当年在国内院线上映过吗", "内地公映过没有"], ("china", "release", "region", "market"),
     r"china|chinese|hong kong|shanghai|beijing|tibet|kundun|peking|canton|taiwan|asia", ("movies",)),
    ("septic_safe", ["is it safe to use with a septic tank?", "we're on septic out here, will this cause trouble?"],
     ["家里是化粪池，用这个没事吧", "会不会把化粪池搞坏"], ("septic", "enzyme", "bacteri", "biodegrad", "plumbing", "safe"),
     r"septic|enzyme|bacteri|biodegrad|safe|natural|eco|green|plant-based|organic", ("homedepot",)),
    ("censorship", ["was it banned or censored anywhere?", "did any country cut scenes out of it?"], ["这片在哪儿被禁过吗", "有没有国家删过它的镜头"],
     ("ban", "censor"), r"banned|censor|uncut|x-rated", ("movies",)),
    ("door_reversible", ["can the door be switched to open from the other side?", "my layout needs the hinge on the left; can I flip it?"],
     ["门能改成往另一边开吗", "开门方向可以换吗，我们家得左开"], ("revers", "hinge", "swing", "door", "hand", "orientation"),
     (r"revers|left|right|hand|french|side-by-side|side by side|swing|hinge|in-?swing|out-?swing|double|bi-?fold|sliding|drawer|chest|"
      r"pocket|barn|easyload|washer|wall oven"), ("homedepot",)),
    ("improvised", ["how much of the dialogue was made up on the spot?", "did the cast improvise a lot of their lines?"],
     ["台词是现场即兴发挥的多吗", "演员有没有自己临场加戏"], ("improv", "script", "dialogue"), r"documentary|animation", ("movies",)),
    ("shatterproof", ["if it gets knocked off, will it shatter?", "how easily does it break if it's dropped?"], ["不小心碰掉了会碎吗", "摔一下容易碎不"],
     ("shatter", "break", "impact", "tempered", "safety", "material"),
     (r"shatter|break|tempered|safety|acrylic|plastic|poly|resin|metal|steel|alumin|wood|pine|unbreakable|melamine|silicone|stainless|"
      r"iron|brass|copper|bronze|rubber|vinyl|wire|fiberglass|ceramic|ceramix|stone|concrete|crystal|glass"), ("homedepot",)),
    ("theatrical_run", ["how many weeks did it stay in cinemas?", "how long was its run in theaters?"], ["当年在影院上了多久", "院线放映了几周"],
     ("theatrical", "weeks", "release", "box"), r"$^", ("movies",)),
    ("leakproof", ["if I throw it in my bag sideways, will it leak?", "is it spill-proof with the lid shut?"], ["放包里横着会不会漏", "盖紧了能保证不洒吗"],
     ("leak", "spill", "seal", "tight", "closure", "gasket"), r"leak|spill|seal|lock|tight|screw|gasket|closure|valve",
     ("homedepot", "epqa")),
    ("working_title", ["what was it called while they were still making it?", "did it have a different working title during the shoot?"],
     ["拍摄时的暂定片名叫什么", "开拍的时候用的是别的名字吗"], ("aka", "alias", "working"), r"\(|a\.k\.a|\baka\b|:", ("movies",)),
    ("kosher", ["is it certified kosher?", "does it carry a kosher symbol on the pack?"], ["有犹太洁食认证吗", "这个是kosher的吗"],
     ("kosher", "halal", "pareve", "certif", "diet"), r"kosher|halal|pareve|parve|certif|organic|vegan|jewish|passover|gluten", ("epqa",)),
]
FITS = {
    "lead_free": (r"\b(kitchen faucets?|bathroom faucets?|bar faucets?|lavatory faucets?|pull-?down (sprayer )?(kitchen )?faucets?|"
                  r"pull-?out (sprayer )?(kitchen )?faucets?|widespread (2-handle )?(bathroom )?faucets?|centerset (2-handle )?(bathroom )?faucets?)\b"),
    "coverage": (r"\b(interior paint|exterior paint|paint and primer|paint with primer|primer|wood stain|deck stain|solid color stain|"
                 r"semi-transparent stain|waterproofing sealer|concrete sealer|deck coating|floor coating|floor paint|masonry paint|ceiling paint|"
                 r"enamel paint|latex paint)\b"),
    "mounting_hardware": (r"\b(floating shelf|wall shelf|wall mirror|bath wall mirror|curtain rod|towel bar|towel ring|robe hook|toilet paper holder|"
                          r"grab bar|coat rack|hook rail|wall hook|key rack|wall-mounted|wall mount)\b"),
    "uv_protection": (r"\b(patio umbrella|market umbrella|beach umbrella|offset umbrella|cantilever umbrella|shade sail|sun shade|sunshade|"
                      r"window film|sun sail|shade cloth)\b"),
    "septic_safe": (r"\b(drain cleaner|drain opener|clog remover|toilet bowl cleaner|toilet cleaner|bath tissue|toilet paper|garbage disposal|"
                    r"bowl cleaner)\b"),
    "door_reversible": (r"\b(refrigerator|upright freezer|freezer|mini fridge|compact fridge|beverage cooler|wine cooler|electric dryer|gas dryer|"
                        r"storm door|prehung (interior |exterior )?door|prehung front door)\b"),
    "shatterproof": r"\b(wall mirror|vanity mirror|floor mirror|round mirror|oval mirror|beveled mirror|frameless mirror|vase|drinking glasses|wine glasses)\b",
    "leakproof": r"\b(travel mug|tumbler|water bottle|thermos|vacuum bottle|food storage container|lunch box|flask|sippy cup|water jug)\b",
    "kosher": (r"\b(snacks?|candy|chocolates?|sauce|seasoning|spices?|tea|coffee|chips|jerky|nuts|bars?|supplements?|gummies|syrup|honey|oil|"
               r"vinegar|jam|soup|dressing|salt|sugar|sweetener|capsules?|cereal|granola|cookies|crackers|pasta|rice|beans|flour|juice|drink mix)\b"),
}
# goods the FITS pattern matches by a word that is not what they are (a faucet 'handle kit', a curtain rod 'ring', a 'tumbler' lock …)
UNFIT = {
    "lead_free": (r"handle kit|cartridge|stem|repair|\bkit\b|parts?\b|trim\b|cover|escutcheon|hose\b|\barm\b|holder|valve|adapter|flange|"
                  r"aerator|washer|seat|o-ring|wrench|bracket|extension|diverter|\bcap\b|plate|supply line|drain|strainer|soap dispenser|pad|"
                  r"replaces|riser|connector|\bsink\b|bowl|vanity|\btop\b|countertop|combo|\bnpt\b|pump|water cooler|refrigerator|ice|bottle|"
                  r"faucet side sprayer|side sprayer in"),
    "coverage": (r"spray|aerosol|\boz\b|sample|marker|pen\b|brush|roller|tray|tape|\bkit\b|stripper|remover|cleaner|caulk|patch|filler|putty|"
                 r"touch-up|applicator|sprayer|tint base"),
    "mounting_hardware": (r"\btv\b|television|monitor|speaker|microwave|\btub\b|\bsink\b|faucet|light|lamp|sconce|cabinet|medicine|mailbox|\bfan\b|"
                          r"heater|air conditioner|shower|fire|extinguisher|hose|bike|ladder|lumber|\bpost\b|flag|camera|antenna|replacement|"
                          r"\bparts?\b|\bcap\b|cover|finial|end cap|rings?\b|\bset\b|combo|bracket for|organizer|storage|system|soap dish|"
                          r"discontinued|\bdesk\b|table|ironing|drying rack|pot rack|wine rack|gun|tool|vanity in|vanity top|vanity with|and (wall )?mirror"),
    "uv_protection": (r"\bbase\b|stand|cover|\bcap\b|light|lamp|bulb|replacement|\bparts?\b|\bkit\b|bracket|hardware|holder|clip|\bbag\b|"
                      r"weights?|toy|pole\b|hub|rib|lantern|heater|\bfan\b|\bled\b|netting|screen door|decorative|etch|stained|privacy|frost|"
                      r"solution|application|squeegee|\btool\b"),
    "septic_safe": (r"\btool\b|auger|snake|plunger|brush|holder|stopper|strainer|wand|caddy|dispenser|mount|flange|power cord|cord kit|"
                    r"dishwasher connector|splash guard|wrench|\bkit\b|switch|cushion|baffle|reset|trim|collar|stopper"),
    "door_reversible": (r"water filter|filter|\bkit\b|\bparts?\b|replacement|handle|gasket|shelf|\bbin\b|light|bulb|ice maker|thermometer|cover|"
                        r"vent|duct|hose|cord|rack|stacking|pedestal|trim|hardware|knob|lock|closer|sweep|weatherstrip|kick plate|chime|bell|"
                        r"\bmat\b|hook|paint|magnet|organizer|tray|panel|slab|outdoor|built-in|under-counter|undercounter|kegerator"),
    "shatterproof": (r"light|lamp|medicine|cabinet|\bcar\b|auto|side mirror|clip|hardware|mount|bracket|cleaner|cover|\bkit\b|replacement|"
                     r"\bparts?\b|film|adhesive|\bpet\b|shelf|shelves|pivoting|tile|vanity in|vanity top|vanity with|and (wall )?mirror|combo"),
    "leakproof": (r"holder|rack|caddy|stand|\bbag\b|case|sleeve|cover|brush|cleaner|clip|carrier|shelf|organizer|mount|\bpump\b|\bkit\b|"
                  r"replacement|\bparts?\b|paint|\bcan\b|trash|garbage|waste|\bdog\b|\bpet\b|\bcat\b|wall|cabinet|filter|lock|refrigerant|"
                  r"insect|cable tie|toilet|vacuum cleaner|canister vacuum|\b\d+-pack|\(\d+-pack\)"),
    "kosher": (r"dispenser|maker|grinder|machine|warmer|holder|rack|stand|\bmug\b|\bcup\b|pot\b|kettle|clip|\bmill\b|press|scale|bbq|grill\b|"
               r"smoker|chair|table|lamp|light|paint|stain|wood|hair|skin|\bnail|\bpet\b|\bdog|\bcat\b|bird|fish|aquarium|soap|lotion|shampoo|"
               r"massage|\bgun\b|tool|\bwax|candle|cleaner|clamp|stool|pry bar|towel bar|light bar|sound ?bar|crow ?bar|oil[- ]rubbed|"
               r"oil filter|motor oil|engine|fuel|lubric|hydraulic|rail|aroma|essential oil|diffuser|bath|plant|fertiliz|garden|lawn|pool|spa|"
               r"toner|ink|beard|body|cosmetic|grab bar|roll bar|tow bar"),
}

# Chinese titles of demo-shop movies as Chinese audiences know them (hand-written; none of the earlier generators')
ZH_TITLES = {
    "m43": "叛逆性骚扰", "m93": "欢迎来到娃娃屋", "m138": "野鸭变凤凰3", "m148": "黑夜幽灵", "m175": "妙想天开", "m242": "给我一个爸",
    "m287": "亲情无价", "m306": "布朗夫人", "m358": "再生侠", "m362": "福禄双霸天2000", "m375": "艳舞女郎", "m399": "三剑客",
    "m408": "超级无敌掌门狗：剃刀边缘", "m426": "变形金刚大电影", "m469": "银色性男女", "m532": "爱经", "m540": "金钱列车", "m617": "蓝天使",
    "m638": "马丁·盖尔归来", "m663": "富贵逼人来", "m697": "篮球日记", "m729": "大地的女儿", "m732": "冒牌总统", "m742": "赎金",
    "m863": "费尼兹花园", "m892": "飞天法宝", "m928": "魔女游戏", "m974": "以眼还眼", "m993": "大力士", "m1050": "幽灵与未亡人",
    "m1088": "反击王", "m1090": "银色猎物", "m1142": "当我们是王者", "m1155": "巴黎的约会", "m1176": "欢迎来到萨拉热窝", "m1210": "时空悍将",
    "m1221": "当男人爱上女人",
}
# Home Depot products as a Chinese shopper would name them (brand/model kept; hand-written), with the English fragment of the
# title that must name exactly this product in the whole shop
ZH_HD = {
    "118624": ("Instant Pot 6夸脱 7-in-1 多功能电压力锅，不锈钢的", "Instant Pot 6 Qt./1000-Watt 7-in-1"),
    "106904": ("Chamberlain Whisper Drive 3/4马力车库门开门机，带MyQ和备用电池", "Chamberlain Whisper Drive 3/4 HP"),
    "100471": ("鲨客 Shark Rotator Professional Lift-Away 立式吸尘器", "Shark Rotator Professional Lift-Away"),
    "101044": ("Shark Professional Steam Pocket 蒸汽拖把", "Shark Professional Steam Pocket Mop"),
    "118020": ("胡佛 Hoover SteamVac SpinScrub 地毯清洗机，带Clean Surge", "Hoover SteamVac SpinScrub"),
    "109087": ("琢美 Dremel 2000 VersaTip 燃气喷枪", "Dremel 2000 VersaTip"),
    "135615": ("Ninja Nutri 两档料理机，带Auto-iQ", "Ninja Nutri 2-Speed Blender"),
    "123857": ("Cuisinart 豪华对流电烤箱，银色的", "Cuisinart Deluxe Convection Toaster Oven"),
    "141045": ("韦伯 Weber Spirit S-210 不锈钢双头天然气烤炉", "Weber Spirit S-210"),
    "100521": ("Toro Recycler 22寸 Personal Pace 自走式汽油割草机", "Toro Recycler 22 in. Personal Pace"),
    "101391": ("美泰 Maytag Bravos 7.0立方英尺电烘干机，白色", "Maytag Bravos 7.0 cu. ft. Electric Dryer"),
    "100620": ("Rust-Oleum RockSolid 车库地坪漆套装，灰色152盎司", "RockSolid 152 oz. Gray"),
    "196551": ("Gorilla Glue 大猩猩聚氨酯万能胶 18盎司 Original", "Gorilla Glue 18 oz. Original Polyurethane Adhesive"),
    "151590": ("WD-40 带Smart Straw吸管的防锈润滑剂 8盎司", "WD-40 8 oz. Smart Straw"),
    "107984": ("Chamberlain Clicker 万能车库门遥控器", "Chamberlain Clicker Universal Remote Control"),
    "129629": ("韦伯 Weber Genesis E-310 三头天然气烤炉，黑色", "Weber Genesis E-310 3-Burner Natural Gas Grill in Black"),
    "113706": ("胡佛 Hoover Air Cordless 二合一无线手持吸尘器", "Hoover Air Cordless 2-in-1 Stick Vac"),
}
EN_NAMED_ATTR = {"year": ["roughly when did {t} come out?", "{t}, which era is that one from?", "how old a film is {t}?"],
                 "genres": ["what sort of flick is {t}?", "{t}: a drama, a comedy, something else?"],
                 "color": ["the {t}, what shade is it?"], "material": ["what is the {t} fashioned out of?"],
                 "size": ["how roomy or compact is the {t}, in numbers?"], "item_weight": ["how heavy is the {t} to lift?"],
                 "manufacturer": ["which firm puts out the {t}?"]}
ZH_NAMED_ATTR_MOVIE = {"year": ["《{t}》是哪年上的", "{t}这部片子有多少年了", "{t}是几几年的作品"],
                       "genres": ["《{t}》算什么片", "{t}是哪个路数的片子呀"]}
ZH_NAMED_ATTR_GOODS = {"color": ["{t}是啥色儿的"], "material": ["{t}拿什么材料做的"], "size": ["{t}多大个儿"], "item_weight": ["{t}拎着沉不沉"],
                       "manufacturer": ["{t}是哪家厂子出的"]}
EN_NAMED_ID = ["do you happen to carry {t}?", "I'm after {t}, any in stock?", "can you dig up {t} for me?", "any chance you've got {t} listed?",
               "search the shop for {t}, please"]
EN_PARTIAL = ["the movie with {w} somewhere in its title", "a film whose title is something like {w}"]  # a partial film title, sometimes with a slip
ZH_NAMED_ID = ["{t}有得卖吗", "麻烦找一下{t}", "我要买{t}，店里有吗", "{t}这个你们家卖不卖"]
ZH_NAMED_ID_MOVIE = ["《{t}》有碟吗", "想淘一张{t}", "{t}这片子你们这有没有", "帮我翻翻有没有《{t}》"]

# listing turns and the set questions that follow them
EN_LIST_MOVIES = ["got any detective stories?", "something creepy for a stormy night", "I could use a good laugh tonight, what comedies are there?",
                  "show me films about soldiers and battles", "cartoons for a family movie night?", "cowboys and outlaws, what have you got?",
                  "a romantic film for date night", "spy movies with gadgets and double-crosses?", "anything set in outer space?",
                  "serious dramas that stay with you?", "something gentle the whole family can watch", "big action blockbusters, please",
                  "gritty crime films?", "song-and-dance pictures from the golden age?", "documentaries about true events?",
                  "swords, wizards and dragons, anything like that?"]
ZH_LIST_MOVIES = ["有侦探破案的片子吗", "下雨天想看点瘆人的", "想乐一乐，来几部搞笑的", "讲当兵打仗的电影有啥", "周末一家人看的动画片推荐下",
                  "有牛仔和强盗的那种片子吗", "约会看的浪漫电影来几部", "间谍斗智的片子有没有", "想看飞船在太空里打来打去的片子", "来几部有分量的剧情片",
                  "全家老小一起看不尴尬的片子", "大场面的动作大片来几部", "黑帮犯罪片推荐一下", "老式歌舞片有没有", "讲真实事件的纪录片来点",
                  "有剑有魔法有龙的那种片子"]
EN_LIST_GOODS = ["show me some electric kettles", "I'm looking for a desk lamp", "any backpacks?", "coffee grinders, what do you have?",
                 "I need a yoga mat", "cordless drills, please"]
ZH_LIST_GOODS = ["电热水壶有哪些", "想买盏台灯", "双肩包看看", "磨豆机有卖吗", "来个瑜伽垫", "充电手钻有吗"]
EN_LIST_TOYS = ["my niece turns four, any toy ideas?", "something fun for a preschooler to play with?"]
ZH_LIST_TOYS = ["外甥女四岁生日，送啥玩具好", "给上幼儿园的娃挑个玩具"]
SET_Q = {  # op → ([EN], [ZH])
    "oldest": (["which of those goes back the furthest?", "what's the earliest release in that bunch?"], ["里面哪部最老", "这几部谁最早出来的"]),
    "newest": (["which is the freshest release there?", "which one hit screens most recently?"], ["哪部出得最晚呀", "这几部里头最新的是哪个"]),
    "has_genre": (["any of those count as {g}?", "which ones are {g} pictures?"], ["这里头哪部是{gz}", "有{gz}吗，这几部里"]),
    "diff": (["how do the first two differ?", "line up the first two against each other for me", "what makes number one different from number two?"],
             ["头两个有什么不一样", "前两个比一比呗", "第一款跟第二款差在哪"]),
    "heaviest": (["which of these would be the heaviest in my arms?", "which one's the bulkiest to lug around?"], ["哪个分量最足", "这几样谁最压手"]),
    "cheapest": (["which of them costs the least?", "what's the lowest-priced one?"], ["哪样最不费钱", "这几个里谁价最低"]),
}
GENRE_ZH = bs7.GENRE_ZH
# (first message, position, attribute, follow-up message or None)
REF_EN = [("and number two, when did that come out?", 1, "year", None), ("the first title, comedy or drama or what?", 0, "genres", None),
          ("the third film there, release date?", 2, "year", None), ("the bottom one on your list, when's it from?", -1, "year", None),
          ("ooh, the second one sounds interesting", 1, "genres", "what kind of film is that?"), ("give me the third one", 2, "year", "so when did that one get released?"),
          ("I'll take a look at the first", 0, "genres", "what's its style, then?"),
          ("the last title you showed", -1, "genres", "what sort of tale is it telling?"), ("the one at the top, what decade is it from?", 0, "year", None)]
REF_EN_GOODS = [("what shade is item number two?", 1, "color", None), ("how heavy is the one at the top?", 0, "item_weight", None),
                ("number two catches my eye", 1, "color", "what shade does it come in, then?"), ("let me see the first one", 0, "item_weight", "how many pounds does it come to?"),
                ("the final item, how heavy is it?", -1, "item_weight", None)]
REF_ZH = [("第二部是几几年拍的", 1, "year", None), ("第一部算啥片", 0, "genres", None), ("第三部啥时候出的", 2, "year", None),
          ("列表最底下那部是哪年的", -1, "year", None), ("第二部看着挺有意思", 1, "genres", "它是什么路子的片"), ("说说第三部", 2, "year", "那它是哪年的片子呀"),
          ("我先瞅瞅第一部", 0, "genres", "它属于哪类"), ("最后一部吧", -1, "genres", "它是啥风格的片子"), ("最上面那部有多少年了", 0, "year", None)]
REF_ZH_GOODS = [("第二件是啥色", 1, "color", None), ("排第一的那个多沉", 0, "item_weight", None), ("第二件我挺中意", 1, "color", "它是什么色的"),
                ("点开第一件", 0, "item_weight", "它重不重，多少斤"), ("最后一件有多重", -1, "item_weight", None)]

# record id → (phrase as it should be found in the shop's titles, the product): filled by build(), read by the pre-freeze checks
NAMED_PHRASES: dict[str, tuple[str, str]] = {}


# ------------------------------------------------------------------------------------------ helpers
def gold_ok(key: str, value: object) -> bool:
    """build_set7.gold_ok (build_set2's, build_set4's, build_set5's and build_set6's filters and build_set7's BROKEN), and not one of
    BROKEN here."""
    v = str(value).strip(". ").casefold()
    return bs7.gold_ok(key, value) and v not in BROKEN


def used_before() -> set[str]:
    """Products dev.jsonl … sealed7.jsonl ask about (ids only, by code; no message is read), and those the earlier generators render
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
        """An ePQA product whose first words name it alone (at least three words, no '&', '|', bracket, quote or '+', not ending on
        an article or a bare number cut from a dimension)."""
        phrase = phrase_of(p)
        return (not re.search(r"[&|\[\]()\"+]", phrase) and bool(re.fullmatch(r"[A-Za-z0-9].*[A-Za-z0-9.]", phrase))
                and len(phrase.split()) >= 3 and phrase.split()[-1].casefold() not in ("the", "a", "an", "per", "by", "at", "on")
                and not phrase.split()[-1].isdigit()
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
        # a. attribute questions on the product page (up to GOODS_PER_LANG goods, Chinese ones only under ZH_GOODS_KEYS; the rest movies)
        pool = [(p, k) for p in free(goods) if p.id not in reserved for k in askable(p) if (k in ZH_GOODS_KEYS) == (lang == "zh")]
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
    (out / "sealed8.jsonl").write_text(body, encoding="utf-8")
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
    print(json.dumps({"records": len(recs), "counts": counts, "sha256": {"sealed8.jsonl": digest}}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
