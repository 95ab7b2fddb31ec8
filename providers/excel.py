"""The columns of the staff and volunteer sheets: one list for the template, the import and the
export, so a downloaded list can be corrected and uploaded again."""

from dataclasses import dataclass

from elders.excel import normalise_header


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False
    aliases: tuple = ()
    note: str = ""


CAREGIVER_COLUMNS = [
    Column("organisation", "所属机构", aliases=("机构", "服务机构", "单位"), note="机构名称；机构用户可留空（即本机构）"),
    Column("kind", "人员类别", required=True, aliases=("类别", "岗位"), note="助老服务员、护工、保姆、小时工、护士"),
    Column("name", "姓名", required=True),
    Column("id_number", "身份证号", aliases=("身份证号码", "证件号码"), note="请设为文本格式，18位"),
    Column("sex", "性别"),
    Column("birth_date", "出生日期", note="如 1975-03-01；有身份证号时可留空"),
    Column("phone", "联系电话", aliases=("电话", "手机", "手机号")),
    Column("skills", "技能", note="技能目录中的名称，用顿号分隔"),
    Column("work_start", "上班时间", note="如 08:00"),
    Column("work_end", "下班时间", note="如 17:30"),
    Column("work_days", "工作日", note="如 周一、周二、周三、周四、周五"),
    Column("languages", "语言和方言", aliases=("语言",)),
    Column("home_lat", "住址纬度", aliases=("纬度",), note="WGS-84，如 39.9087"),
    Column("home_lng", "住址经度", aliases=("经度",), note="WGS-84，如 116.3975"),
]
# Export only: the certificates and the status, for reading (the import ignores them).
CAREGIVER_EXPORT_EXTRA = [Column("certificates", "证书"), Column("status", "状态")]

VOLUNTEER_COLUMNS = [
    Column("region", "所属社区", required=True, aliases=("社区",), note="社区名称，须在您的辖区内"),
    Column("team", "志愿服务队", aliases=("队伍", "服务队"), note="本社区已建立的队伍名称"),
    Column("name", "姓名", required=True),
    Column("phone", "联系电话", required=True, aliases=("电话", "手机", "手机号")),
    Column("birth_year", "出生年份", note="如 1958；也可只填“年龄”列"),
    Column("age", "年龄"),
    Column("skills", "技能", note="技能目录中的名称，用顿号分隔"),
    Column("available_days", "可服务日", note="如 周六、周日"),
    Column("available_from", "可服务时段起", note="如 09:00"),
    Column("available_to", "可服务时段止", note="如 11:30"),
]
VOLUNTEER_EXPORT_EXTRA = [Column("status", "审核状态")]


def header_lookup(columns) -> dict[str, str]:
    lookup = {}
    for column in columns:
        for name in (column.header, *column.aliases):
            lookup[normalise_header(name)] = column.key
    return lookup
