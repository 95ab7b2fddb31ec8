"""Reads of emergency alerts, devices and escalation policies; each that serves a user begins
with restrict(). The chain's recipients (who is notified at a step) are the system's reads, not
a user's: they name users by id for core.notify, never a phone."""

import datetime
import functools
from dataclasses import dataclass

from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from alerts.models import DEFAULT_STEPS, Alert, AlertEvent, Device, DeviceStatus, EscalationPolicy, Status, StepTarget
from core.access import check, get_scoped_or_404
from core.pagination import COUNT_CAP

LOW_BATTERY = 20  # per cent: the device list flags it (a dead battery is a missing alarm)


def path_ids(path: str) -> list[int]:
    """The region ids of a path, root first ("/1/5/23/" → [1, 5, 23])."""
    return [int(part) for part in path.strip("/").split("/") if part]


# --- the escalation policy ---------------------------------------------------------------------


def policy_for_region(region) -> tuple[EscalationPolicy | None, list[dict]]:
    """The policy that applies to `region`: the nearest region up its path that has one (the
    region itself first), and its steps; without any, (None, DEFAULT_STEPS)."""
    ids = path_ids(region.path)
    found = {p.region_id: p for p in EscalationPolicy.objects.filter(region_id__in=ids)}
    for region_id in reversed(ids):
        if region_id in found:
            policy = found[region_id]
            return policy, [dict(s) for s in policy.steps]
    return None, [dict(s) for s in DEFAULT_STEPS]


def policy_get(*, user, region, action: str = "view") -> EscalationPolicy | None:
    """The policy set on `region` itself (None if it has none); `region` already read through
    the user's scope."""
    check(user, action, EscalationPolicy)
    return EscalationPolicy.objects.restrict(user, action).filter(region=region).prefetch_related("duty_users").first()


def community_of(region):
    """The community (level 5) on `region`'s path, or None above community level."""
    from regions.models import Level, Region

    return Region.objects.filter(pk__in=path_ids(region.path), level=Level.COMMUNITY).first()


# --- who is on the chain -----------------------------------------------------------------------


def pairing_user_ids(*, elder_id: int, role: str, today: datetime.date | None = None) -> list[int]:
    """Accounts of the elder's active pairings in `role` (watcher or helper)."""
    from pairing.models import Pairing

    today = today or timezone.localdate()
    return list(
        Pairing.objects.filter(elder_id=elder_id, role=role, user__isnull=False, user__is_active=True, starts_on__lte=today)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .order_by("id")
        .values_list("user_id", flat=True)
        .distinct()
    )


def family_user_ids(*, elder_id: int) -> list[int]:
    """Relatives' accounts linked to the elder (orders.FamilyLink, consent recorded), active links."""
    from orders.models import FamilyLink

    return list(
        FamilyLink.objects.filter(elder_id=elder_id, ended_at__isnull=True, user__is_active=True)
        .order_by("id")
        .values_list("user_id", flat=True)
        .distinct()
    )


def _users_with(ids, role: str, code: str) -> list[int]:
    from accounts.models import User
    from accounts.roles import ROLE_PERMISSIONS

    if code not in ROLE_PERMISSIONS.get(role, frozenset()):
        return []
    return list(User.objects.filter(is_active=True, role=role, region_id__in=ids).order_by("id").values_list("id", flat=True))


def duty_fallback_user_ids(*, region) -> list[int]:
    """Without duty users on the policy: the community workers of the elder's community who may
    respond to alerts."""
    community = community_of(region)
    return _users_with([community.pk], "community", "alerts.respond_alert") if community else []


def grid_user_ids(*, region) -> list[int]:
    """Grid workers attached to the elder's grid (or to the community above it)."""
    from regions.models import Level, Region

    ids = list(Region.objects.filter(pk__in=path_ids(region.path), level__gte=Level.COMMUNITY).values_list("pk", flat=True))
    return _users_with(ids, "grid", "alerts.respond_alert")


def recipients(*, alert: Alert, step: dict, today: datetime.date | None = None) -> list[int]:
    """The user ids a step of `alert` notifies (call_120 notifies nobody: it is a prompt)."""
    return [pk for pk, _name in recipients_named(alert=alert, step=step, today=today)]


def _named(rows) -> list[tuple[int, str]]:
    seen, out = set(), []
    for pk, full_name, username in rows:
        if pk not in seen:
            seen.add(pk)
            out.append((pk, full_name or username))
    return out


