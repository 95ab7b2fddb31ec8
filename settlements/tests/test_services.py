"""Shares written at check-out, the month's quota, the merchant's discount, government purchase,
what is payable, the set-based statements, freezing, corrections and settling."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum

from audit.models import ChangeRecord
from settlements.models import Share, Statement, StatementLine
from settlements.selectors import previous_month, statement_lines, this_month
from settlements.services import share_correct, statement_issue, statements_build, statements_issue
from settlements.tests.helpers import last_month_day, resolve, visit

pytestmark = pytest.mark.django_db


def shares(order):
    return [(s.payer_kind, s.amount_fen) for s in Share.objects.filter(order=order).order_by("id")]


def severe_package(loop, *, quantity=2, mode="government", item=None, category=None, code="severe_home"):
    """A package of the city for 重度失能 elders, and the loop's elder made one."""
    from catalogue.models import EntitlementPackage
    from catalogue.services import package_save
    from elders.services import elder_set_ability_level

    package = package_save(
        by=loop.admin,
        package=EntitlementPackage(),
        data={
            "region": loop.tree.city,
            "code": code,
            "name": "重度失能居家照护",
            "ability_levels": ["severe"],
            "payment_mode": mode,
            "valid_from": datetime.date(2020, 1, 1),
        },
        grants=[{"item": item, "category": category, "quantity": quantity, "unit": "hour"}],
    )
    elder_set_ability_level(by=loop.admin, elder=loop.elder, level="severe")
    loop.elder.refresh_from_db()
    return package


# --- the shares of a visit ------------------------------------------------------------------------


def test_a_checked_out_visit_is_the_elders_when_nobody_else_pays(loop):
    order = visit(loop, quantity=2)

    assert order.amount_fen == 7000  # 打扫卫生 35 元 an hour × 2
    (share,) = Share.objects.filter(order=order)
    assert (share.payer_kind, share.amount_fen) == ("elder", 7000)
    assert share.payer_label == "安泰社区·老人自付" and share.payer_key == str(loop.tree.community.pk)
    assert share.month == previous_month() and share.region == loop.elder.region
    assert share.organisation == loop.org and share.caregiver == loop.anna


def test_no_shares_before_check_out(loop):
    order = loop.order(start=datetime.datetime.now().astimezone())
    loop.accepted(order)
    assert not Share.objects.filter(order=order).exists()


def test_government_purchase_is_paid_by_the_district(loop):
    order = visit(loop, payment_mode="government", quantity=3)

    assert shares(order) == [("government", 10500)]
    share = Share.objects.get(order=order)
    assert share.payer_key == str(loop.tree.district.pk) and share.payer_label == "锦山区·政府购买"


def test_the_government_level_is_a_setting(loop, settings):
    settings.SETTLEMENTS_GOVERNMENT_LEVEL = "city"
    order = visit(loop, payment_mode="government")
    assert Share.objects.get(order=order).payer_label == "示范市·政府购买"


def test_a_quota_is_used_up_across_the_month_and_renews_the_next(loop):
    severe_package(loop, quantity=3, item=loop.item)
    first = visit(loop, quantity=2, day=last_month_day(3))
    second = visit(loop, quantity=2, day=last_month_day(12))  # 1 hour of the quota is left
    third = visit(loop, quantity=1, day=last_month_day(20))  # none left
    next_month = visit(loop, quantity=1, day=this_month())  # a new month: a new quota

    assert shares(first) == [("subsidy", 7000)]
    assert shares(second) == [("subsidy", 3500), ("elder", 3500)]
    assert shares(third) == [("elder", 3500)]
    assert shares(next_month) == [("subsidy", 3500)]
    used = Share.objects.filter(payer_kind="subsidy", month=previous_month()).aggregate(n=Sum("units"))["n"]
    assert used == 3


def test_a_category_quota_covers_the_categorys_items_in_their_unit(loop):
    severe_package(loop, quantity=1, category=loop.item.category)
    order = visit(loop, quantity=2)
    assert shares(order) == [("subsidy", 3500), ("elder", 3500)]


