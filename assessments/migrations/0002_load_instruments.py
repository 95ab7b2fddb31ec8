"""Load the instruments shipped in assessments/instruments/*.json (GB/T 42195-2022, Barthel)."""

from django.db import migrations


def load(apps, schema_editor):
    from assessments.definition import load_shipped

    load_shipped(apps.get_model("assessments", "Instrument"))


def unload(apps, schema_editor):
    apps.get_model("assessments", "Instrument").objects.filter(version=1).delete()


class Migration(migrations.Migration):
    dependencies = [("assessments", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
