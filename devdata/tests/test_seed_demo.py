"""seed_demo builds 安泰社区 as seed 000 describes it, and its neighbour, once."""

import pytest
from django.core.management import call_command
from django.db import transaction

from accounts.models import User
from audit.models import ChangeRecord
from core import crypto
from core.idnumbers import parse_id_number
from elders.models import Elder, EmergencyContact
from elders.selectors import ElderFilter, elder_list
from regions.models import Region

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def _seeded_once(django_db_setup, django_db_blocker):
    """Seed once for the module, inside a transaction rolled back at the end (seeding takes seconds)."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=open("/dev/null", "w"))
        yield
        transaction.set_rollback(True)


@pytest.fixture
def seeded(_seeded_once, db):
    pass


def count(username, **filters):
    return elder_list(user=User.objects.get(username=username), filters=ElderFilter(**filters)).count()


def test_community_worker_sees_1080_elders_in_residence(seeded):
    assert count("community") == 1080


@pytest.mark.parametrize(
    "category, expected",
    [("very_old", 55), ("lives_alone", 36), ("empty_nest", 34), ("no_kin", 36)],
)
def test_community_category_counts_match_seed_000(seeded, category, expected):
    assert count("community", categories=[category]) == expected


def test_elders_who_left_are_found_through_the_status_filter(seeded):
    assert count("community", status="all") > count("community")


def test_community2_sees_none_of_antais_elders(seeded):
    antai = Region.objects.get(name="安泰社区")
    theirs = elder_list(user=User.objects.get(username="community2"), filters=ElderFilter(status="all"))

    assert theirs.exists()
    assert not theirs.filter(region__path__startswith=antai.path).exists()


def test_city_user_sees_both_communities(seeded):
    assert count("city", status="all") == count("community", status="all") + count("community2", status="all")


def test_grid_worker_sees_only_their_grid(seeded):
    grid = Region.objects.get(name="安泰第一网格")
    theirs = elder_list(user=User.objects.get(username="grid"))

    assert 0 < theirs.count() < count("community")
    assert set(theirs.values_list("region", flat=True)) == {grid.pk}


def test_every_seeded_id_number_is_valid_and_agrees_with_sex_and_birth_date(seeded):
    for elder in Elder.objects.all()[:200]:
        info = parse_id_number(crypto.decrypt(elder.id_number_enc))
        assert (info.sex, info.birth_date) == (elder.sex, elder.birth_date), elder.name


def test_running_seed_demo_twice_creates_nothing_new(seeded):
    from alerts.models import Alert, AlertEvent, Device
    from orders.models import Agreement, FamilyLink, Order, OrderPlan, StrayCheckin, VisitException
    from pairing.models import Pairing
    from visits.models import Visit

    tables = (Elder, EmergencyContact, ChangeRecord, Region, User, Order, OrderPlan, Agreement, FamilyLink)
    tables += (Pairing, Device, Visit, Alert, AlertEvent)
    before = [model.objects.count() for model in (*tables, VisitException, StrayCheckin)]

    call_command("seed_demo", stdout=open("/dev/null", "w"))

    after = [model.objects.count() for model in (*tables, VisitException, StrayCheckin)]
    assert after == before


def test_the_providers_of_seed_000(seeded):
    """康乃馨家政's 30 nannies and 10 caregivers, the station's 13 助老服务员, three teams; the
    provider login sees its own organisation only, with certificates about to expire."""
    from providers.selectors import caregiver_list, certificates_expiring, organisation_list, team_list

    provider = User.objects.get(username="provider")
    assert provider.region is None and provider.organisation.name == "康乃馨家政"
    assert [o.name for o in organisation_list(user=provider)] == ["康乃馨家政"]
    staff = caregiver_list(user=provider)
    assert staff.filter(kind="nanny").count() == 30 and staff.filter(kind="carer").count() == 10
    assert staff.filter(kind="hourly").count() == 3  # seed 000's 小时工
    assert certificates_expiring(user=provider).exists()
    community = User.objects.get(username="community")
    assert caregiver_list(user=community, kind="aide").count() == 13
    assert {t.kind for t in team_list(user=community)} == {"party", "youth", "young_old"}
    community2 = User.objects.get(username="community2")
    assert [o.name for o in organisation_list(user=community2)] == ["驻春路社区日间照料中心"]


def test_the_demo_has_open_needs_prices_and_packages(seeded):
    """Issue 10: open needs in both communities, the city's and the street's price lists, and
    packages so a disabled elder's entitlements panel shows quotas."""
    from catalogue.models import ServiceItem
    from catalogue.selectors import entitlements_for, price_for
    from needs.selectors import NeedFilter, need_list

    community = User.objects.get(username="community")
    assert need_list(user=community, filters=NeedFilter(state="open")).count() >= 20
    assert need_list(user=User.objects.get(username="community2"), filters=NeedFilter(state="open")).exists()
    antai = Region.objects.get(name="安泰社区")
    assert price_for(ServiceItem.objects.get(code="meal_delivery"), antai).price_fen == 200  # the street's
    assert price_for(ServiceItem.objects.get(code="cleaning"), antai).price_fen == 3200  # the city's
    elder = Elder.objects.filter(region__path__startswith=antai.path, ability_level="severe").first()
    assert entitlements_for(elder).quotas


