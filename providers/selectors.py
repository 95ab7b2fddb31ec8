"""Reads of the providers app; each begins with restrict() (the region axis OR the organisation)."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import access_log
from core import crypto
from core.access import get_scoped_or_404
from providers.models import Caregiver, Certificate, Organisation, Team, Volunteer


def organisation_list(*, user, q: str = "", kind: str = "", status: str = "", action: str = "view"):
    qs = Organisation.objects.restrict(user, action).select_related("region")
    if q:
        qs = qs.filter(name__icontains=q.strip()[:40])
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    return qs.annotate(staff_count=Count("staff", filter=Q(staff__status="active"))).order_by("name", "id")


def organisation_get(*, user, organisation_id, action: str = "view") -> Organisation:
    return get_scoped_or_404(Organisation.objects.select_related("region"), user, organisation_id, action)


def organisation_choices(*, user, action: str = "view"):
    """The organisations `user` may pick (a caregiver's organisation, a user's organisation)."""
    return Organisation.objects.restrict(user, action).order_by("name", "id")


def caregiver_list(*, user, organisation_id=None, q: str = "", kind: str = "", status: str = "active", action: str = "view"):
    qs = Caregiver.objects.restrict(user, action).select_related("organisation")
    if organisation_id:
        qs = qs.filter(organisation_id=organisation_id)
    if q:
        qs = qs.filter(name__icontains=q.strip()[:32])
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("name", "id")


def caregiver_get(*, user, caregiver_id, action: str = "view") -> Caregiver:
    return get_scoped_or_404(Caregiver.objects.select_related("organisation__region"), user, caregiver_id, action)


def caregiver_reveal(*, user, caregiver: Caregiver, reason: str, ip=None) -> dict:
    """The full ID number and phone of a caregiver, for a user who may and says why; logged."""
    from elders.selectors import clean_reveal_reason

    caregiver = caregiver_get(user=user, caregiver_id=caregiver.pk, action="reveal")
    reason = clean_reveal_reason(reason)
    values = {"id_number": crypto.decrypt(caregiver.id_number_enc), "phone": crypto.decrypt(caregiver.phone_enc)}
    access_log(
        kind="reveal",
        model="providers.caregiver",
        object_id=caregiver.pk,
        fields=("id_number", "phone"),
        detail={"reason": reason},
        by=user,
        region=caregiver.organisation.region,
        ip=ip,
    )
    return values


def caregiver_names(user, ids) -> dict[int, str]:
    return dict(Caregiver.objects.restrict(user, "view").filter(pk__in=ids).values_list("pk", "name"))


def certificate_list(*, user, caregiver: Caregiver):
    return Certificate.objects.filter(caregiver=caregiver, caregiver__in=Caregiver.objects.restrict(user, "view")).select_related(
        "kind"
    )


def certificate_get(*, user, certificate_id, action: str = "view") -> Certificate:
    """One certificate of a caregiver `user` may `action`; 404 otherwise (403 without the right)."""
    from core.access import check

    check(user, action, Caregiver)
    try:
        return Certificate.objects.select_related("caregiver__organisation__region", "kind").get(
            pk=int(certificate_id), caregiver__in=Caregiver.objects.restrict(user, action)
        )
    except (Certificate.DoesNotExist, ValueError, TypeError):
        from django.http import Http404

        raise Http404 from None


def expiry_window(days=None) -> int:
    """The window of the expiring list: `days` asked (1…365) or CERTIFICATE_EXPIRY_DAYS."""
    if days in (None, ""):
        return settings.CERTIFICATE_EXPIRY_DAYS
    try:
        value = int(days)
    except (TypeError, ValueError):
        raise ValidationError({"days": _("天数应为 1 到 365 之间的整数")}) from None
    if not 1 <= value <= 365:
        raise ValidationError({"days": _("天数应为 1 到 365 之间的整数")})
    return value


def certificates_expiring(*, user, days=None, today=None, organisation_id=None, include_expired: bool = True):
    """Certificates of active staff in `user`'s scope expiring within `days` (and, with
    `include_expired`, those already expired), soonest first."""
    today = today or timezone.localdate()
    until = today + datetime.timedelta(days=expiry_window(days))
    qs = Certificate.objects.filter(
        caregiver__in=Caregiver.objects.restrict(user, "view").filter(status="active"), expires_on__lte=until
    )
    if not include_expired:
        qs = qs.filter(expires_on__gte=today)
    if organisation_id:
        qs = qs.filter(caregiver__organisation_id=organisation_id)
    return qs.select_related("caregiver__organisation", "kind").order_by("expires_on", "id")


def expiring_panel(user):
    """The desk's panel: how many certificates of the user's staff expire soon (None: not for them)."""
    if not user.may_code("providers.view_caregiver"):
        return None
    today = timezone.localdate()
    qs = certificates_expiring(user=user, today=today)
    expired = qs.filter(expires_on__lt=today).count()
    soon = qs.filter(expires_on__gte=today).count()
    if not expired and not soon:
        return None
    return {"expired": expired, "soon": soon, "days": settings.CERTIFICATE_EXPIRY_DAYS}


def team_list(*, user, action: str = "view"):
    return (
        Team.objects.restrict(user, action)
        .select_related("region")
        .annotate(member_count=Count("members", filter=Q(members__status="approved")))
        .order_by("region__name", "kind", "name", "id")
    )


def team_get(*, user, team_id, action: str = "view") -> Team:
    return get_scoped_or_404(Team.objects.select_related("region"), user, team_id, action)


def volunteer_list(*, user, q: str = "", status: str = "", team_id=None, action: str = "view"):
    qs = Volunteer.objects.restrict(user, action).select_related("region", "team")
    if q:
        qs = qs.filter(name__icontains=q.strip()[:32])
    if status:
        qs = qs.filter(status=status)
    if team_id:
        qs = qs.filter(team_id=team_id)
    return qs.order_by("name", "id")


def volunteer_get(*, user, volunteer_id, action: str = "view") -> Volunteer:
    return get_scoped_or_404(Volunteer.objects.select_related("region", "team"), user, volunteer_id, action)


def volunteer_reveal(*, user, volunteer: Volunteer, reason: str, ip=None) -> dict:
    """A volunteer's full phone, for a user who may and says why; logged."""
    from elders.selectors import clean_reveal_reason

    volunteer = volunteer_get(user=user, volunteer_id=volunteer.pk, action="reveal")
    reason = clean_reveal_reason(reason)
    values = {"phone": crypto.decrypt(volunteer.phone_enc)}
    access_log(
        kind="reveal",
        model="providers.volunteer",
        object_id=volunteer.pk,
        fields=("phone",),
        detail={"reason": reason},
        by=user,
        region=volunteer.region,
        ip=ip,
    )
    return values


