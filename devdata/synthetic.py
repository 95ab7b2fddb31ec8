"""A synthetic city for scale work (`generate_city`): the region plan, the people, and their rows.

Everything is drawn from seeded generators, so a seed gives the same city. The work splits in two:
the parent process plans the regions and hands out ID numbers (`IdSerials`, cheap and sequential,
so numbers are unique without looking anything up); `build_job` turns a slice of that plan into
finished elder rows (names, pinyin keys, addresses, phones, categories, encryption), in worker
processes when there are many.

Shares, and where they come from (SPEC §2.1, §3):
- ages: the 2020 census age pyramid of people aged 60+ (80+ is 13.9%, 90+ 1.9%). The seeds
  disagree between communities (000: 55 of 1080 aged 80+; its second report 163 of 908; 003:
  16.2%), so the city takes the national figure.
- 孤寡独居 (no spouse, no child, alone) 3.3%: seed 000, 36 of 1080.
- 独居 ~10%, 空巢 ~25%, 低保 ~3%, 残疾 ~3.5%: national-ish figures, where the seeds are silent.
"""

import datetime
import math
import random
from bisect import bisect
from dataclasses import dataclass, field

from core.idnumbers import make_id_number
from devdata.demo import MOBILE_PREFIXES
from elders.models import Elder
from elders.services import set_id_number, set_name, set_phone

# --- weighted picks --------------------------------------------------------------------------


class Pick:
    """A weighted choice that costs one random() and one bisect."""

    def __init__(self, weighted):
        items = list(weighted.items()) if isinstance(weighted, dict) else list(weighted)
        total = float(sum(w for _, w in items))
        self.values = [v for v, _ in items]
        self.cum = []
        running = 0.0
        for _, w in items:
            running += w / total
            self.cum.append(running)
        self.cum[-1] = 1.0

    def __call__(self, rng: random.Random):
        return self.values[bisect(self.cum, rng.random())]


# --- names -----------------------------------------------------------------------------------

# Surnames by approximate frequency (per mille of the population); a few rare and compound
# surnames keep the pinyin surname readings (单 shan, 解 xie, 欧阳) exercised.
SURNAMES = Pick(
    {
        "王": 71, "李": 70, "张": 68, "刘": 54, "陈": 46, "杨": 31, "黄": 24, "赵": 23, "吴": 20, "周": 19,
        "徐": 13, "孙": 12, "马": 11, "朱": 11, "胡": 10, "郭": 9.5, "何": 9, "高": 9, "林": 8.5, "罗": 8,
        "郑": 7, "梁": 7, "谢": 6, "宋": 6, "唐": 5.5, "许": 5, "韩": 5, "冯": 4.5, "邓": 4.5, "曹": 4.5,
        "彭": 4, "曾": 4, "肖": 4, "田": 4, "董": 4, "袁": 3.5, "潘": 3.5, "于": 3.5, "蒋": 3.5, "蔡": 3.5,
        "余": 3.5, "杜": 3, "叶": 3, "程": 3, "苏": 3, "魏": 3, "吕": 3, "丁": 3, "任": 3, "沈": 2.5,
        "姚": 2.5, "卢": 2.5, "姜": 2.5, "崔": 2.5, "钟": 2, "谭": 2, "陆": 2, "汪": 2, "范": 2, "金": 2,
        "石": 2, "廖": 2, "贾": 2, "夏": 1.8, "韦": 1.8, "付": 1.8, "方": 1.8, "白": 1.7, "邹": 1.7, "孟": 1.7,
        "熊": 1.6, "秦": 1.6, "邱": 1.6, "江": 1.5, "尹": 1.5, "薛": 1.5, "闫": 1.5, "段": 1.5, "雷": 1.5, "侯": 1.4,
        "龙": 1.4, "史": 1.4, "陶": 1.3, "黎": 1.3, "贺": 1.3, "顾": 1.2, "毛": 1.2, "郝": 1.2, "龚": 1.2, "邵": 1.2,
        "万": 1.1, "钱": 1.1, "严": 1, "覃": 1, "武": 1, "戴": 1, "莫": 1, "孔": 1, "向": 1, "汤": 1,
        "单": 0.3, "解": 0.3, "仇": 0.2, "查": 0.2, "冷": 0.3, "乐": 0.2, "欧阳": 0.5, "司马": 0.1, "诸葛": 0.1,
        "上官": 0.1, "令狐": 0.05, "尉迟": 0.03,
    }
)  # fmt: skip
# Given names common among people born 1925–1965, then characters that combine into more.
GIVEN_MALE = (
    "建国 国庆 建华 建军 卫国 卫东 援朝 志强 志刚 志明 国强 国华 国栋 德明 德华 德胜 福生 福林 长林 长春 "
    "长顺 金生 宝山 玉林 玉山 振华 振国 庆和 广田 永福 永祥 树林 树森 学文 文斌 文华 海林 春生 春林 秋生 "
    "立新 立民 新民 爱国 保国 兴旺 跃进 红军 胜利 和平 全福 来福 有才 守信 明德 忠义 占山 殿臣 凤岐 连生 "
    "铁柱 克勤 洪亮 继承 世杰 玉成 景山 子明"
).split()
GIVEN_FEMALE = (
    "秀英 秀兰 秀珍 秀云 秀芳 秀梅 桂英 桂兰 桂芳 桂珍 玉兰 玉英 玉珍 玉梅 玉芝 淑珍 淑兰 淑英 淑芬 淑华 "
    "凤英 凤兰 凤芝 凤琴 翠兰 翠英 翠花 素珍 素芳 素梅 金凤 金兰 春兰 春梅 冬梅 红梅 丽华 美兰 月英 月娥 "
    "兰英 慧珍 爱华 爱珍 建英 国英 国珍 彩霞 亚萍 素琴 巧云 桂香 玉香 文英 德英 瑞芳 秀荣 淑云 玉华"
).split()
CHARS_MALE = "国建明志德福祥忠义文华军保平春生金宝荣海林山成永庆广兴俊玉树仁贵长发清良仲"
CHARS_FEMALE = "秀玉兰英桂芳淑珍凤琴丽霞华敏静梅云翠红萍燕玲娟美荣素巧月香"


