"""/api/orders/plans and /api/orders/agreements end to end: the same rules as the pages."""

import datetime
import io
import json

import pytest
from django.utils import timezone

from accounts.services import api_token_create
from audit.models import AccessLog
from catalogue.models import ServiceItem
from conftest import make_user
from orders.models import OrderPlan

pytestmark = pytest.mark.django_db


def _auth(user):
    return {"Authorization": f"Bearer {api_token_create(user=user)}"}


@pytest.fixture
def api(client, loop):
    headers = _auth(loop.desk)

    def call(method, path, body=None):
        if method == "get":
            return client.get(path, headers=headers)
        return client.generic(method.upper(), path, json.dumps(body or {}), content_type="application/json", headers=headers)

    return call


def _plan_body(loop, **kw):
    meal = ServiceItem.objects.get(code="meal_delivery")
    return {
        "elder": loop.elder.pk,
        "item": meal.pk,
        "rrule": "FREQ=DAILY",
        "calendar": "working_days",
        "starts_on": loop.tomorrow.isoformat(),
        "start_time": "11:00",
        "duration_minutes": 30,
        "auto_dispatch": False,
        **kw,
    }


def test_create_read_list_preview_and_end_a_plan(api, loop, settings):
    settings.ORDERS_PLAN_DAYS_AHEAD = 7
    created = api("post", "/api/orders/plans", _plan_body(loop, starts_on="2026-09-28"))
    assert created.status_code == 201, created.json()
    plan = created.json()
    assert plan["rrule"] == "FREQ=DAILY" and plan["calendar_label"] == "仅法定工作日（含调休上班日）" and plan["is_running"]
    assert OrderPlan.objects.get(pk=plan["id"]).orders.exists()

    assert api("get", f"/api/orders/plans/{plan['id']}").json()["elder"]["name"] == loop.elder.name
    listed = api("get", "/api/orders/plans?state=active").json()
    assert [p["id"] for p in listed["items"]] == [plan["id"]]

    preview = api("get", f"/api/orders/plans/{plan['id']}/preview?after=2026-09-28&count=10").json()
    days = [d["date"] for d in preview["dates"]]
    assert "2026-10-10" in days and not any("2026-10-01" <= d <= "2026-10-07" for d in days)
    assert next(d for d in preview["dates"] if d["date"] == "2026-10-10")["note"] == "调休上班日"
    assert preview["calendar_known_until"] == 2026

    ended = api("post", f"/api/orders/plans/{plan['id']}/end", {"reason": "老人住院"})
    assert ended.status_code == 200
    assert ended.json()["ends_on"] == timezone.localdate().isoformat() and not ended.json()["is_running"]


def test_a_bad_rule_is_422_on_rrule(api, loop):
    response = api("post", "/api/orders/plans", _plan_body(loop, rrule="FREQ=HOURLY"))
    assert response.status_code == 422
    body = response.json()
    assert [e["field"] for e in body["errors"]] == ["rrule"] and "最多每天一次" in body["errors"][0]["message"]
    assert not OrderPlan.objects.exists()


def test_patching_the_schedule(api, loop):
    plan = api("post", "/api/orders/plans", _plan_body(loop, calendar="all_days")).json()
    changed = api("patch", f"/api/orders/plans/{plan['id']}", {"start_time": "12:00", "notes": "午饭"})
    assert changed.status_code == 200 and changed.json()["start_time"] == "12:00:00" and changed.json()["notes"] == "午饭"
    orders = OrderPlan.objects.get(pk=plan["id"]).orders.exclude(status="cancelled")
    assert orders.exists() and {timezone.localtime(o.scheduled_start).hour for o in orders} == {12}


def test_the_preview_says_when_it_falls_back_beyond_the_calendar(api, loop):
    plan = api("post", "/api/orders/plans", _plan_body(loop)).json()
    preview = api("get", f"/api/orders/plans/{plan['id']}/preview?after=2027-03-01&count=5").json()
    assert preview["falls_back"] and "2027" in preview["fallback_note"]
    assert all(datetime.date.fromisoformat(d["date"]).weekday() < 5 for d in preview["dates"])


def test_another_community_gets_404_for_the_plan(client, loop, api, tree):
    plan = api("post", "/api/orders/plans", _plan_body(loop)).json()
    other = _auth(make_user("w2", "community", tree.community2))
    assert client.get(f"/api/orders/plans/{plan['id']}", headers=other).status_code == 404
    assert client.get("/api/orders/plans", headers=other).json()["items"] == []


def test_agreements_through_the_api(api, client, loop):
    from pypdf import PdfReader

    meal = ServiceItem.objects.get(code="meal_delivery")
    body = {
        "elder": loop.elder.pk,
        "organisation": loop.org.pk,
        "valid_from": loop.tomorrow.isoformat(),
        "lines": [{"item": meal.pk, "quantity": 22, "frequency": "month", "payer": "elder"}],
    }
    created = api("post", "/api/orders/agreements", body)
    assert created.status_code == 201, created.json()
    agreement = created.json()
    assert agreement["status"] == "draft" and agreement["actions"] == ["sign", "end"]
    assert agreement["lines"][0]["unit_price_fen"] == meal.price_fen and agreement["total_fen"] == meal.price_fen * 22

    signed = api("post", f"/api/orders/agreements/{agreement['id']}/sign", {"signatory": "王秀兰"}).json()
    assert signed["status"] == "signed" and signed["elder_signatory"] == "王秀兰"

    pdf = client.get(f"/api/orders/agreements/{agreement['id']}/pdf", headers=_auth(loop.desk))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert loop.elder.name in text and "送餐" in text
    assert AccessLog.objects.get(model="orders.agreement").detail["via"] == "api"

    ended = api("post", f"/api/orders/agreements/{agreement['id']}/end", {"reason": "老人去外地"}).json()
    assert ended["status"] == "ended" and ended["actions"] == []
    assert [a["id"] for a in api("get", "/api/orders/agreements?status=ended").json()["items"]] == [agreement["id"]]


def test_an_unknown_item_in_an_agreement_is_422(api, loop):
    body = {"elder": loop.elder.pk, "valid_from": loop.tomorrow.isoformat(), "lines": [{"item": 999999, "quantity": 1}]}
    response = api("post", "/api/orders/agreements", body)
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "lines", "message": "服务项目不存在：999999，请从服务清单中选择"}]
