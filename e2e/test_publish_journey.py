"""Publishing new cut-offs (issue 10): the platform admin opens 评估量表与版本 from the assessment
list, moves 轻度失能 from 66 to 70, is told of the gap 66–69 left below it, fixes 中度失能, publishes
with 发布后重新分级 and lands on the job page; the list then shows version 2 in use. Phone and laptop."""

import pytest

from e2e.conftest import LAPTOP, PHONE, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def instruments(db):
    from assessments.definition import load_shipped
    from assessments.models import Instrument

    load_shipped(Instrument)  # a transactional test's database is flushed after each test


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["phone", "laptop"])
def test_the_admin_publishes_new_cut_offs(live_server, new_page, shot, instruments, admin_user, viewport):
    from playwright.sync_api import expect

    base, size = live_server.url, "phone" if viewport == PHONE else "laptop"
    page = new_page(viewport)
    log_in(page, base, admin_user.username)
    page.goto(f"{base}/assessments/")
    page.click("[data-testid=instruments]")
    expect(page.locator("[data-testid=instrument-gbt42195] [data-testid=in-use]")).to_be_visible()
    shot(page, f"publish_{size}_0_instruments")

    page.click("[data-testid=publish-gbt42195]")
    expect(page.locator("#id_mild_min")).to_have_value("66")
    page.fill("#id_mild_min", "70")
    page.fill("#id_note", "依据地方文件调整轻度失能分数段")
    shot(page, f"publish_{size}_1_form")
    page.click("[data-testid=publish]")
    expect(page.locator("[data-testid=level-moderate] .field__error")).to_contain_text("缺少 66–69 分")
    shot(page, f"publish_{size}_2_gap")

    page.fill("#id_moderate_max", "69")
    page.click("[data-testid=publish]")
    page.wait_for_url(f"{base}/jobs/**")
    expect(page.locator("body")).to_contain_text("能力评估重新分级")
    shot(page, f"publish_{size}_3_job")

    page.goto(f"{base}/assessments/instruments/")
    expect(page.locator("[data-testid=instrument-gbt42195] .as-version.is-current")).to_contain_text("第 2 版")
    expect(page.locator("[data-testid=instrument-gbt42195] .as-version.is-current")).to_contain_text("70–89")
    shot(page, f"publish_{size}_4_after")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
