"""The dispatch board in a browser (issue 11): a community worker opens the day's board, unfolds
an order's ranked candidates (htmx) with their reasons and dispatches it in one click; the
organisation's dispatcher records a leave; the pages fit a phone."""

import pytest
from django.utils import timezone

from e2e.conftest import PHONE, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(tree):
    from orders.dispatch import elder_preference_set
    from orders.tests.factories import HOME, LoopWorld, at

    w = LoopWorld.build(tree)
    today = timezone.localdate()
    w.anna = w.qualify(
        w.anna, home_lat=HOME[0] + 0.004, home_lng=HOME[1], languages="普通话、粤语", work_start="07:00", work_end="20:00"
    )
    w.bo = w.qualify(w.bo, home_lat=HOME[0] + 0.001, home_lng=HOME[1], work_start="07:00", work_end="20:00")
    w.staff(name="周秀英", home_lat=HOME[0] + 0.02, home_lng=HOME[1])
    elder_preference_set(by=w.desk, elder=w.elder, caregiver_sex="F", languages="粤语")
    w.first = w.order(start=at(today, 15))
    w.second = w.order(start=at(today, 17), notes="老人行动不便，请提前电话联系")
    return w


def test_a_worker_dispatches_from_the_board_in_one_click(live_server, new_page, shot, world):
    page = new_page()
    log_in(page, live_server.url, world.desk.username)
    page.goto(f"{live_server.url}/orders/board/")
    page.get_by_test_id(f"open-{world.first.pk}").click()
    first = page.get_by_test_id(f"candidate-caregiver-{world.anna.pk}")
    first.wait_for()
    text = first.inner_text()
    assert "老人希望女性服务人员" in text and "会说粤语（老人希望）" in text
    shot(page, "dispatch_board_laptop")

    first.get_by_role("button", name="派单").click()
    page.wait_for_url(f"{live_server.url}/orders/board/?day=*")
    assert "已派单" in page.locator("main").inner_text()
    world.first.refresh_from_db()
    assert world.first.caregiver == world.anna and world.first.status == "dispatched"


def test_the_board_and_an_order_fit_a_phone(live_server, new_page, shot, world):
    page = new_page(PHONE)
    log_in(page, live_server.url, world.desk.username)
    page.goto(f"{live_server.url}/orders/board/")
    shot(page, "dispatch_board_phone")
    page.goto(f"{live_server.url}/orders/board/{world.second.pk}/")
    shot(page, "dispatch_order_phone")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    page.goto(f"{live_server.url}/orders/preferences/{world.elder.pk}/")
    shot(page, "dispatch_preference_phone")


def test_the_organisations_dispatcher_records_a_leave(live_server, new_page, shot, world):
    from providers.models import Absence

    for viewport, name in ((None, "laptop"), (PHONE, "phone")):
        page = new_page(viewport) if viewport else new_page()
        log_in(page, live_server.url, world.dispatcher.username)
        page.goto(f"{live_server.url}/orders/absences/")
        if name == "laptop":
            page.select_option("#id_caregiver", str(world.bo.pk))
            page.select_option("#id_reason", "sick")
            page.get_by_role("button", name="登记").click()
            page.wait_for_load_state("networkidle")
            shot(page, "dispatch_absences_after")
            assert Absence.objects.filter(caregiver=world.bo).exists()
        shot(page, f"dispatch_absences_{name}")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0
