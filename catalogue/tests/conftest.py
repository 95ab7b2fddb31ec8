import pytest


@pytest.fixture(autouse=True)
def _initial_catalogue(db):
    """The catalogue of migration 0003, which a transactional test elsewhere may have flushed."""
    from catalogue.services import catalogue_initial_load

    catalogue_initial_load()
