"""/api/timebank as clients use it: a member gives and donates from their own account (a proxy
with the right for theirs), the desk pays a group and reverses, the statement pages by keyset,
the audit; refusals in the documented shape and nothing written."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from accounts.services import api_token_create
from conftest import make_user
from timebank import ledger
from timebank.models import Account, Movement, Proxy, Transfer
from timebank.tests.factories import account_of, pool_of

pytestmark = pytest.mark.django_db


def api(user):
    client = Client()
    headers = {"Authorization": f"Bearer {api_token_create(user=user)}"}

    def call(method, path, body=None, key=None):
        if method == "GET":
            return client.get(path, body or {}, headers=headers)
        extra = {"Idempotency-Key": key} if key else {}
        return client.post(path, body or {}, content_type="application/json", headers={**headers, **extra})

    return call


def bal(account):
    return Account.objects.get(pk=account.pk).balance_minutes


def _user_of(account):
    user = make_user(f"tbm{account.pk}", "elder", account.bank.region)
    account.member.user = user
    account.member.save()
    return user


@pytest.fixture
def people(tree, bank, desk):
    p = type("P", (), {})()
    p.user = make_user("tbelder", "elder", tree.community)
    p.mine = account_of(bank, "王奶奶", minutes=100, user=p.user)
    p.son = account_of(bank, "王小明")
    p.other = account_of(bank, "李四", minutes=50)
    return p


def test_a_member_gives_from_their_own_account(people):
    response = api(people.user)(
        "POST",
        "/api/timebank/transfers",
        {"kind": "gift", "from_account": people.mine.pk, "to_account": people.son.pk, "minutes": 30, "note": "给儿子"},
    )

    assert response.status_code == 201, response.json()
    out = response.json()
    assert out["kind"] == "gift" and sorted(leg["minutes"] for leg in out["legs"]) == [-30, 30]
    assert bal(people.mine) == 70 and bal(people.son) == 30


def test_a_retry_with_the_idempotency_key_header_is_the_same_transfer(people):
    call = api(people.user)
    body = {"kind": "donation", "from_account": people.mine.pk, "minutes": 10}
    first = call("POST", "/api/timebank/transfers", body, key="phone-1")
    again = call("POST", "/api/timebank/transfers", body, key="phone-1")

    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"] and bal(people.mine) == 90
    # Keys are the client's: another member's same key is their own transfer, never this one.
    other = api(people.other.member.user or _user_of(people.other))(
        "POST", "/api/timebank/transfers", {"kind": "donation", "from_account": people.other.pk, "minutes": 1}, key="phone-1"
    )
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


def test_a_member_cannot_give_from_someone_elses_account(people):
    before = Transfer.objects.count()
    response = api(people.user)(
        "POST",
        "/api/timebank/transfers",
        {"kind": "gift", "from_account": people.other.pk, "to_account": people.son.pk, "minutes": 5},
    )

    assert response.status_code == 404
    assert Transfer.objects.count() == before and bal(people.other) == 50


def test_a_proxy_with_the_right_gives_for_the_member_and_without_it_gets_404(people, tree):
    son_user = make_user("tbson", "elder", tree.community)
    proxy = Proxy.objects.create(
        member=people.mine.member,
        user=son_user,
        name="王小明",
        relation="儿子",
        can_give=False,
        starts_on=datetime.date(2026, 1, 1),
        consent_note="书面同意",
    )
    body = {"kind": "donation", "from_account": people.mine.pk, "minutes": 5}
    assert api(son_user)("POST", "/api/timebank/transfers", body).status_code == 404

    proxy.can_give = True
    proxy.save()
    response = api(son_user)("POST", "/api/timebank/transfers", body)

    assert response.status_code == 201
    assert Transfer.objects.get(pk=response.json()["id"]).proxy_id == proxy.pk


def test_too_few_coins_is_422_naming_the_account(people):
    response = api(people.user)(
        "POST",
        "/api/timebank/transfers",
        {"kind": "gift", "from_account": people.mine.pk, "to_account": people.son.pk, "minutes": 101},
    )

    assert response.status_code == 422
    assert response.json()["detail"] == "余额不足：王奶奶 的账户余额 100 分钟，本次需 101 分钟"


def test_a_member_may_not_pay_a_group(people):
    response = api(people.user)(
        "POST",
        "/api/timebank/transfers",
        {"kind": "group", "from_account": people.mine.pk, "payees": [{"account": people.son.pk, "minutes": 1}]},
    )
    assert response.status_code == 403


def test_the_desk_pays_a_group_from_the_pool_and_reverses_it(people, bank, desk):
    ledger.donate(from_account=people.other, minutes=50, by=desk)
    pool = pool_of(bank)
    call = api(desk)
    paid = call(
        "POST",
        "/api/timebank/transfers",
        {
            "kind": "group",
            "from_account": pool.pk,
            "category": "culture",
            "note": "重阳节",
            "payees": [{"account": people.mine.pk, "minutes": 20}, {"account": people.son.pk, "minutes": 20}],
        },
    )
    assert paid.status_code == 201, paid.json()
    assert bal(pool) == 10

    reversed_ = call("POST", f"/api/timebank/transfers/{paid.json()['id']}/reverse", {"note": "活动取消"})
    assert reversed_.status_code == 201 and reversed_.json()["reverses"] == paid.json()["id"]
    assert bal(pool) == 50 and bal(people.son) == 0

    again = call("POST", f"/api/timebank/transfers/{paid.json()['id']}/reverse", {"note": "再冲"})
    assert again.status_code == 422 and "不能重复冲正" in again.json()["detail"]


def test_another_communitys_desk_gets_404_for_an_account_and_a_transfer(people, tree, desk):
    theirs = make_user("zcdesk", "community", tree.community2)
    gift = ledger.gift(from_account=people.mine, to_account=people.son, minutes=5, by=desk)

    assert api(theirs)("GET", f"/api/timebank/accounts/{people.mine.pk}/movements").status_code == 404
    assert api(theirs)("POST", f"/api/timebank/transfers/{gift.pk}/reverse", {"note": "x"}).status_code == 404
    assert not Transfer.objects.filter(reverses=gift).exists()


def test_the_statement_pages_by_keyset_newest_first_with_the_running_balance(people, desk):
    start = timezone.now() - datetime.timedelta(days=30)
    for i in range(7):
        ledger.post(
            bank=people.mine.bank,
            kind="gift",
            legs=[(people.other, -1), (people.mine, 1)],
            by=desk,
            at=start + datetime.timedelta(days=i),
        )
    call = api(people.user)

    seen, cursor = [], ""
    for _page in range(5):
        out = call("GET", f"/api/timebank/accounts/{people.mine.pk}/movements", {"limit": 3, "cursor": cursor}).json()
        seen += out["items"]
        cursor = out["next_cursor"]
        if cursor is None:
            break

    assert len(seen) == 8 and cursor is None  # the deposit and seven gifts, each once
    ats = [(m["at"], m["id"]) for m in seen]
    assert ats == sorted(ats, reverse=True)
    assert out["account"]["balance_minutes"] == 107
    # The deposit is the newest; the back-dated gifts show the balance after each was posted.
    assert seen[0]["kind"] == "service" and [m["balance_after"] for m in seen[1:]] == [107, 106, 105, 104, 103, 102, 101]
    assert {m["id"] for m in seen} == set(Movement.objects.filter(account=people.mine).values_list("id", flat=True))


def test_a_bad_cursor_is_422(people):
    response = api(people.user)("GET", f"/api/timebank/accounts/{people.mine.pk}/movements", {"cursor": "!!"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "cursor"


def test_the_audit_covers_the_users_banks(people, desk, bank, bank2):
    out = api(desk).__call__("GET", "/api/timebank/audit").json()
    assert out["ok"] is True and [b["name"] for b in out["banks"]] == ["安泰社区时间银行"]


# --- a relative acting as a proxy through the API ---------------------------------------------------


def test_the_relatives_role_holds_the_member_code():
    from accounts.roles import ROLE_PERMISSIONS, Role

    assert "timebank.use_account" in ROLE_PERMISSIONS[Role.ELDER]  # 老人/家属: the relatives' role


@pytest.fixture
def son(people, tree):
    """王奶奶's son, a relative's login, registered as her proxy (viewing only, to begin with)."""
    from timebank.members import proxy_register

    user = make_user("tbson2", "elder", tree.community)
    desk = make_user("tbdesk2", "community", tree.community)
    s = type("S", (), {})()
    s.user = user
    s.proxy = proxy_register(
        by=desk, member=people.mine.member, user=user, name="王小明", relation="儿子", consent_note="本人签字的授权书"
    )
    s.desk = desk
    return s


def test_a_proxy_without_can_spend_may_not_spend_and_with_it_may(people, son):
    body = {"kind": "spend", "from_account": people.mine.pk, "minutes": 20, "category": "mutual_care", "note": "邻里帮忙买菜"}
    before = Transfer.objects.count()

    assert api(son.user)("POST", "/api/timebank/transfers", body).status_code == 404
    assert Transfer.objects.count() == before and bal(people.mine) == 100

    son.proxy.can_spend = True
    son.proxy.save()
    response = api(son.user)("POST", "/api/timebank/transfers", body)

    assert response.status_code == 201, response.json()
    spent = Transfer.objects.get(pk=response.json()["id"])
    assert spent.kind == "spend" and spent.proxy_id == son.proxy.pk and spent.confirmation == "proxy"
    assert bal(people.mine) == 80


def test_a_proxy_with_can_spend_only_may_not_give(people, son):
    son.proxy.can_spend = True
    son.proxy.save()
    call = api(son.user)

    gift = call(
        "POST",
        "/api/timebank/transfers",
        {"kind": "gift", "from_account": people.mine.pk, "to_account": people.son.pk, "minutes": 5},
    )
    give = call(
        "POST",
        "/api/timebank/me/give",
        {"member": people.mine.member.pk, "to_number": people.son.member.pk, "to_name": "王小明", "minutes": 5},
    )

    assert gift.status_code == 404
    assert give.status_code == 422 and "没有代理该会员转赠的权限" in give.json()["detail"]
    assert bal(people.mine) == 100


def test_a_proxy_with_can_give_gives_through_my_give(people, son):
    son.proxy.can_give = True
    son.proxy.save()

    response = api(son.user)(
        "POST",
        "/api/timebank/me/give",
        {"member": people.mine.member.pk, "to_number": people.son.member.pk, "to_name": "王小明", "minutes": 15},
    )

    assert response.status_code == 201, response.json()
    assert bal(people.mine) == 85 and bal(people.son) == 15
    assert Transfer.objects.filter(kind="gift", proxy=son.proxy).count() == 1


def test_an_ended_proxy_is_refused_whatever_its_rights(people, son):
    from timebank.members import proxy_end

    son.proxy.can_give = son.proxy.can_spend = True
    son.proxy.save()
    proxy_end(by=son.desk, proxy=son.proxy)  # ended today: no longer in force (proxy_active_q)
    call = api(son.user)
    before = Transfer.objects.count()

    spend = call("POST", "/api/timebank/transfers", {"kind": "spend", "from_account": people.mine.pk, "minutes": 5})
    donate = call("POST", "/api/timebank/transfers", {"kind": "donation", "from_account": people.mine.pk, "minutes": 5})
    give = call(
        "POST",
        "/api/timebank/me/give",
        {"member": people.mine.member.pk, "to_number": people.son.member.pk, "to_name": "王小明", "minutes": 5},
    )
    statement = call("GET", f"/api/timebank/accounts/{people.mine.pk}/movements")

    assert (spend.status_code, donate.status_code, give.status_code, statement.status_code) == (404, 404, 404, 404)
    assert Transfer.objects.count() == before and bal(people.mine) == 100


def test_the_desk_may_not_spend_for_a_member_through_the_api(people, desk):
    response = api(desk)("POST", "/api/timebank/transfers", {"kind": "spend", "from_account": people.mine.pk, "minutes": 5})

    assert response.status_code == 403 and "窗口取出" in response.json()["detail"]
    assert bal(people.mine) == 100
