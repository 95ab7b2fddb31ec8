"""Pages of emergency alerts: the board, an alert, responding, devices, the policy, the report."""

import datetime

import pytest
from django.utils import timezone

from alerts import services
from alerts.models import Alert, Device, EscalationPolicy

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert(world):
    return services.alert_raise(
        elder=world.elder, source="device", kind="fall", occurred_at=timezone.now(), device=world.device, event_id="v1"
    )[0]


def test_the_board_shows_open_alerts_with_the_step_and_buttons(client, world, alert):
    client.force_login(world.worker)
    page = client.get("/alerts/board/").content.decode()
    assert "欧阳春梅" in page and "跌倒" in page and "下一步：通知家属" in page
    assert f"/alerts/{alert.pk}/acknowledge/" in page
    assert 'hx-trigger="every 5s"' in page


def test_the_board_partial_shows_the_120_prompt_when_the_chain_reaches_it(client, world, alert):
    from alerts.escalation import escalate_due

    escalate_due(now=timezone.now() + datetime.timedelta(minutes=30))
    client.force_login(world.worker)
    partial = client.get("/alerts/board/partial/").content.decode()
    assert "请立即拨打 120" in partial and "<html" not in partial


def test_acknowledging_on_the_board_stops_the_chain_and_returns_to_the_board(client, world, alert):
    client.force_login(world.worker)
    response = client.post(f"/alerts/{alert.pk}/acknowledge/", {"next": "board"})
    assert response.status_code == 302 and response["Location"] == "/alerts/board/"
    alert.refresh_from_db()
    assert alert.status == "acknowledged" and alert.next_step_at is None and alert.acknowledged_by == world.worker


def test_a_relative_without_region_responds_on_the_phone_page(client, world, alert):
    client.force_login(world.relative)
    page = client.get(f"/alerts/{alert.pk}/respond/")
    assert page.status_code == 200 and "我已响应" in page.content.decode()
    assert "安泰小区" not in page.content.decode()  # the address is for those who may read the register
    client.post(f"/alerts/{alert.pk}/resolve/", {"outcome": "family", "note": "女儿已到家"})
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.outcome == "family" and alert.resolved_by == world.relative
    mine = client.get("/alerts/mine/").content.decode()
    assert "目前没有需要您响应的呼叫" in mine


def test_resolve_without_outcome_is_refused_with_a_message(client, world, alert):
    client.force_login(world.worker)
    response = client.post(f"/alerts/{alert.pk}/resolve/", {"outcome": ""}, follow=True)
    assert "请选择处置结果" in response.content.decode()
    assert Alert.objects.get(pk=alert.pk).status == "raised"


def test_another_communitys_worker_gets_404_on_the_alert_and_its_respond_page(client, world, alert, worker_in_other_region):
    client.force_login(worker_in_other_region)
    assert client.get(f"/alerts/{alert.pk}/").status_code == 404
    assert client.get(f"/alerts/{alert.pk}/respond/").status_code == 404
    assert client.post(f"/alerts/{alert.pk}/acknowledge/").status_code == 404
    assert "欧阳春梅" not in client.get("/alerts/board/").content.decode()


def test_the_hotline_raises_an_alert_from_the_form(client, world):
    client.force_login(world.worker)
    found = client.get("/alerts/new/?q=欧阳").content.decode()
    assert f"/alerts/elder/{world.elder.pk}/new/" in found
    response = client.post(
        f"/alerts/elder/{world.elder.pk}/new/", {"source": "hotline", "kind": "health", "description": "来电说胸闷"}
    )
    alert = Alert.objects.get(source="hotline")
    assert response.status_code == 302 and response["Location"] == f"/alerts/{alert.pk}/"
    detail = client.get(response["Location"]).content.decode()
    assert "守望员老王" in detail and "来电说胸闷" in detail


def test_the_finder_refuses_a_number(client, world):
    client.force_login(world.worker)
    page = client.get("/alerts/new/?q=13912345678").content.decode()
    assert "请按姓名查找" in page


def test_register_a_device_and_the_token_is_shown_once(client, world):
    client.force_login(world.worker)
    response = client.post(
        f"/alerts/devices/elder/{world.elder.pk}/new/",
        {
            "kind": "smoke",
            "number": "SMOKE-9",
            "installed_on": "2026-01-05",
            "installed_by": "燃气公司",
            "heartbeat_minutes": "30",
        },
    )
    device = Device.objects.get(number="SMOKE-9")
    assert response["Location"] == f"/alerts/devices/{device.pk}/"
    issued = client.post(f"/alerts/devices/{device.pk}/token/")
    page = issued.content.decode()
    assert "令牌只显示这一次" in page and issued["Cache-Control"] == "no-store"
    device.refresh_from_db()
    assert device.token_hash and device.token_hash not in page
    assert "令牌只显示这一次" not in client.get(f"/alerts/devices/{device.pk}/").content.decode()


def test_a_duplicate_device_number_is_refused_on_the_field(client, world):
    client.force_login(world.worker)
    response = client.post(
        f"/alerts/devices/elder/{world.elder.pk}/new/",
        {"kind": "call_button", "number": world.device.number, "installed_on": "2026-01-05", "heartbeat_minutes": "60"},
    )
    assert response.status_code == 422 and "已登记" in response.content.decode()


def test_the_device_list_flags_silent_devices(client, world):
    Device.objects.filter(pk=world.device.pk).update(silent_after=timezone.now() - datetime.timedelta(hours=1), battery=10)
    client.force_login(world.worker)
    page = client.get("/alerts/devices/?flag=silent").content.decode()
    assert world.device.number in page and "失联" in page and "电量低" in page


def test_the_policy_page_saves_steps_and_duty_users(client, world, tree):
    client.force_login(world.worker)
    response = client.post(
        f"/alerts/policy/{tree.community.pk}/edit/",
        {"target": ["watcher", "duty", ""], "wait": ["2", "0", "0"], "duty_users": [str(world.worker.pk)]},
    )
    assert response.status_code == 302
    policy = EscalationPolicy.objects.get(region=tree.community)
    assert policy.steps == [{"target": "watcher", "wait_minutes": 2}, {"target": "duty", "wait_minutes": 0}]
    assert list(policy.duty_users.all()) == [world.worker]
    page = client.get(f"/alerts/policy/{tree.grid.pk}/").content.decode()
    assert "沿用上级安泰社区的策略" in page


def test_the_policy_page_shows_the_error_naming_the_step(client, world, tree):
    client.force_login(world.worker)
    response = client.post(f"/alerts/policy/{tree.community.pk}/edit/", {"target": ["watcher"], "wait": ["500"]})
    assert response.status_code == 422 and "第 1 步的等待时间应为 0 至 120 分钟" in response.content.decode()


def test_the_report_page_has_the_community_row(client, world, alert):
    services.alert_acknowledge(by=world.watcher, alert=alert, now=alert.received_at + datetime.timedelta(seconds=75))
    client.force_login(world.worker)
    page = client.get("/alerts/report/").content.decode()
    assert "安泰社区" in page and "1 分 15 秒" in page


def test_the_desk_shows_open_alerts_and_silent_devices(client, world, alert):
    client.force_login(world.worker)
    page = client.get("/").content.decode()
    assert 'data-testid="alerts-desk"' in page