def person_name(rng: random.Random, sex: str) -> str:
    """Surname by frequency; a common given name of the generation, a combination, or one character."""
    whole, chars = (GIVEN_MALE, CHARS_MALE) if sex == "M" else (GIVEN_FEMALE, CHARS_FEMALE)
    roll = rng.random()
    if roll < 0.45:
        given = whole[int(rng.random() * len(whole))]
    elif roll < 0.88:
        given = chars[int(rng.random() * len(chars))] + chars[int(rng.random() * len(chars))]
    else:
        given = chars[int(rng.random() * len(chars))]
    return SURNAMES(rng) + given


# --- places ----------------------------------------------------------------------------------

DISTRICT_NAMES = (
    "城关区 新华区 长安区 桥东区 桥西区 河东区 河西区 南湖区 北山区 青云区 开元区 永安区 龙泉区 金水区 明湖区".split()
)
COUNTY_NAMES = "平原县 临河县 宁安县 丰乐县 清泉县 太和县 长乐县 兴隆县 永和县 安定县 柳河县 桃源县".split()
STREET_WORDS = (
    "东城 西城 南关 北关 和平路 解放路 人民路 新华路 建设路 胜利路 文化路 光明路 朝阳路 中山路 长江路 黄河路 "
    "青年路 工农路 红星路 民主路 府前 站前 湖滨 河畔 铁西 铁东 城南 城北 新城 老城 锦华 翠园 金桥 银河 龙潭 "
    "凤凰 桃园 杏林 梨园 柳湖 莲池 松山 石桥 东湖 西苑 南苑 北苑 天河 紫荆 百花"
).split()
TOWN_WORDS = (
    "王庄 李集 张店 刘桥 马桥 杨柳 石门 高庙 白马 大屯 小营 双庙 三里 十里铺 青龙 龙王庙 柳林 桑园 枣园 "
    "杏花 梨树 前进 红旗 东风 丰收 太平 长乐 永兴 新集 官道 黄庄 花园 郑店 宋家 孙集 魏庄 徐园 韩庄"
).split()
COMMUNITY_WORDS = (
    "幸福 和平 建设 光明 朝阳 振兴 富民 新华 胜利 团结 文化 育才 民主 解放 青年 红旗 长青 春晖 锦绣 康宁 "
    "华苑 兴隆 永安 泰和 福泽 东风 前进 南关 北关 西关 东关 园林 丰收 金桥 银河 翠柳 枫林 梧桐 百合 玉兰 "
    "海棠 紫薇 桂花 石榴 常青 松柏 清河 滨河 望湖 观澜 安康 福寿 嘉禾 瑞景 锦华 泉城 龙湖 凤鸣 书香 怡园 "
    "和谐 兴华 新风 友谊 向阳 红光 花园 站北 站南 工人 纺织 机械 粮站 邮电 电力 铁路 农机 供销"
).split()
VILLAGE_SUFFIXES = "庄 家庄 集 店 屯 营 楼 寨 家洼 官庄 家峪".split()
COMPOUND_SUFFIXES = "小区 花园 家园 苑 新村 公寓 里".split()
# Work-unit housing where many of today's elders have lived for decades (seed 000: 经济房).
UNIT_HOUSING = (
    "经济房 棉纺厂宿舍 供电局家属院 粮食局宿舍 机械厂家属院 教师公寓 税务局宿舍 化肥厂家属院 铁路新村 老干部小区".split()
)
SIDES = "东户 西户 中户".split()
# Area codes with the length of their local numbers, as phonenumbers validates them.
LANDLINE_AREAS = [
    ("0534", 7), ("0635", 7), ("0539", 7), ("0536", 7), ("0543", 7), ("0546", 7), ("0631", 7), ("0633", 7),
    ("0632", 7), ("0530", 7), ("0531", 8), ("0532", 8), ("0311", 8), ("0371", 8), ("0551", 8), ("0431", 8),
]  # fmt: skip
NUMERALS = "零一二三四五六七八九十"


