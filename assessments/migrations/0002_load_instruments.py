"""Load the instruments shipped in assessments/instruments/*.json (GB/T 42195-2022, Barthel)."""

from django.db import migrations


def load(apps, schema_editor):
    from assessments.definition import shipped_definitions, validate_definition

    Instrument = apps.get_model("assessments", "Instrument")
    for definition in shipped_definitions():
        validate_definition(definition)
        Instrument.objects.update_or_create(
            code=definition["code"],
            version=definition["version"],
            defaults={"name": definition["name"], "definition": definition, "is_published": True},
        )


def unload(apps, schema_editor):
    apps.get_model("assessments", "Instrument").objects.filter(version=1).delete()


class Migration(migrations.Migration):
    dependencies = [("assessments", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
