"""A day's work in the database → a `routing.model.Problem` (and back to rows: routing.services).

Three kinds of day (docs/routing.md "Plans in the app"):

- **Care visits** (`care`) of an organisation: its orders of the day that are not cancelled and
  not meal deliveries — the ones dispatched to it, and the created ones not yet sent anywhere
  whose elder it serves (orders.dispatch_targets' rule: its home region's subtree or its service
  area). The window is the START window the elder was promised: scheduled start … + the EVV late
  grace (a later check-in is "late", orders/evv.py). The duration is the catalogue item's
  (orders.services.default_end). Skills and certificates are required as dispatch requires them
  (catalogue.selectors.certificate_satisfies; a certificate valid on the day). The caregiver an
  order is accepted by keeps it (`Stop.worker`); the one it is dispatched to, else the recurring
  plan's, else the elder's named caregiver, else the last who served the elder is `preferred`
  (continuity, settings.ROUTING continuity_seconds).
- **Meal round** (`meals`): the organisation's meal-delivery orders (catalogue item codes
  ROUTING meal_items, 送餐), from the canteen of its `Base`, in the lunch or dinner window;
  each courier (a profile with `does_meals`) makes one round per meal, carrying `capacity` meals.
- **Grid visits** (`grid`): the open dues (visits.VisitDue) of a grid region for its grid
  workers. No hard window: a due by the end of the day (or overdue) must be planned; a later one
  is optional, worth a prize that grows as its deadline nears. A due goes to the grid worker
  whose region holds it most closely.

People: an organisation's active caregivers working that weekday (work_days; empty: any day),
not on leave (providers.Absence), with their shift (work_start–work_end; empty: the default
shift), skills and certificates, home, and their `RoutingProfile` (mode, start/end at home or the
base, capacity, lunch break).

Re-planning (`now`, `pins`): an order done or under way (in service, completed …) is kept as it
was (`Built.fixed`) and its person's route restarts from its place at its end; nobody leaves
before `now`. A stop moved by hand (`pins`: stop key → person key) keeps its person.

Times are seconds since the day's local midnight; places WGS-84 (lat, lng) as Place(x=lat, y=lng).
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from routing import conf
from routing.model import UNBOUNDED, Break, Place, Problem, Stop, Unplanned, Worker
from routing.models import Anchor, Base, Kind, RoutingProfile

DAY = 24 * 3600


@dataclass
class Fixed:
    """A visit done or under way: kept on its person as it was."""

    key: str
    person: str
    place: Place
    start: datetime.datetime
    end: datetime.datetime


@dataclass
class Built:
    problem: Problem
    day: datetime.date
    origin: datetime.datetime  # local midnight of the day
    orders: dict = field(default_factory=dict)  # stop key -> Order
    dues: dict = field(default_factory=dict)  # stop key -> VisitDue
    people: dict = field(default_factory=dict)  # person key -> Caregiver or User
    fixed: list = field(default_factory=list)  # [Fixed]
    unplanned: list = field(default_factory=list)  # [Unplanned] found before solving (no place, no one)
    skill_names: dict = field(default_factory=dict)  # "skill:3" -> 助浴

    def at(self, seconds: int) -> datetime.datetime:
        return self.origin + datetime.timedelta(seconds=int(seconds))

    def seconds(self, moment: datetime.datetime) -> int:
        return int((moment - self.origin).total_seconds())


def day_origin(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


def _secs(t: datetime.time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def order_key(pk: int) -> str:
    return f"order:{pk}"


def due_key(pk: int) -> str:
    return f"due:{pk}"


def caregiver_key(pk: int) -> str:
    return f"caregiver:{pk}"


def user_key(pk: int) -> str:
    return f"user:{pk}"


def split_key(key: str) -> tuple[str, int]:
    kind, _sep, pk = key.partition(":")
    return kind, int(pk.partition("#")[0])


# Statuses of an order whose visit is done or under way: kept as it was.
def _done_statuses():
    from orders.models import DELIVERED, Status

    return (Status.IN_SERVICE, *DELIVERED)


def base_of(organisation) -> Base | None:
    return Base.objects.filter(organisation=organisation).select_related("canteen").first() if organisation else None


def _centre(places: list[Place]) -> Place | None:
    if not places:
        return None
    return Place(sum(p.x for p in places) / len(places), sum(p.y for p in places) / len(places))


def _profile_break(profile: RoutingProfile | None) -> list[Break]:
    if profile is None or not profile.break_minutes or profile.break_from is None:
        return []
    latest = profile.break_to or profile.break_from
    return [Break(earliest=_secs(profile.break_from), latest=_secs(latest), duration=profile.break_minutes * 60)]


def _anchor(anchor: str, home: Place | None, base: Place | None, fallback: Place | None) -> Place | None:
    if anchor == Anchor.BASE:
        return base or home or fallback
    return home or base or fallback


# --- orders of an organisation ------------------------------------------------------------------


def organisation_orders(*, organisation, day: datetime.date, kind: str, waiting: bool = True):
    """The organisation's orders of `day` a plan of `kind` takes (the module says which);
    `waiting=False` (a provider's own dispatcher, who cannot dispatch them): only those sent to it."""
    from orders.models import Order, Status

    start = day_origin(day)
    serves = Q(region__path__startswith=organisation.region.path)
    for path in organisation.service_area.values_list("path", flat=True):
        serves |= Q(region__path__startswith=path)
    pending = Q(status=Status.CREATED, organisation__isnull=True) & serves
    pending &= Q(plan__isnull=True) | Q(plan__organisation__isnull=True) | Q(plan__organisation=organisation)
    qs = (
        Order.objects.filter(scheduled_start__gte=start, scheduled_start__lt=start + datetime.timedelta(days=1))
        .filter(Q(organisation=organisation) | pending if waiting else Q(organisation=organisation))
        .exclude(status=Status.CANCELLED)
    )
    meals = Q(item__code__in=list(conf.setting("meal_items")))
    qs = qs.filter(meals) if kind == Kind.MEALS else qs.exclude(meals)
    return qs.select_related("elder", "item", "plan", "caregiver").order_by("scheduled_start", "id")


def _preferred(orders) -> dict[int, int]:
    """{order id: the caregiver id the elder knows} (the module's order of precedence)."""
    from orders.models import DELIVERED, ElderPreference, Order

    elders = {o.elder_id for o in orders}
    named = dict(
        ElderPreference.objects.filter(elder_id__in=elders, preferred_caregiver__isnull=False).values_list(
            "elder_id", "preferred_caregiver_id"
        )
    )
    last_at = (
        Order.objects.filter(elder_id__in=elders, status__in=DELIVERED, caregiver__isnull=False)
        .values("elder_id")
        .annotate(last=Max("scheduled_start"))
    )
    last = {}
    if elders:
        wanted = Q()
        for row in last_at:
            wanted |= Q(elder_id=row["elder_id"], scheduled_start=row["last"])
        if wanted:
            for elder_id, caregiver_id in (
                Order.objects.filter(wanted, status__in=DELIVERED, caregiver__isnull=False)
                .order_by("id")
                .values_list("elder_id", "caregiver_id")
            ):
                last[elder_id] = caregiver_id
    out = {}
    for o in orders:
        who = o.caregiver_id or (o.plan.caregiver_id if o.plan_id else None) or named.get(o.elder_id) or last.get(o.elder_id)
        if who:
            out[o.pk] = who
    return out


# --- people ------------------------------------------------------------------------------------


@dataclass
class Person:
    key: str
    obj: object
    label: str
    home: Place | None
    shift: tuple[int, int] | None  # None: not working that day
    skills: frozenset
    profile: RoutingProfile | None


def caregivers_of(*, organisation, day: datetime.date, required_certificates=()) -> list[Person]:
    """The organisation's active caregivers and whether, when and with what they work on `day`.
    `required_certificates`: the certificate kinds the day's visits require; a caregiver holding
    a valid one that answers kind k gets the skill "cert:k"."""
    from catalogue.selectors import certificate_satisfies
    from providers.models import Absence, Caregiver, Certificate, StaffStatus

    staff = list(
        Caregiver.objects.filter(organisation=organisation, status=StaffStatus.ACTIVE)
        .select_related("routing_profile")
        .prefetch_related("skills")
        .order_by("name", "id")
    )
    away = set(
        Absence.objects.filter(caregiver__in=staff, starts_on__lte=day, ends_on__gte=day).values_list("caregiver_id", flat=True)
    )
    certs: dict[int, list] = {}
    if required_certificates:
        valid = (
            Certificate.objects.filter(caregiver__in=staff)
            .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=day), Q(issued_on__isnull=True) | Q(issued_on__lte=day))
            .select_related("kind")
        )
        for c in valid:
            certs.setdefault(c.caregiver_id, []).append(c.kind)
    default_from, default_to = (conf.clock(t) for t in conf.setting("default_shift"))
    out = []
    for c in staff:
        shift = None
        works = not c.work_days or day.isoweekday() in c.work_days
        if works and c.pk not in away:
            begin = c.work_start if c.work_start is not None and c.work_end is not None else default_from
            end = c.work_end if c.work_start is not None and c.work_end is not None else default_to
            end_s = _secs(end) if end > begin else DAY  # a shift past midnight: planned up to midnight
            shift = (_secs(begin), end_s)
        skills = {f"skill:{s.pk}" for s in c.skills.all()}
        for req in required_certificates:
            if any(certificate_satisfies(k, req) for k in certs.get(c.pk, [])):
                skills.add(f"cert:{req.pk}")
        home = Place(c.home_lat, c.home_lng) if c.home_lat is not None and c.home_lng is not None else None
        profile = getattr(c, "routing_profile", None)
        out.append(Person(caregiver_key(c.pk), c, c.name, home, shift, frozenset(skills), profile))
    return out


