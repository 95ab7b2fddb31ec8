"""Who an order may be dispatched to (派单, SPEC §2.6): the dispatch-aware selectors.

An organisation serves an elder when it is active and
- its home region contains the elder's region (an organisation registered at the district
  serves every community of the district), or lies under it, or
- its service area (Organisation.service_area) holds a node on the elder's path (the elder's
  grid, community, street …).

This is not restrict(). A community worker's restrict() reaches only the organisations
registered in the community, yet an organisation registered at the district serves it, and
dispatch must offer it. What makes the lookup safe is the order: it was read through the
user's scope for "dispatch" (orders.selectors.order_get), and only the organisations, staff and
volunteers that serve *that order's* elder are reachable here — names and ids, never their
personal numbers. An id outside that set is a 404 (its existence not leaked), except one the
user reaches anyway through restrict(): then a 422 says why it cannot serve this order.

A provider's dispatcher (User.organisation set) reaches their own organisation and its active
staff only: they assign, they never send elsewhere (orders.services.order_dispatch).
"""

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.utils.translation import gettext as _

from core.access import check
from core.scoping import Subtree, region_q
from orders.models import Order


def path_ids(region) -> list[int]:
    """The ids of `region` and every node above it (its path)."""
    return region.depth_ids


def serving_organisations(*, region):
    """Active organisations serving an elder who lives in `region` (the module's rule)."""
    from providers.models import Organisation, OrganisationStatus

    ids = path_ids(region)
    area = Organisation.service_area.through.objects.filter(organisation_id=OuterRef("pk"), region_id__in=ids)
    under = Subtree(region.path).q("region__path")  # a prefix match: few organisations, no id list to read first
    return Organisation.objects.filter(status=OrganisationStatus.ACTIVE).filter(Q(region_id__in=ids) | under | Exists(area))


def community_of(region):
    """The community (社区/村) an elder's region belongs to: the node itself when it is a
    community or above, else its community ancestor."""
    from regions.models import Level, Region

    if region.level <= Level.COMMUNITY:
        return region
    return Region.objects.filter(pk__in=path_ids(region), level=Level.COMMUNITY).first() or region


def dispatch_organisations(*, user, order: Order):
    """Organisations `user` may send `order` to: those serving its elder; for a provider's
    dispatcher, their own organisation (when active)."""
    from providers.models import Organisation, OrganisationStatus

    check(user, "dispatch", Order)
    if user.organisation_id:
        return Organisation.objects.filter(pk=user.organisation_id, status=OrganisationStatus.ACTIVE)
    return serving_organisations(region=order.region)


def dispatch_caregivers(*, user, order: Order):
    """Active caregivers of the organisations `user` may send `order` to."""
    from providers.models import Caregiver, StaffStatus

    return Caregiver.objects.filter(
        status=StaffStatus.ACTIVE, organisation__in=dispatch_organisations(user=user, order=order).values("pk")
    )


def dispatch_volunteers(*, user, order: Order):
    """Approved volunteers of the elder's community (none for a provider's dispatcher)."""
    from providers.models import Volunteer, VolunteerStatus

    check(user, "dispatch", Order)
    if user.organisation_id:
        return Volunteer.objects.none()
    community = community_of(order.region)
    return Volunteer.objects.filter(status=VolunteerStatus.APPROVED).filter(region_q("region__path", Subtree(community.path)))


def _int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 0 < number < 2**62:
        raise Http404
    return number


def dispatch_organisation_get(*, user, order: Order, organisation_id):
    """One organisation `user` may send `order` to; 422 for one in the user's reach that does
    not serve it, 404 otherwise."""
    from providers.models import Organisation, OrganisationStatus

    pk = _int(organisation_id)
    found = dispatch_organisations(user=user, order=order).select_related("region").filter(pk=pk).first()
    if found is not None:
        return found
    seen = Organisation.objects.restrict(user, "view").filter(pk=pk).first()
    if seen is None:
        raise Http404
    if seen.status != OrganisationStatus.ACTIVE:
        raise ValidationError({"organisation": _("%(org)s当前不在服务状态，请选择其他机构") % {"org": seen.name}})
    raise ValidationError(
        {
            "organisation": _("%(org)s的服务区域不含老人所在社区，请选择其他机构，或先在机构资料中补充服务区域")
            % {"org": seen.name}
        }
    )


def dispatch_caregiver_get(*, user, order: Order, caregiver_id):
    """One caregiver `user` may send `order` to; 422 for one in reach that may not serve it."""
    from providers.models import Caregiver, StaffStatus

    pk = _int(caregiver_id)
    found = dispatch_caregivers(user=user, order=order).select_related("organisation").filter(pk=pk).first()
    if found is not None:
        return found
    seen = Caregiver.objects.restrict(user, "view").select_related("organisation").filter(pk=pk).first()
    if seen is None:
        raise Http404
    if seen.status != StaffStatus.ACTIVE:
        raise ValidationError({"caregiver": _("%(name)s当前不在岗，请选择其他服务人员") % {"name": seen.name}})
    raise ValidationError(
        {
            "caregiver": _("%(name)s所在的%(org)s不服务老人所在社区，请选择其他服务人员")
            % {"name": seen.name, "org": seen.organisation.name}
        }
    )


def dispatch_volunteer_get(*, user, order: Order, volunteer_id):
    """One volunteer `user` may send `order` to; 422 for one in reach who may not serve it."""
    from providers.models import Volunteer, VolunteerStatus

    pk = _int(volunteer_id)
    found = dispatch_volunteers(user=user, order=order).filter(pk=pk).first()
    if found is not None:
        return found
    seen = Volunteer.objects.restrict(user, "view").filter(pk=pk).first()
    if seen is None:
        raise Http404
    if seen.status != VolunteerStatus.APPROVED:
        raise ValidationError({"volunteer": _("志愿者%(name)s尚未通过审核，不能派单") % {"name": seen.name}})
    raise ValidationError({"volunteer": _("志愿者%(name)s不属于老人所在社区，请选择本社区的志愿者") % {"name": seen.name}})


def nameable_caregivers(*, user, elder, current_id=None) -> list:
    """Whom the preference form offers to name: the last 20 caregivers who served `elder` (of
    organisations serving them now, as dispatch), and the one named now (`current_id`)."""
    probe = Order(elder=elder, region=elder.region)
    served = (
        Order.objects.filter(elder=elder, caregiver__isnull=False)
        .order_by("-scheduled_start")
        .values_list("caregiver_id", flat=True)[:200]
    )
    ids = list(dict.fromkeys(served))[:20] + ([current_id] if current_id else [])
    return list(dispatch_caregivers(user=user, order=probe).filter(pk__in=ids).order_by("name", "id"))
