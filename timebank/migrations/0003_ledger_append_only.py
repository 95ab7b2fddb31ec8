"""The ledger is append-only (docs/timebank-ledger.md, "The trigger"): on PostgreSQL, a trigger
refuses UPDATE and DELETE of a movement, DELETE of a transfer and UPDATE of any of a transfer's
columns but two: `counterpart` may be set once (a move between banks names its other side after
both exist) and `created_by` may be cleared (a user deleted: on_delete SET_NULL). SQLite: nothing
(the code never updates them; the tests run the trigger on PostgreSQL). TRUNCATE (a test
database's flush) is not refused."""

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION timebank_movement_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'timebank_movement is append-only: % refused (reverse the transfer instead)', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER timebank_movement_append_only
    BEFORE UPDATE OR DELETE ON timebank_movement
    FOR EACH ROW EXECUTE FUNCTION timebank_movement_append_only();

CREATE OR REPLACE FUNCTION timebank_transfer_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'timebank_transfer is append-only: DELETE refused (reverse it instead)'
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF (NEW.id, NEW.bank_id, NEW.kind, NEW.category, NEW.note, NEW.reverses_id, NEW.order_id,
        NEW.served_minutes, NEW.confirmation, NEW.confirmation_ref, NEW.proxy_id, NEW.idempotency_key, NEW.at)
       IS DISTINCT FROM
       (OLD.id, OLD.bank_id, OLD.kind, OLD.category, OLD.note, OLD.reverses_id, OLD.order_id,
        OLD.served_minutes, OLD.confirmation, OLD.confirmation_ref, OLD.proxy_id, OLD.idempotency_key, OLD.at)
       OR (OLD.counterpart_id IS NOT NULL AND NEW.counterpart_id IS DISTINCT FROM OLD.counterpart_id)
       OR (NEW.created_by_id IS DISTINCT FROM OLD.created_by_id AND NEW.created_by_id IS NOT NULL)
    THEN
        RAISE EXCEPTION 'timebank_transfer is append-only: UPDATE refused (reverse it instead)'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER timebank_transfer_append_only
    BEFORE UPDATE OR DELETE ON timebank_transfer
    FOR EACH ROW EXECUTE FUNCTION timebank_transfer_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS timebank_movement_append_only ON timebank_movement;
DROP FUNCTION IF EXISTS timebank_movement_append_only();
DROP TRIGGER IF EXISTS timebank_transfer_append_only ON timebank_transfer;
DROP FUNCTION IF EXISTS timebank_transfer_append_only();
"""


def _statements(sql: str) -> list[str]:
    """One statement per execute (a function body's semicolons are inside $$ … $$)."""
    out, current, quoted = [], [], False
    for line in sql.strip().splitlines():
        current.append(line)
        quoted ^= line.count("$$") % 2 == 1
        if not quoted and line.rstrip().endswith(";"):
            out.append("\n".join(current))
            current = []
    return out


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in _statements(CREATE):
            schema_editor.execute(statement, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in _statements(DROP):
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("timebank", "0002_desk_code")]

    operations = [migrations.RunPython(create, drop)]
