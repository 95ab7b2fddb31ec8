"""Prefix search indexes that PostgreSQL can use under any collation.

0002 skipped the pattern-ops indexes when the database collation was C.UTF-8, taking it for
"C"; PostgreSQL 15 uses a plain b-tree for LIKE 'abc%' only under "C" or "POSIX", so on a
C.UTF-8 database every name and pinyin search walked the whole table (measured: 1.6 s for
`lgx` over 2,000,000 elders). The plain b-trees on initials and given name go: they served
nothing on PostgreSQL, and SQLite's LIKE does not use an index either.
"""

from django.db import migrations

PREFIX = {
    "elder_name_prefix": "name",
    "elder_given_prefix": "name_given",
    "elder_pinyin_prefix": "name_pinyin",
    "elder_initials_prefix": "name_initials",
}


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index, column in PREFIX.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {index} ON elders_elder ({column} varchar_pattern_ops)")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in PREFIX:
        schema_editor.execute(f"DROP INDEX IF EXISTS {index}")


class Migration(migrations.Migration):
    dependencies = [("elders", "0003_trim_indexes_add_given_name")]

    operations = [
        migrations.RemoveIndex(model_name="elder", name="elder_initials"),
        migrations.RemoveIndex(model_name="elder", name="elder_name_given"),
        migrations.RunPython(forward, backward),
    ]
