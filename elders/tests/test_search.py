"""The search box (selectors.search_q) through POST /api/elders/search and the list page:
name, pinyin read with surname readings, ID number, birth date, phone, address — and never
an elder of another community."""

import datetime

import pytest

from accounts.services import api_token_create
from elders.pinyin import name_keys
from elders.selectors import ElderFilter, elder_list
from elders.tests.factories import ElderFactory
from elders.tests.sheets import id_number

pytestmark = pytest.mark.django_db

BORN = datetime.date(1949, 12, 31)


def registered(region, name, n, **over):
    """An elder whose ID number id_number(n) agrees with birth date and sex."""
    return ElderFactory(region=region, name=name, id_number=id_number(n), birth_date=BORN, sex="M" if n % 2 else "F", **over)


def api_search(client, user, q):
    headers = {"Authorization": f"Bearer {api_token_create(user=user)}"}
    response = client.post("/api/elders/search", {"q": q, "page_size": 100}, content_type="application/json", headers=headers)
    assert response.status_code == 200, response.content
    return sorted(item["name"] for item in response.json()["items"])


@pytest.fixture
def register(tree):
    """Elders of 安泰社区 with names chosen for the polyphonic surnames, and one of 驻春路社区."""
    return {
        "冷国兴": registered(tree.community, "冷国兴", 1, phone="13812345678", address="经济房15号楼7单元6楼东户"),
        "单井英": registered(tree.community, "单井英", 2, phone="0531-88881234", address="锦华苑2号楼"),
        "丹秀兰": registered(tree.community, "丹秀兰", 4, phone="13900004444"),
        "曾秀英": registered(tree.grid, "曾秀英", 6, phone="13900006666"),
        "解明": registered(tree.community, "解明", 3, phone="13900003333"),
        "王层": registered(tree.community, "王层", 8, phone="13900008888"),
        "冷红梅": registered(tree.community2, "冷红梅", 10, phone="13700001234", address="经济房3号楼"),
    }


# --- name and pinyin ------------------------------------------------------------------------------


def test_search_by_the_start_of_a_name(client, worker, register):
    assert api_search(client, worker, "冷") == ["冷国兴"]


def test_search_by_a_fragment_inside_a_name(client, worker, register):
    assert api_search(client, worker, "国兴") == ["冷国兴"]


def test_search_by_the_given_name_alone(client, worker, register):
    assert api_search(client, worker, "井英") == ["单井英"]


@pytest.mark.parametrize("q", ["lgx", "LGX", "lg"])
def test_search_by_pinyin_initials(client, worker, register, q):
    assert api_search(client, worker, q) == ["冷国兴"]


@pytest.mark.parametrize("q", ["lengguoxing", "leng guo xing", "LengGuoXing", "lengguo"])
def test_search_by_full_pinyin(client, worker, register, q):
    assert api_search(client, worker, q) == ["冷国兴"]


@pytest.mark.parametrize("q", ["sjy", "shanjingying", "shan"])
def test_search_reads_dan_as_the_surname_shan(client, worker, register, q):
    assert api_search(client, worker, q) == ["单井英"]


def test_search_by_the_everyday_reading_of_a_surname_does_not_find_it(client, worker, register):
    assert api_search(client, worker, "danjingying") == []
    assert api_search(client, worker, "dan") == ["丹秀兰"]


@pytest.mark.parametrize("q", ["zeng", "zengxiuying", "zxy"])
def test_search_reads_zeng_as_a_surname(client, worker, register, q):
    assert api_search(client, worker, q) == ["曾秀英"]


def test_search_for_ceng_does_not_find_the_surname_zeng(client, worker, register):
    assert api_search(client, worker, "ceng") == []


@pytest.mark.parametrize("q", ["xie", "xieming", "xm"])
def test_search_reads_jie_as_the_surname_xie(client, worker, register, q):
    assert api_search(client, worker, q) == ["解明"]


def test_search_for_jie_does_not_find_the_surname_xie(client, worker, register):
    assert api_search(client, worker, "jieming") == []


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("冷国兴", ("lengguoxing", "lgx")),
        ("单井英", ("shanjingying", "sjy")),
        ("曾秀英", ("zengxiuying", "zxy")),
        ("解明", ("xieming", "xm")),
        ("欧阳秀英", ("ouyangxiuying", "oyxy")),
        ("王层", ("wangceng", "wc")),
        (" 冷 国兴 ", ("lengguoxing", "lgx")),
    ],
)
def test_name_keys_read_the_surname_as_a_surname(name, keys):
    assert name_keys(name) == keys


