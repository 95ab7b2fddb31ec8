"""Emergency alerts in a browser (issue 12, item 4): a device's alert arrives through the API
(its per-device token) while the duty worker watches the board; the board shows it without a
reload (htmx polling) and she acknowledges it there. Then every alert page at laptop and phone
width, screenshots in /tmp/shots-alerts/, with no sideways scrolling on the phone."""

import datetime
import json
import urllib.request
from pathlib import Path

import pytest
from django.utils import timezone

from e2e.conftest import LAPTOP, PHONE, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots-alerts")


@pytest.fixture
def world(tree):
    from alerts.tests.factories import World

    return World(tree)


def _shot(page, name):
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _no_sideways_scroll(page):
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, page.url


def _post_alert(base_url, world, event_id):
    body = {"device": world.device.number, "event_id": event_id, "kind": "fall", "occurred_at": timezone.now().isoformat()}
    request = urllib.request.Request(
        f"{base_url}/api/alerts",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Device {world.token}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the test server
        return response.status, json.loads(response.read())


def test_an_alert_from_a_device_appears_on_the_board_and_is_acknowledged_there(live_server, new_page, world):
    from alerts.models import Alert

    page = new_page()
    log_in(page, live_server.url, world.worker.username)
    page.goto(f"{live_server.url}/alerts/board/")
    page.get_by_test_id("board-empty").wait_for()
    page.evaluate("() => { window.__stillHere = true; }")  # gone if the page reloads

    status, body = _post_alert(live_server.url, world, "e2e-1")
    assert status == 201

    card = page.get_by_test_id("alert-card")
    card.wait_for(timeout=15_000)  # the next poll (every 5 s) brings it
    assert page.evaluate("() => window.__stillHere === true")
    assert world.elder.name in card.inner_text() and "跌倒" in card.inner_text()
    assert page.get_by_test_id("raised-count").inner_text() == "1"
    _shot(page, "board_raised_1366")

    card.get_by_test_id("ack").click()
    page.wait_for_url(f"{live_server.url}/alerts/board/")
    assert "已响应" in page.get_by_test_id("alert-card").inner_text()
    alert = Alert.objects.get(pk=body["id"])
    assert alert.status == "acknowledged" and alert.acknowledged_by == world.worker and alert.next_step_at is None
    _shot(page, "board_acknowledged_1366")


@pytest.mark.parametrize(("size", "viewport"), [("1366", LAPTOP), ("390", PHONE)])
def test_every_alert_page_at_laptop_and_phone_width(live_server, new_page, world, tree, size, viewport):
    from alerts import services
    from alerts.escalation import escalate_due

    services.policy_set(
        by=world.worker,
        region=tree.community,
        steps=[
            {"target": "watcher", "wait_minutes": 3},
            {"target": "family", "wait_minutes": 3},
            {"target": "duty", "wait_minutes": 5},
            {"target": "call_120", "wait_minutes": 0},
        ],
        duty_users=[world.worker],
    )
    _post_alert(live_server.url, world, "e2e-a")
    status, second = _post_alert(live_server.url, world, "e2e-b")
    escalate_due(now=timezone.now() + datetime.timedelta(minutes=12))  # nobody answered: the 120 prompt
    services.alert_raise(
        elder=world.elder, source="hotline", kind="health", occurred_at=timezone.now(), by=world.worker, description="来电说胸闷"
    )
    from alerts.models import Alert

    done = Alert.objects.get(event_id="e2e-a")
    services.alert_acknowledge(by=world.watcher, alert=done)
    services.alert_resolve(by=world.worker, alert=done, outcome="helped_home", note="扶起，无外伤")

    page = new_page(viewport)
    log_in(page, live_server.url, world.worker.username)
    pages = {
        "board": "/alerts/board/",
        "list": "/alerts/?status=all",
        "detail": f"/alerts/{second['id']}/",
        "respond": f"/alerts/{second['id']}/respond/",
        "find": "/alerts/new/?q=欧阳",
        "raise": f"/alerts/elder/{world.elder.pk}/new/",
        "devices": "/alerts/devices/",
        "device": f"/alerts/devices/{world.device.pk}/",
        "device_new": f"/alerts/devices/elder/{world.elder.pk}/new/",
        "policy": f"/alerts/policy/{tree.community.pk}/",
        "report": "/alerts/report/",
        "desk": "/",
    }
    for name, path in pages.items():
        page.goto(f"{live_server.url}{path}")
        assert page.locator("h1").first.is_visible(), name
        if viewport is PHONE:
            _no_sideways_scroll(page)
        _shot(page, f"{name}_{size}")
    page.goto(f"{live_server.url}/alerts/board/")
    assert "请立即拨打 120" in page.content()
    page.goto(f"{live_server.url}/alerts/devices/{world.device.pk}/")
    page.get_by_test_id("issue-token").click()
    assert len(page.get_by_test_id("token").inner_text()) > 30
    _shot(page, f"device_token_{size}")

    relative = new_page(viewport)
    log_in(relative, live_server.url, world.relative.username)
    relative.goto(f"{live_server.url}/alerts/mine/")
    _shot(relative, f"relative_mine_{size}")
    relative.goto(f"{live_server.url}/alerts/{second['id']}/respond/")
    _shot(relative, f"relative_respond_{size}")
    if viewport is PHONE:
        _no_sideways_scroll(relative)
