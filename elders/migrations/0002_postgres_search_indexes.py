"""PostgreSQL-only search indexes.

- A trigram index (pg_trgm) for address fragments (“15号楼”).
- Prefix search on name, pinyin and initials uses plain b-trees when the database collation
  is C/C.UTF-8/POSIX (docs/deploy.md asks for that); under any other collation a b-tree
  cannot serve LIKE 'abc%', so pattern-ops indexes are added.
Names are searched by prefix only (no trigram index on name): every index is paid again on
each imported row, and a one- or two-character name fragment cannot use a trigram index anyway.

SQLite needs none of this; the migration is a no-op there. Reversible.
"""

from django.db import migrations

TRIGRAM = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS elder_address_trgm ON elders_elder USING gin (address gin_trgm_ops)",
]
PATTERN_OPS = [
    "CREATE INDEX IF NOT EXISTS elder_name_prefix ON elders_elder (name varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS elder_pinyin_prefix ON elders_elder (name_pinyin varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS elder_initials_prefix ON elders_elder (name_initials varchar_pattern_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS elder_address_trgm",
    "DROP INDEX IF EXISTS elder_name_prefix",
    "DROP INDEX IF EXISTS elder_pinyin_prefix",
    "DROP INDEX IF EXISTS elder_initials_prefix",
]


def forward(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT datcollate FROM pg_database WHERE datname = current_database()")
        collation = cursor.fetchone()[0]
    statements = list(TRIGRAM)
    if collation not in ("C", "C.UTF-8", "C.utf8", "POSIX"):
        statements += PATTERN_OPS
    for sql in statements:
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in BACKWARD:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("elders", "0001_initial"), ("regions", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