def _worker(person: Person, *, base: Place | None, fallback: Place | None, capacity: int = UNBOUNDED, shift=None) -> Worker:
    profile = person.profile
    start_anchor = profile.start_at if profile else Anchor.HOME
    end_anchor = profile.end_at if profile else Anchor.HOME
    begin, end = shift or person.shift
    return Worker(
        key=person.key,
        start=_anchor(start_anchor, person.home, base, fallback),
        end=_anchor(end_anchor, person.home, base, fallback),
        shift_start=begin,
        shift_end=end,
        skills=person.skills,
        capacity=capacity,
        mode=profile.mode if profile else conf.setting("default_mode"),
        breaks=_profile_break(profile),
        label=person.label,
    )


# --- the three kinds ----------------------------------------------------------------------------


def build(
    *, kind: str, day: datetime.date, organisation=None, region=None, now=None, pins=None, travel=None, waiting: bool = True
) -> Built:
    """The Problem of one owner's day (the module says what goes in)."""
    from routing.travel import travel_from_settings

    travel = travel or travel_from_settings()
    origin = day_origin(day)
    built = Built(problem=Problem(stops=[], workers=[], travel=travel, name=f"{kind} {day}"), day=day, origin=origin)
    built.problem.continuity_weight = int(conf.setting("continuity_seconds"))
    pins = pins or {}
    if kind == Kind.GRID:
        _grid(built, region=region, day=day)
    else:
        _orders(built, kind=kind, organisation=organisation, day=day, waiting=waiting)
    earliest = built.seconds(now) if now is not None else None
    _restart_after_fixed(built, earliest)
    for stop in built.problem.stops:
        if stop.key in pins and pins[stop.key] in {w.key.partition("#")[0] for w in built.problem.workers}:
            stop.worker = _worker_key_for(built, pins[stop.key], stop)
            stop.pinned = True
    return built


