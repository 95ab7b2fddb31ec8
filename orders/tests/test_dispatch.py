"""Dispatch ranking (orders/dispatch.py): each criterion with small hand-checked cases.

The world: 安泰社区's elder at HOME, the organisation 机构 with 王安娜 (F) and 李波 (M), the
item 打扫卫生 (skill 保洁, certificate 家政服务员), the visit tomorrow 09:00–11:00.
"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import ChangeRecord
from orders.dispatch import auto_dispatch, candidates, certificate_phrase, elder_preference_set, rank, shift_fits
from orders.models import Status
from orders.tests.factories import HOME, at
from providers.services import absence_create
from providers.tests.factories import certificate

pytestmark = pytest.mark.django_db

# ~111 m per 0.001° of latitude.
NEAR = (HOME[0] + 0.001, HOME[1])  # ≈ 111 m north
FAR = (HOME[0] + 0.018, HOME[1])  # ≈ 2.0 km north


def names(ranked) -> list[str]:
    return [c.name for c in ranked]


def reasons(ranked, name) -> list[str]:
    return next(c for c in ranked if c.name == name).reasons


def texts(ranked, name) -> list[str]:
    return [r.text for r in reasons(ranked, name)]


@pytest.fixture
def both(loop):
    """王安娜 and 李波, both qualified, neither with a home nor hours: a tie broken by id."""
    loop.anna = loop.qualify(loop.anna)
    loop.bo = loop.qualify(loop.bo)
    return loop


# --- hard criteria ------------------------------------------------------------------------------


def test_a_caregiver_without_the_required_skill_is_not_offered(loop):
    loop.qualify(loop.anna)
    # 李波 holds the certificate but not the skill 保洁
    certificate(loop.tree, loop.bo, kind=loop.item.required_certificates.get(), number="B1")

    assert names(candidates(user=loop.desk, order=loop.order())) == ["王安娜"]


def test_a_certificate_expired_on_the_visit_day_is_not_valid(loop):
    # the visit is tomorrow: a certificate whose last valid day is today has expired by then
    loop.qualify(loop.anna, cert_days=0)
    loop.qualify(loop.bo, cert_days=1)  # its last valid day is the visit day: still valid

    assert names(candidates(user=loop.desk, order=loop.order())) == ["李波"]


def test_a_lower_grade_does_not_answer_a_higher_requirement(tree):
    from catalogue.models import CertificateKind
    from orders.tests.factories import LoopWorld

    loop = LoopWorld.build(tree, item_code="bathing")  # 助浴 requires 养老护理员（中级）
    junior, senior = (CertificateKind.objects.get(code=c) for c in ("eldercare_junior", "eldercare_senior"))
    skills = {"skills": list(loop.item.required_skills.values_list("pk", flat=True))}
    from providers.services import caregiver_update

    caregiver_update(by=loop.admin, caregiver=loop.anna, data=skills)
    caregiver_update(by=loop.admin, caregiver=loop.bo, data=skills)
    certificate(tree, loop.anna, kind=junior, number="J1", days=365)
    certificate(tree, loop.bo, kind=senior, number="S1", days=365)

    ranked = candidates(user=loop.desk, order=loop.order())

    assert names(ranked) == ["李波"]  # 高级 answers 中级; 初级 does not
    assert "持有有效养老护理员证（高级）" in texts(ranked, "李波")


def test_an_absent_caregiver_is_not_offered(both):
    day = both.tomorrow
    absence_create(by=both.dispatcher, caregiver=both.anna, data={"starts_on": day, "ends_on": day, "reason": "sick"})
    absence_create(
        by=both.dispatcher,
        caregiver=both.bo,
        data={"starts_on": day - datetime.timedelta(days=3), "ends_on": day - datetime.timedelta(days=1)},
    )

    assert names(candidates(user=both.desk, order=both.order())) == ["李波"]  # 李波's leave ended the day before


def test_an_overlapping_visit_excludes_and_an_adjacent_one_does_not(both):
    other = both.order(start=at(both.tomorrow, 8), scheduled_end=at(both.tomorrow, 9, 30))
    both.dispatched(other, caregiver=both.anna)  # 08:00–09:30 overlaps 09:00–11:00
    before = both.order(start=at(both.tomorrow, 7), scheduled_end=at(both.tomorrow, 9))
    both.dispatched(before, caregiver=both.bo)  # 07:00–09:00 ends as ours starts

    assert names(candidates(user=both.desk, order=both.order())) == ["李波"]


def test_a_cancelled_overlapping_order_does_not_block(both):
    from orders.services import order_cancel

    other = both.order(start=at(both.tomorrow, 9))
    both.dispatched(other, caregiver=both.anna)
    order_cancel(by=both.desk, order=other, reason="老人住院")

    assert "王安娜" in names(candidates(user=both.desk, order=both.order()))


def test_off_days_and_hours_outside_the_shift_exclude(both):
    from providers.services import caregiver_update

    weekday = both.tomorrow.isoweekday()
    other_days = [d for d in range(1, 8) if d != weekday]
    caregiver_update(by=both.admin, caregiver=both.anna, data={"work_days": other_days})
    caregiver_update(by=both.admin, caregiver=both.bo, data={"work_start": "10:00", "work_end": "18:00"})

    assert names(candidates(user=both.desk, order=both.order())) == []
    caregiver_update(by=both.admin, caregiver=both.bo, data={"work_start": "08:00", "work_end": "18:00"})
    ranked = candidates(user=both.desk, order=both.order(start=at(both.tomorrow, 14)))
    assert names(ranked) == ["李波"] and "当天在班（08:00–18:00）" in texts(ranked, "李波")


def test_a_caregiver_who_left_is_not_offered(both):
    from providers.services import caregiver_change_status

    caregiver_change_status(by=both.admin, caregiver=both.anna, action="leave")

    assert names(candidates(user=both.desk, order=both.order())) == ["李波"]


@pytest.mark.parametrize(
    ("shift", "window", "fits"),
    [
        (("08:00", "17:00"), ("09:00", "11:00"), True),
        (("08:00", "17:00"), ("16:00", "17:30"), False),
        (("22:00", "06:00"), ("23:00", "23:30"), True),  # a night shift, evening part
        (("22:00", "06:00"), ("05:00", "05:30"), True),  # … morning part
        (("22:00", "06:00"), ("12:00", "13:00"), False),
        ((None, None), ("03:00", "04:00"), True),  # hours not filled in: not held against them
    ],
)
def test_shift_fits(shift, window, fits):
    def t(v):
        return None if v is None else datetime.time.fromisoformat(v)

    day = datetime.date(2026, 3, 2)  # a Monday
    start, end = (datetime.datetime.combine(day, t(v)) for v in window)
    assert shift_fits(work_days=[1], work_start=t(shift[0]), work_end=t(shift[1]), start=start, end=end) is fits
    assert shift_fits(work_days=[2], work_start=t(shift[0]), work_end=t(shift[1]), start=start, end=end) is False


# --- soft criteria ------------------------------------------------------------------------------


def test_distance_from_home_ranks_the_nearer_first_with_its_reason(loop):
    loop.qualify(loop.anna, home_lat=FAR[0], home_lng=FAR[1])
    loop.qualify(loop.bo, home_lat=NEAR[0], home_lng=NEAR[1])

    ranked = candidates(user=loop.desk, order=loop.order())

    assert names(ranked) == ["李波", "王安娜"]
    assert "距老人家 111 米" in texts(ranked, "李波")
    assert "距老人家 2.0 公里" in texts(ranked, "王安娜")
    # 30 points at 0 m, none at 5 km: 111 m → 29.3 → 29; 2,002 m → 18.0 → 18
    assert [r.points for r in reasons(ranked, "李波") if r.text.startswith("距")] == [29]
    assert [r.points for r in reasons(ranked, "王安娜") if r.text.startswith("距")] == [18]


def test_distance_counts_from_the_previous_visit_of_that_day(loop):
    from elders.tests.factories import ElderFactory

    # 王安娜 lives next door but 李波 ends a visit 111 m from our elder just before ours starts
    loop.qualify(loop.anna, home_lat=FAR[0] - 0.009, home_lng=FAR[1])  # ≈ 1.0 km
    loop.qualify(loop.bo, home_lat=HOME[0] + 0.09, home_lng=HOME[1])  # ≈ 10 km
    neighbour = ElderFactory(region=loop.tree.grid, home_lat=NEAR[0], home_lng=NEAR[1])
    from orders.services import order_create

    earlier = order_create(
        by=loop.desk,
        elder=neighbour,
        item=loop.item,
        scheduled_start=at(loop.tomorrow, 7),
        scheduled_end=at(loop.tomorrow, 8, 30),
    )
    loop.dispatched(earlier, caregiver=loop.bo)

    ranked = candidates(user=loop.desk, order=loop.order())

    assert names(ranked) == ["李波", "王安娜"]
    assert "距上一单服务地点 111 米（08:30 结束）" in texts(ranked, "李波")
    assert next(c for c in ranked if c.name == "李波").distance_m == 111


def test_workload_this_week_lowers_the_score_and_says_how_many(both):
    for hour in (13, 15, 17):
        both.dispatched(both.order(start=at(both.tomorrow, hour)), caregiver=both.anna)

    ranked = candidates(user=both.desk, order=both.order())

    assert names(ranked) == ["李波", "王安娜"]
    assert "本周已安排 3 次服务" in texts(ranked, "王安娜")
    # 15 points with none, none at 30: 3 orders → 13.5 → 14 (half up)
    assert [r.points for r in reasons(ranked, "王安娜") if r.text.startswith("本周")] == [14]


def test_the_last_caregiver_of_the_elder_ranks_first_and_says_so(both):
    both.delivered(both.order(start=at(both.tomorrow - datetime.timedelta(days=7), 9)), both.bo)
    ranked = candidates(user=both.desk, order=both.order())

    assert names(ranked) == ["李波", "王安娜"]
    assert "上次为该老人服务" in texts(ranked, "李波")


def test_an_earlier_caregiver_gets_the_smaller_continuity_bonus(both):
    both.delivered(both.order(start=at(both.tomorrow - datetime.timedelta(days=14), 9)), both.anna)
    both.delivered(both.order(start=at(both.tomorrow - datetime.timedelta(days=7), 9)), both.bo)

    ranked = candidates(user=both.desk, order=both.order())
    anna = next(c for c in ranked if c.name == "王安娜")

    assert "曾为该老人服务 1 次" in [r.text for r in anna.reasons]
    assert [r.points for r in anna.reasons if r.text.startswith("曾为")] == [10]


def test_the_elders_wish_for_a_woman_raises_her_and_cautions_on_him(loop):
    loop.qualify(loop.anna, home_lat=HOME[0] + 0.0036, home_lng=HOME[1])  # ≈ 400 m: 28 points
    loop.qualify(loop.bo, home_lat=NEAR[0], home_lng=NEAR[1])  # ≈ 111 m: 29 points
    assert names(candidates(user=loop.desk, order=loop.order())) == ["李波", "王安娜"]

    elder_preference_set(by=loop.desk, elder=loop.elder, caregiver_sex="F")
    ranked = candidates(user=loop.desk, order=loop.order(start=at(loop.tomorrow, 14)))

    assert names(ranked) == ["王安娜", "李波"]
    assert "老人希望女性服务人员" in texts(ranked, "王安娜")
    minus = [r.text for r in reasons(ranked, "李波") if r.kind == "minus" and r.text.startswith("老人")]
    assert minus == ["老人希望女性服务人员，此人为男性"]


def test_a_dialect_the_elder_asked_for_raises_the_one_who_speaks_it(loop):
    loop.qualify(loop.anna, languages="普通话")
    loop.qualify(loop.bo, languages="普通话、粤语")
    elder_preference_set(by=loop.desk, elder=loop.elder, languages="粤语")

    ranked = candidates(user=loop.desk, order=loop.order())

    assert names(ranked) == ["李波", "王安娜"]
    assert "会说粤语（老人希望）" in texts(ranked, "李波")
    assert "老人希望用粤语交流，此人未登记" in texts(ranked, "王安娜")


def test_the_caregiver_the_elder_named_comes_first(both):
    elder_preference_set(by=both.desk, elder=both.elder, preferred_caregiver=both.bo)

    ranked = candidates(user=both.desk, order=both.order())

    assert names(ranked) == ["李波", "王安娜"] and "老人指定的服务人员" in texts(ranked, "李波")


def test_reasons_come_with_their_points_and_the_score_is_their_sum(both):
    elder_preference_set(by=both.desk, elder=both.elder, caregiver_sex="F")
    for c in candidates(user=both.desk, order=both.order()):
        assert c.score == sum(r.points for r in c.reasons)
        assert all(r.points > 0 for r in c.reasons if r.kind == "plus")


def test_the_ranking_reads_the_same_few_queries_for_two_or_twenty_caregivers(both):
    from orders.selectors import order_get

    def ranked(order):
        order = order_get(user=both.desk, order_id=order.pk, action="dispatch")  # as the pages read it
        with CaptureQueriesContext(connection) as queries:
            found = candidates(user=both.desk, order=order)
        return len(found), len(queries)

    two = ranked(both.order())
    for i in range(18):
        both.staff(name=f"员工{i}", home_lat=NEAR[0], home_lng=NEAR[1])
    twenty = ranked(both.order(start=at(both.tomorrow, 14)))

    assert two[0] == 2 and twenty[0] == 20
    assert twenty[1] == two[1] <= 10


def test_certificate_phrase():
    assert certificate_phrase("养老护理员（中级）") == "养老护理员证（中级）"
    assert certificate_phrase("家政服务员") == "家政服务员证"
    assert certificate_phrase("健康证") == "健康证"


# --- who may serve: organisations over, under and beside the elder's region --------------------


def test_an_organisation_registered_at_the_district_serves_the_community(tree, loop):
    from providers.models import Organisation
    from providers.tests.factories import organisation

    district_org = organisation(tree, region=tree.district, name="锦山区护理站")
    zhang = loop.staff(org=district_org, name="张丽")
    assert not Organisation.objects.restrict(loop.desk).filter(pk=district_org.pk).exists()  # outside restrict()

    ranked = candidates(user=loop.desk, order=loop.order())

    assert names(ranked) == ["张丽"] and ranked[0].organisation_name == "锦山区护理站"
    assert zhang.pk == ranked[0].id


def test_a_neighbouring_community_serves_only_through_its_service_area(tree, loop):
    from providers.services import organisation_update
    from providers.tests.factories import organisation

    neighbour = organisation(tree, region=tree.community2, name="驻春路家政")
    loop.staff(org=neighbour, name="赵敏")
    assert names(candidates(user=loop.desk, order=loop.order())) == []

    organisation_update(by=loop.admin, organisation=neighbour, data={"service_area": [tree.community.pk]})
    assert names(candidates(user=loop.desk, order=loop.order())) == ["赵敏"]


def test_a_suspended_organisations_staff_are_not_offered(tree, loop):
    from providers.services import organisation_update

    loop.qualify(loop.anna)
    organisation_update(by=loop.admin, organisation=loop.org, data={"status": "suspended"})

    assert names(candidates(user=loop.desk, order=loop.order())) == []


def test_an_organisations_dispatcher_is_offered_only_its_own_staff(tree, loop):
    from providers.tests.factories import organisation

    loop.qualify(loop.anna)
    other = organisation(tree, region=tree.district, name="锦山区护理站")
    loop.staff(org=other, name="张丽")
    order = loop.dispatched(loop.order())  # to 机构, nobody named

    assert names(candidates(user=loop.dispatcher, order=order)) == ["王安娜"]
    assert sorted(names(candidates(user=loop.desk, order=order))) == ["张丽", "王安娜"]


def test_another_region_cannot_rank_the_order(loop, worker_in_other_region):
    from django.http import Http404

    with pytest.raises(Http404):
        rank(user=worker_in_other_region, order=loop.order())


# --- volunteers for time-bank and free items ------------------------------------------------------


def test_volunteers_of_the_community_are_offered_for_a_free_item(tree):
    from orders.tests.factories import LoopWorld
    from providers.services import volunteer_decide
    from providers.tests.factories import volunteer

    loop = LoopWorld.build(tree, item_code="chat")  # 聊天谈心: free or time coins, skill 聊天陪伴
    skill = list(loop.item.required_skills.values_list("pk", flat=True))
    ours = volunteer(tree, name="林湘玲", skills=skill)
    theirs = volunteer(tree, region=tree.community2, name="刘晓", skills=skill)
    unskilled = volunteer(tree, name="付占玲")
    for v in (ours, theirs, unskilled):
        volunteer_decide(by=loop.admin, volunteer=v, action="approve")

    ranking = rank(user=loop.desk, order=loop.order(payment_mode="free"))

    assert ranking.offers_volunteers and names(ranking.candidates) == ["林湘玲"]
    assert ranking.candidates[0].kind == "volunteer" and "本社区志愿者" in [r.text for r in ranking.candidates[0].reasons]
    assert rank(user=loop.desk, order=loop.order(payment_mode="free", start=at(loop.tomorrow, 14))).candidates


def test_volunteers_are_not_offered_for_a_paid_item(both, tree):
    from providers.services import volunteer_decide
    from providers.tests.factories import volunteer

    v = volunteer(tree, name="林湘玲", skills=list(both.item.required_skills.values_list("pk", flat=True)))
    volunteer_decide(by=both.admin, volunteer=v, action="approve")

    ranking = rank(user=both.desk, order=both.order(payment_mode="paid"))
    assert not ranking.offers_volunteers and "林湘玲" not in names(ranking.candidates)


# --- automatic mode --------------------------------------------------------------------------------


def test_auto_dispatch_sends_to_the_best_when_the_score_passes(loop, settings):
    settings.DISPATCH_AUTO_MIN_SCORE = 40
    loop.qualify(loop.anna, home_lat=NEAR[0], home_lng=NEAR[1])  # 29 + 15 = 44
    loop.qualify(loop.bo)  # 15
    order = loop.order()

    chosen = auto_dispatch(by=loop.desk, order=order)

    order.refresh_from_db()
    assert chosen == loop.anna and order.status == Status.DISPATCHED and order.caregiver == loop.anna
    move = ChangeRecord.objects.filter(object_id=order.pk, action="status").latest("id")
    assert move.note.startswith("自动派单：得分 44") and "距老人家 111 米" in move.note


def test_auto_dispatch_below_the_threshold_leaves_it_created_and_says_why(loop, settings):
    settings.DISPATCH_AUTO_MIN_SCORE = 60
    loop.qualify(loop.anna, home_lat=NEAR[0], home_lng=NEAR[1])
    order = loop.order()

    assert auto_dispatch(by=loop.desk, order=order) is None

    order.refresh_from_db()
    assert order.status == Status.CREATED and order.caregiver is None
    why = ChangeRecord.objects.get(object_id=order.pk, action="auto_dispatch")
    assert "王安娜得分 44" in why.note and "60" in why.note


def test_auto_dispatch_with_nobody_qualified_says_so(loop):
    order = loop.order()

    assert auto_dispatch(by=loop.desk, order=order) is None
    assert "没有符合条件的服务人员" in ChangeRecord.objects.get(object_id=order.pk, action="auto_dispatch").note


def test_auto_dispatch_leaves_an_order_already_dispatched_alone(both):
    order = both.dispatched(both.order(), caregiver=both.bo)

    assert auto_dispatch(by=both.desk, order=order) is None
    order.refresh_from_db()
    assert order.caregiver == both.bo


# --- the elder's preferences -------------------------------------------------------------------------


def test_preferences_are_cleaned_and_recorded(loop):
    pref = elder_preference_set(by=loop.desk, elder=loop.elder, caregiver_sex="F", languages=" 粤语，普通话 ", notes="怕狗")

    assert (pref.caregiver_sex, pref.languages, pref.notes) == ("F", "粤语、普通话", "怕狗")
    record = ChangeRecord.objects.get(model="orders.elderpreference", object_id=pref.pk)
    assert record.changes["caregiver_sex"] == ["", "F"] and record.by == loop.desk


def test_a_preference_with_a_bad_sex_is_refused_naming_the_field(loop):
    with pytest.raises(ValidationError) as refused:
        elder_preference_set(by=loop.desk, elder=loop.elder, caregiver_sex="X")
    assert "caregiver_sex" in refused.value.message_dict


# --- absences -----------------------------------------------------------------------------------------


def test_an_absence_overlapping_another_is_refused(loop):
    day = loop.tomorrow
    absence_create(by=loop.dispatcher, caregiver=loop.anna, data={"starts_on": day, "ends_on": day + datetime.timedelta(days=2)})
    with pytest.raises(ValidationError) as refused:
        absence_create(by=loop.dispatcher, caregiver=loop.anna, data={"starts_on": day + datetime.timedelta(days=1)})
    assert "重叠" in refused.value.message_dict["starts_on"][0]


def test_an_absence_ending_before_it_starts_is_refused(loop):
    day = loop.tomorrow
    with pytest.raises(ValidationError) as refused:
        absence_create(
            by=loop.dispatcher, caregiver=loop.anna, data={"starts_on": day, "ends_on": day - datetime.timedelta(days=1)}
        )
    assert refused.value.message_dict["ends_on"] == ["结束日期不能早于开始日期"]
