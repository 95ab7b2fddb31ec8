"""Set-based inserts for large writes (imports, synthetic data).

Django's bulk_create compiles every value of every row through the field machinery, which
costs more than the database itself at 100,000 rows. Here rows are plain dicts keyed by
column (attname); primary keys are taken from the table's sequence up front, so callers can
write child rows that point at them; PostgreSQL receives the rows through COPY, SQLite
through executemany. Both run inside the caller's transaction.
"""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, router


def _converters(model, connection):
    ops = connection.ops
    pg = connection.vendor == "postgresql"
    out = []
    for field in model._meta.concrete_fields:
        kind = field.get_internal_type()
        if kind == "JSONField":
            out.append((field.attname, lambda v: None if v is None else json.dumps(v, cls=DjangoJSONEncoder, ensure_ascii=False)))
        elif kind == "DateTimeField" and not pg:
            out.append((field.attname, ops.adapt_datetimefield_value))
        elif kind == "DateField" and not pg:
            out.append((field.attname, ops.adapt_datefield_value))
        else:
            out.append((field.attname, None))
    return out


def defaults_for(model) -> dict:
    """Column -> default value for a new row (callers fill in the rest)."""
    values = {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        values[field.attname] = field.get_default() if field.has_default() else None
    return values


def reserve_ids(model, count: int) -> list[int]:
    """`count` fresh primary keys for `model`, taken from its sequence."""
    if count == 0:
        return []
    connection = connections[router.db_for_write(model)]
    table = model._meta.db_table
    pk = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, pk, count])
            return [row[0] for row in cursor.fetchall()]
        # SQLite: AUTOINCREMENT tables keep their high-water mark in sqlite_sequence. The
        # caller's transaction holds the write lock (transaction_mode IMMEDIATE), so no one
        # else can take these numbers meanwhile.
        cursor.execute(f'SELECT COALESCE(MAX("{pk}"), 0) FROM "{table}"')
        top = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        top = max(top, row[0] if row else 0)
        return list(range(top + 1, top + 1 + count))


def row_converter(model, connection=None):
    """A function turning a row dict (every concrete column by attname, the pk excluded) into
    the tuple `insert_tuples` takes, values adapted for the database. Build it once and use it
    where the rows are made (worker processes included)."""
    connection = connection or connections[router.db_for_write(model)]
    converters = _converters(model, connection)[1:]  # the pk comes first and is added at insert

    def convert(row: dict) -> tuple:
        return tuple(conv(row[name]) if conv and row[name] is not None else row[name] for name, conv in converters)

    return convert


def insert_tuples(model, pks: list[int], tuples: list[tuple], *, chunk: int = 5000) -> None:
    """Insert rows given as converted tuples (see row_converter) with their primary keys."""
    if not tuples:
        return
    connection = connections[router.db_for_write(model)]
    columns = [f.column for f in model._meta.concrete_fields]
    table = connection.ops.quote_name(model._meta.db_table)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for pk, values in zip(pks, tuples, strict=True):
                    copy.write_row((pk, *values))
        else:
            marks = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {table} ({quoted}) VALUES ({marks})"
            for start in range(0, len(tuples), chunk):
                cursor.executemany(
                    sql,
                    [(pk, *values) for pk, values in zip(pks[start : start + chunk], tuples[start : start + chunk], strict=True)],
                )


def insert_rows(model, rows: list[dict], *, chunk: int = 5000) -> None:
    """Insert rows (dicts with every concrete column by attname, the pk included)."""
    if not rows:
        return
    convert = row_converter(model)
    pk = model._meta.pk.attname
    insert_tuples(model, [row[pk] for row in rows], [convert(row) for row in rows], chunk=chunk)


def instance_rows(objs) -> list[dict]:
    """Model instances as rows for insert_rows (their pk must be set)."""
    return [{f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields} for obj in objs]
