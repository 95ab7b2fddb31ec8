"""The needs ledger: recording, the state machine (every legal and illegal move), reasons,
history, overdue lists and the region that follows the elder."""

import datetime
import itertools

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.models import ChangeRecord
from catalogue.models import ServiceItem
from conftest import make_user
from elders.tests.factories import ElderFactory
from needs.models import NEED_ACTIONS, NEED_MACHINE, Need, State
from needs.selectors import NeedFilter, is_overdue, need_desk_figures, need_list
from needs.services import need_create, need_move, need_regions_sync, need_update

pytestmark = pytest.mark.django_db

LEGAL = {
    (State.OPEN, "plan"): State.PLANNED,
    (State.OPEN, "meet"): State.MET,
    (State.OPEN, "close"): State.CLOSED,
    (State.PLANNED, "meet"): State.MET,
    (State.PLANNED, "close"): State.CLOSED,
    (State.PLANNED, "reopen"): State.OPEN,
    (State.MET, "reopen"): State.OPEN,
    (State.CLOSED, "reopen"): State.OPEN,
}


@pytest.fixture
def elder(tree):
    return ElderFactory(region=tree.grid, name="冷国兴")


def _need(by, elder, **kw):
    kw.setdefault("kind", "general")
    kw.setdefault("source", "visit")
    kw.setdefault("description", "希望每周有人上门打扫卫生")
    return need_create(by=by, elder=elder, **kw)


def _at(need, state):
    Need.objects.filter(pk=need.pk).update(state=state)
    need.refresh_from_db()
    return need


def test_the_table_is_the_one_documented():
    assert NEED_MACHINE.transitions == LEGAL


@pytest.mark.parametrize(("state", "action"), list(itertools.product(State.values, NEED_ACTIONS)))
def test_every_move_from_every_state(worker, elder, state, action):
    need = _at(_need(worker, elder), state)
    target = LEGAL.get((state, action))
    if target is None:
        with pytest.raises(ValidationError) as exc:
            need_move(by=worker, need=need, action=action, reason="原因")
        assert "不能" in exc.value.message_dict["action"][0]
        assert Need.objects.get(pk=need.pk).state == state
        assert not ChangeRecord.objects.filter(model="needs.need", action="status").exists()
    else:
        need_move(by=worker, need=need, action=action, reason="原因")
        assert Need.objects.get(pk=need.pk).state == target
        record = ChangeRecord.objects.get(model="needs.need", action="status")
        assert record.changes["state"] == [state, target] and record.by == worker and "原因" in record.note


@pytest.mark.parametrize("action", ["close", "reopen"])
def test_closing_and_reopening_need_a_reason(worker, elder, action):
    need = _need(worker, elder)
    if action == "reopen":
        need = _at(need, State.CLOSED)
    before = need.state
    with pytest.raises(ValidationError) as exc:
        need_move(by=worker, need=need, action=action, reason="  ")
    assert "原因" in exc.value.message_dict["reason"][0]
    assert Need.objects.get(pk=need.pk).state == before


def test_closing_keeps_the_reason_and_reopening_clears_it(worker, elder):
    need = _need(worker, elder)
    need_move(by=worker, need=need, action="close", reason="老人已入住养老机构")
    assert Need.objects.get(pk=need.pk).close_reason == "老人已入住养老机构"
    need_move(by=worker, need=need, action="reopen", reason="老人回家居住")
    need.refresh_from_db()
    assert need.state == State.OPEN and need.close_reason == ""


def test_an_unknown_action_is_refused_naming_the_field(worker, elder):
    with pytest.raises(ValidationError) as exc:
        need_move(by=worker, need=_need(worker, elder), action="explode")
    assert "操作无效" in exc.value.message_dict["action"][0]


def test_planning_may_set_the_follow_up_date(worker, elder):
    need = _need(worker, elder)
    later = timezone.localdate() + datetime.timedelta(days=3)
    need_move(by=worker, need=need, action="plan", follow_up_on=later)
    assert Need.objects.get(pk=need.pk).follow_up_on == later