def chinese_number(n: int) -> str:
    """1..99 in Chinese numerals: 一, 十, 十二, 二十三."""
    tens, ones = divmod(n, 10)
    return (("" if tens == 1 else NUMERALS[tens]) + "十" if tens else "") + (NUMERALS[ones] if ones else "")


@dataclass
class CommunityPlan:
    name: str
    code_part: int
    is_village: bool
    grids: int
    places: tuple  # housing compounds, or the village's own name
    weight: float  # its share of the city's elders
    grid_ids: list = field(default_factory=list)
    grid_counts: list = field(default_factory=list)
    centre: tuple = ()  # (lat, lng) WGS-84, set by generate_city (city_points)
    region_id: int = 0  # the community's Region, once saved


@dataclass
class StreetPlan:
    name: str
    code_part: int
    communities: list


@dataclass
class DistrictPlan:
    name: str
    code_part: int
    is_county: bool
    streets: list


def allocate(*, total: int, weights: list[float]) -> list[int]:
    """Split `total` in proportion to `weights` exactly (largest remainder)."""
    if not weights:
        return []
    whole = sum(weights)
    quotas = [total * w / whole for w in weights]
    counts = [int(q) for q in quotas]
    short = total - sum(counts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (counts[i] - quotas[i], i))
    for i in by_remainder[:short]:
        counts[i] += 1
    return counts


def _names(rng: random.Random, candidates: list[str], n: int, suffix: str) -> list[str]:
    """n distinct names: shuffled candidates first, numbered ones if the list runs out."""
    picked = rng.sample(candidates, min(n, len(candidates)))
    picked += [f"第{chinese_number(k % 99 + 1)}{suffix}{k // 99 or ''}" for k in range(n - len(picked))]
    return [p if p.endswith(suffix) else p + suffix for p in picked]