def recipients_named(*, alert: Alert, step: dict, today: datetime.date | None = None) -> list[tuple[int, str]]:
    """(user id, name) of whom a step of `alert` notifies, in one query: what the step's notice
    and its line on the timeline need (names, never a number)."""
    from accounts.models import User
    from orders.models import FamilyLink
    from pairing.models import Pairing

    target = step.get("target")
    today = today or timezone.localdate()
    if target in (StepTarget.WATCHER, StepTarget.HELPER):
        rows = (
            Pairing.objects.filter(
                elder_id=alert.elder_id, role=target, user__isnull=False, user__is_active=True, starts_on__lte=today
            )
            .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
            .order_by("id")
            .values_list("user_id", "user__full_name", "user__username")
        )
        return _named(rows)
    if target == StepTarget.FAMILY:
        rows = (
            FamilyLink.objects.filter(elder_id=alert.elder_id, ended_at__isnull=True, user__is_active=True)
            .order_by("id")
            .values_list("user_id", "user__full_name", "user__username")
        )
        return _named(rows)
    if target == StepTarget.DUTY:
        ids = list(step.get("duty_user_ids") or []) or duty_fallback_user_ids(region=alert.region)
    elif target == StepTarget.GRID:
        ids = grid_user_ids(region=alert.region)
    else:
        return []
    if not ids:
        return []
    rows = User.objects.filter(pk__in=ids, is_active=True).values_list("id", "full_name", "username")
    named = dict((pk, (full, user)) for pk, full, user in rows)
    return [(pk, named[pk][0] or named[pk][1]) for pk in ids if pk in named]


def is_on_chain(user, alert: Alert) -> bool:
    """Whether `user` is someone the alert's chain reaches: a watcher or helper of the elder, a
    linked relative, the policy's duty worker, or anyone a step has notified."""
    if not getattr(user, "is_authenticated", False):
        return False
    today = timezone.localdate()
    for role in (StepTarget.WATCHER, StepTarget.HELPER):
        if user.pk in pairing_user_ids(elder_id=alert.elder_id, role=role, today=today):
            return True
    if user.pk in family_user_ids(elder_id=alert.elder_id):
        return True
    if any(user.pk in (s.get("duty_user_ids") or []) for s in alert.steps):
        return True
    return any(user.pk in (ids or []) for ids in alert.events.values_list("to_user_ids", flat=True))


# --- alerts ------------------------------------------------------------------------------------

OPEN = (Status.RAISED, Status.ACKNOWLEDGED)


@dataclass
class AlertFilter:
    region: object = None
    status: str = "open"  # open (raised + acknowledged), a status code, or "all"
    kind: str = ""
    source: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def alert_list(*, user, filters: AlertFilter | None = None):
    """Alerts of the user's scope, newest first (the region/status/received_at indexes)."""
    f = filters or AlertFilter()
    qs = Alert.objects.restrict(user, "view")
    if f.region is not None:
        qs = qs.within(f.region)
    if f.status == "open":
        qs = qs.filter(status__in=OPEN)
    elif f.status and f.status != "all":
        qs = qs.filter(status=f.status)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.source:
        qs = qs.filter(source=f.source)
    if f.date_from:
        qs = qs.filter(received_at__gte=_day_start(f.date_from))
    if f.date_to:
        qs = qs.filter(received_at__lt=_day_start(f.date_to + datetime.timedelta(days=1)))
    return qs.select_related("elder", "region", "device", "acknowledged_by").order_by("-received_at", "-id")


BOARD_MAX = 100


def board_alerts(*, user, region=None, resolved_hours: int = 12, now=None) -> dict:
    """The live board: open alerts (raised first, then acknowledged, oldest first: the one waiting
    longest on top) and those resolved in the last `resolved_hours`."""
    now = now or timezone.now()
    qs = Alert.objects.restrict(user, "view")
    if region is not None:
        qs = qs.within(region)
    qs = qs.select_related("elder", "region", "acknowledged_by", "device")
    raised = list(qs.filter(status=Status.RAISED).order_by("received_at", "id")[:BOARD_MAX])
    acked = list(qs.filter(status=Status.ACKNOWLEDGED).order_by("received_at", "id")[:BOARD_MAX])
    resolved = list(
        qs.filter(status=Status.RESOLVED, received_at__gte=now - datetime.timedelta(hours=resolved_hours)).order_by(
            "-resolved_at", "-id"
        )[:20]
    )
    prompts = set(
        AlertEvent.objects.filter(alert_id__in=[a.pk for a in raised], kind=AlertEvent.Kind.PROMPT).values_list(
            "alert_id", flat=True
        )
    )
    return {"raised": raised, "acknowledged": acked, "resolved": resolved, "prompts": prompts, "now": now}


def alert_get(*, user, alert_id: int, action: str = "view") -> Alert:
    return get_scoped_or_404(
        Alert.objects.select_related("elder", "region", "device", "acknowledged_by", "resolved_by"), user, alert_id, action
    )


