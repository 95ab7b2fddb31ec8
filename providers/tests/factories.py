"""Builders for providers tests: organisations, staff, certificates, teams, volunteers,
each made through the services (the one write path), by an administrator at the root."""

import datetime
import itertools

from django.utils import timezone

from conftest import make_user
from core.idnumbers import make_id_number

_n = itertools.count(1)


def admin_of(tree):
    from accounts.models import User

    return User.objects.filter(username="fx_admin").first() or make_user("fx_admin", "admin", tree.root)


def id_number(n: int, born=datetime.date(1975, 3, 1)) -> str:
    return make_id_number("110105", born, n)


def organisation(tree, *, region=None, name=None, **data):
    from providers import services

    data = {"name": name or f"机构{next(_n)}", "kind": "housekeeping", "region": (region or tree.community).pk, **data}
    return services.organisation_create(by=admin_of(tree), data=data)


def caregiver(tree, org, *, name=None, **data):
    from providers import services

    data = {"organisation": org.pk, "kind": "nanny", "name": name or f"人员{next(_n)}", **data}
    return services.caregiver_create(by=admin_of(tree), data=data)


def certificate_kind(name="养老护理员（中级）", code=None):
    from catalogue.models import CertificateKind

    return CertificateKind.objects.get_or_create(name=name, defaults={"code": code or f"ck{next(_n)}", "family": "elder-care"})[0]


def skill(name="做饭"):
    from catalogue.models import Skill

    return Skill.objects.get_or_create(name=name, defaults={"code": f"sk{next(_n)}"})[0]


def certificate(tree, person, *, days=30, number="YL20250001", kind=None):
    from providers import services

    expires = None if days is None else timezone.localdate() + datetime.timedelta(days=days)
    data = {"kind": (kind or certificate_kind()).pk, "number": number, "expires_on": expires}
    return services.certificate_create(by=admin_of(tree), caregiver=person, data=data)


def team(tree, *, region=None, name="党员志愿服务队", kind="party"):
    from providers import services

    return services.team_create(by=admin_of(tree), data={"region": (region or tree.community).pk, "kind": kind, "name": name})


def volunteer(tree, *, region=None, name=None, phone=None, **data):
    from providers import services

    n = next(_n)
    data = {"region": (region or tree.community).pk, "name": name or f"志愿者{n}", "phone": phone or f"1391234{n:04d}", **data}
    return services.volunteer_create(by=admin_of(tree), data=data)


def org_user(org, username=None, role="provider"):
    user = make_user(username or f"org{org.pk}_{next(_n)}", role, None)
    user.organisation = org
    user.save()
    return user
