"""Pairing in the browser (issue 12): the community worker finds an elder living alone on the
"no watcher" list and pairs her with a neighbour who has an account; the neighbour opens her phone
page, sees the elder's address and open alert, and reveals the number to call; the relative sees
the elder's visits and alerts on the family portal. Screenshots at 1366 and 390 px
(/tmp/shots-pairing, or PAIRING_SHOTS), and no page scrolls sideways on the phone."""

import os
from pathlib import Path

import pytest
from django.utils import timezone

from e2e.conftest import LAPTOP, PHONE, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("PAIRING_SHOTS", "/tmp/shots-pairing"))


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"e2e_{name}.png"), full_page=True)


def no_sideways_scroll(page):
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, (page.url, overflow)


@pytest.fixture
def world(tree):
    from alerts.models import Alert
    from conftest import make_user
    from elders.tests.factories import ElderFactory
    from orders.family import family_link_create
    from pairing.tests.panels_kit import safety_panels
    from visits.models import Visit

    w = type("World", (), {})()
    w.worker = make_user("community", "community", tree.community)
    w.worker.full_name = "安泰社区 张书记"
    w.worker.save()
    w.elder = ElderFactory(
        region=tree.grid,
        name="刘玉琴",
        living_arrangement="alone",
        marital_status="widowed",
        children_count=1,
        address="经济房15号楼7单元5楼西户",
    )
    w.neighbour = make_user("zhangyuhua", "elder", None)
    w.neighbour.full_name = "张玉华"
    w.neighbour.save()
    w.son = make_user("son", "elder", None)
    family_link_create(
        by=w.worker, user=w.son, elder=w.elder, relation="child", consent_on=timezone.localdate(), consent_note="签字同意书"
    )
    now = timezone.now()
    Alert.objects.create(elder=w.elder, region=w.elder.region, kind="sos", occurred_at=now, received_at=now)
    Visit.objects.create(
        elder=w.elder, region=w.elder.region, visited_at=now - timezone.timedelta(days=3), via="home", visitor_name="网格员"
    )
    with safety_panels():
        yield w


def test_pair_an_unwatched_elder_then_the_watcher_calls_her(live_server, new_page, world):
    from audit.models import AccessLog
    from pairing.models import Pairing

    page = new_page(LAPTOP)
    log_in(page, live_server.url, "community")
    page.goto(f"{live_server.url}/pairing/unwatched/")
    assert "刘玉琴" in page.inner_text("main")
    shot(page, "unwatched_1366")
    page.click(f"[data-testid=pair-{world.elder.pk}]")
    page.fill("#id_partner_name", "张玉华")
    page.fill("#id_phone", "13812345678")
    page.fill("#id_account", "zhangyuhua")
    page.fill("#id_address_note", "同单元楼上")
    shot(page, "form_1366")
    page.click("button:has-text('保存')")
    page.wait_for_url(f"**/elders/{world.elder.pk}/")
    assert "张玉华" in page.inner_text("#pairing")
    pairing = Pairing.objects.get(elder=world.elder)
    assert pairing.user == world.neighbour and pairing.phone_masked == "138****5678"
    page.goto(f"{live_server.url}/pairing/unwatched/")
    assert "刘玉琴" not in page.inner_text("main")

    phone = new_page(PHONE)
    log_in(phone, live_server.url, "zhangyuhua")
    phone.goto(f"{live_server.url}/pairing/mine/")
    text = phone.inner_text("main")
    assert "刘玉琴" in text and "经济房15号楼7单元5楼西户" in text and "一键呼救" in text
    no_sideways_scroll(phone)
    shot(phone, "mine_390")
    phone.click(f"[data-testid=reveal-{world.elder.pk}]")
    call = phone.locator(f"[data-testid=call-{world.elder.pk}]")
    assert call.get_attribute("href").startswith("tel:1")
    shot(phone, "mine_call_390")
    assert AccessLog.objects.filter(by=world.neighbour, object_id=world.elder.pk, fields="phone").count() == 1


def test_the_relative_sees_visits_and_alerts_on_the_phone(live_server, new_page, world):
    page = new_page(PHONE)
    log_in(page, live_server.url, "son")
    page.goto(f"{live_server.url}/family/elders/{world.elder.pk}/")
    text = page.inner_text("main")
    assert "探访记录" in text and "入户探访" in text and "紧急呼叫" in text and "一键呼救" in text
    no_sideways_scroll(page)
    shot(page, "portal_390")
