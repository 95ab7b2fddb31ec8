"""generate_city: a synthetic city of regions and elders, every number valid, unique and encrypted."""

import io
import random
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.models import ChangeRecord
from core import crypto
from core.idnumbers import mask_id_number, parse_id_number
from core.phones import mask_phone, normalize_phone
from devdata import synthetic
from elders.categories import categories_q, years_before
from elders.models import Elder
from elders.services import set_id_number, set_name, set_phone
from merchants.models import Merchant
from regions.models import Level, Region

pytestmark = pytest.mark.django_db

N = 300


def generate(name="演示市", elders=N, communities=5, seed=1):
    call_command("generate_city", elders=elders, communities=communities, city_name=name, seed=seed, stdout=io.StringIO())
    return Region.objects.get(name=name, level=Level.CITY)


def under(city, level=None):
    regions = Region.objects.filter(path__startswith=city.path).exclude(pk=city.pk)
    return regions.filter(level=level) if level is not None else regions


def elders_of(city):
    return Elder.objects.filter(region__path__startswith=city.path)


def share(city, code):
    return elders_of(city).filter(categories_q([code])).count() / N


def test_generate_city_builds_the_communities_grids_and_elders_asked_for():
    city = generate()

    assert city.parent.name == "示范省" and city.parent.parent.name == "全国"
    communities = under(city, Level.COMMUNITY)
    assert communities.count() == 5
    for community in communities:
        assert 3 <= under(community, Level.GRID).count() <= 5
    assert under(city, Level.DISTRICT).exists() and under(city, Level.STREET).exists()
    assert elders_of(city).count() == N


def test_generate_city_gives_every_node_its_path_and_a_code_under_the_city_code():
    city = generate()

    for node in under(city).select_related("parent"):
        assert node.path == f"{node.parent.path}{node.pk}/"
        if node.level == Level.GRID:
            assert node.code == ""
        else:
            assert len(node.code) == 12 and node.code.isdigit() and node.code[:4] == city.code[:4]
    assert city.code.endswith("00000000") and city.code[:2] == "99"


def test_generate_city_puts_every_elder_in_a_grid_of_the_new_city():
    city = generate()

    grids = set(under(city, Level.GRID).values_list("pk", flat=True))
    assert set(elders_of(city).values_list("region_id", flat=True)) <= grids
    assert Elder.objects.exclude(region_id__in=grids).count() == 0


def test_generate_city_id_numbers_are_valid_decrypt_back_and_match_sex_and_birth_date():
    city = generate()

    numbers = []
    for elder in elders_of(city):
        number = crypto.decrypt(elder.id_number_enc)
        info = parse_id_number(number)
        assert info.number == number
        assert (info.sex, info.birth_date) == (elder.sex, elder.birth_date)
        assert elder.id_number_hash == crypto.lookup_hash(number)
        assert elder.id_number_masked == mask_id_number(number)
        numbers.append(number)
    assert len(set(numbers)) == N


def test_generate_city_phones_decrypt_to_valid_numbers_mostly_mobiles():
    city = generate()

    phones = []
    for elder in elders_of(city):
        phone = crypto.decrypt(elder.phone_enc)
        assert normalize_phone(phone) == phone
        assert elder.phone_hash == crypto.lookup_hash(phone)
        assert elder.phone_masked == mask_phone(phone)
        assert elder.phone_tail == phone[-4:]
        phones.append(phone)
    landlines = sum("-" in p for p in phones)
    assert 0 < landlines < N * 0.35


def test_generate_city_names_carry_the_search_keys_set_name_gives():
    city = generate()

    for elder in elders_of(city):
        expected = Elder()
        set_name(expected, elder.name)
        assert [getattr(elder, f) for f in synthetic.NAME_FIELDS] == [getattr(expected, f) for f in synthetic.NAME_FIELDS]
        assert elder.name_pinyin and elder.name_initials and elder.name_given


