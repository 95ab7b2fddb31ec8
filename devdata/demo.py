"""Synthetic people for the demo community and the synthetic city: names, addresses, IDs, phones.

Deterministic (seeded random), every ID number valid (GB 11643 check digit).
"""

import datetime
import random

from core.idnumbers import make_id_number

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
    "冷单解仇查"
)
GIVEN_MALE = "国建明志德福祥忠义文华军保平春生金宝荣海林山成永庆广兴俊玉树仁贵长发清良仲"
GIVEN_FEMALE = "秀玉兰英桂芳淑珍凤琴丽霞华敏静梅云翠红萍燕玲娟美荣素巧月香"
COMPOUNDS = ["安泰小区", "经济房", "文化街小区", "锦华苑", "东城花园", "和谐家园"]
SIDES = ["东户", "西户", "中户"]
# County-level codes of the places the elders' ID numbers were issued (older codes included:
# an ID keeps the code of the issuing place even after the county was renamed or merged).
BIRTH_AREAS = [
    "371402",
    "371421",
    "371422",
    "370102",
    "370103",
    "370104",
    "370112",
    "371481",
    "371427",
    "130102",
    "410102",
    "320102",
]
MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "156",
    "158",
    "159",
    "186",
    "187",
    "188",
    "189",
    "177",
    "199",
]


def person_name(rng: random.Random, sex: str) -> str:
    pool = GIVEN_MALE if sex == "M" else GIVEN_FEMALE
    given = rng.choice(pool) + (rng.choice(pool) if rng.random() < 0.8 else "")
    return rng.choice(SURNAMES) + given


def address(rng: random.Random, compounds=COMPOUNDS) -> str:
    return f"{rng.choice(compounds)}{rng.randint(1, 30)}号楼{rng.randint(1, 8)}单元{rng.randint(1, 7)}楼{rng.choice(SIDES)}"


def birth_date_for_age(rng: random.Random, today: datetime.date, lo: float, hi: float) -> datetime.date:
    """A birth date giving an age in [lo, hi) years today."""
    days = rng.randint(int(lo * 365.25) + 2, int(hi * 365.25) - 2)
    return today - datetime.timedelta(days=days)


def id_number(rng: random.Random, birth: datetime.date, sex: str, serial: int) -> str:
    # the 17th digit is odd for men, even for women; serial keeps numbers unique
    seq = (serial % 50) * 20 + rng.randint(0, 9) * 2 + (1 if sex == "M" else 0)
    area = BIRTH_AREAS[(serial // 50) % len(BIRTH_AREAS)]
    return make_id_number(area, birth, seq % 1000)


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randint(0, 99999999):08d}"