def _worker_key_for(built: Built, person: str, stop: Stop) -> str:
    """A person's worker key for a stop (a courier has one worker per meal round)."""
    keys = [w.key for w in built.problem.workers if w.key.partition("#")[0] == person]
    if len(keys) == 1:
        return keys[0]
    inside = [k for k in keys for w in built.problem.workers if w.key == k and w.shift_start <= stop.earliest <= w.shift_end]
    return (inside or keys)[0]


def _restart_after_fixed(built: Built, earliest: int | None) -> None:
    """Routes restart after the person's last visit done or under way, and not before `now`."""
    last: dict[str, Fixed] = {}
    for f in built.fixed:
        if f.person not in last or f.end > last[f.person].end:
            last[f.person] = f
    for w in built.problem.workers:
        person = w.key.partition("#")[0]
        if person in last:
            w.start = last[person].place
            w.shift_start = max(w.shift_start, built.seconds(last[person].end))
        if earliest is not None:
            w.shift_start = max(w.shift_start, earliest)
        w.shift_end = max(w.shift_end, w.shift_start)


def _orders(built: Built, *, kind: str, organisation, day: datetime.date, waiting: bool = True) -> None:
    from orders.services import default_end

    orders = list(organisation_orders(organisation=organisation, day=day, kind=kind, waiting=waiting))
    required_certs = {}
    for o in orders:
        for k in o.item.required_certificates.all():
            required_certs[k.pk] = k
    for o in orders:
        for s in o.item.required_skills.all():
            built.skill_names[f"skill:{s.pk}"] = s.name
    for k in required_certs.values():
        built.skill_names[f"cert:{k.pk}"] = k.name
    people = caregivers_of(organisation=organisation, day=day, required_certificates=list(required_certs.values()))
    base = base_of(organisation)
    base_place = Place(base.lat, base.lng) if base else None
    homes = {o.pk: Place(o.elder.home_lat, o.elder.home_lng) for o in orders if o.elder.home_lat is not None}
    fallback = base_place or _centre(list(homes.values()))
    for p in people:
        built.people[p.key] = p.obj
    working = {p.key: p for p in people if p.shift is not None}
    preferred = _preferred(orders)
    done = _done_statuses()
    grace = int(conf.setting("window_grace_minutes")) * 60
    if kind == Kind.MEALS:
        canteen = base.canteen if base and base.canteen_id and base.canteen.has_point else None
        depot = Place(canteen.lat, canteen.lng) if canteen else fallback
        _couriers(built, working, depot)
    else:
        for p in working.values():
            if p.profile is None or p.profile.does_care:
                built.problem.workers.append(_worker(p, base=base_place, fallback=fallback))
    worker_keys = {w.key.partition("#")[0] for w in built.problem.workers}
    for o in orders:
        key = order_key(o.pk)
        built.orders[key] = o
        place = homes.get(o.pk)
        if place is None:
            built.unplanned.append(Unplanned(key, _("老人住址未登记坐标，无法排入路线，请先在老人档案中补充定位"), "no_place"))
            continue
        if o.status in done and o.caregiver_id and caregiver_key(o.caregiver_id) in built.people:
            start = o.checkin_at or o.scheduled_start
            end = o.checkout_at or max(start, default_end(o.item, start, o.quantity))
            built.fixed.append(Fixed(key, caregiver_key(o.caregiver_id), place, start, end))
            continue
        if o.status in done:
            continue  # done by someone outside this organisation's plan: nothing to plan
        start = built.seconds(o.scheduled_start)
        stop = Stop(key=key, place=place, label=f"{o.elder.name} · {o.item.name}")
        if kind == Kind.MEALS:
            lunch_or_dinner = _meal_window(o)
            stop.earliest, stop.latest = lunch_or_dinner
            stop.duration = int(conf.setting("meal_handover_minutes")) * 60
            stop.demand = o.quantity
        else:
            stop.earliest, stop.latest = start, start + grace
            stop.duration = int((default_end(o.item, o.scheduled_start, o.quantity) - o.scheduled_start).total_seconds())
            stop.skills = frozenset(
                [f"skill:{s.pk}" for s in o.item.required_skills.all()]
                + [f"cert:{k.pk}" for k in o.item.required_certificates.all()]
            )
        from orders.models import Status

        who = caregiver_key(o.caregiver_id) if o.caregiver_id else None
        if o.status == Status.ACCEPTED and who in worker_keys:
            stop.worker = _worker_key_for(built, who, stop)
        elif preferred.get(o.pk) and caregiver_key(preferred[o.pk]) in worker_keys:
            stop.preferred = _worker_key_for(built, caregiver_key(preferred[o.pk]), stop)
        built.problem.stops.append(stop)
    if not built.problem.workers:
        for stop in built.problem.stops:
            built.unplanned.append(Unplanned(stop.key, _("当天没有可排班的人员（均休息、请假或未设置）"), "no_worker"))
        built.problem.stops = []