def test_generate_city_ages_are_60_to_100_with_roughly_the_category_shares():
    city = generate()
    today = timezone.localdate()

    ages = [e.age_on(today) for e in elders_of(city).only("birth_date")]
    assert min(ages) >= 60 and max(ages) <= 100
    # Generous bounds for 300 people; test_build_job_shares_at_scale checks them closely.
    assert 0.05 <= share(city, "very_old") <= 0.25
    assert 0.03 <= share(city, "lives_alone") <= 0.20
    assert 0.12 <= share(city, "empty_nest") <= 0.40
    assert share(city, "dibao") <= 0.10
    assert share(city, "disability") <= 0.12


def test_generate_city_writes_one_change_record_for_the_generation():
    before = ChangeRecord.objects.count()

    city = generate()

    records = ChangeRecord.objects.filter(action="generate")
    assert [(r.model, r.object_id, r.changes) for r in records] == [("regions.region", city.pk, {"elders": [None, N]})]
    # 全国 and 示范省 were missing, so region_create made them with their history: nothing per elder.
    assert ChangeRecord.objects.count() - before == 3


def test_generate_city_twice_adds_a_second_city_without_id_collisions():
    call_command("seed_demo", "--elders-only", stdout=io.StringIO())
    province = Region.objects.get(name="示范省")
    seeded = Elder.objects.count()

    first = generate("演示市")
    second = generate("第二演示市")

    assert first.parent_id == second.parent_id == province.pk
    assert first.code != second.code
    assert Elder.objects.count() == seeded + 2 * N
    assert Elder.objects.values("id_number_hash").distinct().count() == seeded + 2 * N


def test_generate_city_refuses_a_city_name_already_in_the_province_and_writes_nothing():
    generate("演示市")
    regions, elders, records = Region.objects.count(), Elder.objects.count(), ChangeRecord.objects.count()

    with pytest.raises(CommandError):
        generate("演示市")

    assert (Region.objects.count(), Elder.objects.count(), ChangeRecord.objects.count()) == (regions, elders, records)


def test_generate_city_is_the_same_city_for_the_same_seed():
    first = generate("演示市", seed=7)
    names = list(elders_of(first).order_by("id").values_list("name", "birth_date", "address"))
    regions = list(under(first).order_by("id").values_list("name", "code"))
    Elder.objects.all().delete()
    Merchant.objects.all().delete()
    ChangeRecord.objects.filter(region__path__startswith=first.path).delete()
    for level in range(Level.GRID, Level.PROVINCE, -1):
        Region.objects.filter(path__startswith=first.path, level=level).delete()

    again = generate("演示市", seed=7)

    assert list(elders_of(again).order_by("id").values_list("name", "birth_date", "address")) == names
    assert list(under(again).order_by("id").values_list("name", "code")) == regions


def test_generate_city_places_homes_in_clusters_and_merchants_near_their_community():
    from core.geo import haversine_m

    city = generate("演示市", elders=200, communities=4)
    homes = list(elders_of(city).values_list("home_lat", "home_lng", "region__parent_id"))
    assert all(lat is not None for lat, _lng, _c in homes)
    shops = list(
        Merchant.objects.filter(region__path__startswith=city.path).values_list("lat", "lng", "region_id", "discount_tenths")
    )
    assert len(shops) == 40  # 10 per community by default
    assert all(d is None or 50 <= d <= 100 for *_x, d in shops)
    # a community's homes and shops lie within a couple of km of each other, other communities' further
    by_community = {}
    for lat, lng, community in homes:
        by_community.setdefault(community, []).append((lat, lng))
    for lat, lng, community, _d in shops:
        if community in by_community:
            here = by_community[community][0]
            assert haversine_m(lat, lng, *here) < 3000


# --- the pieces, without the database ------------------------------------------------------


def test_id_serials_stay_unique_past_500_people_born_the_same_day():
    serials = synthetic.IdSerials(prefix=synthetic.id_prefix(2), home_parts=[1, 2], rng=random.Random(1))

    taken = [serials.take(area=0, birth_ordinal=720000, is_male=m) for m in (0, 1) * 700]

    assert len(set(taken)) == len(taken)
    assert all((seq % 2) == m for (_, seq), m in zip(taken, (0, 1) * 700, strict=True))
    assert Counter(area for area, _ in taken) == {0: 1000, 1: 400}


