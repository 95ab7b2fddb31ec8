"""Builders for routing tests: a station (LoopWorld's organisation) with a base, elders at known
points east of it, caregivers qualified for cleaning with a home at the base, orders tomorrow."""

import datetime
import itertools

from orders.tests.factories import HOME, LoopWorld, at

_n = itertools.count(1)
EAST_1KM = 0.0104  # degrees of longitude ≈ 1 km at 30.6° N


def point(km_east: float, km_north: float = 0.0) -> tuple[float, float]:
    return HOME[0] + km_north / 111.2, HOME[1] + km_east * EAST_1KM


class RouteWorld(LoopWorld):
    @classmethod
    def build(cls, tree, **kw):
        from routing.models import Base

        w = super().build(tree, **kw)
        w.anna = w.qualify(w.anna, home_lat=HOME[0], home_lng=HOME[1], work_start=datetime.time(8), work_end=datetime.time(17))
        w.bo = w.qualify(w.bo, home_lat=HOME[0], home_lng=HOME[1], work_start=datetime.time(8), work_end=datetime.time(17))
        w.base = Base.objects.create(organisation=w.org, region=w.org.region, name="站点", lat=HOME[0], lng=HOME[1])
        return w

    def elder_at(self, km_east: float, km_north: float = 0.0, **kw):
        from elders.tests.factories import ElderFactory

        lat, lng = point(km_east, km_north)
        return ElderFactory(region=self.tree.grid, home_lat=lat, home_lng=lng, address=f"{next(_n)}号楼", **kw)

    def visit(self, hour: int, minute: int = 0, *, elder=None, item=None, **kw):
        """A created order tomorrow at hour:minute for `elder` (a new one 1 km east by default)."""
        from orders.services import order_create

        return order_create(
            by=self.desk,
            elder=elder or self.elder_at(1),
            item=item or self.item,
            scheduled_start=at(self.tomorrow, hour, minute),
            **kw,
        )