def _meal_window(order) -> tuple[int, int]:
    local = timezone.localtime(order.scheduled_start).time()
    name = "dinner" if local >= conf.clock(conf.setting("dinner_after")) else "lunch"
    begin, end = (conf.clock(t) for t in conf.setting(name))
    return _secs(begin), _secs(end)


def _couriers(built: Built, working: dict, depot: Place | None) -> None:
    """One worker per courier and meal round: from the canteen, in the meal's window."""
    lead = int(conf.setting("meal_lead_minutes")) * 60
    for p in working.values():
        if p.profile is None or not p.profile.does_meals:
            continue
        capacity = p.profile.capacity or int(conf.setting("meal_capacity"))
        for name in ("lunch", "dinner"):
            begin, end = (_secs(conf.clock(t)) for t in conf.setting(name))
            shift = (max(p.shift[0], begin - lead), min(p.shift[1], end + lead))
            if shift[1] <= shift[0]:
                continue
            w = _worker(p, base=depot, fallback=depot, capacity=capacity, shift=shift)
            w.key = f"{p.key}#{name}"
            w.start = w.end = depot  # a round loads at the canteen and comes back to it
            w.breaks = []
            built.problem.workers.append(w)


def _grid(built: Built, *, region, day: datetime.date) -> None:
    from accounts.models import User
    from accounts.roles import Role
    from visits.models import VisitDue

    end_of_day = built.origin + datetime.timedelta(days=1)
    dues = list(
        VisitDue.objects.filter(region__path__startswith=region.path, visited_at__isnull=True, opens_at__lt=end_of_day)
        .select_related("elder", "region")
        .order_by("due_at", "id")
    )
    workers = list(
        User.objects.filter(role=Role.GRID, is_active=True, region__path__startswith=region.path)
        .select_related("region", "routing_profile")
        .order_by("pk")
    )
    base = Base.objects.filter(region=region, organisation__isnull=True).first()
    base_place = Place(base.lat, base.lng) if base else None
    homes = {d.pk: Place(d.elder.home_lat, d.elder.home_lng) for d in dues if d.elder.home_lat is not None}
    fallback = base_place or _centre(list(homes.values()))
    begin, end = (_secs(conf.clock(t)) for t in conf.setting("grid_shift"))
    areas = {}
    for u in workers:
        key = user_key(u.pk)
        built.people[key] = u
        areas[key] = u.region.path
        person = Person(key, u, u.full_name or u.username, None, (begin, end), frozenset({f"area:{u.region_id}"}), None)
        person.profile = getattr(u, "routing_profile", None)
        built.problem.workers.append(_worker(person, base=base_place, fallback=fallback))
    minutes = int(conf.setting("grid_visit_minutes")) * 60
    prize, horizon = int(conf.setting("grid_prize_seconds")), int(conf.setting("grid_horizon_days"))
    for d in dues:
        key = due_key(d.pk)
        built.dues[key] = d
        place = homes.get(d.pk)
        if place is None:
            built.unplanned.append(Unplanned(key, _("老人住址未登记坐标，无法排入路线，请先在老人档案中补充定位"), "no_place"))
            continue
        holders = [u for u in workers if d.region.path.startswith(u.region.path)]
        if not holders:
            built.unplanned.append(Unplanned(key, _("该老人所在网格没有网格员"), "no_worker"))
            continue
        closest = max(holders, key=lambda u: len(u.region.path))
        days_left = (timezone.localtime(d.due_at).date() - day).days
        stop = Stop(key=key, place=place, duration=minutes, skills=frozenset({f"area:{closest.region_id}"}))
        stop.label = f"{d.elder.name} · {d.get_source_display()}"
        if days_left > 0:
            # Optional: worth more the nearer its deadline (a tenth of the prize at the horizon).
            share = max(0.1, 1 - (days_left - 1) / horizon)
            stop.required, stop.prize = False, int(prize * share)
        built.problem.stops.append(stop)