def test_id_prefixes_differ_per_city_and_use_no_assigned_prefecture_code():
    prefixes = [synthetic.id_prefix(n) for n in range(1, 100)]

    assert len(set(prefixes)) == 99
    assert all(p[:2] in synthetic.ID_PROVINCES and 51 <= int(p[2:]) <= 54 for p in prefixes)


def test_build_job_writes_every_field_the_setters_set():
    # If set_name, set_id_number or set_phone start writing another field, the generator must too.
    elder = Elder()
    before = dict(elder.__dict__)

    set_name(elder, "冷国兴")
    set_id_number(elder, "11010519491231002X")
    set_phone(elder, "13812345678")

    changed = {k for k, v in elder.__dict__.items() if before.get(k) != v}
    assert changed == {"name", *synthetic.NAME_FIELDS, *synthetic.ID_NUMBER_FIELDS, *synthetic.PHONE_FIELDS}
    assert changed <= set(synthetic.COLUMNS)


def test_allocate_splits_exactly():
    assert synthetic.allocate(total=10, weights=[1, 1, 1]) == [4, 3, 3]
    assert sum(synthetic.allocate(total=2_000_000, weights=[random.random() for _ in range(8000)])) == 2_000_000


def test_build_job_shares_at_scale():
    count = 10_000
    rng = random.Random(3)
    serials = synthetic.IdSerials(prefix=synthetic.id_prefix(9), home_parts=[1], rng=rng)
    today = timezone.localdate().toordinal()
    parts = synthetic.skeletons(rng=rng, serials=serials, today_ordinal=today, count=count, home_area=0, n_home_areas=1)
    job = synthetic.Job(
        0, "t", today, "2026-01-01T00:00:00+00:00", ("0534", 7), [(1, count, False, ("幸福小区",), False)], *parts
    )

    rows = [
        dict(zip(synthetic.COLUMNS, line.split("\t"), strict=True)) for line in synthetic.build_job(job).decode().split("\n")[:-1]
    ]

    def frac(test):
        return sum(1 for r in rows if test(r)) / count

    born_80_years_ago = years_before(timezone.localdate(), 80).isoformat()
    assert 0.11 <= frac(lambda r: r["birth_date"] <= born_80_years_ago) <= 0.17
    assert 0.08 <= frac(lambda r: r["living_arrangement"] == "alone") <= 0.12
    apart = ("alone", "spouse")
    assert 0.21 <= frac(lambda r: r["living_arrangement"] in apart and r["children_count"] != "0") <= 0.29
    assert (
        0.025
        <= frac(lambda r: r["living_arrangement"] == "alone" and r["children_count"] == "0" and r["marital_status"] != "married")
        <= 0.045
    )
    assert 0.02 <= frac(lambda r: r["is_dibao"] == "t") <= 0.045
    assert 0.02 <= frac(lambda r: r["disability_grade"] != "") <= 0.06
    assert 0.80 <= frac(lambda r: "-" not in crypto.decrypt(r["phone_enc"])) <= 0.90


def test_the_city_gets_providers_at_its_scale(db):
    """One caregiver per 400 elders by default, in organisations of the city's communities, each
    with a certificate; the numbers encrypted and masked as the services write them."""
    from core import crypto
    from providers.models import Caregiver, Certificate, Organisation

    call_command("generate_city", elders=800, communities=4, caregivers=60, seed=3, workers=1, stdout=io.StringIO())

    staff = Caregiver.objects.select_related("organisation__region")
    assert staff.count() == 60 and Certificate.objects.count() == 60
    assert Organisation.objects.count() == 3
    one = staff.first()
    assert one.organisation.region.level == 5  # a community
    assert crypto.decrypt(one.id_number_enc)[-1] == one.id_number_masked[-1] and "*" in one.phone_masked


# --- orders at the city's scale (issue 11; devdata/city_orders.py) ----------------------------------


def _city_with_orders(orders=600):
    call_command("generate_city", elders=N, communities=5, caregivers=40, orders=orders, seed=4, workers=1, stdout=io.StringIO())
    return Region.objects.get(name="演示市", level=Level.CITY)


