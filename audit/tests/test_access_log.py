"""The access log: every full view of personal numbers is recorded, and auditors read it."""

import pytest

from accounts.roles import Role
from audit.models import AccessLog
from audit.selectors import access_log_list, change_records_for
from conftest import make_user
from elders.selectors import elder_reveal
from elders.tests.factories import ElderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def revealed(worker, tree):
    """community revealed one elder of 安泰社区's grid."""
    elder = ElderFactory(region=tree.grid, name="王秀兰")
    elder_reveal(user=worker, elder=elder, reason="电话回访", fields=("id_number", "phone"), ip="10.0.0.7")
    return elder


def test_reveal_writes_one_log_row_with_who_what_where(worker, tree, revealed):
    log = AccessLog.objects.get()

    assert (log.kind, log.model, log.object_id) == ("reveal", "elders.elder", revealed.pk)
    assert (log.by, log.region, log.ip, log.fields) == (worker, tree.grid, "10.0.0.7", "id_number,phone")


def test_each_reveal_is_logged_again(worker, revealed):
    elder_reveal(user=worker, elder=revealed, reason="电话回访")

    assert AccessLog.objects.count() == 2


def test_reveal_without_permission_is_refused_and_logs_nothing(auditor, tree):
    from django.core.exceptions import PermissionDenied

    elder = ElderFactory(region=tree.community)

    with pytest.raises(PermissionDenied):
        elder_reveal(user=auditor, elder=elder, reason="电话回访")

    assert not AccessLog.objects.exists()


def test_auditor_of_the_city_reads_the_log_of_its_communities(auditor, revealed):
    assert list(access_log_list(user=auditor)) == list(AccessLog.objects.all())


def test_auditor_of_another_community_does_not_see_the_log(tree, revealed):
    other_auditor = make_user("auditor2", Role.AUDITOR, tree.community2)

    assert list(access_log_list(user=other_auditor)) == []


def test_community_worker_may_not_read_the_log(worker, revealed):
    assert list(access_log_list(user=worker)) == []


def test_log_filters_by_user_name_and_kind(auditor, worker_in_other_region, tree, revealed):
    other = ElderFactory(region=tree.community2)
    elder_reveal(user=worker_in_other_region, elder=other, reason="电话回访")

    assert [log.by for log in access_log_list(user=auditor, username="community2")] == [worker_in_other_region]
    assert access_log_list(user=auditor, kind="export").count() == 0


def test_access_log_page_shows_the_auditor_who_revealed_what(client, auditor, revealed):
    client.force_login(auditor)

    response = client.get("/audit/access/")

    assert response.status_code == 200
    assert [log.object_id for log in response.context["page"]] == [revealed.pk]
    assert "community" in response.content.decode()


def test_access_log_page_is_forbidden_to_a_community_worker(client, worker, revealed):
    client.force_login(worker)

    response = client.get("/audit/access/")

    assert response.status_code == 403


def test_access_log_page_needs_login(client, tree):
    response = client.get("/audit/access/")

    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_history_is_readable_only_inside_scope(worker, worker_in_other_region, tree):
    from elders.services import elder_update

    elder = ElderFactory(region=tree.community, address="旧地址")
    elder_update(by=worker, elder=elder, data={"address": "新地址"})

    assert [r.action for r in change_records_for(user=worker, obj=elder)] == ["update"]
    assert list(change_records_for(user=worker_in_other_region, obj=elder)) == []