def volunteer_names(user, ids) -> dict[int, str]:
    return dict(Volunteer.objects.restrict(user, "view").filter(pk__in=ids).values_list("pk", "name"))


def skill_choices():
    from catalogue.models import Skill

    return Skill.objects.filter(is_active=True).order_by("code")


def certificate_kind_choices():
    from catalogue.models import CertificateKind

    return CertificateKind.objects.filter(is_active=True).order_by("family", "rank")


def community_choices(*, user):
    """The communities (and grids) `user` may register teams and volunteers in."""
    from regions.models import Level, Region

    return Region.objects.restrict(user, "view").filter(level=Level.COMMUNITY).order_by("path")


def team_choices(*, user):
    return Team.objects.restrict(user, "view").select_related("region").order_by("region__name", "name", "id")


def absence_list(*, user, caregiver_id=None, day_from=None, action: str = "view"):
    """Absences of the caregivers `user` may `action` (restrict() on the caregiver), those
    ending on or after `day_from` (today by default), soonest first."""
    from providers.models import Absence

    day_from = day_from or timezone.localdate()
    qs = Absence.objects.filter(caregiver__in=Caregiver.objects.restrict(user, action), ends_on__gte=day_from)
    if caregiver_id:
        qs = qs.filter(caregiver_id=caregiver_id)
    return qs.select_related("caregiver__organisation").order_by("starts_on", "id")


def absence_get(*, user, absence_id, action: str = "view"):
    """One absence of a caregiver `user` may `action`; 404 otherwise (403 without the right)."""
    from django.http import Http404

    from core.access import check
    from providers.models import Absence

    check(user, action, Caregiver)
    try:
        return Absence.objects.select_related("caregiver__organisation__region").get(
            pk=int(absence_id), caregiver__in=Caregiver.objects.restrict(user, action)
        )
    except (Absence.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
