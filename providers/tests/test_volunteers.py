"""Volunteers: registration → approval (or rejection with a reason) through the state machine;
teams; the phone encrypted and masked; community scope."""

import pytest
from django.core.exceptions import ValidationError

from audit.models import ChangeRecord
from conftest import make_user
from core import crypto
from providers import selectors, services
from providers.models import Volunteer
from providers.tests import factories as f

pytestmark = pytest.mark.django_db


def test_a_registration_waits_for_approval_with_its_phone_encrypted(tree):
    v = f.volunteer(tree, name="张红", phone="139 1234 5678", birth_year=1958)

    row = Volunteer.objects.values().get(pk=v.pk)
    assert v.status == "applied"
    assert "13912345678" not in str(row) and crypto.decrypt(row["phone_enc"]) == "13912345678"
    assert row["phone_masked"] == "139****5678"


def test_approve_then_no_second_decision(tree):
    v = f.volunteer(tree)
    worker = make_user("w", "community", tree.community)

    services.volunteer_decide(by=worker, volunteer=v, action="approve")
    v.refresh_from_db()
    assert v.status == "approved"
    with pytest.raises(ValidationError) as refused:
        services.volunteer_decide(by=worker, volunteer=v, action="reject", reason="重复")
    assert "已通过" in refused.value.message_dict["action"][0]
    assert ChangeRecord.objects.filter(model="providers.volunteer", object_id=v.pk, action="status").count() == 1


def test_a_rejection_needs_a_reason_and_keeps_it(tree):
    v = f.volunteer(tree)
    worker = make_user("w", "community", tree.community)

    with pytest.raises(ValidationError) as refused:
        services.volunteer_decide(by=worker, volunteer=v, action="reject", reason=" ")
    assert "原因" in refused.value.message_dict["reason"][0]

    services.volunteer_decide(by=worker, volunteer=v, action="reject", reason="年龄不符合要求")
    v.refresh_from_db()
    assert (v.status, v.status_reason) == ("rejected", "年龄不符合要求")
    record = ChangeRecord.objects.get(model="providers.volunteer", object_id=v.pk, action="status")
    assert record.changes["status"] == ["applied", "rejected"] and "年龄不符合要求" in record.note

    services.volunteer_decide(by=worker, volunteer=v, action="reapply")
    v.refresh_from_db()
    assert (v.status, v.status_reason) == ("applied", "")


def test_only_a_role_with_approve_decides(tree, client):
    v = f.volunteer(tree)
    client.force_login(make_user("s", "street", tree.street))

    assert client.post(f"/providers/volunteers/{v.pk}/decide/", {"action": "approve"}).status_code == 403
    v.refresh_from_db()
    assert v.status == "applied"


def test_the_page_approves(tree, client):
    v = f.volunteer(tree)
    client.force_login(make_user("w", "community", tree.community))

    client.post(f"/providers/volunteers/{v.pk}/decide/", {"action": "approve"})

    v.refresh_from_db()
    assert v.status == "approved"


def test_another_community_gets_404(tree, client):
    v = f.volunteer(tree)
    client.force_login(make_user("c2", "community", tree.community2))

    assert client.get(f"/providers/volunteers/{v.pk}/").status_code == 404
    assert client.post(f"/providers/volunteers/{v.pk}/decide/", {"action": "approve"}).status_code == 404


def test_a_team_of_another_community_is_refused(tree):
    other_team = f.team(tree, region=tree.community2, name="驻春路青年队", kind="youth")

    with pytest.raises(ValidationError) as refused:
        f.volunteer(tree, team=other_team.pk)
    assert "team" in refused.value.message_dict


def test_team_list_counts_approved_members(tree):
    team = f.team(tree)
    worker = make_user("w", "community", tree.community)
    a = f.volunteer(tree, team=team.pk)
    f.volunteer(tree, team=team.pk)
    services.volunteer_decide(by=worker, volunteer=a, action="approve")

    (row,) = selectors.team_list(user=worker)
    assert row.member_count == 1


def test_the_api_registers_and_decides(tree, client):
    worker = make_user("w", "community", tree.community)
    client.force_login(worker)

    created = client.post(
        "/api/providers/volunteers",
        {"region": tree.community.pk, "name": "李华", "phone": "13700001111", "available_days": [6, 7]},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["phone"] == "137****1111" and body["status"] == "applied"
    refused = client.post(f"/api/providers/volunteers/{body['id']}/decide", {"action": "reject"}, content_type="application/json")
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "reason"
    decided = client.post(
        f"/api/providers/volunteers/{body['id']}/decide", {"action": "approve"}, content_type="application/json"
    )
    assert decided.json()["status"] == "approved"


def test_the_full_phone_comes_with_a_reason_and_is_logged(tree, client):
    from audit.models import AccessLog

    v = f.volunteer(tree, phone="13912345678")
    worker = make_user("w", "community", tree.community)
    client.force_login(worker)

    page = client.get(f"/providers/volunteers/{v.pk}/").content.decode()
    assert "13912345678" not in page and "139****5678" in page
    assert client.post(f"/providers/volunteers/{v.pk}/reveal/", {"reason": ""}).status_code == 422
    shown = client.post(f"/providers/volunteers/{v.pk}/reveal/", {"reason": "联系志愿服务"})

    assert "13912345678" in shown.content.decode()
    log = AccessLog.objects.get()
    assert (log.model, log.object_id, log.by, log.detail["reason"]) == ("providers.volunteer", v.pk, worker, "联系志愿服务")
