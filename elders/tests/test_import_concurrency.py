"""Two imports at once (issue 8, findings 7 and 8).

Scope: each import checks its rows with its own user's region lookup, handed to its checkers,
so a second import started while the first is checking rows cannot swap the first one's scope
(community2's import once wrote an elder into 安泰社区 that way).

Registration race: when another import registers one of this file's new people first, the row
is a row error in plain words, never a raw UniqueViolation, and all or nothing still holds."""

import io
import threading
import time

import pytest
from django.db import connection, connections

from elders.importer import check, import_elders
from elders.models import Elder
from elders.tests.sheets import id_number, person, xlsx

ANTAI_ROWS = [person(n) for n in (1, 2, 3)]  # 安泰社区: community's own
CROSSING_ROWS = [person(n) for n in (11, 12, 13)]  # community2's sheet naming 安泰社区: out of its scope


def antai_import(user, rows, **kwargs):
    return import_elders(io.BytesIO(xlsx(rows)), by=user, **kwargs)


@pytest.fixture
def one_row_chunks(monkeypatch):
    """A chunk is one row, so another import can start between two rows of the first."""
    monkeypatch.setattr(check, "CHUNK_ROWS", 1)


def _assert_each_stayed_in_its_scope(outer, inner, worker, worker_in_other_region, tree):
    crossing, own = (outer, inner) if outer.created == 0 or outer.rejected == 3 else (inner, outer)
    assert (crossing.created, crossing.rejected) == (0, 3)
    assert {e.column for e in crossing.errors} == {"所属社区"}
    assert (own.created, own.rejected, own.written) == (3, 0, True)
    assert not Elder.objects.filter(created_by=worker_in_other_region).exists()
    assert Elder.objects.filter(region=tree.community, created_by=worker).count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize("community2_first", [True, False], ids=["community2-outer", "community-outer"])
def test_two_imports_interleaved_each_keep_their_own_scope(
    worker, worker_in_other_region, tree, one_row_chunks, community2_first
):
    """One import starts (and finishes) between two rows of the other, on one connection."""
    first, second = (worker_in_other_region, worker) if community2_first else (worker, worker_in_other_region)
    rows_of = {worker: ANTAI_ROWS, worker_in_other_region: CROSSING_ROWS}
    inner = []

    def between_rows(done, total, phase):
        if not inner:
            inner.append(antai_import(second, rows_of[second], skip_invalid=True))

    outer = antai_import(first, rows_of[first], skip_invalid=True, progress=between_rows)

    _assert_each_stayed_in_its_scope(outer, inner[0], worker, worker_in_other_region, tree)


def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs two real concurrent transactions: SQLite lets one writer at a time")


def _in_thread(fn, results, key):
    def run():
        try:
            results[key] = fn()
        except BaseException as exc:  # the test reports it
            results[key] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_imports_on_two_connections_each_keep_their_own_scope(
    worker, worker_in_other_region, tree, one_row_chunks
):
    """community2's import pauses after its first row; community's import runs meanwhile on
    another connection; then community2's import checks its other rows."""
    _postgresql_only()
    checking, other_done = threading.Event(), threading.Event()
    results = {}

    def pause(done, total, phase):
        if not checking.is_set():
            checking.set()
            assert other_done.wait(60)

    outer = _in_thread(
        lambda: antai_import(worker_in_other_region, CROSSING_ROWS, skip_invalid=True, progress=pause), results, "outer"
    )
    assert checking.wait(60)
    inner = _in_thread(lambda: antai_import(worker, ANTAI_ROWS, skip_invalid=True), results, "inner")
    inner.join(60)
    other_done.set()
    outer.join(60)

    for value in results.values():
        if isinstance(value, BaseException):
            raise value
    _assert_each_stayed_in_its_scope(results["outer"], results["inner"], worker, worker_in_other_region, tree)


def _wait_for_a_lock_wait(timeout=30.0) -> None:
    """Until some backend of this database waits on a lock (the second import's insert waiting
    for the first import's uncommitted row)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError("the second import never waited for the first one's rows")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("skip_invalid", [False, True], ids=["all-or-nothing", "skip-invalid"])
def test_a_person_registered_meanwhile_by_another_import_is_a_row_error_in_plain_words(
    worker, tree, one_row_chunks, skip_invalid
):
    """Import 1 has written person 1 and pauses; import 2 (persons 1 and 4) waits on that row;
    import 1 commits; import 2's person 1 is a plain row error, and person 4 is written only
    with skip_invalid."""
    _postgresql_only()
    paused, go_on = threading.Event(), threading.Event()
    results = {}

    def pause(done, total, phase):
        if not paused.is_set():
            paused.set()
            assert go_on.wait(60)

    first = _in_thread(lambda: antai_import(worker, ANTAI_ROWS, progress=pause), results, "first")
    assert paused.wait(60)
    second = _in_thread(lambda: antai_import(worker, [person(1), person(4)], skip_invalid=skip_invalid), results, "second")
    try:
        _wait_for_a_lock_wait()
    finally:
        go_on.set()
        first.join(60)
        second.join(60)

    for value in results.values():
        if isinstance(value, BaseException):
            raise value
    one, two = results["first"], results["second"]
    assert (one.created, one.written) == (3, True)
    [error] = two.errors
    assert (error.row, error.column) == (2, "身份证号")
    assert "已由同时进行的另一次导入登记" in error.message
    assert "UniqueViolation" not in error.message and "elder_id_number_unique" not in error.message
    assert (two.created, two.rejected, two.written) == (1, 1, skip_invalid)
    registered = set(Elder.objects.values_list("id_number_hash", flat=True))
    from core import crypto

    assert (crypto.lookup_hash(id_number(4)) in registered) is skip_invalid
    assert Elder.objects.count() == 3 + (1 if skip_invalid else 0)
