"""/api/settlements as a client uses it: build a month, list and read statements, issue, an
order's shares, a correction, the export job; an organisation sees only its own statements."""

import io

import pytest
from django.test import Client

from accounts.services import api_token_create
from audit.models import AccessLog
from conftest import make_user
from orders.models import Order
from settlements.models import Share, Statement
from settlements.selectors import previous_month, this_month
from settlements.tests.helpers import visit

pytestmark = pytest.mark.django_db


def api(user):
    client = Client()
    headers = {"Authorization": f"Bearer {api_token_create(user=user)}"}

    def call(method, path, body=None):
        if method == "GET":
            return client.get(path, body or {}, headers=headers)
        return client.post(path, body or {}, content_type="application/json", headers=headers)

    return call


def month(m) -> str:
    return f"{m:%Y-%m}"


def test_a_month_is_built_listed_read_and_issued(loop, office):
    order = visit(loop, quantity=2)
    call = api(office)

    built = call("POST", "/api/settlements/statements/build", {"month": month(previous_month()), "region": loop.tree.district.pk})
    assert built.status_code == 200, built.json()
    assert built.json()["statements"] == {"payer": 1, "organisation": 1, "worker": 1}
    assert built.json()["payer_total_fen"] == 7000 and built.json()["lines"] == 2  # payer and worker

    listed = call("GET", "/api/settlements/statements", {"month": month(previous_month()), "kind": "payer"})
    (item,) = listed.json()["items"]
    assert (item["party_label"], item["payer_kind"], item["payer_kind_label"], item["total_fen"], item["state"]) == (
        "安泰社区·老人自付",
        "elder",
        "老人自付",
        7000,
        "draft",
    )

    detail = call("GET", f"/api/settlements/statements/{item['id']}").json()
    (line,) = detail["lines"]["items"]
    assert (line["order"], line["elder"]["name"], line["amount_fen"], line["is_late"]) == (order.pk, loop.elder.name, 7000, False)

    issued = call("POST", f"/api/settlements/statements/{item['id']}/issue")
    assert issued.status_code == 200
    assert issued.json()["statement"]["state"] == "issued" and issued.json()["orders_settled"] == 1
    assert Order.objects.get(pk=order.pk).status == "settled"

    again = call("POST", f"/api/settlements/statements/{item['id']}/issue")
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "state"


def test_a_bad_month_is_refused_naming_the_field(loop, office):
    response = api(office)("POST", "/api/settlements/statements/build", {"month": "2026-13", "region": loop.tree.district.pk})
    assert response.status_code == 422
    assert "month" in {e["field"] for e in response.json()["errors"]}


def test_the_shares_of_an_order_and_a_correction(loop, office):
    order = visit(loop, payment_mode="government")
    call = api(office)
    call("POST", "/api/settlements/statements/build", {"month": month(previous_month()), "region": loop.tree.district.pk})
    call("POST", "/api/settlements/statements/issue", {"month": month(previous_month()), "region": loop.tree.district.pk})

    out = call("GET", f"/api/settlements/orders/{order.pk}/shares").json()
    assert (out["amount_fen"], out["payable"], out["total_fen"]) == (3500, True, 3500)
    (share,) = out["shares"]
    assert share["payer_kind"] == "government" and sorted((s["kind"], s["state"]) for s in share["statements"]) == [
        ("payer", "issued"),
        ("worker", "issued"),
    ]

    corrected = call("POST", f"/api/settlements/shares/{share['id']}/correct", {"amount_fen": 3000, "note": "核实时长不足"})
    assert corrected.status_code == 201, corrected.json()
    assert (corrected.json()["amount_fen"], corrected.json()["corrects"], corrected.json()["statements"]) == (
        -500,
        share["id"],
        [],
    )

    out = call("GET", f"/api/settlements/orders/{order.pk}/shares").json()
    assert out["total_fen"] == 3000 and len(out["shares"]) == 2
    refused = call("POST", f"/api/settlements/shares/{share['id']}/correct", {"amount_fen": 3000, "note": "再次"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "amount_fen"

    built = call("POST", "/api/settlements/statements/build", {"month": month(this_month()), "region": loop.tree.district.pk})
    assert built.json()["late_lines"] == 1 and built.json()["payer_total_fen"] == -500


def test_an_organisation_sees_its_own_and_its_workers_statements_only(loop, office):
    visit(loop)
    api(office)("POST", "/api/settlements/statements/build", {"month": month(previous_month()), "region": loop.tree.district.pk})
    payer = Statement.objects.get(kind="payer")

    call = api(loop.dispatcher)  # 康乃馨's provider user, no region
    kinds = sorted(s["kind"] for s in call("GET", "/api/settlements/statements").json()["items"])
    assert kinds == ["organisation", "worker"]
    assert call("GET", f"/api/settlements/statements/{payer.pk}").status_code == 404
    order = Share.objects.get().order
    assert call("GET", f"/api/settlements/orders/{order.pk}/shares").status_code == 200
    assert call("POST", f"/api/settlements/statements/{payer.pk}/issue").status_code == 403


def test_a_community_worker_reads_but_may_not_build(loop, tree):
    visit(loop)
    call = api(make_user("cw", "community", tree.community))
    refused = call("POST", "/api/settlements/statements/build", {"month": month(previous_month()), "region": tree.community.pk})
    assert refused.status_code == 403
    assert call("GET", "/api/settlements/statements").status_code == 200


def test_the_export_is_a_job_whose_workbook_has_every_line_and_is_logged(loop, office, django_capture_on_commit_callbacks):
    from openpyxl import load_workbook

    from jobs.models import Job

    visit(loop)
    visit(loop, quantity=3)
    call = api(office)
    call("POST", "/api/settlements/statements/build", {"month": month(previous_month()), "region": loop.tree.district.pk})
    payer = Statement.objects.get(kind="payer")

    with django_capture_on_commit_callbacks(execute=True):
        started = call("POST", f"/api/settlements/statements/{payer.pk}/export")
    assert started.status_code == 202, started.json()
    job = Job.objects.get(pk=started.json()["job_id"])
    assert job.status == Job.Status.SUCCEEDED, job.error
    sheet = load_workbook(io.BytesIO(job.output_file.read())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("序号", "工单号", "服务日期", "老年人")
    assert [r[3] for r in rows[1:3]] == [loop.elder.name] * 2
    assert sorted(r[10] for r in rows[1:3]) == [3500, 10500]
    assert rows[3][8] == "合计" and rows[3][10] == 14000
    log = AccessLog.objects.get(kind="export", model="settlements.statement")
    assert log.object_id == payer.pk and log.by == office and log.detail["rows"] == 2