# --- the year of orders (issue 11, item 8; devdata/demo_orders.py) ----------------------------------


def _orders(community: str):
    from orders.models import Order

    return Order.objects.filter(region__path__startswith=Region.objects.get(name=community).path)


def _delivered_in_the_year(community: str):
    """Delivered orders of the past year that are not a plan's (the seeds count those)."""
    import datetime

    from django.utils import timezone

    from orders.models import DELIVERED

    today = timezone.localdate()
    start = timezone.make_aware(datetime.datetime.combine(today - datetime.timedelta(days=365), datetime.time()))
    end = timezone.make_aware(datetime.datetime.combine(today, datetime.time()))
    return _orders(community).filter(status__in=DELIVERED, plan__isnull=True, scheduled_start__gte=start, scheduled_start__lt=end)


def _tally(qs, field):
    from collections import Counter

    return dict(Counter(qs.values_list(field, flat=True)))


def test_antais_year_is_seed_000s_mix(seeded):
    """Seed 000: 635 free services, 51 paid, 1 government-purchased; 康乃馨家政's 护工 12 times,
    保姆 20 times, 小时工 10 times."""
    year = _delivered_in_the_year("安泰社区")

    assert _tally(year, "payment_mode") == {"free": 635, "paid": 51, "government": 1}
    kinds = _tally(year.filter(caregiver__organisation__name="康乃馨家政"), "caregiver__kind")
    assert kinds == {"carer": 12, "nanny": 20, "hourly": 10}


def test_zhuchuns_year_holds_seed_004s_time_bank(seeded):
    """Seed 004: the 爱心时间银行's 110-odd services of 203 hours, by volunteers, in time coins."""
    year = _delivered_in_the_year("驻春路社区")
    bank = year.filter(payment_mode="time_coin")

    assert bank.count() == 112 and sum(bank.values_list("quantity", flat=True)) == 203
    assert not bank.filter(volunteer__isnull=True).exists() and not bank.exclude(amount_fen=0).exists()
    assert _tally(year.exclude(payment_mode="time_coin"), "payment_mode") == {"free": 200, "paid": 16, "government": 1}


def test_every_demo_orders_history_replays_through_the_transition_table(seeded):
    """Each order's history starts with its creation and moves only as ORDER_MACHINE allows, to
    the status the order has; every status of the loop but in service and settled is shown."""
    from collections import defaultdict

    from orders.models import ORDER_MACHINE, Order, Status

    legal = {(before, after) for (before, _action), after in ORDER_MACHINE.transitions.items()}
    moves = defaultdict(list)
    records = ChangeRecord.objects.filter(model="orders.order").order_by("at", "id")
    for object_id, action, changes in records.values_list("object_id", "action", "changes"):
        moves[object_id].append((action, changes))
    statuses = set()
    for order_id, status in Order.objects.values_list("id", "status"):
        history = moves[order_id]
        assert history[0][0] == "create", order_id
        state = Status.CREATED
        for action, changes in history[1:]:
            assert action == "status" and changes["status"][0] == state, (order_id, history)
            assert tuple(changes["status"]) in legal, (order_id, changes)
            state = changes["status"][1]
        assert state == status, order_id
        statuses.add(status)
    assert statuses == set(Status.values) - {Status.IN_SERVICE, Status.SETTLED}