def test_a_low_cost_package_pays_the_configured_percentage(loop, settings):
    settings.SETTLEMENTS_LOW_COST_PERCENT = 40
    severe_package(loop, quantity=10, item=loop.item, mode="low_cost")
    order = visit(loop, quantity=1)
    assert shares(order) == [("subsidy", 1400), ("elder", 2100)]


def test_an_elder_not_entitled_pays_in_full(loop):
    severe_package(loop, quantity=10, item=loop.item)
    from elders.services import elder_set_ability_level

    elder_set_ability_level(by=loop.admin, elder=loop.elder, level="mild")
    loop.elder.refresh_from_db()
    assert shares(visit(loop)) == [("elder", 3500)]


def _merchant(loop, *, tenths=75, status="active", period_end=None):
    from merchants.models import Merchant

    return Merchant.objects.create(
        region=loop.tree.community,
        name="安泰家政服务部",
        kind="housekeeping",
        discount_tenths=tenths,
        status=status,
        period_end=period_end,
    )


def test_the_merchant_bears_its_discount_floored(loop):
    merchant = _merchant(loop, tenths=75)
    order = visit(loop, merchant=merchant)  # 3,500 fen × 7.5 % = 262.5 → 262
    assert shares(order) == [("merchant", 262), ("elder", 3238)]
    assert Share.objects.get(order=order, payer_kind="merchant").payer_key == str(merchant.pk)


def test_no_discount_from_a_merchant_whose_agreement_ended(loop):
    merchant = _merchant(loop, period_end=last_month_day(1))
    assert shares(visit(loop, merchant=merchant)) == [("elder", 3500)]


def test_a_free_visit_is_one_zero_share(loop):
    from catalogue.models import ServiceItem

    loop.item = ServiceItem.objects.get(code="home_visit")  # 上门探视, free
    order = visit(loop)
    assert order.amount_fen == 0 and shares(order) == [("elder", 0)]


# --- statements -----------------------------------------------------------------------------------


def _statement(kind, **kw):
    return Statement.objects.get(kind=kind, **kw)


def test_the_month_builds_one_statement_per_payer_organisation_and_worker(loop, office):
    severe_package(loop, quantity=1, item=loop.item)
    visit(loop, quantity=2)  # subsidy 3,500 + elder 3,500
    visit(loop, payment_mode="government", worker=loop.bo)  # government 3,500
    visit(loop, day=this_month())  # this month: not on last month's statements

    result = statements_build(by=office, month=previous_month(), region=loop.tree.district)

    assert result.statements == {"payer": 3, "organisation": 1, "worker": 2}
    payers = {s.payer_kind: (s.party_label, s.total_fen, s.line_count) for s in Statement.objects.filter(kind="payer")}
    assert payers == {
        "subsidy": ("重度失能居家照护", 3500, 1),
        "elder": ("安泰社区·老人自付", 3500, 1),
        "government": ("锦山区·政府购买", 3500, 1),
    }
    org = _statement("organisation")
    assert (org.organisation, org.party_label, org.total_fen, org.line_count) == (loop.org, loop.org.name, 10500, 3)
    workers = {s.caregiver: (s.total_fen, s.organisation) for s in Statement.objects.filter(kind="worker")}
    assert workers == {loop.anna: (7000, loop.org), loop.bo: (3500, loop.org)}
    assert all(s.state == "draft" and s.region == loop.tree.district for s in Statement.objects.all())


def test_the_set_based_build_adds_up_to_the_sum_of_the_payable_shares(loop, office):
    severe_package(loop, quantity=4, item=loop.item, mode="low_cost")
    merchant = _merchant(loop, tenths=88)
    for n, (quantity, mode, verification) in enumerate(
        [(1, "low_cost", "verified"), (3, "government", "verified"), (2, "paid", "pending"), (5, "paid", "verified")]
    ):
        visit(loop, day=last_month_day(n + 2), quantity=quantity, payment_mode=mode, verification=verification, merchant=merchant)

    statements_build(by=office, month=previous_month(), region=loop.tree.district)

    payable = Share.objects.filter(order__verification="verified", month=previous_month())
    expected = payable.aggregate(n=Sum("amount_fen"))["n"]
    for kind in ("payer", "organisation", "worker"):
        built = Statement.objects.filter(kind=kind)
        assert built.aggregate(n=Sum("total_fen"))["n"] == expected, kind
        assert sum(s.line_count for s in built) == payable.count()
        for statement in built:
            lines = statement_lines(statement=statement)
            assert (lines.aggregate(n=Sum("amount_fen"))["n"], lines.count()) == (statement.total_fen, statement.line_count)
    per_party = {(s.payer_kind, s.party_key.split(":", 1)[1]): s.total_fen for s in Statement.objects.filter(kind="payer")}
    summed = payable.values("payer_kind", "payer_key").annotate(n=Sum("amount_fen"))
    assert per_party == {(r["payer_kind"], r["payer_key"]): r["n"] for r in summed}


