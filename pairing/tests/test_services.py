"""pairing.services and pairing.selectors: create, end, refusals, the unwatched list, scope."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from audit.models import AccessLog, ChangeRecord
from conftest import make_user
from core import crypto
from elders.tests.factories import ElderFactory
from pairing import selectors, services
from pairing.models import Pairing

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def _watcher(worker, elder, **kw):
    data = {"role": "watcher", "partner_kind": "neighbour", "partner_name": "张玉华", "phone": "138 1234 5678"}
    data.update(kw)
    return services.pairing_create(by=worker, elder=elder, **data)


def test_create_copies_the_elders_region_stores_the_phone_and_records_history(worker, elder):
    p = _watcher(worker, elder, address_note="同楼对门")

    assert p.region_id == elder.region_id and p.starts_on == TODAY
    assert p.phone_masked == "138****5678" and crypto.decrypt(p.phone_enc) == "13812345678"
    record = ChangeRecord.objects.get(model="pairing.pairing", object_id=p.pk, action="create")
    assert record.changes["partner_phone"] == [None, "138****5678"]
    assert "13812345678" not in str(record.changes)


def test_create_refuses_a_second_watcher_pairing_of_the_same_partner(worker, elder):
    _watcher(worker, elder)

    with pytest.raises(ValidationError) as exc:
        _watcher(worker, elder, phone="13812345678")

    assert "无需重复结对" in exc.value.message_dict["partner_name"][0]
    assert Pairing.objects.count() == 1


def test_the_same_partner_may_be_watcher_and_helper_and_two_partners_may_watch(worker, elder):
    _watcher(worker, elder)
    _watcher(worker, elder, role="helper")
    _watcher(worker, elder, partner_name="单井英", phone="13900001111")

    assert Pairing.objects.filter(elder=elder).count() == 3


def test_a_partner_whose_pairing_ended_may_be_paired_again(worker, elder):
    first = _watcher(worker, elder, starts_on=TODAY - datetime.timedelta(days=30))
    services.pairing_end(by=worker, pairing=first, reason="搬走后又搬回")

    again = _watcher(worker, elder)

    assert again.pk != first.pk


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"partner_name": " "}, "partner_name"),
        ({"phone": ""}, "phone"),
        ({"phone": "12345"}, "phone"),
        ({"role": "boss"}, "role"),
        ({"partner_kind": "volunteer"}, "volunteer"),
        ({"notes": "x" * 201}, "notes"),
        ({"partner_name": "张\u202e玉华"}, "partner_name"),
    ],
)
def test_create_refuses_bad_input_naming_the_field_in_chinese(worker, elder, changes, field):
    with pytest.raises(ValidationError) as exc:
        _watcher(worker, elder, **changes)

    assert field in exc.value.message_dict
    assert any("\u4e00" <= ch <= "\u9fff" for ch in exc.value.message_dict[field][0])
    assert not Pairing.objects.exists()


def test_create_refuses_an_elder_of_another_region(worker_in_other_region, elder):
    with pytest.raises(Http404):
        _watcher(worker_in_other_region, elder)


def test_a_grid_worker_may_pair_an_auditor_may_not(grid_user, auditor, elder):
    from core.access import NotPermitted

    assert _watcher(grid_user, elder).created_by == grid_user
    with pytest.raises(NotPermitted):
        _watcher(auditor, elder, partner_name="别人", phone="13900002222")


def test_a_volunteer_partner_gives_name_phone_and_account(worker, elder, tree):
    from providers import services as providers

    account = make_user("lishulin", "volunteer", tree.community)
    v = providers.volunteer_create(by=worker, data={"region": tree.community.pk, "name": "李树林", "phone": "13700001234"})
    providers.volunteer_decide(by=worker, volunteer=v, action="approve")
    v.refresh_from_db()
    v.user = account
    v.save()

    p = services.pairing_create(by=worker, elder=elder, role="helper", volunteer=v, partner_name="别的名字", phone="")

    assert (p.partner_name, p.partner_kind, p.user, p.volunteer) == ("李树林", "volunteer", account, v)
    assert p.phone_masked == v.phone_masked and crypto.decrypt(p.phone_enc) == "13700001234"


def test_a_volunteer_not_yet_approved_is_refused(worker, elder, tree):
    from providers import services as providers

    v = providers.volunteer_create(by=worker, data={"region": tree.community.pk, "name": "新人", "phone": "13700004321"})

    with pytest.raises(ValidationError) as exc:
        services.pairing_create(by=worker, elder=elder, role="watcher", volunteer=v)

    assert "审核" in exc.value.message_dict["volunteer"][0]


def test_an_account_must_be_a_residents_or_volunteers(worker, elder, grid_user):
    with pytest.raises(ValidationError) as exc:
        _watcher(worker, elder, user=grid_user)

    assert "user" in exc.value.message_dict


def test_end_needs_a_reason_and_a_date_not_before_the_start(worker, elder):
    p = _watcher(worker, elder, starts_on=TODAY - datetime.timedelta(days=3))

    with pytest.raises(ValidationError) as exc:
        services.pairing_end(by=worker, pairing=p, reason="  ")
    assert "reason" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.pairing_end(by=worker, pairing=p, reason="搬走了", ends_on=TODAY - datetime.timedelta(days=4))
    assert "开始日期" in exc.value.message_dict["ends_on"][0]

    services.pairing_end(by=worker, pairing=p, reason="搬走了")

    p.refresh_from_db()
    assert (p.ends_on, p.end_reason) == (TODAY, "搬走了")
    assert ChangeRecord.objects.filter(model="pairing.pairing", object_id=p.pk, action="end", note="搬走了").exists()
    with pytest.raises(ValidationError):
        services.pairing_end(by=worker, pairing=p, reason="再结束一次")


def test_a_pairing_ended_today_is_no_longer_in_force(worker, elder):
    p = _watcher(worker, elder, starts_on=TODAY - datetime.timedelta(days=10))
    assert selectors.is_active(p, TODAY)

    services.pairing_end(by=worker, pairing=p, reason="搬走了")

    assert not Pairing.objects.filter(pk=p.pk).filter(selectors.active_pairings_q(TODAY)).exists()
    assert Pairing.objects.filter(pk=p.pk).filter(selectors.active_pairings_q(TODAY - datetime.timedelta(days=1))).exists()


def test_the_pairing_follows_its_elder_to_another_region(worker, elder, tree):
    from regions.models import Level
    from regions.services import region_create

    p = _watcher(worker, elder)
    grid2 = region_create(name="安泰第二网格", level=Level.GRID, parent=tree.community)
    elder.region = grid2
    elder.save()

    p.refresh_from_db()
    assert p.region_id == grid2.pk


def test_regions_sync_repairs_a_move_written_in_bulk(worker, elder, tree):
    from elders.models import Elder

    p = _watcher(worker, elder)
    Elder.objects.filter(pk=elder.pk).update(region=tree.community)

    assert services.pairing_regions_sync() == 1
    p.refresh_from_db()
    assert p.region_id == tree.community.pk


# --- who is at risk, and who has no watcher -------------------------------------------------------


def _elders(tree):
    alone = ElderFactory(region=tree.grid, name="独居甲", living_arrangement="alone", marital_status="widowed", children_count=0)
    nest = ElderFactory(region=tree.grid, name="空巢乙", living_arrangement="spouse", children_count=2)
    severe = ElderFactory(region=tree.grid, name="重残丙", disability_grade="2")
    mild = ElderFactory(region=tree.grid, name="轻残丁", disability_grade="4")
    family = ElderFactory(region=tree.grid, name="与子女住", living_arrangement="children")
    other = ElderFactory(region=tree.community2, name="驻春独居", living_arrangement="alone", children_count=0)
    return alone, nest, severe, mild, family, other


def test_unwatched_lists_the_at_risk_in_scope_without_a_watcher(worker, tree):
    alone, nest, severe, mild, family, other = _elders(tree)
    _watcher(worker, nest)
    _watcher(worker, alone, role="helper")  # a helper is not a watcher

    found = list(selectors.unwatched_at_risk(user=worker, day=TODAY))

    assert found == sorted([alone, severe], key=lambda e: (e.name_pinyin, e.pk))
    assert selectors.at_risk_labels(severe) == ["重度残疾"]
    assert "独居" in selectors.at_risk_labels(alone)


def test_a_watcher_not_yet_started_or_ended_leaves_the_elder_unwatched(worker, tree):
    alone, nest, *_ = _elders(tree)
    _watcher(worker, alone, starts_on=TODAY + datetime.timedelta(days=5))
    ended = _watcher(worker, nest, starts_on=TODAY - datetime.timedelta(days=20))
    services.pairing_end(by=worker, pairing=ended, reason="去世的邻居")

    found = set(selectors.unwatched_at_risk(user=worker, day=TODAY))

    assert {alone, nest} <= found


def test_unwatched_leaves_out_those_no_longer_in_residence(worker, tree):
    from elders.services import elder_change_status

    alone, *_ = _elders(tree)
    elder_change_status(by=worker, elder=alone, action="decease", effective_on=TODAY, reason="病故")

    assert alone not in set(selectors.unwatched_at_risk(user=worker, day=TODAY))


def test_another_communitys_worker_sees_neither_the_pairings_nor_the_unwatched(worker, worker_in_other_region, tree):
    alone, nest, *_, other = _elders(tree)
    _watcher(worker, nest)

    assert not selectors.pairing_list(user=worker_in_other_region).exists()
    assert list(selectors.unwatched_at_risk(user=worker_in_other_region)) == [other]


def test_pairing_list_filters_role_kind_and_state(worker, elder):
    a = _watcher(worker, elder, starts_on=TODAY - datetime.timedelta(days=9))
    b = _watcher(worker, elder, role="helper", partner_kind="party_member", partner_name="党员", phone="13900003333")
    services.pairing_end(by=worker, pairing=a, reason="搬走了")
    f = selectors.PairingFilter

    assert list(selectors.pairing_list(user=worker)) == [b]
    assert list(selectors.pairing_list(user=worker, filters=f(active="ended"))) == [a]
    assert list(selectors.pairing_list(user=worker, filters=f(active="all", role="watcher"))) == [a]
    assert list(selectors.pairing_list(user=worker, filters=f(active="all", partner_kind="party_member"))) == [b]


# --- the watcher's own elders ---------------------------------------------------------------------


def test_watcher_elders_are_the_accounts_pairings_in_force(worker, elder, neighbour, tree):
    gone = ElderFactory(region=tree.grid, name="已结束", living_arrangement="alone", children_count=0)
    _watcher(worker, elder, user=neighbour)
    ended = _watcher(worker, gone, user=neighbour, starts_on=TODAY - datetime.timedelta(days=9))
    services.pairing_end(by=worker, pairing=ended, reason="搬走了")
    ElderFactory(region=tree.grid, name="别人的")

    assert list(selectors.watcher_elders(user=neighbour)) == [elder]
    assert not selectors.watcher_elders(user=worker).exists()  # a worker holds no watch permission


def test_the_elders_phone_for_the_watcher_is_logged(worker, elder, neighbour):
    p = _watcher(worker, elder, user=neighbour)

    phone = selectors.watcher_elder_phone(user=neighbour, pairing=p)

    assert phone == crypto.decrypt(elder.phone_enc)
    log = AccessLog.objects.get(by=neighbour)
    assert (log.kind, log.model, log.object_id, log.fields) == ("reveal", "elders.elder", elder.pk, "phone")
    assert phone not in str(log.detail)
