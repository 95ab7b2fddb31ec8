"""Pages and API of visits as a grid worker, a community worker, a street office and a watcher."""

import datetime

import pytest
from django.utils import timezone

from conftest import make_user
from core import notify
from elders.categories import years_before
from elders.tests.factories import ElderFactory
from needs.models import Need
from visits import duties
from visits.models import Campaign, MajorEvent, Visit, VisitDue, VisitRule
from visits.tasks import reminders_send
from visits.tests.conftest import registered

pytestmark = pytest.mark.django_db


@pytest.fixture
def elders(tree):
    today = timezone.localdate()
    e = type("E", (), {})()
    e.mine = registered(
        ElderFactory(region=tree.grid, name="冷国兴", birth_date=years_before(today, 85), living_arrangement="alone")
    )
    e.other = registered(
        ElderFactory(region=tree.community2, name="欧阳秀", birth_date=years_before(today, 85), living_arrangement="alone")
    )
    duties.dues_build(start=today, end=today, overlapping=True)
    return e


def test_the_grid_workers_due_list_holds_their_grid_only(client, grid_worker, elders):
    client.force_login(grid_worker)
    page = client.get("/visits/").content.decode()
    assert "冷国兴" in page and "欧阳秀" not in page
    assert client.get("/visits/?tab=overdue").status_code == 200


def test_a_grid_worker_records_a_visit_with_a_hazard_and_opens_a_need(client, grid_worker, elders):
    client.force_login(grid_worker)
    assert client.get(f"/visits/new/?elder={elders.mine.pk}").status_code == 200
    r = client.post(
        "/visits/new/",
        {
            "elder": elders.mine.pk,
            "via": "home",
            "visited_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "c_health": "fair",
            "c_gas": "hazard",
            "outcome": "concern",
            "open_need": "1",
            "need_text": "燃气灶漏气，需要更换",
            "need_kind": "urgent",
        },
    )
    assert r.status_code == 302
    visit = Visit.objects.get(elder=elders.mine)
    assert visit.checklist == {"health": "fair", "gas": "hazard"}
    need = Need.objects.get(pk=visit.need_id)
    assert (need.kind, need.source) == ("urgent", "visit")
    assert not VisitDue.objects.filter(elder=elders.mine, visited_at__isnull=True, opens_at__lte=visit.visited_at).exists()
    detail = client.get(r["Location"]).content.decode()
    assert "燃气" in detail and "有隐患" in detail
    assert "冷国兴" in client.get(f"/elders/{elders.mine.pk}/").content.decode()


def test_a_missed_visit_without_a_reason_is_refused_on_the_form(client, grid_worker, elders):
    client.force_login(grid_worker)
    r = client.post("/visits/new/", {"elder": elders.mine.pk, "via": "home", "missed": "1", "outcome": "normal"})
    assert r.status_code == 422
    assert "空访请选择原因" in r.content.decode()
    assert client.get(f"/visits/new/?elder={elders.other.pk}").status_code == 404


def test_the_api_records_a_visit_once_per_client_key(client, grid_worker, elders):
    client.force_login(grid_worker)
    body = {"elder": elders.mine.pk, "via": "phone", "checklist": {"spirits": "low"}, "client_key": "k-1"}
    first = client.post("/api/visits", body, content_type="application/json")
    again = client.post("/api/visits", body, content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["flags"] == ["精神状态：低落"]
    bad = client.post("/api/visits", {**body, "client_key": "", "checklist": {"gas": "x"}}, content_type="application/json")
    assert bad.status_code == 422
    listed = client.get("/api/visits").json()
    assert listed["count"] == 1


def test_rate_pages_and_api_add_up(client, tree, grid_worker, elders):
    street = make_user("street1", "street", tree.street)
    client.force_login(grid_worker)
    client.post("/api/visits", {"elder": elders.mine.pk, "via": "phone"}, content_type="application/json")
    client.force_login(street)
    month = timezone.localdate().strftime("%Y-%m")
    data = client.get(f"/api/visits/rate?month={month}&level=5").json()
    assert data["total"]["due"] in (0, 1)  # a weekly due of this month, if the week ends within it
    page = client.get(f"/visits/rate/?month={month}&level=6")
    assert page.status_code == 200
    assert client.get(f"/visits/rate/missed/?month={month}").status_code == 200
    assert client.get(f"/api/visits/rate/missed?month={month}").status_code == 200
    assert client.get("/api/visits/rate?month=2026-13").status_code in (200, 422)


def test_a_community_sets_its_own_rules_with_checkboxes(client, tree, community_worker):
    client.force_login(community_worker)
    assert client.get("/visits/rules/").status_code == 200
    assert client.get("/visits/rules/edit/").status_code == 200
    r = client.post(
        "/visits/rules/edit/",
        {
            "region": tree.community.pk,
            "t0_active": "on",
            "t0_tier": "alone80",
            "t0_label": "高龄独居",
            "t0_period": "week",
            "t0_event_hours": "12",
            "t0_c0_min_age": "80",
            "t0_c0_categories": ["lives_alone"],
        },
    )
    assert r.status_code == 302
    rule = VisitRule.objects.get(region=tree.community)
    assert (rule.tier, rule.period, rule.event_hours, rule.criteria) == (
        "alone80",
        "week",
        12,
        [{"min_age": 80, "categories": ["lives_alone"]}],
    )
    assert "80 岁以上" in client.get("/visits/rules/").content.decode()
    bad = client.post(
        "/visits/rules/edit/",
        {"region": tree.community.pk, "t0_active": "on", "t0_tier": "x", "t0_label": "空", "t0_period": "week"},
    )
    assert bad.status_code == 422 and "适用条件至少要有一条" in bad.content.decode()
    api = client.get("/api/visits/rules").json()
    assert api["region"]["id"] == tree.community.pk


def test_a_campaign_from_the_form_lists_its_targets(client, tree, community_worker, elders):
    client.force_login(community_worker)
    assert client.get("/visits/campaigns/new/").status_code == 200
    r = client.post(
        "/visits/campaigns/new/",
        {"region": tree.community.pk, "name": "寒潮探访", "reason": "cold", "categories": ["lives_alone"], "hours": "48"},
    )
    assert r.status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.target_count == 1
    assert "冷国兴" in client.get(r["Location"]).content.decode()
    assert "寒潮探访" in client.get("/visits/campaigns/").content.decode()


def test_a_major_event_from_the_form_asks_for_a_visit(client, community_worker, elders):
    client.force_login(community_worker)
    assert client.get(f"/visits/events/new/?elder={elders.mine.pk}").status_code == 200
    r = client.post(
        "/visits/events/new/",
        {"elder": elders.mine.pk, "kind": "hospital", "happened_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")},
    )
    assert r.status_code == 302
    event = MajorEvent.objects.get()
    assert event.dues.get().source == "event"