def city_plan(*, rng: random.Random, communities: int) -> list[DistrictPlan]:
    """~10 districts (a third of them counties), ~10 streets each, the communities, ~4 grids each."""
    n_districts = max(1, min(10, round(communities / 200)))
    n_counties = round(n_districts * 0.3) if n_districts >= 3 else 0
    per_district = allocate(total=communities, weights=[rng.uniform(0.6, 1.4) for _ in range(n_districts)])
    district_names = rng.sample(DISTRICT_NAMES, n_districts - n_counties) + rng.sample(COUNTY_NAMES, n_counties)
    directions = [f"{w}{d}" for d in "东西南北" for w in COMMUNITY_WORDS]
    districts = []
    for d, (name, n_comm) in enumerate(zip(district_names, per_district, strict=True)):
        is_county = d >= n_districts - n_counties
        # GB/T 10114 codes: 区 01–20, 县 21–80; 街道 001–099, 镇 100–199, 乡 200–399; 居委会 001–199, 村 200–399.
        code_part = (21 + d - (n_districts - n_counties)) if is_county else d + 1
        n_streets = max(1, min(n_comm, round(n_comm / 20)))
        per_street = allocate(total=n_comm, weights=[rng.uniform(0.6, 1.4) for _ in range(n_streets)])
        if is_county:
            street_names = [
                w + ("乡" if rng.random() < 0.2 else "镇") for w in rng.sample(TOWN_WORDS, min(n_streets, len(TOWN_WORDS)))
            ]
            street_names += _names(rng, [], n_streets - len(street_names), "镇")
        else:
            street_names = _names(rng, STREET_WORDS, n_streets, "街道")
        streets = []
        towns = villages_start = 0
        for s, (street_name, n_here) in enumerate(zip(street_names, per_street, strict=True)):
            if is_county:
                if street_name.endswith("乡"):
                    villages_start += 1
                    street_code = 200 + villages_start
                else:
                    towns += 1
                    street_code = 100 + towns
            else:
                street_code = s + 1
            # A town has a few 社区 at its centre and villages around it.
            n_villages = round(n_here * 0.8) if is_county else 0
            urban_names = _names(rng, COMMUNITY_WORDS + directions, n_here - n_villages, "社区")
            village_names = _names(rng, [s_ + x for s_ in SURNAMES.values[:100] for x in VILLAGE_SUFFIXES], n_villages, "村")
            plans = []
            for c, cname in enumerate(urban_names):
                places = tuple(
                    rng.choice(UNIT_HOUSING)
                    if rng.random() < 0.3
                    else rng.choice(COMMUNITY_WORDS) + rng.choice(COMPOUND_SUFFIXES)
                    for _ in range(rng.randint(2, 4))
                )
                plans.append(
                    CommunityPlan(
                        cname, c + 1, False, _grid_count(rng), tuple(dict.fromkeys(places)), rng.lognormvariate(0, 0.35)
                    )
                )
            for v, vname in enumerate(village_names):
                plans.append(
                    CommunityPlan(vname, 200 + v + 1, True, _grid_count(rng), (vname,), 0.7 * rng.lognormvariate(0, 0.35))
                )
            streets.append(StreetPlan(street_name, street_code, plans))
        districts.append(DistrictPlan(name, code_part, is_county, streets))
    return districts


def _grid_count(rng: random.Random) -> int:
    return (3, 4, 4, 5)[int(rng.random() * 4)]


def grid_name(community: str, n: int) -> str:
    """安泰第一网格, as seed_demo names them."""
    short = community.removesuffix("社区").removesuffix("村") or community
    return f"{short}第{chinese_number(n)}网格"


# --- ID numbers ------------------------------------------------------------------------------

# Province codes of GB/T 2260 that parse_id_number accepts (81–83 left out: residence permits).
ID_PROVINCES = "37 13 41 32 34 21 22 23 14 15 36 42 43 44 45 51 52 53 61 62 11 12 31 33 35 46 50 54 63 64 65".split()


def id_prefix(city_part: int) -> str:
    """The first four digits of the ID numbers of generated city `city_part` (its code digits 3–4).

    A real province code, then a prefecture part of 51–54, which GB/T 2260 has never assigned:
    no number issued to a real person (or made by seed_demo and the test factories, which use
    real area codes) can equal a generated one, and each generated city has its own prefix.
    """
    if not 1 <= city_part <= 99:
        raise ValueError("city_part must be 1..99")
    return f"{ID_PROVINCES[city_part % len(ID_PROVINCES)]}{51 + city_part // len(ID_PROVINCES):02d}"