def test_a_polyphonic_character_in_the_given_name_keeps_its_everyday_reading(client, worker, register):
    # 曾 as a surname is zeng; 王层's 层 is ceng whatever it is
    assert api_search(client, worker, "wangceng") == ["王层"]


# --- numbers --------------------------------------------------------------------------------------


def test_search_by_the_whole_id_number(client, worker, register):
    assert api_search(client, worker, id_number(2)) == ["单井英"]


def test_search_by_the_id_number_with_a_lowercase_x(client, worker, register):
    assert id_number(2).endswith("X")
    assert api_search(client, worker, id_number(2).lower()) == ["单井英"]


def test_search_by_the_id_number_with_spaces(client, worker, register):
    number = id_number(1)
    assert api_search(client, worker, f"{number[:6]} {number[6:14]} {number[14:]}") == ["冷国兴"]


def test_search_by_the_fifteen_digit_form_of_the_id_number(client, worker, register):
    number = id_number(1)
    old = number[:6] + number[8:17]

    assert api_search(client, worker, old) == ["冷国兴"]


def test_search_by_birth_date_digits(client, worker, tree):
    ElderFactory(region=tree.community, name="冷国兴", birth_date=datetime.date(1945, 3, 8))
    ElderFactory(region=tree.community, name="王秀兰", birth_date=datetime.date(1945, 3, 9))

    assert api_search(client, worker, "19450308") == ["冷国兴"]


@pytest.mark.parametrize("q", ["13812345678", "138-1234-5678", "+86 138 1234 5678"])
def test_search_by_the_whole_phone(client, worker, register, q):
    assert api_search(client, worker, q) == ["冷国兴"]


def test_search_by_a_whole_landline_with_its_area_code(client, worker, register):
    assert api_search(client, worker, "0531-88881234") == ["单井英"]


def test_search_by_the_last_four_digits_of_the_phone(client, worker, register):
    assert api_search(client, worker, "5678") == ["冷国兴"]


def test_search_by_the_last_four_digits_of_a_landline(client, worker, register):
    assert api_search(client, worker, "1234") == ["单井英"]


def test_search_by_an_address_fragment(client, worker, register):
    assert api_search(client, worker, "锦华苑") == ["单井英"]


# --- scope: another community's elder is never found ----------------------------------------------


@pytest.mark.parametrize(
    "q",
    ["冷红梅", "红梅", "lhm", "lenghongmei", "13700001234", "1234", "经济房3号楼"],
)
def test_search_never_finds_an_elder_of_another_community(client, worker, register, q):
    assert "冷红梅" not in api_search(client, worker, q)


def test_search_by_the_id_number_of_another_communitys_elder_finds_nothing(client, worker, register):
    assert api_search(client, worker, id_number(10)) == []


def test_search_by_birth_date_finds_only_elders_in_scope(client, worker_in_other_region, register):
    assert api_search(client, worker_in_other_region, "19491231") == ["冷红梅"]


def test_community2_searching_a_shared_surname_finds_only_its_own(client, worker_in_other_region, register):
    assert api_search(client, worker_in_other_region, "冷") == ["冷红梅"]
    assert api_search(client, worker_in_other_region, "l") == ["冷红梅"]


def test_street_search_finds_its_subtree_and_no_other(client, tree, register):
    from conftest import make_user

    street = make_user("street", "street", tree.street)

    assert api_search(client, street, "冷") == ["冷国兴"]


def test_city_search_finds_both_communities(client, city_user, register):
    assert api_search(client, city_user, "冷") == ["冷国兴", "冷红梅"]


def test_selector_search_is_restricted_before_it_filters(worker_in_other_region, register):
    found = elder_list(user=worker_in_other_region, filters=ElderFilter(q=id_number(1)))

    assert list(found) == []


# --- the list page --------------------------------------------------------------------------------


def test_list_page_search_by_pinyin_initials_shows_the_elder(client, worker, register):
    client.force_login(worker)

    response = client.get("/elders/", {"q": "sjy"})

    assert response.status_code == 200
    names = [row["elder"].name for row in response.context["rows"]]
    assert names == ["单井英"]


def test_list_page_search_never_shows_another_communitys_elder(client, worker, register):
    client.force_login(worker)

    response = client.get("/elders/", {"q": "冷"})

    assert [row["elder"].name for row in response.context["rows"]] == ["冷国兴"]
    assert "冷红梅" not in response.content.decode()


def test_list_page_search_by_phone_tail_shows_the_elder(client, worker, register):
    client.force_login(worker)

    response = client.get("/elders/", {"q": "5678"})

    assert [row["elder"].name for row in response.context["rows"]] == ["冷国兴"]
