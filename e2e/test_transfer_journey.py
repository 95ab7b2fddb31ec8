"""Transfer between communities (issue 9): 安泰社区's worker records that 冷国兴 moved out;
驻春路社区's worker receives him by his ID number, seeing only his name, masked number and
moved-out date before confirming; the record keeps one history, and 安泰社区 no longer sees it."""

import datetime

import pytest

from core.idnumbers import make_id_number
from e2e.conftest import LAPTOP, PHONE, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ID_NUMBER = make_id_number("370102", datetime.date(1941, 10, 6), 13)


@pytest.fixture
def lgx(tree, worker):
    from elders.services import elder_create

    return elder_create(
        by=worker,
        data={"region": tree.grid.pk, "name": "冷国兴", "id_number": ID_NUMBER, "address": "经济房15号楼7单元6楼东户"},
    )


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_an_elder_moves_out_of_one_community_and_is_received_by_another(
    live_server, new_page, shot, lgx, worker, worker_in_other_region, viewport
):
    from playwright.sync_api import expect

    from elders.models import Elder

    base, size = live_server.url, "laptop" if viewport == LAPTOP else "phone"

    # 安泰社区 records the move out on the status page.
    page = new_page(viewport)
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, base, worker.username)
    page.goto(f"{base}/elders/{lgx.pk}/status/")
    page.select_option("#id_action", "move_out")
    page.fill("#id_reason", "随子女去驻春路")
    page.click("main form[data-confirm] button[type=submit]")
    expect(page.locator(".status--title")).to_have_text("已迁出")

    # 驻春路社区 finds him by ID number from the list's 接收迁入.
    other = new_page(viewport)
    other.on("dialog", lambda dialog: dialog.accept())
    log_in(other, base, worker_in_other_region.username)
    other.goto(f"{base}/elders/")
    other.click("[data-testid=receive-link]")
    other.fill("#id_id_number", ID_NUMBER)
    other.click("[data-testid=receive-lookup] button[type=submit]")
    preview = other.locator("[data-testid=receive-preview]")
    expect(preview).to_contain_text("冷国兴")
    expect(preview).to_contain_text(lgx.id_number_masked)
    expect(preview).not_to_contain_text("安泰")
    assert ID_NUMBER not in other.url
    shot(other, f"transfer_{size}_1_preview")

    other.fill("#id_reason", "随子女居住")
    other.click("[data-testid=receive-confirm] button[type=submit]")
    other.wait_for_url(f"{base}/elders/{lgx.pk}/")
    expect(other.locator(".status--title")).to_have_text("在册")
    expect(other.locator(".timeline")).to_contain_text("随子女去驻春路")
    expect(other.locator(".timeline")).to_contain_text("从安泰第一网格迁入：随子女居住")
    shot(other, f"transfer_{size}_2_received")

    elder = Elder.objects.get(pk=lgx.pk)
    assert elder.region == worker_in_other_region.region and elder.status == "active"
    assert Elder.objects.count() == 1

    # 安泰社区 no longer opens the record.
    response = page.goto(f"{base}/elders/{lgx.pk}/")
    assert response.status == 404
    expect(page.locator("[data-testid=error-page]")).to_contain_text("页面不存在")