def test_a_watcher_sees_and_visits_only_their_paired_elders(client, tree, elders):
    from pairing.models import Pairing

    watcher = make_user("watcher1", "volunteer", tree.community)
    Pairing.objects.create(
        elder=elders.mine, region=elders.mine.region, partner_name="邻居老张", user=watcher, starts_on=datetime.date(2026, 1, 1)
    )
    other = registered(
        ElderFactory(
            region=tree.grid, name="未结对", birth_date=years_before(timezone.localdate(), 85), living_arrangement="alone"
        )
    )
    duties.dues_build(start=timezone.localdate(), end=timezone.localdate(), overlapping=True)
    client.force_login(watcher)
    page = client.get("/visits/mine/").content.decode()
    assert "冷国兴" in page and "未结对" not in page
    assert client.get("/visits/").status_code == 403
    ok = client.post("/api/visits", {"elder": elders.mine.pk, "via": "partner"}, content_type="application/json")
    assert ok.status_code == 201
    assert client.post("/api/visits", {"elder": other.pk, "via": "partner"}, content_type="application/json").status_code == 404


def test_reminders_name_and_count_without_numbers(tree, grid_worker, elders):
    notify.outbox.clear()
    due = VisitDue.objects.filter(elder=elders.mine).order_by("due_at").first()
    sent = reminders_send(now=due.due_at - datetime.timedelta(days=1))
    assert sent >= 1
    notice = [n for n in notify.outbox if grid_worker.pk in n.to_user_ids][0]
    assert "冷国兴" in notice.body and "欧阳秀" not in notice.body
    assert not any(ch.isdigit() and len(w) >= 6 for w in notice.body.split() for ch in w)


def test_the_desk_shows_the_visit_figures(client, grid_worker, elders):
    client.force_login(grid_worker)
    assert 'data-testid="visits-desk"' in client.get("/").content.decode()


def test_a_phones_replay_of_the_form_with_the_same_client_key_is_the_same_visit(client, grid_worker, elders):
    """The offline queue of visits/static/visits/visit_form.js posts the form again, with its
    client_key, when the network returns (perhaps twice: the first answer was lost)."""
    client.force_login(grid_worker)
    at = (timezone.localtime() - datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    body = {"elder": elders.mine.pk, "via": "home", "visited_at": at, "outcome": "normal", "client_key": "phone-key-7"}
    first = client.post(f"/visits/new/?elder={elders.mine.pk}", {**body, "offline": "1"})
    again = client.post(f"/visits/new/?elder={elders.mine.pk}", {**body, "notes": "重发"})
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    visit = Visit.objects.get(elder=elders.mine)
    assert visit.client_key == "phone-key-7" and visit.notes == "" and visit.offline is True
    assert "离线补传" in client.get(first["Location"]).content.decode()
    assert timezone.localtime(visit.visited_at).strftime("%Y-%m-%dT%H:%M") == at  # the phone's time, not the upload's
    other = client.post(f"/visits/new/?elder={elders.mine.pk}", {**body, "client_key": "phone-key-8"})
    assert other.status_code == 302 and Visit.objects.filter(elder=elders.mine).count() == 2


def test_the_visit_form_loads_its_offline_script_and_service_worker(client, grid_worker, elders):
    client.force_login(grid_worker)
    page = client.get(f"/visits/new/?elder={elders.mine.pk}").content.decode()
    assert "visits/visit_form.js" in page and 'data-sw="/visits/new/sw.js?exact=1"' in page
    sw = client.get("/visits/new/sw.js")
    assert sw.status_code == 200 and sw["Service-Worker-Allowed"] == "/visits/new/"
    assert "EXACT" in sw.content.decode()
