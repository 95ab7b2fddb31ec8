"""Revealing full numbers says why (a short required reason, logged with the view); phones
are tel: links once revealed; the full-number export choice is not the first control on a
phone (issue 9)."""

import json
import re

import pytest

from accounts.services import api_token_create
from audit.models import AccessLog
from elders.tests.factories import ElderFactory, EmergencyContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def elder(tree):
    elder = ElderFactory(region=tree.community, name="王秀兰", phone="13912345678")
    EmergencyContactFactory(elder=elder, name="王小明", phone="0531-88881234")
    return elder


def bearer(user):
    return {"Authorization": f"Bearer {api_token_create(user=user)}"}


def test_the_detail_page_asks_for_a_reason_before_revealing(client, worker, elder):
    client.force_login(worker)

    html = client.get(f"/elders/{elder.pk}/").content.decode()
    form = re.search(r'<form class="reveal-form.*?</form>', html, re.S).group(0)

    assert 'name="reason"' in form and "required" in form


def test_a_reveal_without_a_reason_shows_nothing_and_logs_nothing(client, worker, elder):
    client.force_login(worker)

    response = client.post(f"/elders/{elder.pk}/reveal/", {"reason": "  "}, headers={"HX-Request": "true"})
    html = response.content.decode()

    assert response.status_code == 422
    assert "请填写查看完整号码的原因" in html
    assert "13912345678" not in html
    assert not AccessLog.objects.exists()


def test_a_reveal_with_a_reason_logs_the_reason_and_shows_phones_as_tel_links(client, worker, elder):
    client.force_login(worker)

    html = client.post(f"/elders/{elder.pk}/reveal/", {"reason": "电话回访"}).content.decode()

    assert 'href="tel:13912345678"' in html
    assert 'href="tel:053188881234"' in html  # the contact's landline, dialable
    assert AccessLog.objects.get(kind="reveal").detail["reason"] == "电话回访"


def test_a_long_reason_is_refused_and_a_number_in_it_is_not_stored(client, worker, elder):
    client.force_login(worker)

    too_long = client.post(f"/elders/{elder.pk}/reveal/", {"reason": "回访" * 31})
    client.post(f"/elders/{elder.pk}/reveal/", {"reason": "家属 13800001111 来电"})

    assert too_long.status_code == 422 and "最多 60 个字" in too_long.content.decode()
    assert AccessLog.objects.get().detail["reason"] == "家属 *********** 来电"


def test_the_api_reveal_takes_a_reason_in_the_body(client, worker, elder):
    response = client.post(
        f"/api/elders/{elder.pk}/reveal", {"reason": "核对低保材料"}, content_type="application/json", headers=bearer(worker)
    )

    assert response.status_code == 200 and response.json()["phone"] == "13912345678"
    assert AccessLog.objects.get().detail["reason"] == "核对低保材料"


@pytest.mark.parametrize("body", [None, {}, {"reason": ""}])
def test_the_api_reveal_without_a_reason_is_refused_naming_the_field(client, worker, elder, body):
    kwargs = {"content_type": "application/json", "data": json.dumps(body)} if body is not None else {}

    response = client.post(f"/api/elders/{elder.pk}/reveal", headers=bearer(worker), **kwargs)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "reason"
    assert not AccessLog.objects.exists()


def test_the_api_reveal_refuses_another_region_before_asking_for_a_reason(client, worker_in_other_region, elder):
    response = client.post(f"/api/elders/{elder.pk}/reveal", headers=bearer(worker_in_other_region))

    assert response.status_code == 404


def test_the_full_number_export_choice_comes_after_the_export_button(client, worker, elder):
    client.force_login(worker)

    html = client.get("/elders/").content.decode()
    form = re.search(r'<form[^>]*data-testid="export-form".*?</form>', html, re.S).group(0)

    assert form.index("导出 Excel") < form.index('name="reveal"')
