"""The registry's rough edges found by walking the pages (issue 9): grids in their order, new
elders defaulting to a grid, elders without a grid flagged for the community, and a search
that finds no one in residence saying how many match among the others."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import make_user
from elders.models import Status
from elders.tests.factories import ElderFactory
from regions.models import Level
from regions.selectors import _chinese_number, regions_in_tree_order
from regions.services import region_create

pytestmark = pytest.mark.django_db

NUMERALS = "一二三四五六七八九十"


@pytest.fixture
def grids(tree):
    """安泰社区's grids 二 … 十二 made out of order (第一网格 is the tree fixture's), so ids and
    paths sort 第十 before 第二 and 第四 before 第三."""
    made = {}
    for n in (10, 2, 4, 3, 12, 11, 5):
        name = f"安泰第{'十' if n == 10 else ('十' + NUMERALS[n - 11] if n > 10 else NUMERALS[n - 1])}网格"
        made[n] = region_create(name=name, level=Level.GRID, parent=tree.community)
    return made


def option_labels(html: str, select_name: str) -> list[str]:
    select = re.search(rf'<select name="{select_name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return [label.strip().replace("\u3000", "") for label in re.findall(r"<option[^>]*>([^<]*)</option>", select)]


def test_the_elder_form_lists_grids_by_their_number_not_their_id(client, worker, grids):
    client.force_login(worker)

    labels = option_labels(client.get("/elders/new/").content.decode(), "region")

    assert labels == ["安泰社区"] + [f"安泰第{n}网格" for n in ["一", "二", "三", "四", "五", "十", "十一", "十二"]]


def test_the_list_filter_lists_grids_in_the_same_order(client, worker, grids):
    client.force_login(worker)

    html = client.get("/elders/").content.decode()
    labels = [x for x in option_labels(html.replace('id="f-region" ', ""), "region") if "网格" in x]

    assert labels == [f"安泰第{n}网格" for n in ["一", "二", "三", "四", "五", "十", "十一", "十二"]]


@given(st.integers(min_value=1, max_value=999))
def test_chinese_numbers_read_as_written(n):
    digits = "零一二三四五六七八九"
    hundreds, tens, ones = n // 100, n // 10 % 10, n % 10
    text = (
        (digits[hundreds] + "百" if hundreds else "")
        + ((digits[tens] if tens > 1 or hundreds else "") + "十" if tens else ("零" if hundreds and ones else ""))
        + (digits[ones] if ones else "")
    )

    assert _chinese_number(text) == n


def test_tree_order_keeps_each_grid_under_its_community(tree, grids):
    other_grid = region_create(name="驻春路第一网格", level=Level.GRID, parent=tree.community2)
    names = [r.name for r in regions_in_tree_order([other_grid, grids[2], tree.community2, tree.grid, tree.community])]

    assert names == ["安泰社区", "安泰第一网格", "安泰第二网格", "驻春路社区", "驻春路第一网格"]


def test_a_new_elder_defaults_to_the_communitys_first_grid(client, worker, tree, grids):
    client.force_login(worker)

    html = client.get("/elders/new/").content.decode()

    assert re.search(r'<option value="(\d+)" selected>', html).group(1) == str(tree.grid.pk)


def test_a_grid_worker_gets_their_own_grid_by_default(grids, tree):
    from regions.selectors import region_default_for_elders

    grid_worker = make_user("grid3", "grid", grids[3])
    community_worker = make_user("c", "community", tree.community)
    choices = regions_in_tree_order([tree.community, tree.grid, grids[2], grids[3]])

    assert region_default_for_elders(user=grid_worker, choices=choices) == grids[3]
    assert region_default_for_elders(user=community_worker, choices=choices) == tree.grid


# --- elders without a grid --------------------------------------------------------------------


@pytest.fixture
def unplaced(tree):
    """王秀兰 registered to 安泰社区 itself (it has grids), 李建国 to its first grid, and 张玉珍
    to 驻春路社区, which has no grids (there the community is the right place)."""
    return (
        ElderFactory(region=tree.community, name="王秀兰"),
        ElderFactory(region=tree.grid, name="李建国"),
        ElderFactory(region=tree.community2, name="张玉珍"),
    )


def test_the_unplaced_filter_lists_elders_of_a_community_with_grids_only(client, admin_user, unplaced):
    client.force_login(admin_user)

    html = client.get("/elders/?unplaced=1").content.decode()

    assert "王秀兰" in html
    assert "李建国" not in html and "张玉珍" not in html


def test_the_list_flags_an_unplaced_elder_and_offers_the_chip_to_the_community(client, worker, unplaced):
    client.force_login(worker)

    html = client.get("/elders/").content.decode()

    assert html.count('data-testid="unplaced-badge"') == 1
    assert 'data-testid="unplaced-chip"' in html


def test_the_desk_counts_the_unplaced_for_the_community(client, worker, unplaced):
    client.force_login(worker)

    html = client.get("/").content.decode()

    assert 'data-testid="unplaced-count"' in html
    assert "1 位老人还没有分配网格" in html
    assert "?unplaced=1" in html


def test_a_grid_worker_is_not_offered_the_unplaced_chip(client, grid_user, unplaced):
    client.force_login(grid_user)

    html = client.get("/elders/").content.decode()

    assert 'data-testid="unplaced-chip"' not in html
    assert 'data-testid="unplaced-count"' not in client.get("/").content.decode()


def test_the_api_filters_the_unplaced(client, worker, unplaced):
    from accounts.services import api_token_create

    token = api_token_create(user=worker)
    response = client.get("/api/elders?unplaced=true", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert [item["name"] for item in response.json()["items"]] == ["王秀兰"]


# --- a search that finds no one in residence -----------------------------------------------------


def moved_out(elder, status=Status.MOVED_OUT):
    type(elder).objects.filter(pk=elder.pk).update(status=status)
    return elder


def test_a_search_with_no_one_in_residence_says_how_many_match_among_the_others(client, worker, tree):
    moved_out(ElderFactory(region=tree.community, name="冷国兴"))
    moved_out(ElderFactory(region=tree.community, name="冷国华"), Status.DECEASED)
    ElderFactory(region=tree.community, name="王秀兰")
    client.force_login(worker)

    response = client.post("/elders/", {"q": "冷国", "partial": "1"}, headers={"HX-Request": "true"})
    html = response.content.decode()

    assert "已迁出、已去世或入住机构的老人中有 2 位符合" in html
    assert "已迁出 1 位" in html and "已去世 1 位" in html
    assert 'data-testid="show-inactive"' in html and 'value="all"' in html


def test_the_others_are_shown_with_status_all(client, worker, tree):
    moved_out(ElderFactory(region=tree.community, name="冷国兴"))
    client.force_login(worker)

    html = client.post("/elders/", {"q": "冷国", "status": "all"}).content.decode()

    assert "冷国兴" in html and 'data-testid="inactive-matches"' not in html


def test_the_count_of_others_stays_in_scope(client, worker, tree):
    moved_out(ElderFactory(region=tree.community2, name="冷国兴"))
    client.force_login(worker)

    html = client.post("/elders/", {"q": "冷国"}).content.decode()

    assert 'data-testid="inactive-matches"' not in html
    assert "没有符合条件的老年人" in html


def test_the_list_page_shows_no_template_comment(client, worker):
    client.force_login(worker)

    html = client.get("/elders/").content.decode()

    assert "{#" not in html and "The search goes by POST" not in html