def test_every_demo_orders_fields_agree_with_its_status_and_times_run_forward(seeded):
    from orders.models import DELIVERED, Order, Status

    for o in Order.objects.select_related("item", "elder", "caregiver"):
        assert o.created_at < o.scheduled_start < o.scheduled_end, o.pk
        assert o.region_id == o.elder.region_id and o.amount_fen == o.unit_price_fen * o.quantity
        if o.status == Status.CREATED or (o.status == Status.CANCELLED and o.dispatched_at is None):
            assert o.organisation_id is None and o.caregiver_id is None and o.volunteer_id is None
            continue
        assert o.created_at <= o.dispatched_at < o.accept_by, o.pk
        assert o.organisation_id or o.volunteer_id
        assert o.caregiver is None or o.caregiver.organisation_id == o.organisation_id
        if o.status == Status.DISPATCHED:
            assert o.accepted_at is None
        if o.status in DELIVERED:
            assert o.dispatched_at < o.accepted_at < (o.checkin_device_at or o.checkin_at) < o.checkout_at, o.pk
            assert set(o.outcomes) == set(o.item.outcomes)
        else:
            assert o.checkin_at is None and o.checkout_at is None
        if o.status == Status.EVALUATED:
            assert 1 <= o.rating <= 5 and o.checkout_at < o.rated_at and o.rated_by_id
        if o.status == Status.CANCELLED:
            assert o.cancel_reason


def test_a_sample_of_demo_orders_passes_the_models_validation(seeded):
    from orders.models import Order

    for order in Order.objects.order_by("?")[:150]:
        order.full_clean()


def test_every_check_in_and_out_is_near_the_home_but_the_one_outside_the_geofence(seeded):
    """Within 200 m of the elder's home, the distance stored as measured; the one exception is
    flagged, with an open exception naming the distance."""
    from core.geo import haversine_m
    from devdata.order_drafts import GEOFENCE_M
    from orders.models import Order

    outside = []
    for o in Order.objects.filter(checkin_at__isnull=False).select_related("elder"):
        home = (o.elder.home_lat, o.elder.home_lng)
        d_in = haversine_m(*home, o.checkin_lat, o.checkin_lng)
        d_out = haversine_m(*home, o.checkout_lat, o.checkout_lng)
        assert abs(d_in - o.checkin_distance_m) <= 1 and abs(d_out - o.checkout_distance_m) <= 1
        assert d_out <= GEOFENCE_M and 0 < o.checkin_accuracy_m <= 50
        if d_in > GEOFENCE_M:
            outside.append(o)
    assert len(outside) == 1
    [o] = outside
    assert o.flags == ["outside_geofence"] and o.verification == "pending"
    assert o.exceptions.get().code == "outside_geofence" and o.exceptions.get().resolution == "open"


def test_the_years_exceptions_late_no_show_and_offline(seeded):
    from orders.models import Order, VisitException

    antai = _orders("安泰社区")
    late = antai.filter(flags=["late"])
    assert late.count() == 5
    assert sorted(late.values_list("exceptions__resolution", flat=True)) == ["accepted"] * 4 + ["open"]
    for o in late:
        assert 15 < (o.checkin_at - o.scheduled_start).total_seconds() / 60 < 30
    [missed] = antai.filter(flags=["no_show"])
    assert missed.status == "accepted" and missed.checkin_at is None and missed.exceptions.get().code == "no_show"
    [offline] = antai.filter(flags=["delayed_sync"])
    assert offline.checkin_delayed and offline.checkin_device_at < offline.checkin_at
    # an open exception keeps a visit unpayable; a resolved one lets it be verified
    open_ = set(VisitException.objects.filter(resolution="open").values_list("order", flat=True))
    for pk, verification in Order.objects.filter(checkout_at__isnull=False).values_list("pk", "verification"):
        assert verification == ("pending" if pk in open_ else "verified"), pk


def test_ratings_are_mostly_4_or_5_and_the_two_poor_ones_opened_follow_ups(seeded):
    from orders.models import FollowUp, Order

    rated = list(Order.objects.filter(rating__isnull=False).values_list("rating", flat=True))
    assert sum(r >= 4 for r in rated) / len(rated) > 0.85
    poor = Order.objects.filter(rating__lte=2)
    assert poor.count() == 2
    ups = FollowUp.objects.filter(order__in=poor, reason="low_rating")
    assert sorted(ups.values_list("state", flat=True)) == ["closed", "open"]
    assert all(u.due_on > u.order.rated_at.date() for u in ups)


