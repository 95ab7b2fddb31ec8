"""Alerts' test data: an elder of 安泰第一网格 with a watcher, a relative and a device."""

import datetime

from django.utils import timezone

from conftest import make_user
from elders.tests.factories import ElderFactory


def pairing_for(elder, user, role="watcher", name="邻居老王"):
    """A pairing of `user` with `elder` (written directly: the pairing app is another helper's)."""
    from pairing.models import Pairing

    return Pairing.objects.create(
        elder=elder, region=elder.region, role=role, partner_name=name, user=user, starts_on=datetime.date(2020, 1, 1)
    )


def family_for(elder, user):
    from orders.models import FamilyLink

    return FamilyLink.objects.create(
        user=user, elder=elder, relation="child", consent_on=timezone.localdate(), consent_note="本人签字同意书"
    )


class World:
    """安泰社区's alert world: an elder with watcher, relative, duty worker and a device."""

    def __init__(self, tree, *, with_watcher=True, with_family=True):
        from alerts import services

        self.tree = tree
        self.worker = make_user("duty", "community", tree.community)
        self.worker.full_name = "值班员小李"
        self.worker.save()
        self.grid = make_user("gridw", "grid", tree.grid)
        self.elder = ElderFactory(region=tree.grid, name="欧阳春梅")
        self.watcher = make_user("watcher", "volunteer", tree.community)
        self.watcher.full_name = "守望员老王"
        self.watcher.save()
        self.relative = make_user("relative", "elder", None)
        self.relative.full_name = "女儿小梅"
        self.relative.save()
        if with_watcher:
            pairing_for(self.elder, self.watcher)
        if with_family:
            family_for(self.elder, self.relative)
        self.device = services.device_register(
            by=self.worker, elder=self.elder, kind="call_button", number="IMEI860000000001", installed_on=timezone.localdate()
        )
        self.token = services.device_token_issue(by=self.worker, device=self.device)
