"""Elders for tests: valid, unique ID numbers that agree with sex and birth date."""

import datetime

import factory
from django.utils import timezone

from core.idnumbers import make_id_number
from elders.categories import years_before
from elders.models import Elder, EmergencyContact
from elders.services import set_id_number, set_name, set_phone

NAMES = ["王秀兰", "李建国", "张玉珍", "刘德福", "陈桂芳", "杨志明", "赵淑珍", "黄国华", "周凤英", "吴永庆"]


def id_number_for(elder, n: int) -> str:
    """A valid number matching the elder's birth date and sex; n keeps numbers unique."""
    area = ["110105", "370102", "371402", "440305"][(n // 500) % 4]
    return make_id_number(area, elder.birth_date, (n % 500) * 2 + (1 if elder.sex == "M" else 0))


class ElderFactory(factory.django.DjangoModelFactory):
    """Pass region=…; name, ID number and phone go through the services' setters."""

    class Meta:
        model = Elder

    region = None
    name = factory.Iterator(NAMES)
    sex = factory.Iterator(["F", "M"])
    birth_date = factory.LazyFunction(lambda: years_before(timezone.localdate(), 70))
    id_number = factory.LazyAttributeSequence(id_number_for)
    phone = factory.Sequence(lambda n: f"139{n % 100000000:08d}")
    address = factory.Sequence(lambda n: f"安泰小区{n % 30 + 1}号楼")
    living_arrangement = "children"
    marital_status = "married"
    children_count = 2

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        id_number, phone, name = kwargs.pop("id_number"), kwargs.pop("phone"), kwargs.pop("name")
        elder = model_class(*args, **kwargs)
        set_name(elder, name)
        set_id_number(elder, id_number)
        set_phone(elder, phone)
        return elder

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        elder = cls._build(model_class, *args, **kwargs)
        elder.save()
        return elder


class EmergencyContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmergencyContact

    elder = None
    name = "王小明"
    relation = "child"
    phone = "13700001111"
    is_primary = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        phone = kwargs.pop("phone")
        contact = model_class(*args, **kwargs)
        set_phone(contact, phone)
        contact.save()
        return contact


def age_of_a_31_december_birthday(year: int) -> int:
    """Today's age of someone born on 31 December of `year`: a year older only on 31 December.
    Written out, not through Elder.age, so a test checks the age a page or the API computes."""
    today = timezone.localdate()
    return today.year - year - (0 if (today.month, today.day) == (12, 31) else 1)


def born_years_ago(years: int, days: int = 0) -> datetime.date:
    """The birth date of someone exactly `years` old today, shifted by `days` (+ is younger)."""
    return years_before(timezone.localdate(), years) + datetime.timedelta(days=days)
