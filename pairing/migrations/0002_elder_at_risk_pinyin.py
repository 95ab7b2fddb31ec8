"""The "at-risk elders without a watcher" list walks the register in name order over the at-risk
elders only: a partial index on elders_elder (status, name_pinyin, id, region) WHERE at risk.

It lives here, not in elders, because "at risk" is pairing's definition (pairing.selectors.at_risk_q,
written with elders.categories' Q objects). The condition is frozen below as that function
renders it; pairing/tests/test_index.py fails when the two drift apart (the planner uses a
partial index only when the query's WHERE implies its condition). Measured on the 2,000,000-elder
city (docs/performance.md, "pairing_unwatched"): a district's first page 165 ms → 18 ms, page 51
4.8 s → 1.1 s. Works on SQLite and PostgreSQL (both have partial indexes).
"""

from django.db import migrations, models
from django.db.models import Q

_APART = ["alone", "spouse"]
AT_RISK = (
    Q(disability_grade__in=("1", "2"))
    | Q(living_arrangement="alone")
    | Q(children_count__gt=0, living_arrangement__in=_APART)
    | Q(children_away=True, living_arrangement__in=_APART)
    | Q(ability_level__in=["severe", "complete"])
    | Q(is_family_planning_special=True)
)
INDEX = models.Index(fields=["status", "name_pinyin", "id", "region"], name="elder_at_risk_pinyin", condition=AT_RISK)


def add(apps, schema_editor):
    schema_editor.add_index(apps.get_model("elders", "Elder"), INDEX)


def remove(apps, schema_editor):
    schema_editor.remove_index(apps.get_model("elders", "Elder"), INDEX)


class Migration(migrations.Migration):
    dependencies = [
        ("pairing", "0001_initial"),
        ("elders", "0010_desk_contact_phone_hash"),
    ]

    operations = [migrations.RunPython(add, remove)]
