"""EXPLAIN ANALYZE of the "at-risk elders without a watcher" list on a generated city, without
leaving a trace: inside one transaction it pairs ~92 % of the at-risk elders with a watcher
(INSERT … SELECT), analyzes, explains a district's and the city's first page, page 51 and capped
count twice (the second, warm, is printed), and rolls everything back. docs/performance.md,
"Pairing: at-risk elders without a watcher".

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/yinling_city .venv/bin/python manage.py shell < tools/pairing_unwatched_explain.py
"""

import time

from django.db import connection, transaction
from django.db.models import Index

from accounts.models import User
from elders.models import Elder
from pairing.selectors import at_risk_q, unwatched_at_risk
from regions.models import Region

district = Region.objects.filter(level=3).order_by("id").first()
city = district.parent
print("levels", district.name, district.level, city.name, city.level)
with transaction.atomic():
    at_risk = Elder.objects.filter(status="active").filter(at_risk_q()).values("id")
    sql, params = at_risk.query.sql_with_params()
    with connection.cursor() as c:
        c.execute(
            "INSERT INTO pairing_pairing (elder_id, region_id, role, partner_kind, partner_name, phone_enc, phone_hash, "
            "phone_masked, address_note, starts_on, end_reason, notes, created_at) "
            "SELECT id, region_id, 'watcher', 'neighbour', '邻居', '', '', '', '', DATE '2025-01-01', '', '', now() "
            f"FROM elders_elder WHERE id IN ({sql}) AND random() < 0.92",
            params,
        )
        c.execute("ANALYZE pairing_pairing")
    with connection.cursor() as c:
        c.execute("SELECT to_regclass('elder_at_risk_pinyin')")
        has_index = c.fetchone()[0] is not None
    if not has_index:  # a city migrated before pairing 0002: build it inside the transaction too
        idx = Index(fields=["status", "name_pinyin", "id", "region"], name="elder_at_risk_pinyin", condition=at_risk_q())
        t = time.time()
        with connection.schema_editor(atomic=False) as editor:
            editor.add_index(Elder, idx)
        print("index built in", round(time.time() - t, 1), "s")
    with connection.cursor() as c:
        c.execute("ANALYZE elders_elder")
    for label, region, role in (("district", district, "street"), ("city", city, "aging_office")):
        user = User(username="x", role=role, region=region)
        qs = unwatched_at_risk(user=user)
        for what, q in (("first page", qs[:30]), ("page 51", qs[1500:1530]), ("count (capped)", qs.order_by()[:10001])):
            sql, params = q.query.sql_with_params()
            if what.startswith("count"):
                sql = f"SELECT count(*) FROM ({sql}) t"
            for _run in range(2):
                with connection.cursor() as c:
                    c.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                    plan = [r[0] for r in c.fetchall()]
            print(f"--- {label} {what}: {plan[-1]}")
            print("\n".join(line[:160] for line in plan[:8]))
    transaction.set_rollback(True)