def test_recurring_plans_follow_chinas_working_days_and_holidays(seeded):
    """送餐 on every legal working day, make-up Saturdays (调休) included; 打扫卫生 on Fridays
    that are not a public holiday; orders only up to the plan's generated_until."""
    import datetime

    import chinese_calendar
    from django.utils import timezone

    from orders.models import OrderPlan

    plans = OrderPlan.objects.all()
    assert {(p.item.code, p.rrule) for p in plans} == {
        ("meal_delivery", "FREQ=DAILY"),
        ("cleaning", "FREQ=WEEKLY;BYDAY=FR"),
    }
    today = timezone.localdate()
    for plan in plans:
        days = {timezone.localtime(s).date() for s in plan.orders.values_list("scheduled_start", flat=True)}
        assert min(days) >= plan.starts_on and max(days) <= plan.generated_until
        span = [plan.starts_on + datetime.timedelta(days=n) for n in range((today - plan.starts_on).days)]
        if plan.calendar == "working_days":
            expected = {d for d in span if chinese_calendar.is_workday(d)}
        else:
            expected = {d for d in span if d.weekday() == 4 and not chinese_calendar.get_holiday_detail(d)[1]}
        assert {d for d in days if d < today} == expected, plan
        assert set(plan.orders.filter(scheduled_start__date__gte=today).values_list("status", flat=True)) <= {"accepted"}


def test_two_signed_agreements_and_a_call_back_of_the_government_purchased_visits(seeded):
    from orders.models import Agreement, CallBack

    agreements = Agreement.objects.order_by("number")
    assert [a.number[-3:] for a in agreements] == ["001", "002"]
    assert all(a.status == "signed" and a.lines and a.plans.exists() for a in agreements)
    backs = CallBack.objects.select_related("order")
    assert {b.order.payment_mode for b in backs} == {"government"} and all(b.passed for b in backs)


def test_each_phone_account_has_todays_visits_to_accept_and_to_check_in(seeded):
    from django.utils import timezone

    from orders.selectors import order_scope, worker_of

    for username in ("caregiver", "caregiver2", "caregiver3"):
        user = User.objects.get(username=username)
        person = worker_of(user)
        assert person is not None and person.organisation_id == user.organisation_id
        today = order_scope(user).filter(caregiver=person, scheduled_start__date=timezone.localdate())
        assert {"accepted", "dispatched"} <= set(today.values_list("status", flat=True)), username
        assert set(today.values_list("status", flat=True)) <= {"accepted", "dispatched"}


def test_relatives_see_the_orders_of_the_elder_they_are_linked_to_with_consent(seeded):
    from orders.models import FamilyLink
    from orders.selectors import family_orders

    for username in ("elder", "family2"):
        user = User.objects.get(username=username)
        link = FamilyLink.objects.get(user=user)
        assert link.consent_on and link.consent_note and link.ended_at is None
        assert family_orders(user=user).exists()
        assert set(family_orders(user=user).values_list("elder", flat=True)) == {link.elder_id}
    assert FamilyLink.objects.get(user__username="elder").elder.name == "冷国兴"


def test_the_dispatch_board_has_orders_waiting_and_one_past_its_acceptance_deadline(seeded):
    from django.utils import timezone

    antai = _orders("安泰社区")
    assert antai.filter(status="created").exists()
    assert antai.filter(status="dispatched", accept_by__lt=timezone.now()).exists()
    assert antai.filter(status="dispatched", caregiver__isnull=True, organisation__name="康乃馨家政").exists()


def test_a_later_days_run_gives_each_phone_account_that_days_visits_and_nothing_else(seeded, monkeypatch):
    import datetime

    from django.utils import timezone

    from orders.models import Order

    before = Order.objects.count()
    later = timezone.now() + datetime.timedelta(days=9)
    monkeypatch.setattr(timezone, "now", lambda: later)

    call_command("seed_demo", stdout=open("/dev/null", "w"))

    made = list(Order.objects.select_related("caregiver__user").order_by("-pk")[: Order.objects.count() - before])
    assert len(made) == 7
    assert {o.caregiver.user.username for o in made} == {"caregiver", "caregiver2", "caregiver3"}
    assert {timezone.localtime(o.scheduled_start).date() for o in made} == {timezone.localdate()}


# --- the safety net (issue 12, item 6; devdata/demo_safety.py) ----------------------------------------


def test_seed_000s_watchers_and_helper_are_paired_and_few_at_risk_elders_wait_for_one(seeded):
    from pairing.models import Pairing
    from pairing.selectors import at_risk_q, unwatched_at_risk, watcher_elders

    leng = Elder.objects.get(name="冷国兴")
    assert leng.address == "经济房15号楼7单元6楼东户"
    pairs = {(p.role, p.partner_name) for p in Pairing.objects.filter(elder=leng, ends_on__isnull=True)}
    assert pairs == {("watcher", "张玉华"), ("helper", "李树林")}
    assert Pairing.objects.filter(elder__name="崔保仁", role="watcher", partner_name="单井英", ends_on__isnull=True).exists()
    watcher = User.objects.get(username="watcher")
    mine = set(watcher_elders(user=watcher).values_list("name", flat=True))
    assert "冷国兴" in mine and len(mine) == 3
    community = User.objects.get(username="community")
    at_risk = Elder.objects.filter(region__path__startswith=community.region.path, status="active").filter(at_risk_q())
    waiting = unwatched_at_risk(user=community).count()
    assert 0 < waiting <= at_risk.count() * 0.1
    kinds = set(Pairing.objects.values_list("partner_kind", flat=True))
    assert kinds == {"neighbour", "party_member", "relative", "volunteer"}
    ended = Pairing.objects.filter(ends_on__isnull=False)
    assert ended.exists() and all(p.end_reason for p in ended)


