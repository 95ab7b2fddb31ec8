"""Pinyin keys for name search: full pinyin and initials, the surname read as a surname.

pypinyin reads each character by its commonest reading (单 dan, 曾 ceng, 解 jie); it has no
surname mode, so polyphonic and compound surnames get their surname reading from the
table below before pypinyin reads the given name.
"""

import unicodedata
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

# Compound surnames first: they are matched before single characters.
COMPOUND_SURNAMES = {
    "欧阳": ("ou", "yang"),
    "司马": ("si", "ma"),
    "上官": ("shang", "guan"),
    "诸葛": ("zhu", "ge"),
    "东方": ("dong", "fang"),
    "皇甫": ("huang", "fu"),
    "尉迟": ("yu", "chi"),
    "公孙": ("gong", "sun"),
    "慕容": ("mu", "rong"),
    "长孙": ("zhang", "sun"),
    "宇文": ("yu", "wen"),
    "司徒": ("si", "tu"),
    "夏侯": ("xia", "hou"),
    "轩辕": ("xuan", "yuan"),
    "令狐": ("ling", "hu"),
    "万俟": ("mo", "qi"),
    "澹台": ("tan", "tai"),
    "单于": ("chan", "yu"),
    "西门": ("xi", "men"),
    "南宫": ("nan", "gong"),
}
# Surnames whose surname reading is not pypinyin's default reading of the character.
SURNAME_READINGS = {
    "单": "shan",
    "曾": "zeng",
    "解": "xie",
    "仇": "qiu",
    "朴": "piao",
    "查": "zha",
    "区": "ou",
    "盖": "ge",
    "乐": "yue",
    "覃": "qin",
    "缪": "miao",
    "翟": "zhai",
    "隗": "wei",
    "召": "shao",
    "重": "chong",
    "种": "chong",
    "秘": "bi",
    "繁": "po",
    "员": "yun",
    "能": "nai",
    "燕": "yan",
    "纪": "ji",
    "任": "ren",
    "宁": "ning",
    "华": "hua",
    "折": "she",
    "葛": "ge",
    "薄": "bo",
    "过": "guo",
    "朝": "chao",
    "藏": "zang",
    "句": "gou",
    "曲": "qu",
    "柏": "bai",
    "都": "du",
    "黑": "he",
    "洗": "xian",
    "隽": "juan",
    "郇": "huan",
    "阚": "kan",
    "尉": "wei",
    "贲": "ben",
    "卜": "bu",
    "乜": "nie",
    "应": "ying",
    "祭": "zhai",
    "谌": "chen",
    "啜": "chuai",
    "褚": "chu",
    "莘": "shen",
    "眭": "sui",
    "沈": "shen",
    "石": "shi",
    "车": "che",
    "长": "chang",
    "参": "shen",
    "相": "xiang",
    "占": "zhan",
    "强": "qiang",
    "缴": "jiao",
    "蔺": "lin",
    "吕": "lv",
    "闵": "min",
}


def given_name(name: str) -> str:
    """冷国兴 -> 国兴; 欧阳修 -> 修 (compound surnames known above)."""
    name = unicodedata.normalize("NFKC", name or "").replace(" ", "")
    if not name or all(ch.isascii() for ch in name):
        return ""
    return _split_surname(name)[1][:32]


def _split_surname(name: str) -> tuple[str, str]:
    if name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]


@lru_cache(maxsize=30_000)
def _char_syllable(ch: str) -> str:
    """One character's reading (a name has no phrase context, so characters are read alone)."""
    if ch.isascii():
        return ch.lower() if ch.isalnum() else ""
    out = lazy_pinyin(ch, style=Style.NORMAL, errors="ignore")
    return out[0].lower() if out and out[0].isascii() and out[0].isalnum() else ""


def _syllables(text: str) -> list[str]:
    if all(ch.isascii() for ch in text):
        return ["".join(ch.lower() for ch in text if ch.isalnum())] if text else []
    return [s for s in (_char_syllable(ch) for ch in text) if s]


@lru_cache(maxsize=20_000)  # names repeat; bounded so a huge import's memory stays flat
def name_keys(name: str) -> tuple[str, str]:
    """('lengguoxing', 'lgx') for 冷国兴; ('shanjingying', 'sjy') for 单井英."""
    name = unicodedata.normalize("NFKC", name or "").replace("·", "").replace(" ", "")
    if not name:
        return "", ""
    surname, given = _split_surname(name)
    if surname in COMPOUND_SURNAMES:
        head = list(COMPOUND_SURNAMES[surname])
    elif surname in SURNAME_READINGS:
        head = [SURNAME_READINGS[surname]]
    else:
        head = _syllables(surname)
    if not any("\u4e00" <= ch <= "\u9fff" for ch in name):
        # a name in Latin letters: the name itself, initials of nothing
        return "".join(_syllables(name))[:128], ""
    syllables = head + _syllables(given)
    return "".join(syllables)[:128], "".join(s[0] for s in syllables)[:32]
