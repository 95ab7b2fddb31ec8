"""Shared by the import and export benchmarks: their regions and users, synthetic workbooks
in the import template's columns, and clearing a subtree's elders so every run starts alike.

Everything here lives in the bench database beside seed_demo's data (under 示范市/锦山区) and
never touches seed_demo's own communities.
"""

import datetime
import random
from pathlib import Path

PASSWORD = "bench-only-12345"

HEADERS = [
    "姓名",
    "身份证号",
    "联系电话",
    "户籍类型",
    "居住情况",
    "婚姻状况",
    "所属社区",
    "详细地址",
    "紧急联系人",
    "紧急联系人电话",
    "与老人关系",
]
# (居住情况, 婚姻状况, share): the mix a community sheet shows, labels as people type them
LIVING = [
    ("与配偶同住", "有配偶", 45),
    ("与子女同住", "丧偶", 30),
    ("独居", "丧偶", 15),
    ("与其他亲属同住", "离异", 5),
    ("独居", "未婚", 5),
]
RELATIONS = ["子女", "子女", "子女", "配偶", "亲属", "邻居"]


def node(name: str, level: int, parent, code: str = ""):
    """The region `name` under `parent`, created if missing (idempotent, like seed_demo)."""
    from regions.models import Region
    from regions.services import region_create

    return Region.objects.filter(name=name, parent=parent).first() or region_create(
        name=name, level=level, parent=parent, code=code
    )


def demo_district():
    """seed_demo's 锦山区 (the caller runs seed_demo first)."""
    from regions.models import Region

    return Region.objects.get(name="锦山区", parent__name="示范市")


def user(username: str, role: str, region, full_name: str):
    """A login for the benchmark, attached to `region` with `role` (created or corrected)."""
    from accounts.models import User

    found = User.objects.filter(username=username).first()
    if found is None:
        found = User(username=username)
        found.set_password(PASSWORD)
    found.role, found.region, found.full_name, found.is_active = role, region, full_name, True
    found.save()
    return found


def clear_subtree(region) -> int:
    """Delete the elders registered in `region`'s subtree with their contacts, status changes
    and history rows, then VACUUM ANALYZE, so the next run writes into the same state."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM regions_region WHERE path LIKE %s", [region.path + "%"])
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "CREATE TEMP TABLE bench_gone ON COMMIT DROP AS SELECT id FROM elders_elder WHERE region_id = ANY(%s)", [ids]
        )
        cursor.execute("DELETE FROM elders_emergencycontact WHERE elder_id IN (SELECT id FROM bench_gone)")
        cursor.execute("DELETE FROM elders_statuschange WHERE elder_id IN (SELECT id FROM bench_gone)")
        cursor.execute("DELETE FROM audit_changerecord WHERE model = 'elders.elder' AND object_id IN (SELECT id FROM bench_gone)")
        cursor.execute("DELETE FROM elders_elder WHERE id IN (SELECT id FROM bench_gone)")
        gone = cursor.rowcount
    with connection.cursor() as cursor:
        for table in ("elders_elder", "elders_emergencycontact", "audit_changerecord"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    return gone


def count_in(region) -> int:
    from elders.models import Elder

    return Elder.objects.filter(region__path__startswith=region.path).count()


def people(count: int, *, seed: str, areas: list[str]):
    """`count` synthetic elders aged 60–99 as sheet rows (without the community column), with
    valid, distinct ID numbers issued in `areas` (benchmarks pass areas no other data uses, so
    their people never collide with each other or with seed_demo's)."""
    from core.idnumbers import make_id_number
    from devdata import demo

    rng = random.Random(seed)
    today = datetime.date.today()
    used = set()
    living = [(lv, ms) for lv, ms, share in LIVING for _ in range(share)]
    for _i in range(count):
        sex = "M" if rng.random() < 0.47 else "F"
        while True:
            birth = demo.birth_date_for_age(rng, today, 60.5, 99)
            seq = rng.randrange(0, 1000, 2) + (1 if sex == "M" else 0)  # 17th digit odd for men
            number = make_id_number(rng.choice(areas), birth, seq)
            if number not in used:
                used.add(number)
                break
        name = demo.person_name(rng, sex)
        lv, ms = rng.choice(living)
        relation = rng.choice(RELATIONS)
        contact = (name[0] if relation == "子女" else rng.choice(demo.SURNAMES)) + demo.person_name(rng, rng.choice("MF"))[1:]
        yield [
            name,
            number,
            demo.mobile(rng),
            "城镇" if rng.random() < 0.8 else "农村",
            lv,
            ms,
            None,  # 所属社区, filled in by the caller
            demo.address(rng),
            contact,
            demo.mobile(rng),
            relation,
        ]


def write_workbooks(targets: list[tuple[Path, int]], *, seed: str, areas: list[str], communities: list[str]) -> None:
    """Write one xlsx per (path, rows): the first `rows` people of one sequence, so a smaller
    file is the head of a bigger one. XlsxWriter constant_memory; ID and phone cells as text,
    as the import template has them. Rows take the communities in turn."""
    import xlsxwriter

    books = []
    for path, rows in targets:
        book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        sheet = book.add_worksheet("老年人信息")
        for col, header in enumerate(HEADERS):
            sheet.write_string(0, col, header)
        books.append((book, sheet, rows))
    total = max(rows for _p, rows in targets)
    community_col = HEADERS.index("所属社区")
    for i, row in enumerate(people(total, seed=seed, areas=areas)):
        row[community_col] = communities[i % len(communities)]
        for _book, sheet, rows in books:
            if i < rows:
                for col, value in enumerate(row):
                    sheet.write_string(i + 1, col, value)
    for book, _sheet, _rows in books:
        book.close()
