"""Wide tables on a phone (issue 9): users, roles, the access log and duplicates fit a 390 px
screen without sideways scrolling; each row reads as a card with labelled lines."""

import pytest

from e2e.conftest import PHONE, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def data(tree, worker, admin_user, auditor):
    from elders.selectors import elder_reveal
    from elders.tests.factories import ElderFactory

    first = ElderFactory(region=tree.grid, name="王秀兰", address="安泰小区3号楼2单元401室东户")
    second = ElderFactory(region=tree.community, name="王秀兰", address="安泰小区3号楼2单元401室东户")
    type(second).objects.filter(pk=second.pk).update(birth_date=first.birth_date)
    elder_reveal(user=worker, elder=first, reason="电话回访", fields=("id_number", "phone"))
    return first


@pytest.mark.parametrize(
    "username,path",
    [
        ("admin", "/accounts/users/"),
        ("admin", "/accounts/roles/"),
        ("auditor", "/audit/access/"),
        ("community", "/elders/duplicates/"),
    ],
)
def test_a_wide_table_fits_a_phone(live_server, new_page, shot, data, username, path):
    page = new_page(PHONE)
    log_in(page, live_server.url, username)
    page.goto(live_server.url + path)

    # Neither the page nor a table inside it scrolls sideways (a .table-wrap would scroll on its own).
    overflow = page.evaluate(
        """() => [document.documentElement, ...document.querySelectorAll('main .table-wrap')]
            .filter(el => el.offsetParent !== null || el === document.documentElement)
            .map(el => el.scrollWidth - el.clientWidth)"""
    )
    shot(page, "phone_table_" + path.strip("/").replace("/", "_"))

    assert max(overflow) <= 0, overflow
    assert page.locator("main").inner_text().strip()
