"""Reads for users: a user's own API tokens."""

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import ApiToken, User


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    """`user`'s tokens that still work, newest first (the key itself is never stored)."""
    return ApiToken.objects.filter(user=user, expires_at__gt=timezone.now()).order_by("-created_at", "-pk")


def organisation_user_ids(*, organisation_id: int, roles=("provider",)) -> list[int]:
    """The active users of an organisation with one of `roles` (whom its notices go to)."""
    return list(
        User.objects.filter(organisation_id=organisation_id, role__in=roles, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def user_scope(*, by: User, action: str = "view"):
    """The users `by` manages: those in `by`'s region subtree (restrict), and the users of a
    service organisation in that subtree who have no region of their own (the second axis)."""
    qs = User.objects.restrict(by, action)
    if by.region is not None and by.may(action, User):
        organisations = User._meta.get_field("organisation").related_model.objects.within(by.region)
        qs = qs | User.objects.filter(region__isnull=True, organisation__in=organisations.values("pk"))
    return qs