class IdSerials:
    """Hands out (area code, 3-digit sequence) so every number in a city is unique, no lookups.

    Within one area code, birth date and sex, the k-th person gets sequence
    ((start + 37k) mod 500) * 2, plus one for men (GB 11643: the 17th digit is odd for men).
    37 is prime to 500, so the 500 values are all different; `start` varies with the day and
    area so the numbers do not all end alike. When 500 are used, the city's next area code takes over.
    """

    def __init__(self, *, prefix: str, home_parts: list[int], rng: random.Random):
        spare = [p for p in range(1, 100) if p not in home_parts]
        self.areas = [f"{prefix}{p:02d}" for p in home_parts + spare]
        self.salt = rng.randrange(500)
        self.used: dict[int, int] = {}

    def take(self, *, area: int, birth_ordinal: int, is_male: int) -> tuple[int, int]:
        while area < len(self.areas):
            key = (birth_ordinal * 128 + area) * 2 + is_male
            k = self.used.get(key, 0)
            if k < 500:
                self.used[key] = k + 1
                start = (key * 7919 + self.salt) % 500
                return area, ((start + 37 * k) % 500) * 2 + is_male
            area += 1
        raise RuntimeError("all ID numbers of this city for one birth date are used")


# --- ages, sexes, living situation -----------------------------------------------------------

# 2020 census, people aged 60+: (from age, to age, share in %, share of men).
AGE_BANDS = [
    (60, 65, 27.7, 0.50),
    (65, 70, 27.9, 0.49),
    (70, 75, 18.7, 0.48),
    (75, 80, 11.8, 0.46),
    (80, 85, 7.7, 0.44),
    (85, 90, 4.3, 0.40),
    (90, 95, 1.5, 0.35),
    (95, 100, 0.35, 0.30),
    (100, 101, 0.05, 0.25),
]
BANDS = Pick({i: share for i, (_, _, share, _) in enumerate(AGE_BANDS)})
OLD_BAND = 4  # bands from here on are 80+

LIVING = {
    False: Pick({"alone": 9, "spouse": 21, "children": 66.5, "relatives": 2.5, "institution": 1}),
    True: Pick({"alone": 16, "spouse": 13, "children": 65, "relatives": 3, "institution": 3}),
}
# Share of each living arrangement with no child at all: a third of those alone are 孤寡独居 (seed 000: 36 of 1080).
CHILDLESS = {"alone": 0.33, "spouse": 0.05, "children": 0.0, "relatives": 0.6, "institution": 0.5}
CHILDREN = [  # by age band group: born before 1945 had more children
    Pick({1: 45, 2: 40, 3: 15}),
    Pick({1: 20, 2: 35, 3: 30, 4: 15}),
    Pick({1: 10, 2: 20, 3: 30, 4: 25, 5: 15}),
]
MARRIED_WITH_CHILDREN = [0.82, 0.82, 0.65, 0.65, 0.40, 0.40, 0.20, 0.20, 0.20]
UNPARTNERED = {True: Pick({"widowed": 50, "unmarried": 40, "divorced": 10}), False: Pick({"widowed": 88, "divorced": 12})}
ABILITY = [  # GB/T 42195 levels by age: <70, 70s, 80s, 90+
    Pick({"intact": 93, "mild": 4, "moderate": 1.5, "severe": 1, "complete": 0.5}),
    Pick({"intact": 85, "mild": 8, "moderate": 3.5, "severe": 2.5, "complete": 1}),
    Pick({"intact": 65, "mild": 15, "moderate": 9, "severe": 7, "complete": 4}),
    Pick({"intact": 40, "mild": 20, "moderate": 15, "severe": 15, "complete": 10}),
]
DISABILITY_GRADE = Pick({"1": 1, "2": 2, "3": 3, "4": 4})
PENSION = {
    "urban": Pick({"employee": 60, "public": 12, "resident": 25, "none": 3}),
    "rural": Pick({"resident": 85, "none": 10, "employee": 5}),
}
INCOME = Pick({"low": 30, "middle": 55, "high": 15})
CARE = Pick({"home": 82, "community": 9, "institution": 4, "undecided": 5})
ILLNESSES = Pick(
    {
        "高血压": 35,
        "糖尿病": 15,
        "冠心病": 12,
        "骨关节病": 15,
        "慢性支气管炎": 7,
        "脑卒中后遗症": 5,
        "慢阻肺": 5,
        "白内障": 6,
        "阿尔茨海默病": 3,
    }
)
ILLNESS_COUNT = Pick({0: 25, 1: 40, 2: 25, 3: 10})
INTERESTS = Pick(
    {"太极拳": 10, "广场舞": 12, "健身操": 8, "书法": 6, "绘画": 3, "象棋": 8, "门球": 4, "地掷球": 2, "京剧": 4, "合唱": 5,
     "摄影": 2, "园艺": 5, "钓鱼": 5, "剪纸": 2, "编织": 4}
)  # fmt: skip


