"""A community worker keeps the register: log in, find an elder as they type, correct the
address, and see the change on the page, in the database and in the history. A worker of
the neighbouring community cannot open the same record."""

import datetime

import pytest

from core.idnumbers import make_id_number
from e2e.conftest import LAPTOP, PHONE, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEW_ADDRESS = "经济房15号楼7单元6楼西户"


@pytest.fixture
def elders(tree, worker):
    from elders.services import elder_create

    def create(name, birth, seq, address, **extra):
        data = {
            "region": tree.grid.pk,
            "name": name,
            "id_number": make_id_number("370102", birth, seq),
            "phone": f"1390531{seq:04d}",
            "address": address,
            "living_arrangement": "spouse",
            "marital_status": "married",
            "children_count": "2",
            "contacts": [],
            **extra,
        }
        return elder_create(by=worker, data=data)

    return {
        "lgx": create("冷国兴", datetime.date(1941, 10, 6), 13, "经济房15号楼7单元6楼东户"),
        "lyq": create("刘玉琴", datetime.date(1948, 3, 2), 24, "锦华苑27号楼5单元3楼", living_arrangement="alone"),
        "zdq": create("张德清", datetime.date(1952, 7, 19), 35, "安泰小区3号楼2单元"),
    }


def test_worker_finds_an_elder_as_they_type_and_corrects_the_address(live_server, new_page, shot, elders, worker):
    from playwright.sync_api import expect

    from audit.models import ChangeRecord
    from elders.models import Elder

    base = live_server.url
    lgx = elders["lgx"]
    page = new_page(LAPTOP)
    log_in(page, base, worker.username)
    expect(page.locator(".hero")).to_contain_text("3")  # the desk counts the three elders
    shot(page, "journey_laptop_1_home")

    # The list shows all three; typing pinyin initials narrows it without a page load.
    page.goto(f"{base}/elders/")
    results = page.locator("#results")
    expect(results).to_contain_text("共 3 位老年人")
    page.locator("input[name=q]").press_sequentially("lgx", delay=60)
    expect(results).to_contain_text("共 1 位老年人")
    expect(results).to_contain_text("冷国兴")
    expect(results).not_to_contain_text("刘玉琴")
    assert "q=lgx" in page.url and "partial" not in page.url  # the address bar can be shared
    shot(page, "journey_laptop_2_search")

    # Open the elder: masked numbers, categories.
    page.locator(".results-table").get_by_role("link", name="冷国兴").click()
    page.wait_for_url(f"{base}/elders/{lgx.pk}/")
    expect(page.locator("#numbers")).to_contain_text(lgx.id_number_masked)
    expect(page.locator(".profile-head")).to_contain_text("高龄")
    shot(page, "journey_laptop_3_detail")

    # Edit the address and save.
    page.get_by_role("link", name="编辑档案").click()
    page.wait_for_url(f"{base}/elders/{lgx.pk}/edit/")
    page.fill("#id_address", NEW_ADDRESS)
    shot(page, "journey_laptop_4_edit", full_page=False)
    page.get_by_role("button", name="保存修改").click()
    page.wait_for_url(f"{base}/elders/{lgx.pk}/")

    expect(page.locator(".flash")).to_contain_text("已保存 冷国兴 的档案")
    expect(page.locator(".profile-head")).to_contain_text(NEW_ADDRESS)
    history = page.locator("table.history")
    expect(history).to_contain_text("详细地址")
    expect(history).to_contain_text(NEW_ADDRESS)
    shot(page, "journey_laptop_5_saved")

    lgx.refresh_from_db()
    assert lgx.address == NEW_ADDRESS
    assert lgx.id_number_masked == elders["lgx"].id_number_masked  # the masked number was left alone
    record = ChangeRecord.objects.filter(model="elders.elder", object_id=lgx.pk, action="update").get()
    assert record.changes == {"address": ["经济房15号楼7单元6楼东户", NEW_ADDRESS]}
    assert record.by == worker
    assert Elder.objects.count() == 3


def test_a_search_by_phone_number_finds_the_elder_and_stays_out_of_the_address_bar(live_server, new_page, elders, worker):
    from playwright.sync_api import expect

    from audit.models import AccessLog

    page = new_page(LAPTOP)
    log_in(page, live_server.url, worker.username)
    page.goto(f"{live_server.url}/elders/?status=all")
    results = page.locator("#results")
    page.locator("input[name=q]").press_sequentially("13905310024", delay=30)  # 刘玉琴's phone
    expect(results).to_contain_text("共 1 位老年人")
    expect(results).to_contain_text("刘玉琴")
    expect(page.locator(".results-table")).to_contain_text("*****************")
    assert "13905310024" not in page.url and "status=all" in page.url
    assert AccessLog.objects.filter(kind="search", by=worker, object_id=elders["lyq"].pk).exists()


def test_typing_an_id_number_fills_sex_and_birth_date(live_server, new_page, shot, tree, worker):
    from playwright.sync_api import expect

    number = make_id_number("370102", datetime.date(1949, 12, 31), 11)  # 11: odd, a man
    page = new_page(LAPTOP)
    log_in(page, live_server.url, worker.username)
    page.goto(f"{live_server.url}/elders/new/")
    page.locator("#id_id_number").press_sequentially(number[:17], delay=20)
    expect(page.locator("#id-check")).to_contain_text("18位")  # 17 characters: says what is wrong
    page.locator("#id_id_number").press(number[17])
    expect(page.locator("#id-check")).to_contain_text("1949-12-31")
    expect(page.locator("#id_sex")).to_have_value("M")
    expect(page.locator("#id_birth_date")).to_have_value("1949-12-31")
    shot(page, "journey_laptop_6_id_check", full_page=False)


def test_phone_worker_searches_and_opens_an_elder(live_server, new_page, shot, elders, worker):
    from playwright.sync_api import expect

    page = new_page(PHONE)
    log_in(page, live_server.url, worker.username)
    shot(page, "journey_phone_1_home")
    page.goto(f"{live_server.url}/elders/")
    page.locator("input[name=q]").press_sequentially("刘", delay=60)
    cards = page.locator("#results .cards")
    expect(cards).to_contain_text("刘玉琴")
    expect(cards).not_to_contain_text("冷国兴")
    shot(page, "journey_phone_2_search")
    cards.get_by_text("刘玉琴").click()
    page.wait_for_url(f"{live_server.url}/elders/{elders['lyq'].pk}/")
    expect(page.locator(".profile-head")).to_contain_text("独居")
    shot(page, "journey_phone_3_detail")
    page.locator("[data-nav-toggle]").click()
    expect(page.locator("#sidebar")).to_be_visible()
    shot(page, "journey_phone_4_menu", full_page=False)


def test_worker_of_another_community_gets_not_found(live_server, new_page, elders, worker_in_other_region):
    page = new_page(LAPTOP)
    log_in(page, live_server.url, worker_in_other_region.username)
    response = page.goto(f"{live_server.url}/elders/{elders['lgx'].pk}/")
    assert response.status == 404
    response = page.goto(f"{live_server.url}/elders/{elders['lgx'].pk}/edit/")
    assert response.status == 404
    page.goto(f"{live_server.url}/elders/?q=lgx")
    assert "冷国兴" not in page.locator("#results").inner_text()