def test_an_unverified_or_disputed_visit_is_not_payable_until_resolved(loop, office):
    ok = visit(loop, day=last_month_day(2))
    pending = visit(loop, day=last_month_day(3), verification="pending")
    disputed = visit(loop, day=last_month_day(4), verification="disputed")
    month = previous_month()

    statements_build(by=office, month=month, region=loop.tree.district)
    on_statements = set(StatementLine.objects.filter(kind="payer").values_list("share__order", flat=True))
    assert on_statements == {ok.pk}

    resolve(pending)  # a person accepted the exception: payable now; the draft is rebuilt
    statements_build(by=office, month=month, region=loop.tree.district)
    lines = StatementLine.objects.filter(kind="payer")
    assert set(lines.values_list("share__order", flat=True)) == {ok.pk, pending.pk}
    assert not lines.filter(is_late=True).exists()

    statements_issue(by=office, month=month, region=loop.tree.district)
    resolve(disputed)  # resolved after the month was issued: a late line next month
    statements_build(by=office, month=this_month(), region=loop.tree.district)
    late = StatementLine.objects.get(statement__month=this_month(), kind="payer")
    assert late.share.order == disputed and late.is_late and late.amount_fen == 3500
    assert not Share.objects.get(order=disputed).awaits_statement


def test_a_rejected_visit_is_never_payable(loop, office):
    visit(loop, verification="rejected")
    statements_build(by=office, month=previous_month(), region=loop.tree.district)
    assert not Statement.objects.exists()


def test_a_rebuilt_draft_replaces_the_old_one_and_an_issued_statement_is_never_touched(loop, office):
    visit(loop, day=last_month_day(2))
    month = previous_month()
    statements_build(by=office, month=month, region=loop.tree.district)
    first_ids = set(Statement.objects.values_list("pk", flat=True))
    visit(loop, day=last_month_day(5))

    statements_build(by=office, month=month, region=loop.tree.district)

    assert first_ids.isdisjoint(Statement.objects.values_list("pk", flat=True))
    assert _statement("payer").total_fen == 7000 and _statement("payer").line_count == 2

    statement_issue(by=office, statement=_statement("payer"))
    issued = _statement("payer")
    lines_before = list(issued.lines.values_list("pk", "amount_fen"))
    visit(loop, day=last_month_day(8), verification="pending")
    resolve(Share.objects.latest("id").order)
    statements_build(by=office, month=month, region=loop.tree.district)

    issued.refresh_from_db()
    assert (issued.state, issued.total_fen, issued.line_count) == ("issued", 7000, 2)
    assert list(issued.lines.values_list("pk", "amount_fen")) == lines_before
    # The newly payable visit waits for a later statement of the elders' party.
    assert Share.objects.latest("id").awaits_statement
    assert not Statement.objects.filter(kind="payer", month=month, state="draft").exists()


def test_an_issued_statement_refuses_a_second_issue(loop, office):
    visit(loop)
    statements_build(by=office, month=previous_month(), region=loop.tree.district)
    statement = _statement("payer")
    statement_issue(by=office, statement=statement)
    with pytest.raises(ValidationError) as refused:
        statement_issue(by=office, statement=statement)
    assert "已出具" in refused.value.message_dict["state"][0]