def test_create_records_history_with_items_and_the_elders_region(worker, elder, tree):
    items = list(ServiceItem.objects.filter(code__in=["cleaning", "meal_delivery"]))
    need = _need(worker, elder, kind="urgent", items=items)
    assert need.region == tree.grid
    assert set(need.items.all()) == set(items)
    record = ChangeRecord.objects.get(model="needs.need", action="create")
    assert record.changes["kind"] == [None, "urgent"] and record.region == tree.grid


def test_a_description_is_required_and_free_text_is_checked(worker, elder):
    with pytest.raises(ValidationError) as exc:
        _need(worker, elder, description="   ")
    assert "需求描述" in exc.value.message_dict["description"][0]
    with pytest.raises(ValidationError) as exc:
        _need(worker, elder, description="打扫\u200b卫生")
    assert "不可见" in exc.value.message_dict["description"][0]


def test_update_records_only_what_changed(worker, elder):
    need = _need(worker, elder)
    need_update(by=worker, need=need, kind="special", description=need.description)
    record = ChangeRecord.objects.get(model="needs.need", action="update")
    assert record.changes == {"kind": ["general", "special"]}


def test_a_role_that_may_only_read_cannot_record_or_move(tree, elder, worker):
    from core.access import NotPermitted

    street = make_user("street", "street", tree.street)
    with pytest.raises(NotPermitted):
        _need(street, elder)
    need = _need(worker, elder)
    with pytest.raises(NotPermitted):
        need_move(by=street, need=need, action="meet")


def test_overdue_is_pending_past_its_follow_up_date(worker, elder):
    today = timezone.localdate()
    late = _need(worker, elder, follow_up_on=today - datetime.timedelta(days=1))
    due_today = _need(worker, elder, follow_up_on=today)
    undated = _need(worker, elder)
    met_late = _need(worker, elder, follow_up_on=today - datetime.timedelta(days=5))
    need_move(by=worker, need=met_late, action="meet")
    planned_late = _need(worker, elder, follow_up_on=today - datetime.timedelta(days=2))
    need_move(by=worker, need=planned_late, action="plan")

    overdue = list(need_list(user=worker, filters=NeedFilter(overdue=True)))
    assert overdue == [planned_late, late]  # by follow-up date
    assert not is_overdue(due_today) and not is_overdue(undated)
    assert set(need_list(user=worker)) == {late, due_today, undated, planned_late}
    figures = need_desk_figures(user=worker)
    assert figures["open"] == 4 and figures["overdue"] == 2


def test_lists_filter_by_kind_state_and_item_category(worker, elder):
    meal = ServiceItem.objects.get(code="meal_delivery")
    legal = ServiceItem.objects.get(code="legal_advice")
    a = _need(worker, elder, kind="urgent", items=[meal])
    b = _need(worker, elder, kind="general", items=[legal])
    need_move(by=worker, need=b, action="meet")
    assert list(need_list(user=worker, filters=NeedFilter(kind="urgent"))) == [a]
    assert list(need_list(user=worker, filters=NeedFilter(state="met"))) == [b]
    assert list(need_list(user=worker, filters=NeedFilter(state="all", category=meal.category_id))) == [a]
    assert set(need_list(user=worker, filters=NeedFilter(state="all"))) == {a, b}


def test_another_community_sees_none_of_them(worker, elder, tree):
    _need(worker, elder)
    other = make_user("other", "community", tree.community2)
    assert list(need_list(user=other)) == []
    assert need_desk_figures(user=other)["open"] == 0
    assert need_desk_figures(user=make_user("cg", "caregiver", tree.community)) is None


def test_needs_follow_the_elder_to_a_new_community(worker, elder, tree):
    from elders.services import elder_update

    need = _need(worker, elder)
    admin = make_user("adm", "admin", tree.root)
    elder_update(by=admin, elder=elder, data={"region": tree.community2.pk})
    assert Need.objects.get(pk=need.pk).region == tree.community2


def test_the_daily_sync_puts_needs_back_in_their_elders_region(worker, elder, tree):
    from elders.models import Elder

    need = _need(worker, elder)
    Elder.objects.filter(pk=elder.pk).update(region=tree.community2)  # a bulk write: no signal
    assert need_regions_sync() == 1
    assert Need.objects.get(pk=need.pk).region == tree.community2
    assert need_regions_sync() == 0
