"""Issue 8: the ID mask keeps only the check character, and every stored copy follows.

The old mask (370102********4110) beside the birth date was the whole number. This rewrites:
- elders_elder.id_number_masked from the stored mask itself: 17 asterisks and its last
  character (no key needed);
- masked ID numbers in the history (ChangeRecord before/after, merge snapshots), the access
  log's details and jobs' parameters, results and errors, the same way;
- full ID numbers and mobile numbers in those texts (a status reason, a filename), masked; and
  recorded search words (`q`, as export filters kept them before core.redact existed) with
  every run of seven or more digits — a phone, an ID number, a birth date like 19450312 —
  replaced by asterisks.

Not reversible: the old masks were the leak, and rebuilding them would need the key.
"""

import re

from django.db import migrations
from django.db.models import Q, TextField, Value
from django.db.models.functions import Cast, Concat, Right

OLD_MASK = re.compile(r"(?<![\d*])\d{6}\*{8}[\dXx]{4}(?![\d*])")
FULL_ID = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")
FULL_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
BATCH = 2000


def scrub_text(text: str) -> str:
    text = OLD_MASK.sub(lambda m: "*" * 17 + m.group(0)[-1].upper(), text)
    text = FULL_ID.sub(lambda m: "*" * 17 + m.group(0)[-1].upper(), text)
    return FULL_MOBILE.sub(lambda m: m.group(0)[:3] + "****" + m.group(0)[-4:], text)


def scrub(value, key=None):
    """`value` (JSON: dict, list, text, number) with masked and full numbers rewritten."""
    from core.redact import redact_numbers

    if isinstance(value, dict):
        return {k: scrub(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, key) for v in value]
    if isinstance(value, str):
        return redact_numbers(value) if key == "q" else scrub_text(value)
    return value


def _rewrite(queryset, fields):
    changed = []
    for obj in queryset.iterator(chunk_size=BATCH):
        dirty = False
        for field in fields:
            before = getattr(obj, field)
            after = scrub(before)
            if after != before:
                setattr(obj, field, after)
                dirty = True
        if dirty:
            changed.append(obj)
        if len(changed) >= BATCH:
            queryset.model.objects.bulk_update(changed, fields)
            changed = []
    if changed:
        queryset.model.objects.bulk_update(changed, fields)


def remask(apps, schema_editor):
    Elder = apps.get_model("elders", "Elder")
    ChangeRecord = apps.get_model("audit", "ChangeRecord")
    AccessLog = apps.get_model("audit", "AccessLog")
    Job = apps.get_model("jobs", "Job")

    Elder.objects.exclude(id_number_masked="").exclude(id_number_masked__startswith="*" * 17).update(
        id_number_masked=Concat(Value("*" * 17), Right("id_number_masked", 1))
    )
    # Only history rows that can hold a number: a mask, or seven digits in a row in the note.
    records = ChangeRecord.objects.annotate(changes_text=Cast("changes", TextField())).filter(
        Q(changes_text__contains="********") | Q(changes_text__regex=r"[0-9]{11}") | Q(note__regex=r"[0-9]{11}")
    )
    _rewrite(records, ["changes", "note"])
    _rewrite(AccessLog.objects.exclude(detail={}), ["detail"])
    _rewrite(Job.objects.all(), ["params", "result", "error"])


class Migration(migrations.Migration):
    dependencies = [
        ("elders", "0005_living_arrangement_birth_index"),
        ("audit", "0002_search_limit_and_search_log"),
        ("jobs", "0001_job"),
    ]

    operations = [migrations.RunPython(remask, migrations.RunPython.noop, elidable=True)]
