"""The partial index of pairing/migrations/0002 holds exactly the elders pairing.selectors.at_risk_q
selects: its frozen condition renders to the same SQL (else the planner would not use it)."""

import importlib

import pytest
from django.db import connection

from elders.models import Elder
from pairing.selectors import at_risk_q

pytestmark = pytest.mark.django_db

migration = importlib.import_module("pairing.migrations.0002_elder_at_risk_pinyin")


def _where(q) -> str:
    sql, params = Elder.objects.filter(q).values("id").query.sql_with_params()
    return sql.split(" WHERE ", 1)[1] % tuple(repr(str(p)) if isinstance(p, str) else repr(p) for p in params)


def test_the_index_condition_is_at_risk_q():
    assert _where(migration.AT_RISK) == _where(at_risk_q())


def test_the_index_exists():
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, Elder._meta.db_table)
    assert "elder_at_risk_pinyin" in indexes
