"""Builders for orders tests, each through the services (the one write path).

loop = LoopWorld.build(tree)        # an elder with a home, an organisation, two caregivers
order = loop.order()                # created, cleaning, tomorrow 09:00
loop.dispatched(order)              # … to the organisation
loop.accepted(order, loop.anna)     # … taken by a caregiver with an account
"""

import datetime
import itertools

from django.utils import timezone

from conftest import make_user
from providers.tests.factories import admin_of, caregiver, organisation

_n = itertools.count(1)

HOME = (30.6300, 120.5700)  # the elder's home (WGS-84)


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def worker_account(person, *, username=None):
    """A caregiver's phone account: role caregiver, their organisation, linked to their row."""
    user = make_user(username or f"cg{person.pk}_{next(_n)}", "caregiver", None)
    user.organisation = person.organisation
    user.save()
    person.user = user
    person.save(update_fields=["user"])
    return user


class LoopWorld:
    """安泰社区's community worker, an elder with a home, an organisation with two caregivers
    (each with a phone account) and its dispatcher."""

    @classmethod
    def build(cls, tree, *, item_code: str = "cleaning"):
        from catalogue.models import ServiceItem
        from catalogue.services import catalogue_initial_load
        from elders.tests.factories import ElderFactory

        if not ServiceItem.objects.filter(code=item_code).exists():
            catalogue_initial_load()  # a transactional test flushed migration 0003's rows

        w = cls()
        w.tree = tree
        w.admin = admin_of(tree)
        w.desk = make_user(f"desk{next(_n)}", "community", tree.community)
        w.elder = ElderFactory(region=tree.grid, home_lat=HOME[0], home_lng=HOME[1], address="1号楼1单元101")
        w.item = ServiceItem.objects.get(code=item_code)
        w.org = organisation(tree)
        w.anna = caregiver(tree, w.org, name="王安娜", sex="F")
        w.bo = caregiver(tree, w.org, name="李波", sex="M")
        w.anna_user = worker_account(w.anna)
        w.bo_user = worker_account(w.bo)
        w.dispatcher = make_user(f"disp{next(_n)}", "provider", None)
        w.dispatcher.organisation = w.org
        w.dispatcher.save()
        w.tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        return w

    def order(self, *, start=None, by=None, **kw):
        from orders.services import order_create

        kw.setdefault("source", "hotline")
        return order_create(
            by=by or self.desk, elder=self.elder, item=self.item, scheduled_start=start or at(self.tomorrow, 9), **kw
        )

    def dispatched(self, order, *, caregiver=None):
        from orders.services import order_dispatch

        return order_dispatch(by=self.desk, order=order, organisation=self.org, caregiver=caregiver)

    def accepted(self, order, person=None):
        from orders.services import order_accept

        person = person or self.anna
        if order.status == "created":
            order = self.dispatched(order, caregiver=person)
        return order_accept(by=person.user, order=order)

    # --- dispatch (orders/dispatch.py) ---------------------------------------------------------

    def qualify(self, person, *, item=None, cert_days=365, cert_kind=None, **fields):
        """Give `person` what `item` (the world's by default) needs — its skills and, for each
        required certificate, one valid for `cert_days` — and set `fields` (home_lat, sex,
        languages, work_days …) through the providers' services."""
        from providers.services import caregiver_update
        from providers.tests.factories import certificate

        item = item or self.item
        skills = sorted({*item.required_skills.values_list("pk", flat=True), *person.skills.values_list("pk", flat=True)})
        person = caregiver_update(by=self.admin, caregiver=person, data={"skills": skills, **fields})
        for kind in [cert_kind] if cert_kind else item.required_certificates.all():
            certificate(self.tree, person, days=cert_days, kind=kind, number=f"Q{person.pk:06d}{kind.pk:03d}")
        return person

    def staff(self, *, org=None, name=None, sex="F", **fields):
        """Another caregiver of `org` (the world's), qualified for the world's item."""
        from providers.tests.factories import caregiver

        return self.qualify(caregiver(self.tree, org or self.org, name=name, sex=sex), **fields)

    def delivered(self, order, person):
        """An order served by `person`: accepted, then checked in and out through the table
        (orders.services.order_move; the EVV's own services record the visit's details)."""
        from django.db import transaction

        from orders.services import order_move

        if person.user_id is None:
            worker_account(person)
        order = self.accepted(order, person)
        with transaction.atomic():
            order_move(by=person.user, order=order, action="check_in")
            order_move(by=person.user, order=order, action="check_out")
        return order


def delivered(loop, order=None, *, person=None, flags=(), checkout_at=None, **kw):
    """An order checked out (completed) by `person` (default 王安娜), before the EVV pages exist:
    created (`kw` for LoopWorld.order), dispatched, accepted, then moved check_in → check_out
    through order_move with the visit's times set (the window's start and end) and `flags`."""
    from django.db import transaction

    from orders.services import _locked, order_move

    person = person or loop.anna
    order = loop.accepted(order or loop.order(**kw), person)
    with transaction.atomic():
        order = _locked(order)
        order.checkin_at = order.scheduled_start
        order_move(by=person.user, order=order, action="check_in", update_fields=["checkin_at", "updated_at"])
        order.checkout_at = checkout_at or order.scheduled_end
        order.flags = list(flags)
        order.verification = "verified"
        order_move(
            by=person.user, order=order, action="check_out", update_fields=["checkout_at", "flags", "verification", "updated_at"]
        )
    return order


def relative(loop, *, username=None, elder=None, relation="child"):
    """A relative's account (role 老人/家属, no region) linked by the community worker to the
    elder, with consent recorded."""
    from orders.family import family_link_create

    user = make_user(username or f"rel{next(_n)}", "elder", None)
    family_link_create(
        by=loop.desk,
        user=user,
        elder=elder or loop.elder,
        relation=relation,
        consent_on=timezone.localdate(),
        consent_note="本人签字同意书，编号 2026-001",
    )
    return user


# --- visit verification (orders/evv.py) -------------------------------------------------------------


def north_of_home(metres: float) -> tuple[float, float]:
    """A point `metres` due north of HOME (along the meridian the great-circle distance is exact)."""
    from core.geo import METRES_PER_DEGREE_LAT

    return HOME[0] + metres / METRES_PER_DEGREE_LAT, HOME[1]


def checked_in(order, *, person=None, now=None, metres: float = 20, accuracy_m: int = 15, **kw):
    """`order` accepted by `person` (default the order's caregiver, else anna's world) and checked
    in at its start (or `now`), `metres` from the elder's home."""
    from orders.evv import order_check_in

    lat, lng = north_of_home(metres)
    worker = person or order.caregiver
    return order_check_in(
        by=worker.user, order=order, lat=lat, lng=lng, accuracy_m=accuracy_m, now=now or order.scheduled_start, **kw
    )


def outcomes_of(order) -> dict:
    """Every outcome the order's item asks for, ticked."""
    return {name: True for name in order.item.outcomes or []}
