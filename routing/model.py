"""The routing problem in plain Python: what the app and `solve_vrptw` both hand to the solver.

No Django here. `routing.build` turns a day's work of the database (orders, meal deliveries,
grid workers' due visits, the people) into a `Problem`; `routing.vrplib` turns a VRPLIB
instance into one; `routing.solver.solve` turns a `Problem` into a `Plan`. Everything that
decides what a plan may do — windows, durations, skills, shifts, breaks, capacity, continuity,
fixed and pinned visits — is in these types, so the Solomon benchmark measures the same
modelling the stations use.

Units: times are whole **time units** from the day's origin (the app uses seconds since local
midnight; a Solomon instance its own units), distances whole **distance units** (the app:
metres; DIMACS: tenths). A `Travel` model gives both for every pair of places and mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

# Means of travel (出行方式); the straight-line model has a speed for each (settings).
FOOT = "foot"
EBIKE = "ebike"
CAR = "car"
MODES = (FOOT, EBIKE, CAR)

UNBOUNDED = 2**40  # "no limit" for a time or a capacity that fits every integer type PyVRP takes


@dataclass(frozen=True)
class Place:
    """A point: WGS-84 degrees in the app (lat, lng); plane coordinates for VRPLIB (x, y)."""

    x: float
    y: float


@dataclass
class Stop:
    """One thing to do at one place: a caregiver's visit, a meal delivery, a grid worker's visit.

    `key` is the caller's own identifier (the app: "order:17", "due:3"; VRPLIB: the node number).
    `earliest`–`latest` is the window the work must START in (the elder's promise); `duration`
    the time on site. `skills` must all be held by the worker. `demand` uses the worker's
    capacity (meals). `required=False` makes the stop optional, worth `prize` if served (a grid
    worker's due visit without a hard window). `worker` fixes it to one worker (a visit done or
    under way, or moved by hand: `pinned`); `preferred` names the worker the elder knows, kept
    unless the plan gets worse by more than the problem's `continuity_weight`.
    `after`/`position` keep a pinned stop's order (the next re-plan keeps a manual move).
    """

    key: str
    place: Place
    duration: int = 0
    earliest: int = 0
    latest: int = UNBOUNDED
    skills: frozenset[str] = frozenset()
    demand: int = 0
    required: bool = True
    prize: int = 0
    worker: str | None = None
    pinned: bool = False
    preferred: str | None = None
    label: str = ""


@dataclass
class Break:
    """A break taken somewhere on the route: starts in `earliest`–`latest`, lasts `duration`."""

    earliest: int
    latest: int
    duration: int


@dataclass
class Worker:
    """One person who travels: a caregiver, a courier, a grid worker (or, for VRPLIB, a vehicle
    type available `count` times). They leave `start` no earlier than `shift_start`, are back at
    `end` by `shift_end`, hold `skills`, carry up to `capacity`, travel by `mode`."""

    key: str
    start: Place
    end: Place
    shift_start: int = 0
    shift_end: int = UNBOUNDED
    skills: frozenset[str] = frozenset()
    capacity: int = UNBOUNDED
    mode: str = EBIKE
    breaks: list[Break] = field(default_factory=list)
    count: int = 1
    label: str = ""


class Travel(Protocol):
    """Distances and travel times between places for one means of travel.

    `matrix(places, mode)` answers `(distance, duration)`, two square lists of lists of whole
    units, row = from, column = to. Implementations: `routing.travel.StraightLine` (the default:
    great-circle distance × a detour factor at the mode's speed), `routing.travel.Euclidean`
    (VRPLIB, DIMACS rounding) and `routing.travel.OsrmTable` (a routing engine the deployment
    runs itself)."""

    def matrix(self, places: list[Place], mode: str) -> tuple[list[list[int]], list[list[int]]]: ...


@dataclass
class Problem:
    """A day to plan. `objective` is what a plan minimises: "duration" (the app: each route's
    time from leaving to being back — travel and waiting; the work itself is fixed) or
    "distance" (VRPLIB). `continuity_weight` is the cost, in the objective's units,
    of giving a stop to someone other than its `preferred` worker."""

    stops: list[Stop]
    workers: list[Worker]
    travel: Travel
    objective: str = "duration"
    continuity_weight: int = 0
    name: str = ""


@dataclass
class Visit:
    """A stop in a planned route: when the worker arrives, starts (after waiting for the window)
    and leaves."""

    key: str
    arrive: int
    start: int
    end: int
    travel_from_previous: int
    distance_from_previous: int


@dataclass
class Route:
    worker: str
    visits: list[Visit]
    leave: int
    back: int
    distance: int
    duration: int


@dataclass
class Unplanned:
    """A stop no route takes, with the reason in words (Chinese first, via gettext)."""

    key: str
    reason: str
    code: str  # "skills", "window", "capacity", "reach", "no_room", "optional"


@dataclass
class Plan:
    routes: list[Route]
    unplanned: list[Unplanned]
    cost: int  # the objective's total over the routes (distance or duration units)
    feasible: bool
    seconds: float