def test_generate_city_orders_go_to_its_elders_and_to_caregivers_of_its_organisations():
    from orders.models import Order

    city = _city_with_orders()

    orders = Order.objects.filter(region__path__startswith=city.path).select_related("elder", "caregiver__organisation__region")
    assert orders.count() == 600 == Order.objects.count()
    assert len({o.elder_id for o in orders}) > N // 2
    for o in orders:
        assert o.region_id == o.elder.region_id and o.elder.region.path.startswith(city.path)
        assert o.scheduled_start < o.scheduled_end and o.amount_fen == o.unit_price_fen * o.quantity
        if o.caregiver_id:
            assert o.organisation_id == o.caregiver.organisation_id
            assert o.caregiver.organisation.region.path.startswith(city.path)
    record = ChangeRecord.objects.get(model="regions.region", object_id=city.pk)
    assert record.changes["orders"] == [None, 600] and "--orders 600" in record.note


def test_generate_city_orders_are_mostly_delivered_in_states_the_transition_table_reaches():
    from orders.models import DELIVERED, ORDER_MACHINE, Order, Status

    city = _city_with_orders()

    reachable, frontier = {Status.CREATED}, [Status.CREATED]
    while frontier:
        state = frontier.pop()
        for action in ORDER_MACHINE.actions_from(state):
            after = ORDER_MACHINE.target(state, action)
            if after not in reachable:
                reachable.add(after)
                frontier.append(after)
    statuses = Counter(Order.objects.filter(region__path__startswith=city.path).values_list("status", flat=True))
    assert set(statuses) <= reachable and Status.SETTLED not in statuses  # no shares are written
    assert sum(statuses[s] for s in DELIVERED) / 600 > 0.7
    assert statuses[Status.CREATED] + statuses[Status.DISPATCHED] + statuses[Status.ACCEPTED] > 0
    for o in Order.objects.filter(status__in=DELIVERED):
        assert o.dispatched_at < o.accepted_at < o.checkin_at < o.checkout_at, o.pk
        assert o.created_at < o.dispatched_at and o.verification in ("verified", "pending")
        assert set(o.outcomes) == set(o.item.outcomes)
    for o in Order.objects.filter(status__in=[Status.CREATED, Status.CANCELLED], dispatched_at__isnull=True):
        assert o.caregiver_id is None and o.organisation_id is None


def test_generate_city_check_ins_lie_near_the_home_and_late_ones_wait_for_a_person():
    from core.geo import haversine_m
    from orders.models import FollowUp, Order, VisitException

    city = _city_with_orders(orders=1500)

    visited = Order.objects.filter(region__path__startswith=city.path, checkout_at__isnull=False, checkin_lat__isnull=False)
    assert visited.exists()
    for o in visited.select_related("elder"):
        distance = haversine_m(o.elder.home_lat, o.elder.home_lng, o.checkin_lat, o.checkin_lng)
        assert distance <= 81 and abs(distance - o.checkin_distance_m) <= 1
    late = Order.objects.filter(flags=["late"])
    assert set(VisitException.objects.values_list("order", flat=True)) == set(late.values_list("pk", flat=True))
    for o in late:
        assert (o.checkin_at - o.scheduled_start).total_seconds() > 15 * 60
        assert (o.verification == "pending") == (o.exceptions.get().resolution == "open")
    poor = Order.objects.filter(rating__lte=2)
    assert set(FollowUp.objects.values_list("order", flat=True)) == set(poor.values_list("pk", flat=True))


def test_generate_city_orders_only_adds_orders_to_the_city_already_generated():
    from orders.models import Order

    city = _city_with_orders(orders=0)
    elders_before = elders_of(city).count()

    call_command("generate_city", orders_only=True, orders=250, city_name="演示市", seed=5, stdout=io.StringIO())

    assert Order.objects.filter(region__path__startswith=city.path).count() == 250
    assert elders_of(city).count() == elders_before and Region.objects.filter(level=Level.CITY, name="演示市").count() == 1
    assert ChangeRecord.objects.filter(object_id=city.pk, changes__orders=[None, 250]).exists()


def test_generate_city_orders_only_refuses_a_city_that_does_not_exist_and_writes_nothing():
    from orders.models import Order

    with pytest.raises(CommandError, match="没有“无名市”"):
        call_command("generate_city", orders_only=True, orders=10, city_name="无名市", stdout=io.StringIO())
    assert not Order.objects.exists()
