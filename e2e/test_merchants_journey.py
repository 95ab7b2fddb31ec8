"""The 15-minute circle in a browser (issue 10): a community worker clicks the plain map to
place a merchant; the elder's page then shows it in the circle panel (loaded by htmx); the
merchant list fits a phone."""

import pytest

from e2e.conftest import PHONE, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def data(tree, worker):
    from elders.tests.factories import ElderFactory
    from merchants.tests.factories import CENTRE, east_of, merchant, north_of

    merchant(tree.community, "邻里小超市", kind="supermarket", point=north_of(CENTRE, 200))
    shop = merchant(tree.community, "安泰理发店", kind="barber", point=east_of(CENTRE, 3000))  # far away for now
    elder = ElderFactory(region=tree.grid, name="冷国兴", home_lat=CENTRE[0], home_lng=CENTRE[1])
    return elder, shop


def test_a_click_on_the_plain_map_puts_a_merchant_into_the_elders_circle(live_server, new_page, shot, data, tree):
    elder, shop = data
    page = new_page()
    log_in(page, live_server.url, "community")

    page.goto(f"{live_server.url}/elders/{elder.pk}/")
    panel = page.get_by_test_id("circle-panel")
    assert "邻里小超市" in panel.inner_text() and "安泰理发店" not in panel.inner_text()

    page.goto(f"{live_server.url}/merchants/map/?region={tree.community.pk}")
    page.get_by_test_id("locate-target").select_option(f"merchant:{shop.pk}")
    # the elder's home is a faint dot: click it (the first elder dot), then save
    page.locator("#plain-map g circle").first.click(force=True)
    assert page.locator("#locate-lng").input_value().startswith("120.5")
    shot(page, "merchants_map_click")
    page.get_by_role("button", name="保存位置").click()
    page.wait_for_load_state("networkidle")

    shop.refresh_from_db()
    assert abs(shop.lat - elder.home_lat) < 0.0005 and abs(shop.lng - elder.home_lng) < 0.0005
    page.goto(f"{live_server.url}/elders/{elder.pk}/")
    assert "安泰理发店" in page.get_by_test_id("circle-panel").inner_text()


def test_the_merchant_list_fits_a_phone(live_server, new_page, data):
    page = new_page(PHONE)
    log_in(page, live_server.url, "community")
    page.goto(live_server.url + "/merchants/")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    assert "安泰理发店" in page.locator("main").inner_text()