def test_a_correction_is_a_new_share_and_a_late_line_never_an_edit(loop, office):
    order = visit(loop, payment_mode="government")
    month = previous_month()
    statements_build(by=office, month=month, region=loop.tree.district)
    statements_issue(by=office, month=month, region=loop.tree.district)
    share = Share.objects.get(order=order)
    issued = _statement("payer", month=month)

    correction = share_correct(by=office, share=share, amount_fen=3000, note="核实服务时长不足")

    assert (correction.corrects, correction.amount_fen, correction.payer_key) == (share, -500, share.payer_key)
    share.refresh_from_db()
    assert share.amount_fen == 3500  # never edited
    record = ChangeRecord.objects.get(model="settlements.share", object_id=share.pk, action="correct")
    assert record.changes == {"amount_fen": [3500, 3000]} and record.note == "核实服务时长不足"

    statements_build(by=office, month=this_month(), region=loop.tree.district)
    line = StatementLine.objects.get(share=correction, kind="payer")
    assert line.is_late and line.amount_fen == -500 and line.statement.month == this_month()
    issued.refresh_from_db()
    assert (issued.total_fen, issued.line_count) == (3500, 1)

    again = share_correct(by=office, share=correction, amount_fen=3500, note="复核后恢复原金额")
    assert again.corrects == share and again.amount_fen == 500


def test_a_correction_must_change_something_and_say_why(loop, office):
    share = Share.objects.get(order=visit(loop))
    with pytest.raises(ValidationError) as refused:
        share_correct(by=office, share=share, amount_fen=3500, note="无")
    assert "amount_fen" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        share_correct(by=office, share=share, amount_fen=-1, note="")
    assert set(refused.value.message_dict) == {"amount_fen", "note"}


def test_issuing_the_payer_statements_settles_orders_whose_every_share_is_issued(loop, office):
    from orders.models import Order

    severe_package(loop, quantity=1, item=loop.item)
    both = visit(loop, quantity=2, day=last_month_day(2))  # subsidy + elder
    rated = visit(loop, payment_mode="government", day=last_month_day(3))
    Order.objects.filter(pk=rated.pk).update(status="evaluated")
    month = previous_month()
    statements_build(by=office, month=month, region=loop.tree.district)

    result = statement_issue(by=office, statement=_statement("payer", payer_kind="subsidy"))
    assert result.orders_settled == 0  # its elder share is not issued yet
    assert Order.objects.get(pk=both.pk).status == "completed"
    result = statement_issue(by=office, statement=_statement("payer", payer_kind="elder"))
    assert result.orders_settled == 1
    result = statement_issue(by=office, statement=_statement("organisation"))
    assert result.orders_settled == 0  # organisation and worker statements settle nothing
    result = statement_issue(by=office, statement=_statement("payer", payer_kind="government"))
    assert result.orders_settled == 1

    settled = {o.pk: (o.status, o.settled_at is not None) for o in Order.objects.all()}
    assert settled == {both.pk: ("settled", True), rated.pk: ("settled", True)}
    moves = ChangeRecord.objects.filter(model="orders.order", action="status", changes__status__1="settled")
    assert sorted((m.object_id, tuple(m.changes["status"]), m.by_id) for m in moves) == sorted(
        [(both.pk, ("completed", "settled"), office.pk), (rated.pk, ("evaluated", "settled"), office.pk)]
    )
    assert all("付费方结算单已出具" in m.note for m in moves)


def test_issuing_a_month_at_once_settles_its_orders(loop, office):
    from orders.models import Order

    orders = [visit(loop, day=last_month_day(n + 1)) for n in range(3)]
    waiting = visit(loop, day=last_month_day(9), verification="pending")
    statements_build(by=office, month=previous_month(), region=loop.tree.district)

    result = statements_issue(by=office, month=previous_month(), region=loop.tree.district)

    assert result.statements == 3 and result.orders_settled == 3
    assert set(Order.objects.filter(status="settled").values_list("pk", flat=True)) == {o.pk for o in orders}
    assert Order.objects.get(pk=waiting.pk).status == "completed"
    assert not Statement.objects.filter(state="draft").exists()
    assert ChangeRecord.objects.filter(model="settlements.statement", action="issue").count() == 3


def test_this_months_statements_are_drafts_until_the_month_is_over(loop, office):
    visit(loop, day=this_month())
    statements_build(by=office, month=this_month(), region=loop.tree.district)
    with pytest.raises(ValidationError) as refused:
        statement_issue(by=office, statement=_statement("payer"))
    assert "尚未结束" in refused.value.message_dict["month"][0]
    with pytest.raises(ValidationError):
        statements_build(by=office, month=this_month() + datetime.timedelta(days=40), region=loop.tree.district)


