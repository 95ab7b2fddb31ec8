import pytest


@pytest.fixture
def instruments(db):
    """The shipped instruments, also after a transactional test elsewhere flushed the database
    (which removes the rows migration 0002 loaded)."""
    from assessments.definition import load_shipped
    from assessments.models import Instrument

    load_shipped(Instrument)
