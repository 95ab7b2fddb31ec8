"""Merchants for tests, and points a given distance from another."""

import math

from core.geo import METRES_PER_DEGREE_LAT
from merchants.models import Merchant

CENTRE = (30.6280, 120.5650)  # 安泰社区's centre in the demo


def north_of(point, metres):
    return (point[0] + metres / METRES_PER_DEGREE_LAT, point[1])


def east_of(point, metres):
    return (point[0], point[1] + metres / (METRES_PER_DEGREE_LAT * math.cos(math.radians(point[0]))))


def merchant(region, name="安泰理发店", kind="barber", point=CENTRE, **over) -> Merchant:
    values = {"discount_tenths": 80, "status": "active"}
    values.update(over)
    lat, lng = point if point is not None else (None, None)
    return Merchant.objects.create(region=region, name=name, kind=kind, lat=lat, lng=lng, **values)