def test_a_build_of_a_street_leaves_the_other_streets_shares(loop, office):
    from elders.tests.factories import ElderFactory

    visit(loop)
    loop.elder = ElderFactory(region=loop.tree.community2, home_lat=30.63, home_lng=120.57)
    visit(loop)

    statements_build(by=office, month=previous_month(), region=loop.tree.street)

    (payer,) = Statement.objects.filter(kind="payer")
    assert payer.party_label == "安泰社区·老人自付" and payer.region == loop.tree.street
    assert Share.objects.filter(lines__isnull=True).count() == 1


def test_a_build_outside_the_users_region_is_refused(loop, tree):
    from django.http import Http404

    from conftest import make_user

    other = make_user("street2", "street", tree.street2)
    with pytest.raises(Http404):
        statements_build(by=other, month=previous_month(), region=tree.street)


def test_a_new_payer_registered_elsewhere_is_split_and_stated_with_no_other_change(loop, office):
    """What the time bank will do: one class with load/claim, registered from its app; the
    check-out hook, the split and the statements take it as they are."""
    from settlements.payers import Payer, register_payer, unregister_payer

    class Coins(Payer):
        code = "test_coins"
        label = "时间币"
        order = 40

        def load(self, ctx):
            ctx.facts[self.code] = {"key": ctx.order.elder_id, "label": f"{ctx.order.elder.name}的时间币", "balance": 1000}

        def claim(self, ctx):
            return ctx.facts[self.code]["balance"]

    register_payer(Coins())
    try:
        order = visit(loop)
        assert shares(order) == [("test_coins", 1000), ("elder", 2500)]
        statements_build(by=office, month=previous_month(), region=loop.tree.district)
        coins = Statement.objects.get(kind="payer", payer_kind="test_coins")
        assert (coins.party_label, coins.total_fen) == (f"{loop.elder.name}的时间币", 1000)
    finally:
        unregister_payer("test_coins")


def test_an_organisations_statement_is_its_workers_and_is_issued_with_them(loop, office):
    visit(loop, day=last_month_day(2))
    visit(loop, day=last_month_day(3), worker=loop.bo)
    month = previous_month()
    statements_build(by=office, month=month, region=loop.tree.district)
    org = _statement("organisation")
    assert [ln.share.caregiver for ln in statement_lines(statement=org)] == [loop.anna, loop.bo]

    statement_issue(by=office, statement=org)

    assert set(Statement.objects.filter(kind="worker").values_list("state", flat=True)) == {"issued"}
    # A worker of that organisation whose visit becomes payable later waits for a later month.
    late = visit(loop, day=last_month_day(9), verification="pending")
    resolve(late)
    statements_build(by=office, month=month, region=loop.tree.district)
    org.refresh_from_db()
    assert (org.state, org.line_count) == ("issued", 2)
    assert not StatementLine.objects.filter(share__order=late, kind="worker").exists()
    statements_build(by=office, month=this_month(), region=loop.tree.district)
    assert StatementLine.objects.get(share__order=late, kind="worker").is_late


def test_a_share_on_its_worker_statement_but_not_its_payers_gets_only_the_missing_line_later(loop, office):
    month = previous_month()
    visit(loop, day=last_month_day(2))
    statements_build(by=office, month=month, region=loop.tree.district)
    statement_issue(by=office, statement=_statement("payer"))  # the elders' statement only
    later = resolve(visit(loop, day=last_month_day(6), verification="pending"))

    statements_build(by=office, month=month, region=loop.tree.district)
    share = Share.objects.get(order=later)
    assert [ln.kind for ln in share.lines.all()] == ["worker"] and share.awaits_statement

    statements_build(by=office, month=this_month(), region=loop.tree.district)
    share.refresh_from_db()
    assert sorted((ln.kind, ln.statement.month, ln.is_late) for ln in share.lines.all()) == [
        ("payer", this_month(), True),
        ("worker", month, False),
    ]
    assert not share.awaits_statement