def responder_check(user) -> None:
    """The guard of the respond routes, instead of core.access.requires: a relative's or a
    neighbour's account may have no region (requires would refuse it as not set up), so they
    are asked only for alerts.respond_alert and reach only the alerts their chain reaches."""
    from core.access import NotPermitted, not_permitted_message

    if not getattr(user, "is_authenticated", False) or not user.may("respond", Alert):
        raise NotPermitted(not_permitted_message())


def may_respond(user, alert: Alert) -> bool:
    """Whether `user` may acknowledge or resolve `alert`: the permission, and either the alert
    in the scope of a user who may read alerts (community and grid workers) or its chain
    reaching them (a volunteer of the community reaches only the elders they are paired with)."""
    if not getattr(user, "is_authenticated", False) or not user.may("respond", Alert):
        return False
    return Alert.objects.restrict(user, "view").filter(pk=alert.pk).exists() or is_on_chain(user, alert)


def alert_for_responder(*, user, alert_id: int) -> Alert:
    """An alert a user may respond to: in their scope, or one whose chain reaches them (a
    watcher, a relative, a duty worker outside the region's tree). 404 otherwise (403 for an
    account with neither a region nor a place on the chain)."""
    from core.access import NoRegion, no_region_message
    from core.scoping import Scope

    responder_check(user)
    qs = Alert.objects.select_related("elder", "region", "device", "acknowledged_by", "resolved_by")
    alert = qs.restrict(user, "view").filter(pk=alert_id).first()
    if alert is not None:
        return alert
    alert = qs.filter(pk=alert_id).first()
    if alert is not None and is_on_chain(user, alert):
        return alert
    if Scope.of(user).is_empty and getattr(user, "role", "") != "elder":
        raise NoRegion(no_region_message())
    raise Http404


def alerts_to_respond(*, user, limit: int = 20) -> list[Alert]:
    """Open alerts whose chain reaches the user (their watcher's, relative's or duty phone page)."""
    if not user.may("respond", Alert):
        return []
    from orders.models import FamilyLink
    from pairing.models import Pairing

    today = timezone.localdate()
    paired = Pairing.objects.filter(user=user, starts_on__lte=today).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
    linked = FamilyLink.objects.filter(user=user, ended_at__isnull=True)
    elder_ids = set(paired.values_list("elder_id", flat=True)) | set(linked.values_list("elder_id", flat=True))
    qs = Alert.objects.filter(status__in=OPEN).filter(
        Q(elder_id__in=elder_ids) | Q(pk__in=Alert.objects.restrict(user, "view").filter(status__in=OPEN).values("pk"))
    )
    return list(qs.select_related("elder", "region").order_by("received_at", "id")[:limit])


def alert_events(alert: Alert) -> list[AlertEvent]:
    return list(alert.events.select_related("by").order_by("at", "id"))


def alerts_for_elder(*, elder, limit: int = 10, user=None) -> list[Alert]:
    """An elder's latest alerts for a page that already read the elder through its own check
    (the family portal, the elder's page): newest first, `limit` of them."""
    return list(Alert.objects.filter(elder=elder).select_related("acknowledged_by").order_by("-received_at", "-id")[:limit])


def _capped(qs) -> int:
    return qs.order_by()[: COUNT_CAP + 1].count()


def alert_desk_figures(*, user, now=None) -> dict | None:
    """The desk's panel: open alerts, those nobody has answered yet, and silent devices."""
    if not user.may("view", Alert):
        return None
    now = now or timezone.now()
    qs = Alert.objects.restrict(user, "view")
    figures = {
        "raised": _capped(qs.filter(status=Status.RAISED)),
        "acknowledged": _capped(qs.filter(status=Status.ACKNOWLEDGED)),
        "silent": None,
        "cap": COUNT_CAP,
    }
    if user.may("view", Device):
        figures["silent"] = _capped(silent_devices(user=user, now=now))
    return figures


# --- devices -----------------------------------------------------------------------------------


def device_list(*, user, region=None, status: str = "active", kind: str = "", flag: str = "", now=None):
    """Devices of the user's scope; `flag`: silent (past 2 heartbeat intervals) or low battery."""
    now = now or timezone.now()
    qs = Device.objects.restrict(user, "view")
    if region is not None:
        qs = qs.within(region)
    if status and status != "all":
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if flag == "silent":
        qs = qs.filter(status=DeviceStatus.ACTIVE, silent_after__lt=now)
    elif flag == "battery":
        qs = qs.filter(status=DeviceStatus.ACTIVE, battery__lt=LOW_BATTERY)
    return qs.select_related("elder", "region").order_by("region_id", "id")


def silent_devices(*, user, region=None, now=None):
    """Active devices silent past twice their heartbeat interval (one range read of `device_silent`)."""
    now = now or timezone.now()
    qs = Device.objects.restrict(user, "view").filter(status=DeviceStatus.ACTIVE, silent_after__lt=now)
    if region is not None:
        qs = qs.within(region)
    return qs.select_related("elder", "region").order_by("silent_after", "id")