# --- jobs: a slice of the plan, turned into rows by build_job --------------------------------


@dataclass
class Job:
    """What one worker needs for a run of grids: their ids and places, and the ID skeletons."""

    index: int
    seed: str
    today_ordinal: int
    now_text: str
    landline: tuple  # (area code, digits of a local number)
    grids: list  # (grid id, elder count, is_village, places, is_county)
    bands: list
    males: list
    births: list
    areas: list  # area codes, one per elder
    sequences: list
    tail: str = ""  # the other columns' defaults, the same on every row (see other_columns)


def skeletons(*, rng: random.Random, serials: IdSerials, today_ordinal: int, count: int, home_area: int, n_home_areas: int):
    """Age band, sex, birth date and ID number parts for `count` elders of one district."""
    bands, males, births, areas, sequences = [], [], [], [], []
    for _ in range(count):
        band = BANDS(rng)
        lo, hi, _, male_share = AGE_BANDS[band]
        is_male = 1 if rng.random() < male_share else 0
        # demo.birth_date_for_age: two days' margin keeps the band right whatever the hour
        birth = today_ordinal - rng.randint(int(lo * 365.25) + 2, int(hi * 365.25) - 2)
        # most numbers were issued in the district itself; some people moved within the city
        area = home_area if n_home_areas == 1 or rng.random() < 0.85 else int(rng.random() * n_home_areas)
        area, seq = serials.take(area=area, birth_ordinal=birth, is_male=is_male)
        bands.append(band)
        males.append(is_male)
        births.append(birth)
        areas.append(serials.areas[area])
        sequences.append(seq)
    return bands, males, births, areas, sequences


# Columns written per elder, in this order; every other column of Elder gets its model default.
COLUMNS = [
    "region_id", "name", "name_pinyin", "name_initials", "name_given", "id_number_enc", "id_number_hash", "id_number_masked",
    "sex", "birth_date", "phone_enc", "phone_hash", "phone_masked", "phone_tail", "address", "hukou",
    "living_arrangement", "marital_status", "children_count", "children_away", "income_level", "pension_type",
    "is_dibao", "is_tekun", "disability_grade", "ability_level", "chronic_illnesses", "is_party_member",
    "is_retired_cadre", "is_veteran_family", "is_model_worker", "is_family_planning_special", "interests",
    "care_preference", "status", "created_at", "updated_at", "home_lat", "home_lng",
]  # fmt: skip

# What the services' setters write; build_job reads these fields back after calling them.
NAME_FIELDS = ("name_pinyin", "name_initials", "name_given")
ID_NUMBER_FIELDS = ("id_number_enc", "id_number_hash", "id_number_masked")
PHONE_FIELDS = ("phone_enc", "phone_hash", "phone_masked", "phone_tail")

_NAME_KEYS: dict[str, tuple[str, ...]] = {}


def _name_keys(holder: Elder, name: str) -> tuple[str, ...]:
    """set_name's search keys for `name`, computed once per name (names repeat a lot)."""
    keys = _NAME_KEYS.get(name)
    if keys is None:
        set_name(holder, name)
        keys = _NAME_KEYS[name] = tuple(getattr(holder, f) for f in NAME_FIELDS)
    return keys


