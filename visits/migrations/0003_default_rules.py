"""The platform's default visit rules (region NULL), as published locally (docs/visits.md)."""

from django.db import migrations


def load(apps, schema_editor):
    from visits.rules import DEFAULT_RULES

    VisitRule = apps.get_model("visits", "VisitRule")
    for tier, label, priority, period, hours, criteria in DEFAULT_RULES:
        VisitRule.objects.get_or_create(
            region=None,
            tier=tier,
            defaults={"label": label, "priority": priority, "period": str(period), "event_hours": hours, "criteria": criteria},
        )


class Migration(migrations.Migration):
    dependencies = [("visits", "0002_due_indexes")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