def device_get(*, user, device_id: int, action: str = "view") -> Device:
    return get_scoped_or_404(Device.objects.select_related("elder", "region"), user, device_id, action)


def device_by_token(token: str) -> Device | None:
    """The device a gateway's token names (its keyed hash), active or not; None if unknown."""
    from core.crypto import lookup_hash

    token = (token or "").strip()
    if not token or len(token) > 200:
        return None
    return (
        Device.objects.filter(token_hash=lookup_hash(token))
        .select_related("elder__region")
        .defer(*_elder_fields_unused_on_ingest())
        .first()
    )


@functools.cache
def _elder_fields_unused_on_ingest() -> tuple[str, ...]:
    """The elder's columns an alert from a device never reads (it needs the elder's id, name,
    status and region): left out of the gateway's lookup, which runs for every alert — the
    register's row is wide, and building and reading its ~60 columns was a third of the lookup."""
    from elders.models import Elder

    keep = {"id", "name", "status", "region"}
    return tuple(f"elder__{f.name}" for f in Elder._meta.concrete_fields if f.name not in keep)


def is_silent(device: Device, now=None) -> bool:
    now = now or timezone.now()
    return device.status == DeviceStatus.ACTIVE and device.silent_after is not None and device.silent_after < now


def is_low_battery(device: Device) -> bool:
    return device.battery is not None and device.battery < LOW_BATTERY


# --- the report: response and resolution times per community and month --------------------------


def _percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile (0 < fraction <= 1) of `values`, None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))  # ceil(n × fraction)
    return ordered[int(rank) - 1]


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


@dataclass
class ReportRow:
    community_id: int | None
    community: str
    month: datetime.date
    count: int = 0
    acknowledged: int = 0
    resolved: int = 0
    unanswered: int = 0
    response_median_s: float | None = None
    response_p90_s: float | None = None
    resolution_median_s: float | None = None
    by_outcome: dict | None = None


REPORT_MAX_MONTHS = 24


def alert_report(*, user, month_from: datetime.date, month_to: datetime.date, region=None) -> list[ReportRow]:
    """Per community and month of receipt (Asia/Shanghai): how many alerts, how many answered,
    the median and 90th percentile of the response time (acknowledged_at − received_at; an alert
    resolved without acknowledgement counts its resolution) and the median resolution time
    (resolved_at − received_at). Alerts never answered count in `unanswered`, not in the times."""
    from regions.models import Level, Region

    check(user, "view", Alert)
    month_from, month_to = month_start(month_from), month_start(month_to)
    start = _day_start(month_from)
    end = _day_start(next_month(month_to))
    qs = Alert.objects.restrict(user, "view").filter(received_at__gte=start, received_at__lt=end)
    if region is not None:
        qs = qs.within(region)
    rows = list(qs.values_list("region__path", "received_at", "acknowledged_at", "resolved_at", "outcome"))
    ids = {i for path, *_ in rows for i in path_ids(path)}
    communities = dict(Region.objects.filter(pk__in=ids, level=Level.COMMUNITY).values_list("pk", "name"))
    groups: dict[tuple, dict] = {}
    for path, received, acked, resolved, outcome in rows:
        community_id = next((i for i in path_ids(path) if i in communities), None)
        month = timezone.localtime(received).date().replace(day=1)
        g = groups.setdefault((community_id, month), {"count": 0, "resp": [], "res": [], "outcome": {}})
        g["count"] += 1
        if acked is not None:
            g["resp"].append((acked - received).total_seconds())
        if resolved is not None:
            g["res"].append((resolved - received).total_seconds())
            g["outcome"][outcome] = g["outcome"].get(outcome, 0) + 1
    out = []
    for (community_id, month), g in sorted(groups.items(), key=lambda kv: (kv[0][1], communities.get(kv[0][0], ""))):
        out.append(
            ReportRow(
                community_id=community_id,
                community=communities.get(community_id, "—"),
                month=month,
                count=g["count"],
                acknowledged=len(g["resp"]),
                resolved=len(g["res"]),
                unanswered=g["count"] - len(g["resp"]),
                response_median_s=_percentile(g["resp"], 0.5),
                response_p90_s=_percentile(g["resp"], 0.9),
                resolution_median_s=_percentile(g["res"], 0.5),
                by_outcome=g["outcome"],
            )
        )
    return out


def duty_choices(*, user, region) -> list:
    """Who may be a duty user of `region` (already read through the user's scope): active
    community and grid workers attached in its subtree."""
    from accounts.models import User
    from core.scoping import Subtree

    check(user, "view", Alert)
    return list(
        User.objects.filter(is_active=True, role__in=["community", "grid"])
        .filter(Subtree(region.path).q("region__path"))
        .order_by("role", "full_name", "pk")[:200]
    )
