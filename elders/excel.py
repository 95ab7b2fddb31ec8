"""The columns of the elder workbook, shared by the template, the importer and the export.

Headers are Chinese, as community offices write them; each column also accepts the other
names real sheets use for it (身份证号码, 公民身份号码 …).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    note: str = ""


COLUMNS = [
    Column("name", "姓名", ("老人姓名", "名字"), True),
    Column(
        "id_number", "身份证号", ("身份证号码", "公民身份号码", "身份证", "证件号码"), True, "18位,X大写小写均可;请设为文本格式"
    ),
    Column("phone", "联系电话", ("电话", "手机", "手机号", "手机号码", "联系方式", "电话号码"), False, "手机或带区号的固定电话"),
    Column("hukou", "户籍类型", ("户籍", "户口类型", "户口性质"), False, "城镇 / 农村"),
    Column(
        "living_arrangement",
        "居住情况",
        ("居住状况", "居住方式"),
        False,
        "独居 / 与配偶同住 / 与子女同住 / 与其他亲属同住 / 机构",
    ),
    Column("marital_status", "婚姻状况", ("婚姻",), False, "有配偶 / 丧偶 / 离异 / 未婚"),
    Column("community", "所属社区", ("社区", "社区/村", "社区(村)", "所在社区", "所属社区/村"), True, "社区名称或12位区划代码"),
    Column("address", "详细地址", ("地址", "家庭住址", "居住地址", "现住址"), False, "如:经济房15号楼7单元6楼东户"),
    Column("contact_name", "紧急联系人", ("联系人", "紧急联系人姓名"), False),
    Column("contact_phone", "紧急联系人电话", ("联系人电话", "紧急联系电话", "紧急联系人手机")),
    # Optional columns: the rest of SPEC §2.1.
    Column("contact_relation", "与老人关系", ("联系人关系", "关系"), False, "子女 / 配偶 / 亲属 / 邻居 / 其他"),
    Column("grid", "所属网格", ("网格",), False, "网格名称(可不填)"),
    Column(
        "home_lng",
        "经度",
        ("住址经度", "家庭经度", "lng", "longitude"),
        False,
        "WGS-84 度数，如 116.397（不要用高德/腾讯/百度地图的坐标）",
    ),
    Column("home_lat", "纬度", ("住址纬度", "家庭纬度", "lat", "latitude"), False, "WGS-84 度数，如 39.909"),
    Column("birth_date", "出生日期", ("出生年月日", "生日"), False, "有身份证号时可不填,填了须一致"),
    Column("children_count", "子女数", ("子女数量", "子女人数")),
    Column("children_away", "子女在外地", ("子女外出务工", "子女是否在外地"), False, "是 / 否"),
    Column("income_level", "收入水平", ("收入",), False, "低收入 / 中等收入 / 较高收入"),
    Column(
        "pension_type",
        "养老金类型",
        ("养老保险类型", "养老金"),
        False,
        "城镇职工养老保险 / 城乡居民养老保险 / 机关事业单位养老保险 / 无养老金",
    ),
    Column("is_dibao", "低保", ("是否低保",), False, "是 / 否"),
    Column("is_tekun", "特困", ("是否特困", "特困供养"), False, "是 / 否"),
    Column("disability_grade", "残疾等级", ("残疾",), False, "一级 / 二级 / 三级 / 四级"),
    Column("ability_level", "自理能力", ("能力等级", "失能等级"), False, "能力完好 / 轻度失能 / 中度失能 / 重度失能 / 完全失能"),
    Column("chronic_illnesses", "慢性病", ("慢性病史", "疾病")),
    Column("is_party_member", "老党员", ("党员",), False, "是 / 否"),
    Column("is_retired_cadre", "离退休干部", ("离退休",), False, "是 / 否"),
    Column("is_veteran_family", "军烈属/优抚对象", ("优抚对象", "军烈属"), False, "是 / 否"),
    Column("is_model_worker", "老模范", ("劳模",), False, "是 / 否"),
    Column("is_family_planning_special", "计划生育特殊家庭", ("计生特殊家庭",), False, "是 / 否"),
    Column("interests", "特长爱好", ("特长", "爱好", "兴趣爱好")),
    Column("care_preference", "养老意愿", (), False, "居家养老 / 社区日间照料 / 机构养老 / 未定"),
    Column("family_situation", "家庭情况", ()),
    Column("notes", "备注", ()),
]
BY_KEY = {c.key: c for c in COLUMNS}
TEMPLATE_COLUMNS = COLUMNS


def normalise_header(text) -> str:
    import unicodedata

    value = unicodedata.normalize("NFKC", str(text or ""))
    for ch in " \t\n*:：()（）":
        value = value.replace(ch, "")
    return value


HEADER_LOOKUP = {}
for _c in COLUMNS:
    for _name in (_c.header, *_c.aliases):
        HEADER_LOOKUP[normalise_header(_name)] = _c.key
# (the loop variables above are module-private)
del _c, _name
