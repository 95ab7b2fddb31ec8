"""The desk (/) and the health check (/healthz)."""

import pytest

from conftest import make_user
from elders.models import Status
from elders.tests.factories import ElderFactory

pytestmark = pytest.mark.django_db


def test_desk_greets_the_worker_and_counts_the_elders_in_residence_of_their_region(client, worker, tree):
    worker.full_name = "李芳"
    worker.save()
    ElderFactory(region=tree.community)
    ElderFactory(region=tree.grid)
    ElderFactory(region=tree.community, status=Status.MOVED_OUT)
    ElderFactory(region=tree.community2)
    client.force_login(worker)

    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "您好，李芳" in html and "安泰社区" in html
    assert response.context["overview"]["total"] == 2
    assert "登记老年人" in html  # the shortcut of a role that registers


def test_desk_of_a_role_without_the_register_shows_no_counts(client, tree):
    ElderFactory(region=tree.community)
    client.force_login(make_user("caregiver", "caregiver", tree.community))

    response = client.get("/")

    assert response.status_code == 200
    assert response.context["overview"] is None
    assert "位老年人在册" not in response.content.decode()


def test_health_check_answers_ok_without_a_login(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
