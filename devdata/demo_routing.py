"""Day routes of the demo (issue 14): 安泰社区居家养老服务站 gets its station's place (a routing
Base; providers.Organisation has no coordinates), the canteen of 安泰社区 its meal round loads
at, and a routing profile for each of its caregivers (e-bike from home; the one with the phone
account `caregiver2` also delivers lunches, 20 a round), so `make run` can plan tomorrow out of
the box (/routing/new/). Idempotent: only what is missing is made."""

from devdata.demo_merchants import ANTAI

STATION = "安泰社区居家养老服务站"


def seed_demo_routing(*, users) -> int:
    """Returns how many profiles were made."""
    from merchants.models import Merchant
    from providers.models import Caregiver, Organisation, StaffStatus
    from routing.models import Base, RoutingProfile

    org = Organisation.objects.filter(name=STATION).first()
    if org is None:
        return 0
    if not Base.objects.filter(organisation=org).exists():
        canteen = Merchant.objects.filter(kind="canteen", region__path__startswith=org.region.path, lat__isnull=False).first()
        Base.objects.create(organisation=org, region=org.region, name=STATION, lat=ANTAI[0], lng=ANTAI[1], canteen=canteen)
    made = 0
    phone = users.get("caregiver2")
    for c in Caregiver.objects.filter(organisation=org, status=StaffStatus.ACTIVE).order_by("pk"):
        if RoutingProfile.objects.filter(caregiver=c).exists():
            continue
        courier = phone is not None and c.user_id == phone.pk
        RoutingProfile.objects.create(
            caregiver=c, region=org.region, organisation=org, mode="ebike", does_meals=courier, capacity=20 if courier else 0
        )
        made += 1
    return made