def other_columns() -> tuple[list[str], str]:
    """Elder's columns not in COLUMNS (bar the id), and their model defaults as COPY text."""
    names, texts = [], []
    for f in Elder._meta.concrete_fields:
        if f.primary_key or f.attname in COLUMNS:
            continue
        value = f.get_default()
        if value is None:
            text = "\\N"
        elif isinstance(value, bool):
            text = _t(value)
        else:
            text = str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
        names.append(f.attname)
        texts.append(text)
    return names, "".join("\t" + t for t in texts)


def _t(flag: bool) -> str:
    return "t" if flag else "f"


def _address(rng: random.Random, is_village: bool, places: tuple) -> str:
    rand = rng.random
    if is_village:
        return f"{places[0]}{chinese_number(1 + int(rand() * 8))}组{1 + int(rand() * 60)}号"
    place = places[int(rand() * len(places))]
    building, unit, floor = 1 + int(rand() * 30), 1 + int(rand() * 6), 1 + int(rand() * 7)
    if rand() < 0.3:  # as seed 000 writes it: 经济房15号楼7单元6楼东户
        return f"{place}{building}号楼{unit}单元{floor}楼{SIDES[int(rand() * 3)]}"
    return f"{place}{building}号楼{unit}单元{floor}0{1 + int(rand() * 4)}室"


def _phone(rng: random.Random, band: int, landline: tuple) -> str:
    rand = rng.random
    if rand() < (0.88 if band < OLD_BAND else 0.70):
        return f"{MOBILE_PREFIXES[int(rand() * len(MOBILE_PREFIXES))]}{int(rand() * 100_000_000):08d}"
    area, digits = landline
    low = 2 * 10 ** (digits - 1)
    return f"{area}-{low + int(rand() * 7 * 10 ** (digits - 1))}"


# --- where people live (the 15-minute circle, issue 10) ---------------------------------------------

CITY_CENTRE = (36.7069, 119.1618)  # WGS-84; a city of the 0536 area code's size, ~50 km across
COMMUNITY_SPACING_M = 1200
_M_PER_DEG = 111_195.0


def _offset(point: tuple, east_m: float, north_m: float) -> tuple:
    lat = point[0] + north_m / _M_PER_DEG
    return lat, point[1] + east_m / (_M_PER_DEG * math.cos(math.radians(point[0])))


def city_points(plan: list, rng: random.Random) -> None:
    """A centre for every community of `plan`: a jittered square lattice COMMUNITY_SPACING_M
    apart around CITY_CENTRE, districts in blocks (communities of one street are neighbours)."""
    communities = [c for d in plan for s in d.streets for c in s.communities]
    side = max(1, math.ceil(math.sqrt(len(communities))))
    for n, c in enumerate(communities):
        row, col = divmod(n, side)
        jitter = COMMUNITY_SPACING_M * 0.25
        c.centre = _offset(
            CITY_CENTRE,
            (col - side / 2) * COMMUNITY_SPACING_M + rng.uniform(-jitter, jitter),
            (row - side / 2) * COMMUNITY_SPACING_M + rng.uniform(-jitter, jitter),
        )


def grid_centre(community_centre: tuple, n: int, grids: int) -> tuple:
    """Grids share their community's area: around its centre, ~300 m out."""
    angle = 2 * math.pi * n / max(grids, 1)
    return _offset(community_centre, 300 * math.cos(angle), 300 * math.sin(angle))


def home_buildings(rng: random.Random, centre: tuple, count: int) -> list:
    """The buildings (or a village's lanes) of a grid: households cluster on them."""
    return [_offset(centre, rng.gauss(0, 160), rng.gauss(0, 160)) for _ in range(count)]


def home_point(rng: random.Random, buildings: list) -> tuple[str, str]:
    """One household's point as COPY text: a building plus a few metres; \\N without buildings."""
    if not buildings:
        return "\\N", "\\N"
    lat, lng = _offset(buildings[int(rng.random() * len(buildings))], rng.uniform(-6, 6), rng.uniform(-6, 6))
    return f"{lat:.7f}", f"{lng:.7f}"