def test_call_devices_for_the_70_plus_veterans_families_and_the_disabled(seeded):
    from django.utils import timezone

    from alerts.models import Device

    today = timezone.localdate()
    holders = set(Device.objects.values_list("elder_id", flat=True))
    for elder in Elder.objects.filter(status="active"):
        wanted = (
            elder.age_on(today) >= 70
            or elder.is_veteran_family
            or elder.disability_grade
            or elder.ability_level in ("severe", "complete")
        )
        assert (elder.pk in holders) == bool(wanted), elder.name
    assert Device.objects.filter(silent_after__lt=timezone.now()).exists()
    assert Device.objects.filter(battery__lt=20).exists()
    assert len(set(Device.objects.values_list("kind", flat=True))) >= 3


def test_a_year_of_visits_at_a_realistic_monthly_rate(seeded):
    from collections import defaultdict

    from django.utils import timezone

    from pairing.selectors import at_risk_q
    from visits.models import Visit

    for community, low in (("安泰社区", 0.8), ("驻春路社区", 0.7)):
        region = Region.objects.get(name=community)
        elders = set(
            Elder.objects.filter(region__path__startswith=region.path, status="active")
            .filter(at_risk_q())
            .values_list("id", flat=True)
        )
        reached = defaultdict(set)
        for elder_id, at in Visit.objects.filter(elder_id__in=elders, missed=False).values_list("elder_id", "visited_at"):
            at = timezone.localtime(at)
            reached[(at.year, at.month)].add(elder_id)
        months = sorted(reached)[1:-1]  # whole months only
        rates = [len(reached[m]) / len(elders) for m in months]
        assert len(months) >= 10 and all(low <= r < 1 for r in rates), (community, rates)
        assert max(rates) - min(rates) > 0.03  # it varies by month
    missed = Visit.objects.filter(missed=True)
    assert missed.exists() and not missed.filter(missed_reason="").exists()
    concerns = Visit.objects.filter(outcome="concern")
    assert concerns.filter(need__isnull=False).count() >= 8
    assert all(v.checklist for v in Visit.objects.filter(missed=False)[:300])


def test_a_year_of_alerts_with_the_fall_and_the_gas_leak_of_seed_000(seeded):
    from statistics import median

    from alerts.models import Alert

    alerts = Alert.objects.filter(status="resolved")
    assert alerts.count() >= 80
    outcomes = [a.outcome for a in alerts]
    assert sum(o in ("false_alarm", "helped_home") for o in outcomes) / len(outcomes) > 0.7
    minutes = [(a.acknowledged_at - a.received_at).total_seconds() / 60 for a in alerts]
    assert median(minutes) < 5 and max(minutes) < 15
    fall = Alert.objects.get(elder__name="冷国兴", kind="fall", outcome="hospital")
    texts = " ".join(fall.events.values_list("text", flat=True))
    assert "张玉华" in texts and "李树林" in texts and "押金" in texts
    assert fall.acknowledged_by.username == "watcher"
    gas = Alert.objects.get(elder__name="崔保仁", kind="gas")
    assert gas.source == "watcher" and gas.outcome == "hazard_fixed" and "单井英" in gas.description
    for alert in Alert.objects.all()[:100]:
        times = list(alert.events.values_list("at", flat=True))
        assert times == sorted(times) and alert.events.first().kind == "raised"
    assert Alert.objects.filter(status="acknowledged").exists()  # this morning's, on 张玉华's phone page


def test_the_relative_and_the_watcher_see_the_year_on_their_phones(seeded, client):
    from pairing.tests.panels_kit import safety_panels

    with safety_panels():
        client.force_login(User.objects.get(username="elder"))
        leng = Elder.objects.get(name="冷国兴")
        body = client.get(f"/family/elders/{leng.pk}/").content.decode()
        assert "跌倒" in body and "送医" in body and "探访记录" in body
        client.force_login(User.objects.get(username="watcher"))
        body = client.get("/pairing/mine/").content.decode()
        assert "经济房15号楼7单元6楼东户" in body and "长时间无活动" in body
