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
    before = (
        Elder.objects.count(),
        EmergencyContact.objects.count(),
        ChangeRecord.objects.count(),
        Region.objects.count(),
        User.objects.count(),
    )

    call_command("seed_demo", stdout=open("/dev/null", "w"))

    after = (
        Elder.objects.count(),
        EmergencyContact.objects.count(),
        ChangeRecord.objects.count(),
        Region.objects.count(),
        User.objects.count(),
    )
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