def build_job(job: Job) -> bytes:
    """Rows for the elders of `job`: PostgreSQL COPY text format, COLUMNS order, UTF-8.

    Every text comes from the word lists above or from digits and base64, so none holds a tab,
    newline or backslash and nothing needs escaping.
    """
    rng = random.Random(f"{job.seed}|job{job.index}")
    rand = rng.random
    # One unsaved Elder takes the setters' output row after row: the services stay the only
    # place that knows how a number is encrypted, hashed and masked.
    holder = Elder()
    dates: dict[int, datetime.date] = {}
    lines = []
    i = 0
    # Homes: a separate random sequence, so the other draws stay what they were before homes
    # had coordinates (the same seed, the same people).
    points = random.Random(f"{job.seed}|homes{job.index}")
    for grid in job.grids:
        grid_id, count, is_village, places, is_county = grid[:5]
        centre = grid[5] if len(grid) > 5 else None
        buildings = home_buildings(points, centre, 12 if is_village else 24) if centre else []
        region = str(grid_id)
        for _ in range(count):
            band, is_male, birth_ord = job.bands[i], job.males[i], job.births[i]
            birth = dates.get(birth_ord)
            if birth is None:
                birth = dates[birth_ord] = datetime.date.fromordinal(birth_ord)
            number = make_id_number(job.areas[i], birth, job.sequences[i])
            i += 1
            sex = "M" if is_male else "F"
            name = person_name(rng, sex)
            pinyin, initials, given = _name_keys(holder, name)
            set_id_number(holder, number)
            old = band >= OLD_BAND

            living = LIVING[old](rng)
            has_children = rand() >= CHILDLESS[living]
            children = CHILDREN[0 if band < 2 else 1 if band < OLD_BAND else 2](rng) if has_children else 0
            if living == "spouse" or (living == "children" and rand() < MARRIED_WITH_CHILDREN[band]):
                marital = "married"
            else:
                marital = UNPARTNERED[not has_children](rng)
            no_kin = not has_children and marital != "married"
            apart = living in ("alone", "spouse")
            children_away = has_children and rand() < (0.4 if apart else 0.05)

            hukou = "rural" if rand() < (0.75 if is_county else 0.1) else "urban"
            is_tekun = no_kin and rand() < 0.12
            is_dibao = not is_tekun and rand() < (0.10 if no_kin or hukou == "rural" and living == "alone" else 0.025)
            income = "low" if is_tekun or is_dibao else INCOME(rng)
            ability = ABILITY[0 if band < 2 else 1 if band < OLD_BAND else 2 if band < 6 else 3](rng)
            disability = DISABILITY_GRADE(rng) if rand() < (0.06 if old else 0.03) else ""
            illnesses = "、".join(dict.fromkeys(ILLNESSES(rng) for _ in range(ILLNESS_COUNT(rng))))
            interests = "、".join(dict.fromkeys(INTERESTS(rng) for _ in range(1 + (rand() < 0.3)))) if rand() < 0.35 else ""
            set_phone(holder, _phone(rng, band, job.landline))
            lines.append(
                "\t".join(
                    (
                        region,
                        name,
                        pinyin,
                        initials,
                        given,
                        holder.id_number_enc,
                        holder.id_number_hash,
                        holder.id_number_masked,
                        sex,
                        birth.isoformat(),
                        holder.phone_enc,
                        holder.phone_hash,
                        holder.phone_masked,
                        holder.phone_tail,
                        _address(rng, is_village, places),
                        hukou,
                        living,
                        marital,
                        str(children),
                        _t(children_away),
                        income,
                        PENSION[hukou](rng),
                        _t(is_dibao),
                        _t(is_tekun),
                        disability,
                        ability,
                        illnesses,
                        _t(rand() < (0.12 if is_male else 0.05)),
                        _t(hukou == "urban" and rand() < 0.03),
                        _t(rand() < 0.02),
                        _t(rand() < 0.003),
                        _t(children <= 1 and not old and rand() < 0.02),
                        interests,
                        CARE(rng),
                        "active",
                        job.now_text,
                        job.now_text,
                        *home_point(points, buildings),
                    )
                )
                + job.tail
            )
    return ("\n".join(lines) + "\n").encode() if lines else b""
