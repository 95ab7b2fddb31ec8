"""The list page's import/export actions and its handling of a bad filter value."""

import pytest

from elders.tests.factories import ElderFactory

pytestmark = pytest.mark.django_db


def test_list_offers_import_and_export_to_a_community_worker(client, worker):
    client.force_login(worker)

    html = client.get("/elders/?category=lives_alone").content.decode()

    assert 'action="/elders/export/"' in html
    assert 'name="category" value="lives_alone"' in html  # the export carries the current filter
    assert 'href="/elders/import/"' in html


def test_list_offers_no_import_or_export_to_a_grid_worker(client, grid_user):
    client.force_login(grid_user)

    html = client.get("/elders/").content.decode()

    assert "/elders/export/" not in html
    assert 'href="/elders/import/"' not in html


def test_a_bad_filter_value_keeps_the_other_filters(client, worker, tree):
    ElderFactory(region=tree.community, sex="M")
    woman = ElderFactory(region=tree.community, sex="F")
    client.force_login(worker)

    response = client.get("/elders/?sex=F&age_min=abc")

    assert response.status_code == 200
    names = [row["elder"].name for row in response.context["rows"]]
    assert names == [woman.name]
    assert "age_min" in response.context["filter_errors"]


def test_an_import_file_over_the_size_limit_is_refused_with_a_message(client, worker, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from jobs.models import Job

    settings.IMPORT_MAX_BYTES = 10
    client.force_login(worker)

    response = client.post("/elders/import/", {"file": SimpleUploadedFile("big.xlsx", b"x" * 100), "dry_run": "on"})

    assert response.status_code == 200
    assert "文件太大" in response.content.decode()
    assert not Job.objects.exists()
