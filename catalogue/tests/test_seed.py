"""The catalogue every install starts with (migration 0003): 001's categories and items, 004's
ten time-bank categories, skills, graded certificates, in fen."""

import pytest

from catalogue.models import CertificateKind, PaymentMode, ServiceCategory, ServiceItem, Skill, Unit
from catalogue.selectors import certificate_satisfies

pytestmark = pytest.mark.django_db

SEED_001 = {
    "安全保障": [],
    "生活照料": ["日间托老", "购物", "配餐", "送餐", "陪护", "打扫卫生", "做饭", "洗衣", "家电维修", "管道疏通"],
    "医疗保健": ["测血压", "量体温", "陪同看病", "康复护理", "心理卫生", "临终关怀", "健康教育", "家庭病床"],
    "文化娱乐": [],
    "精神慰藉": ["聊天谈心", "心理咨询", "劝解"],
    "法律维权": ["法律咨询", "法律援助"],
    "其它": [],
}
TIMEBANK_004 = [
    "互助养老",
    "社区帮困",
    "义务家教",
    "法律援助",
    "社区治安",
    "医疗保健",
    "健康讲座",
    "社区教育",
    "社区文体",
    "社区环保",
]


def test_001s_categories_hold_the_items_the_seed_names():
    service = {c.name: c for c in ServiceCategory.objects.filter(scheme="service")}
    assert list(service) == list(SEED_001)  # in the seed's order
    for name, items in SEED_001.items():
        held = set(service[name].items.values_list("name", flat=True))
        assert set(items) <= held, name
        assert held, f"{name} has no item"


def test_the_time_bank_has_its_ten_categories_paid_in_time_coins():
    names = list(ServiceCategory.objects.filter(scheme="timebank").values_list("name", flat=True))
    assert names == TIMEBANK_004
    for item in ServiceItem.objects.filter(category__scheme="timebank"):
        assert item.payment_modes == [PaymentMode.TIME_COIN], item.name


def test_every_item_is_well_formed():
    modes, units = set(PaymentMode.values), set(Unit.values)
    for item in ServiceItem.objects.all():
        item.full_clean()
        assert item.unit in units
        assert item.payment_modes and set(item.payment_modes) <= modes, item.name
        assert item.duration_minutes > 0
        assert item.orderable_by, item.name
        assert isinstance(item.price_fen, int)


def test_prices_are_in_fen_and_paid_items_cost_something():
    cleaning = ServiceItem.objects.get(name="打扫卫生")
    assert cleaning.unit == Unit.HOUR and cleaning.price_fen == 3500  # ¥35.00 an hour
    assert ServiceItem.objects.get(name="送餐").unit == Unit.MEAL
    for item in ServiceItem.objects.all():
        if item.payment_modes == [PaymentMode.PAID]:
            assert item.price_fen > 0, item.name


def test_required_outcomes_before_check_out():
    assert "餐食已送达" in ServiceItem.objects.get(name="送餐").outcomes
    assert "服药已协助" in ServiceItem.objects.get(name="家庭病床").outcomes


def test_skills_and_certificates_of_items():
    rehab = ServiceItem.objects.get(name="康复护理")
    assert set(rehab.required_skills.values_list("code", flat=True)) == {"rehab"}
    assert rehab.required_certificates.get().name == "养老护理员（高级）"
    assert Skill.objects.count() >= 20


def test_the_eldercare_certificate_is_one_family_of_four_ranks():
    grades = list(CertificateKind.objects.filter(family="eldercare").order_by("rank").values_list("name", "rank"))
    assert grades == [("养老护理员（初级）", 1), ("养老护理员（中级）", 2), ("养老护理员（高级）", 3), ("养老护理员（技师）", 4)]
    for name in ["护士执业证书", "健康证", "家政服务员", "电工证"]:
        assert CertificateKind.objects.filter(name=name).exists()


def test_a_higher_grade_answers_a_lower_requirement_not_the_reverse():
    kinds = {c.code: c for c in CertificateKind.objects.all()}
    assert certificate_satisfies(kinds["eldercare_senior"], kinds["eldercare_middle"])
    assert not certificate_satisfies(kinds["eldercare_junior"], kinds["eldercare_middle"])
    assert not certificate_satisfies(kinds["nurse"], kinds["eldercare_junior"])


def test_the_migration_does_not_overwrite_an_admins_edit():
    """Loading again (a re-run, a squashed migration) adds only what is missing."""
    import importlib

    from django.apps import apps

    seed = importlib.import_module("catalogue.migrations.0003_initial_catalogue")
    item = ServiceItem.objects.get(code="cleaning")
    item.price_fen = 4000
    item.save()
    before = ServiceItem.objects.count()
    seed.load(apps, None)
    assert ServiceItem.objects.count() == before
    assert ServiceItem.objects.get(code="cleaning").price_fen == 4000
