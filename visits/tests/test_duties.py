"""Who is due when, with a controlled clock: periods, dues_build, visits meeting dues,
events and campaigns, and the visit rate's arithmetic."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from elders.categories import years_before
from elders.tests.factories import ElderFactory
from visits import duties
from visits.models import VisitDue
from visits.selectors import visit_rate, visit_rate_missed
from visits.services import visit_record
from visits.tests.conftest import at, registered

pytestmark = pytest.mark.django_db
D = datetime.date


def test_periods_across_month_quarter_and_year_ends():
    assert duties.period_start("week", D(2026, 1, 1)) == D(2025, 12, 29)  # a Thursday; its week began in 2025
    assert duties.period_next("week", D(2025, 12, 29)) == D(2026, 1, 5)
    assert duties.period_start("month", D(2026, 2, 28)) == D(2026, 2, 1)
    assert duties.period_next("month", D(2026, 12, 1)) == D(2027, 1, 1)
    assert duties.period_start("quarter", D(2026, 12, 31)) == D(2026, 10, 1)
    assert duties.period_next("quarter", D(2026, 10, 1)) == D(2027, 1, 1)
    opens, due = duties.period_window("month", D(2026, 2, 1))
    assert opens == at(2026, 2, 1, 0, 0)
    assert due == at(2026, 3, 1, 0, 0) - datetime.timedelta(microseconds=1)  # 2 月 28 日 23:59:59.999999
    assert duties.periods_overlapping("week", D(2026, 11, 1), D(2026, 11, 30)) == [
        D(2026, 10, 26),
        D(2026, 11, 2),
        D(2026, 11, 9),
        D(2026, 11, 16),
        D(2026, 11, 23),
        D(2026, 11, 30),
    ]


@pytest.fixture
def people(tree):
    day = D(2026, 11, 1)
    p = type("People", (), {})()
    p.high = registered(ElderFactory(region=tree.grid, birth_date=years_before(day, 85), living_arrangement="alone"))
    p.key = registered(ElderFactory(region=tree.grid, birth_date=years_before(day, 70), ability_level="severe"))
    p.general = registered(ElderFactory(region=tree.grid, birth_date=years_before(day, 70), living_arrangement="alone"))
    p.none = registered(ElderFactory(region=tree.grid, birth_date=years_before(day, 70)))
    p.elsewhere = registered(ElderFactory(region=tree.community2, birth_date=years_before(day, 70), ability_level="severe"))
    return p


def _dues(elder):
    return list(VisitDue.objects.filter(elder=elder).order_by("opens_at").values_list("period", "opens_at", "due_at"))


def test_a_month_build_writes_each_tiers_periods(people):
    written = duties.dues_build(start=D(2026, 11, 1), end=D(2026, 11, 30), overlapping=True)
    high = _dues(people.high)
    assert [p for p, _o, _d in high] == ["week"] * 6  # the weeks touching November
    assert high[0][1] == at(2026, 10, 26, 0, 0)
    assert _dues(people.key) == [("month", at(2026, 11, 1, 0, 0), at(2026, 12, 1, 0, 0) - duties.TICK)]
    assert _dues(people.general) == [("quarter", at(2026, 10, 1, 0, 0), at(2027, 1, 1, 0, 0) - duties.TICK)]
    assert _dues(people.none) == []
    assert len(_dues(people.elsewhere)) == 1
    assert written == 6 + 1 + 1 + 1
    assert duties.dues_build(start=D(2026, 11, 1), end=D(2026, 11, 30), overlapping=True) == 0  # idempotent


def test_a_month_build_without_overlap_writes_the_periods_starting_in_it(people):
    duties.dues_build(start=D(2026, 11, 1), end=D(2026, 11, 30))
    assert [o for _p, o, _d in _dues(people.high)] == [at(2026, 11, d, 0, 0) for d in (2, 9, 16, 23, 30)]
    assert len(_dues(people.key)) == 1
    assert _dues(people.general) == []  # its quarter began on 1 October: October's build wrote it
    duties.dues_build(start=D(2026, 10, 1), end=D(2026, 10, 31))
    assert len(_dues(people.general)) == 1


def test_an_elder_turning_80_changes_tier_at_the_next_period(tree):
    elder = registered(ElderFactory(region=tree.grid, birth_date=D(1946, 11, 18), living_arrangement="alone"))
    duties.dues_build(start=D(2026, 11, 1), end=D(2026, 11, 30), overlapping=True)
    periods = [p for p, _o, _d in _dues(elder)]
    # 80 on 18 November: from the week starting 23 November (the first period starting after) weekly.
    assert periods.count("quarter") == 1
    weeks = [o for p, o, _d in _dues(elder) if p == "week"]
    assert weeks == [at(2026, 11, 23, 0, 0), at(2026, 11, 30, 0, 0)]


def test_year_end_build_crosses_into_the_next_year(people):
    duties.dues_build(start=D(2026, 12, 28), end=D(2027, 1, 4), overlapping=True)
    assert [o for _p, o, _d in _dues(people.high)] == [at(2026, 12, 28, 0, 0), at(2027, 1, 4, 0, 0)]
    assert [o for _p, o, _d in _dues(people.key)] == [at(2026, 12, 1, 0, 0), at(2027, 1, 1, 0, 0)]
    assert [o for _p, o, _d in _dues(people.general)] == [at(2026, 10, 1, 0, 0), at(2027, 1, 1, 0, 0)]


def test_a_visit_meets_the_open_dues_and_a_missed_one_does_not(people, grid_worker):
    duties.dues_build(start=D(2026, 11, 1), end=D(2026, 11, 30), overlapping=True)
    now = at(2026, 11, 10, 12)
    visit_record(by=grid_worker, elder=people.key, visited_at=at(2026, 11, 5), missed=True, missed_reason="not_home", now=now)
    assert VisitDue.objects.get(elder=people.key).visited_at is None
    v = visit_record(by=grid_worker, elder=people.key, visited_at=at(2026, 11, 6), checklist={"gas": "hazard"}, now=now)
    due = VisitDue.objects.get(elder=people.key)
    assert (due.visit_id, due.visited_at) == (v.pk, at(2026, 11, 6))
    # A weekly elder: a visit meets the week it falls in (and any earlier open week), not the next.
    visit_record(by=grid_worker, elder=people.high, visited_at=at(2026, 11, 4), now=now)
    met = list(VisitDue.objects.filter(elder=people.high, visited_at__isnull=False).values_list("opens_at", flat=True))
    assert met == [at(2026, 10, 26, 0, 0), at(2026, 11, 2, 0, 0)] or sorted(met) == [
        at(2026, 10, 26, 0, 0),
        at(2026, 11, 2, 0, 0),
    ]
    assert VisitDue.objects.filter(elder=people.high, visited_at__isnull=True).count() == 4


def test_dues_built_after_the_visit_are_matched_to_it(people, grid_worker):
    visit_record(by=grid_worker, elder=people.key, visited_at=at(2026, 11, 3), now=at(2026, 11, 3, 12))
    duties.dues_build(start=D(2026, 11, 1), end=D(2026, 11, 30), overlapping=True)
    assert VisitDue.objects.get(elder=people.key).visited_at == at(2026, 11, 3)


def test_visit_validation(people, grid_worker):
    now = at(2026, 11, 10, 12)
    with pytest.raises(ValidationError) as exc:
        visit_record(by=grid_worker, elder=people.key, visited_at=at(2026, 11, 11), missed=True, now=now)
    assert set(exc.value.message_dict) == {"visited_at", "missed_reason"}
    with pytest.raises(ValidationError) as exc:
        visit_record(by=grid_worker, elder=people.key, visited_at=now, checklist={"gas": "boom"}, now=now)
    assert "燃气" in exc.value.message_dict["checklist"][0]


def test_a_replayed_visit_is_the_same_visit(people, grid_worker):
    now = at(2026, 11, 10, 12)
    a = visit_record(by=grid_worker, elder=people.key, visited_at=now, client_key="phone-1", now=now)
    b = visit_record(by=grid_worker, elder=people.key, visited_at=now, client_key="phone-1", now=now)
    assert a.pk == b.pk


def test_a_visit_opens_a_need_in_the_ledger(people, grid_worker):
    from needs.models import Need

    v = visit_record(
        by=grid_worker,
        elder=people.key,
        visited_at=at(2026, 11, 10),
        checklist={"gas": "hazard"},
        open_need="燃气灶漏气，需要更换",
        now=at(2026, 11, 10, 12),
    )
    need = Need.objects.get(pk=v.need_id)
    assert (need.source, need.elder_id, need.description) == ("visit", people.key.pk, "燃气灶漏气，需要更换")


def test_a_major_event_asks_for_a_visit_within_24_hours_of_a_high_tier_elder(people, community_worker):
    event = duties.major_event_record(
        by=community_worker, elder=people.high, kind="fall", happened_at=at(2026, 11, 10, 8), now=at(2026, 11, 10, 9)
    )
    due = VisitDue.objects.get(event=event)
    assert (due.source, due.due_at) == ("event", at(2026, 11, 11, 8))
    quiet = duties.major_event_record(
        by=community_worker, elder=people.key, kind="fall", happened_at=at(2026, 11, 10, 8), now=at(2026, 11, 10, 9)
    )
    assert not VisitDue.objects.filter(event=quiet).exists()  # the key tier asks for no event visit


def test_a_campaign_targets_every_alone_elder_of_the_street_within_48_hours(people, community_worker, tree):
    from conftest import make_user

    street_user = make_user("street9", "street", tree.street)
    campaign = duties.campaign_start(
        by=street_user,
        region=tree.street,
        name="高温探访",
        reason="heat",
        criteria=[{"categories": ["lives_alone"]}],
        starts_at=at(2026, 7, 20, 9),
        hours=48,
    )
    targets = set(VisitDue.objects.filter(campaign=campaign).values_list("elder_id", flat=True))
    assert targets == {people.high.pk, people.general.pk}
    assert campaign.target_count == 2
    assert VisitDue.objects.filter(campaign=campaign).first().due_at == at(2026, 7, 22, 9)


def test_dues_of_an_elder_who_died_are_dropped(people):
    from elders.models import Elder

    duties.dues_build(start=D(2026, 11, 1), end=D(2026, 11, 30), overlapping=True)
    Elder.objects.filter(pk=people.key.pk).update(status="deceased")
    duties.dues_build(start=D(2026, 11, 1), end=D(2026, 11, 30), overlapping=True)
    assert not VisitDue.objects.filter(elder=people.key).exists()


def test_the_rate_counts_an_elder_visited_only_when_every_due_of_the_month_was_met_in_time(people, grid_worker, tree):
    from conftest import make_user

    duties.dues_build(start=D(2026, 11, 1), end=D(2026, 11, 30), overlapping=True)
    now = at(2026, 12, 1, 12)
    visit_record(by=grid_worker, elder=people.key, visited_at=at(2026, 11, 20), now=now)  # key: met
    for week in (2, 9, 16):  # high: three of the four weeks due in November (2–8, 9–15, 16–22, 23–29) met
        visit_record(by=grid_worker, elder=people.high, visited_at=at(2026, 11, week + 1), now=now)
    city = make_user("city9", "aging_office", tree.city)
    rows, total = visit_rate(user=city, month=D(2026, 11, 1), level=5)
    by_name = {r.region.name: (r.due, r.visited) for r in rows}
    # Due in November: high (weeks ending 1, 8, 15, 22, 29 Nov — the week of 26 Oct ends 1 Nov), key, elsewhere.
    assert by_name == {"安泰社区": (2, 1), "驻春路社区": (1, 0)}
    assert (total.due, total.visited) == (3, 1)
    missed = {e.pk for e in visit_rate_missed(user=city, month=D(2026, 11, 1))}
    assert missed == {people.high.pk, people.elsewhere.pk}
    assert total.percent == "33.3%"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=st.lists(st.tuples(st.booleans(), st.booleans(), st.integers(1, 3)), min_size=1, max_size=6))
def test_rate_arithmetic_matches_a_count_by_hand(tree, plan):
    """Each elder: grid or community2; some of their dues met in time, late or not at all."""
    from conftest import make_user

    VisitDue.objects.all().delete()
    start, end = at(2026, 11, 1, 0, 0), at(2026, 12, 1, 0, 0) - duties.TICK
    expected = {"安泰社区": [0, 0], "驻春路社区": [0, 0]}
    for home, in_time, n in plan:
        region = tree.grid if home else tree.community2
        elder = ElderFactory(region=region)
        ok = True
        for i in range(n):
            met = in_time or i > 0
            due_at = start + datetime.timedelta(days=7 * i + 6)
            VisitDue.objects.create(
                elder=elder,
                region=region,
                source="rule",
                tier="t",
                period="week",
                opens_at=due_at - datetime.timedelta(days=6),
                due_at=due_at,
                visited_at=due_at - datetime.timedelta(hours=1) if met else due_at + datetime.timedelta(hours=1),
            )
            ok = ok and met
        key = "安泰社区" if home else "驻春路社区"
        expected[key][0] += 1
        expected[key][1] += ok
    assert end > start
    city = make_user("cityh", "aging_office", tree.city) if not hasattr(tree, "_cityh") else tree._cityh
    tree._cityh = city
    rows, total = visit_rate(user=city, month=D(2026, 11, 1), level=5)
    got = {r.region.name: [r.due, r.visited] for r in rows}
    assert got == {k: v for k, v in expected.items() if v[0]}
    assert total.due == sum(v[0] for v in expected.values())


def test_an_alert_resolved_as_sent_to_hospital_asks_for_a_visit_of_a_high_tier_elder(people):
    """The hook visits registers in alerts.hooks.AFTER_RESOLVE (an Alert row written directly:
    the alerts app's services are not this app's to call here)."""
    from alerts.models import Alert
    from visits.models import MajorEvent
    from visits.services import alert_resolved

    alert = Alert.objects.create(
        elder=people.high,
        region=people.high.region,
        source="hotline",
        kind="fall",
        occurred_at=at(2026, 11, 10, 7),
        received_at=at(2026, 11, 10, 7),
        status="resolved",
        resolved_at=at(2026, 11, 10, 8),
        outcome="false_alarm",
    )
    alert_resolved(alert=alert, by=None)
    assert not MajorEvent.objects.exists()
    alert.outcome = "hospital"
    alert_resolved(alert=alert, by=None)
    event = MajorEvent.objects.get()
    assert (event.kind, event.alert_id) == ("hospital", alert.pk)
    assert VisitDue.objects.get(event=event).due_at == at(2026, 11, 11, 8)
