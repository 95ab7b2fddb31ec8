"""The pages and the API: the phone form saves each tap, completion, the elder page's panel,
the report PDF (logged), scope (another community: 404) and permission (403)."""

import json

import pytest
from django.test import Client

from assessments import services
from assessments.models import Assessment, Status
from assessments.tests.helpers import best, definition, group_at
from audit.models import AccessLog
from conftest import make_user
from elders.tests.factories import ElderFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instruments")]
GBT = definition("gbt42195")
SEVERE_43 = group_at(GBT, group_at(GBT, best(GBT), "self_care", 0), "basic_motor", 0)


@pytest.fixture
def elder(tree):
    return ElderFactory(region=tree.grid, name="王秀兰", id_number="110105194005010028")


def client_for(user):
    c = Client()
    c.force_login(user)
    return c


def draft(by, elder, answers=None):
    a = services.assessment_create(by=by, elder=elder)
    if answers:
        a = services.assessment_answer(by=by, assessment=a, answers=answers)
    return a


def test_the_phone_form_saves_each_tap_and_shows_the_live_score(worker, elder):
    c = client_for(worker)
    r = c.post(f"/assessments/new/{elder.pk}/", {"instrument": "gbt42195", "reason": "first", "place": "老人家中"})
    a = Assessment.objects.get(elder=elder)
    assert r.status_code == 302 and r["Location"] == f"/assessments/{a.pk}/fill/"
    page = c.get(f"/assessments/{a.pk}/fill/")
    assert "自理能力" in page.content.decode() and 'name="item:B.1.1"' in page.content.decode()
    r = c.post(f"/assessments/{a.pk}/answer/", {"group": "self_care", "item:B.1.1": "3"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    assert 'data-testid="score">3<' in r.content.decode()
    a.refresh_from_db()
    assert a.answers == {"B.1.1": 3}
    # left half-way: the page opened again shows the answer
    page = c.get(f"/assessments/{a.pk}/fill/?group=self_care").content.decode()
    assert 'value="3" checked' in page


def test_a_hostile_answer_is_a_message_not_a_500(worker, elder):
    a = draft(worker, elder)
    c = client_for(worker)
    for data in (
        {"item:B.1.1": "x"},
        {"item:B.1.1": "9"},
        {"item:NOPE": "1"},
        {"fact:risk_events": "-1"},
        {"fact:coma": "maybe"},
    ):
        r = c.post(f"/assessments/{a.pk}/answer/", {"group": "self_care", **data})
        assert r.status_code == 422, data
        assert "save-error" in r.content.decode()


def test_complete_page_names_the_missing_items(worker, elder):
    answers = best(GBT)
    del answers["B.4.5"]
    a = draft(worker, elder, answers)
    r = client_for(worker).post(f"/assessments/{a.pk}/complete/", {"group": "self_care"})
    assert r.status_code == 422
    assert "B.4.5 社会交往能力" in r.content.decode()


def test_completion_changes_the_elder_category_on_the_elder_page(worker, elder):
    a = draft(worker, elder, SEVERE_43)
    c = client_for(worker)
    r = c.post(f"/assessments/{a.pk}/complete/")
    assert r.status_code == 302
    page = c.get(f"/elders/{elder.pk}/").content.decode()
    assert "重度失能" in page and "失能" in page
    assert 'data-testid="panel-level">重度失能<' in page


def test_report_pdf_is_logged_and_masks_the_id_number(worker, elder):
    a = draft(worker, elder, SEVERE_43)
    services.assessment_complete(by=worker, assessment=a)
    r = client_for(worker).get(f"/assessments/{a.pk}/report.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    log = AccessLog.objects.get(model="assessments.assessment", object_id=a.pk)
    assert (log.by, log.fields) == (worker, "report")
    from django.template.loader import render_to_string

    from assessments.report import report_context

    html = render_to_string("assessments/report.html", report_context(a))
    assert "110105194005010028" not in html and elder.id_number_masked in html
    assert "重度失能" in html and "C.4" in html


def test_report_text_holds_the_level(worker, elder):
    pypdf = pytest.importorskip("pypdf")
    import io

    a = draft(worker, elder, SEVERE_43)
    services.assessment_complete(by=worker, assessment=a)
    r = client_for(worker).get(f"/assessments/{a.pk}/report.pdf")
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(r.content)).pages)
    assert "重度失能" in text


def test_another_community_gets_404_and_no_permission_403(worker, elder, tree):
    a = draft(worker, elder)
    other = client_for(make_user("other", "community", tree.community2))
    for path in (
        f"/assessments/{a.pk}/",
        f"/assessments/{a.pk}/fill/",
        f"/assessments/{a.pk}/report.pdf",
        f"/assessments/new/{elder.pk}/",
    ):
        assert other.get(path).status_code == 404, path
    assert other.get(f"/api/assessments/{a.pk}").status_code == 404
    assert other.patch(f"/api/assessments/{a.pk}", {"answers": {"B.1.1": 1}}, content_type="application/json").status_code == 404
    assert "王秀兰" not in other.get("/assessments/").content.decode()
    assert other.get("/api/assessments").json()["count"] == 0
    auditor = client_for(make_user("aud", "auditor", tree.city))
    assert auditor.get(f"/assessments/{a.pk}/").status_code == 403
    assert auditor.get("/api/assessments").status_code == 403
    street = client_for(make_user("street", "street", tree.street))
    assert street.get(f"/assessments/{a.pk}/").status_code == 200  # the street reads
    assert street.post(f"/assessments/{a.pk}/answer/", {"item:B.1.1": "1"}).status_code == 403


def test_api_draft_answer_complete_and_due(worker, elder):
    c = client_for(worker)
    r = c.post("/api/assessments", {"elder": elder.pk, "place": "家中"}, content_type="application/json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "draft" and len(body["missing"]) == 26
    aid = body["id"]
    r = c.post(f"/api/assessments/{aid}/complete")
    assert r.status_code == 422 and "26 个项目未作答" in r.json()["detail"] + json.dumps(r.json()["errors"], ensure_ascii=False)
    r = c.patch(f"/api/assessments/{aid}", {"answers": {"B.2.4": 4}}, content_type="application/json")
    assert r.status_code == 422 and "上下楼梯" in json.dumps(r.json(), ensure_ascii=False)
    r = c.patch(f"/api/assessments/{aid}", {"answers": SEVERE_43, "facts": {"dementia": True}}, content_type="application/json")
    assert r.status_code == 200 and r.json()["score"] == 43 and r.json()["final_level"] == "complete"
    r = c.post(f"/api/assessments/{aid}/complete")
    assert r.status_code == 200 and r.json()["status"] == "completed" and r.json()["next_due"]
    elder.refresh_from_db()
    assert elder.ability_level == "complete"
    assert c.get(f"/api/assessments?elder={elder.pk}&status=completed").json()["count"] == 1
    assert c.get("/api/assessments/due").json()["count"] == 0
    inst = c.get("/api/assessments/instruments").json()
    assert {i["code"] for i in inst} == {"gbt42195", "barthel"}
    r = c.get(f"/api/assessments/{aid}/report.pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")


def test_pages_render(worker, elder):
    a = draft(worker, elder, SEVERE_43)
    c = client_for(worker)
    for path in (
        "/assessments/",
        "/assessments/due/",
        f"/assessments/{a.pk}/",
        f"/assessments/new/{elder.pk}/",
        f"/assessments/{a.pk}/fill/?group=facts",
        "/assessments/?region=99999999999999999999&elder=abc",
    ):
        assert c.get(path).status_code == 200, path
    services.assessment_complete(by=worker, assessment=Assessment.objects.get(pk=a.pk))
    assert c.get(f"/assessments/{a.pk}/fill/").status_code == 302
    assert Assessment.objects.get(pk=a.pk).status == Status.COMPLETED
