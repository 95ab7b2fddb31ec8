"""`solve(problem)`: a `routing.model.Problem` to a `Plan`, with PyVRP (docs/routing.md).

How the problem becomes PyVRP's:

- every Worker is a vehicle type (`num_available` = its count) with its own start and end
  depot, its shift as the vehicle's time window and its capacity;
- every Stop is a client with its window, duration and demand; a required stop is made
  optional with a prize larger than any plan's cost, so a day that cannot be planned whole
  still returns everything else, and the stops left over get a reason;
- skills, a fixed worker (`Stop.worker`), continuity (`Stop.preferred`) and breaks are per-worker
  differences, expressed with routing PROFILES: each distinct signature (mode, stops the worker
  may not serve, stops that cost `continuity_weight` when this worker serves them, own breaks)
  gets one profile whose cost matrix makes every edge into a forbidden stop prohibitively
  expensive and every edge into a penalised stop `continuity_weight` dearer;
- a break is taken at a place: for each of a worker's breaks, a few candidate clients (the
  worker's start and end, and the places of the stops the worker may serve whose windows are
  near the break's, spread out) in a mutually exclusive group only that worker can reach, with
  the break's window and length. The worker travels there like to any stop, so the plan's times
  are exact.

PyVRP's "distance" matrix carries the objective's cost (distance, or 0 for the duration
objective) plus the penalties; its duration matrix the true travel times.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pyvrp
from django.utils.translation import gettext_noop  # only marks the text; needs no settings
from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria, NoImprovement

from routing.model import UNBOUNDED, Break, Plan, Problem, Route, Stop, Unplanned, Visit, Worker


def _gettext(message: str) -> str:
    try:
        from django.utils.translation import gettext

        return gettext(message)
    except Exception:  # Django not configured: the plain-Python caller gets the Chinese text
        return message


_ = _gettext


MAX_MATRIX_MB = 2048  # the default ceiling of solve()'s matrices (a 50-caregiver day with breaks: ~900 MB)


class ProblemTooLarge(ValueError):
    """The day would need more memory for its matrices than `max_matrix_mb` allows. Raised before
    anything big is built, so a request for a huge day is refused instead of exhausting memory."""

    def __init__(self, *, stops: int, profiles: int, megabytes: int, limit: int):
        self.stops, self.profiles, self.megabytes, self.limit = stops, profiles, megabytes, limit
        zh = gettext_noop(
            "这一天有 %(stops)d 处要去、%(profiles)d 种人员条件，计算需要约 %(mb)d MB 内存，超过上限 %(limit)d MB；"
            "请分开排（按服务站、网格或上午/下午），或放宽连续服务与休息的设置"
        )
        values = {"stops": stops, "profiles": profiles, "mb": megabytes, "limit": limit}
        text = _(zh) % values
        if text == zh % values:  # Chinese (or no Django): say it in English too, for the command line
            text += (
                f" / The day has {stops} stops and {profiles} distinct worker profiles and needs about {megabytes} MB"
                f" for its matrices, over the limit of {limit} MB: plan it in parts (per station, grid or half-day)."
            )
        super().__init__(text)


BREAK_PLACES = 6  # candidate places per break: more fit a route better, but each is a location in every profile


@dataclass
class _Vehicle:
    """One vehicle type: a worker (or one of a counted worker's copies, when it has breaks)."""

    worker: Worker
    key: str
    count: int
    breaks: list[tuple[int, Break]]  # (client index, break) of every candidate client


def _vehicles(workers: list[Worker]) -> list[_Vehicle]:
    out = []
    for w in workers:
        if w.breaks and w.count > 1:  # each copy needs its own break clients
            out.extend(_Vehicle(w, f"{w.key}#{i + 1}", 1, []) for i in range(w.count))
        else:
            out.append(_Vehicle(w, w.key, w.count, []))
    return out


def _may_serve(stop: Stop, worker: Worker) -> bool:
    return stop.skills <= worker.skills and (stop.worker is None or stop.worker == worker.key)


def solve(
    problem: Problem,
    *,
    seconds: float,
    seed: int = 1,
    iterations: int | None = None,
    no_improvement: int | None = None,
    max_matrix_mb: int = MAX_MATRIX_MB,
) -> Plan:
    """Plan the day. Stops after `seconds`, or after `iterations` (deterministic for a seed), or
    after `no_improvement` iterations without a better plan, whichever comes first. Refuses with
    `ProblemTooLarge` a day whose matrices would take more than `max_matrix_mb`."""
    started = time.perf_counter()
    stops, workers = problem.stops, problem.workers
    if problem.objective not in ("distance", "duration"):
        raise ValueError(f"objective must be 'distance' or 'duration', not {problem.objective!r}")
    keys = [s.key for s in stops]
    if len(set(keys)) != len(keys):
        raise ValueError("stop keys must be unique")
    vehicles = _vehicles(workers)
    if not vehicles or not stops:
        return _plan_without_solving(problem, vehicles, started)

    # Places: the distinct points, and their travel matrices per mode.
    place_index: dict = {}
    places = []

    def pidx(place):
        if place not in place_index:
            place_index[place] = len(places)
            places.append(place)
        return place_index[place]

    for w in workers:
        pidx(w.start), pidx(w.end)
    for s in stops:
        pidx(s.place)
    matrices = {}
    for mode in sorted({w.mode for w in workers}):
        dist, dur = problem.travel.matrix(places, mode)
        matrices[mode] = (np.asarray(dist, dtype=np.int64), np.asarray(dur, dtype=np.int64))
    n_stops = len(stops)
    may = {v.key: np.array([_may_serve(s, v.worker) for s in stops], dtype=bool) for v in vehicles}

    # Locations: depots (one per distinct start/end place), one per stop, one per break candidate.
    depot_places = []
    for w in workers:
        for p in (pidx(w.start), pidx(w.end)):
            if p not in depot_places:
                depot_places.append(p)
    depot_of = {p: i for i, p in enumerate(depot_places)}
    n_depots = len(depot_places)
    loc_place = depot_places + [pidx(s.place) for s in stops]
    # Break candidates: (vehicle, break, group index, place index) per client after the stops.
    break_clients: list[tuple[_Vehicle, Break, int, int]] = []
    n_groups = 0
    for v in vehicles:
        for b in v.worker.breaks:
            for p in _break_places(v, b, stops, may[v.key], matrices[v.worker.mode][1], pidx):
                v.breaks.append((n_stops + len(break_clients), b))
                break_clients.append((v, b, n_groups, p))
                loc_place.append(p)
            n_groups += 1
    n_locs = len(loc_place)
    lp = np.asarray(loc_place, dtype=np.int64)

    # Prizes and the prohibitive cost: larger than anything a plan can cost.
    finite = [t for s in stops for t in (s.earliest, s.latest) if t < UNBOUNDED]
    finite += [t for w in workers for t in (w.shift_start, w.shift_end) if t < UNBOUNDED]
    horizon = (max(finite) - min(finite)) if finite else 0
    max_edge = max(int(m[k].max()) for m in matrices.values() for k in (0, 1))
    max_service = max([s.duration for s in stops] + [b.duration for _v, b, _g, _p in break_clients] + [0])
    per_stop = 2 * max_edge + max_service + problem.continuity_weight + 1
    optional_prizes = sum(s.prize for s in stops if not s.required)
    big = (per_stop * (n_stops + n_groups + 2) + horizon * len(vehicles) + optional_prizes) * 4 + 1000
    required_prize = big
    break_prize = 2 * big  # a break is never given up for work
    forbid = 8 * big

    # Profiles: one per distinct signature (mode, forbidden stops, penalised stops, own breaks).
    worker_keys = {w.key for w in workers}
    signatures: dict[tuple, int] = {}
    profile_of: list[int] = []
    sig_list = []
    for v in vehicles:
        w = v.worker
        forbidden = frozenset(np.flatnonzero(~may[v.key]).tolist())
        penalised = frozenset(
            i
            for i, s in enumerate(stops)
            if problem.continuity_weight
            and s.preferred
            and s.preferred in worker_keys
            and s.preferred != w.key
            and i not in forbidden
        )
        sig = (w.mode, forbidden, penalised, frozenset(c for c, _b in v.breaks))
        if sig not in signatures:
            signatures[sig] = len(sig_list)
            sig_list.append(sig)
        profile_of.append(signatures[sig])

    # Every profile holds a cost and a duration matrix over all locations, built here and copied
    # by PyVRP: about four n×n int64 matrices a profile.
    megabytes = -(-len(sig_list) * n_locs * n_locs * 8 * 4 // 2**20)  # rounded up
    if megabytes > max_matrix_mb:
        raise ProblemTooLarge(stops=n_stops, profiles=len(sig_list), megabytes=megabytes, limit=max_matrix_mb)

    expanded = {}
    for mode, (dist, dur) in matrices.items():
        base = dist if problem.objective == "distance" else np.zeros_like(dist)
        expanded[mode] = (base[np.ix_(lp, lp)], dur[np.ix_(lp, lp)])
    break_locs = np.arange(n_depots + n_stops, n_locs)
    distance_matrices, duration_matrices = [], []
    for mode, forbidden, penalised, own_breaks in sig_list:
        cost = expanded[mode][0].copy()
        if forbidden:
            cost[:, [n_depots + i for i in forbidden]] += forbid
        if penalised:
            cost[:, [n_depots + i for i in penalised]] += problem.continuity_weight
        others = [loc for loc in break_locs if (loc - n_depots) not in own_breaks]
        if others:
            cost[:, others] += forbid
        np.fill_diagonal(cost, 0)
        distance_matrices.append(cost)
        duration_matrices.append(expanded[mode][1])

    locations = [pyvrp.Location(x=float(places[p].x), y=float(places[p].y)) for p in loc_place]
    depots = [pyvrp.Depot(location=i) for i in range(n_depots)]
    clients = [
        pyvrp.Client(
            location=n_depots + i,
            delivery=[s.demand],
            service_duration=s.duration,
            tw_early=s.earliest,
            tw_late=s.latest,
            prize=required_prize if s.required else s.prize,
            required=False,
            name=s.key,
        )
        for i, s in enumerate(stops)
    ]
    group_members: list[list[int]] = [[] for _ in range(n_groups)]
    for k, (v, b, g, _p) in enumerate(break_clients):
        group_members[g].append(len(clients))
        clients.append(
            pyvrp.Client(
                location=n_depots + n_stops + k,
                delivery=[0],
                service_duration=b.duration,
                tw_early=b.earliest,
                tw_late=b.latest,
                prize=break_prize,
                required=False,
                group=g,
                name=f"break:{v.key}",
            )
        )
    groups = [pyvrp.ClientGroup(members, required=False) for members in group_members]
    vehicle_types = [
        pyvrp.VehicleType(
            num_available=v.count,
            capacity=[v.worker.capacity],
            start_depot=depot_of[pidx(v.worker.start)],
            end_depot=depot_of[pidx(v.worker.end)],
            tw_early=v.worker.shift_start,
            tw_late=v.worker.shift_end,
            unit_distance_cost=1,
            unit_duration_cost=1 if problem.objective == "duration" else 0,
            profile=profile_of[k],
            name=v.key,
        )
        for k, v in enumerate(vehicles)
    ]
    data = pyvrp.ProblemData(locations, clients, depots, vehicle_types, distance_matrices, duration_matrices, groups)
    del distance_matrices, duration_matrices, expanded  # PyVRP holds its own copies

    criteria = [MaxRuntime(max(0.01, seconds - (time.perf_counter() - started)))]
    if iterations is not None:
        criteria.append(MaxIterations(iterations))
    if no_improvement is not None:
        criteria.append(NoImprovement(no_improvement))
    result = pyvrp.solve(data, MultipleCriteria(criteria), seed=seed, collect_stats=False, display=False)
    return _plan(problem, result.best, vehicles, matrices, place_index, places, break_clients, started)


def _break_places(v: _Vehicle, b: Break, stops, may, dur, pidx) -> list[int]:
    """Where the worker may take break `b`: start and end, and up to BREAK_PLACES places of the
    stops they may serve whose windows lie near the break's (where they will be then), spread
    out (farthest first from those already chosen)."""
    w = v.worker
    chosen = list(dict.fromkeys([pidx(w.start), pidx(w.end)]))
    margin = b.duration + 3600
    near = [
        pidx(s.place)
        for i, s in enumerate(stops)
        if may[i] and s.earliest <= b.latest + margin and s.latest + s.duration >= b.earliest - margin
    ]
    pool = [p for p in dict.fromkeys(near) if p not in chosen]
    if len(pool) <= BREAK_PLACES:
        return chosen + pool
    pool_arr = np.asarray(pool)
    closest = dur[np.ix_(chosen, pool_arr)].min(axis=0).astype(float)
    picked = []
    for _ in range(BREAK_PLACES):
        k = int(np.argmax(closest))
        picked.append(pool[k])
        closest = np.minimum(closest, dur[pool[k], pool_arr])
        closest[k] = -1
    return chosen + picked


def _plan(problem, solution, vehicles, matrices, place_index, places, break_clients, started) -> Plan:
    stops = problem.stops
    n_stops = len(stops)
    routes: list[Route] = []
    served: set[int] = set()
    feasible = True
    for route in solution.routes():
        v = vehicles[route.vehicle_type()]
        w = v.worker
        dist, dur = matrices[w.mode]
        clients = [a.idx for a in route.schedule() if a.type == pyvrp.ActivityType.CLIENT]
        if all(c >= n_stops for c in clients):
            continue  # only breaks: the worker is not needed today
        t = leave = int(route.start_time())
        here = place_index[w.start]
        distance = load = 0
        visits = []
        for c in clients:
            if c < n_stops:
                s = stops[c]
                key, there, earliest, latest, length = s.key, place_index[s.place], s.earliest, s.latest, s.duration
                served.add(c)
                load += s.demand
            else:
                _v, b, _g, there = break_clients[c - n_stops]
                key, earliest, latest, length = f"break:{v.key}", b.earliest, b.latest, b.duration
            travel, metres = int(dur[here][there]), int(dist[here][there])
            arrive = t + travel
            start = max(arrive, earliest)
            if start > latest:
                feasible = False
            visits.append(Visit(key, arrive, start, start + length, travel, metres))
            distance += metres
            here, t = there, start + length
        home = place_index[w.end]
        back = t + int(dur[here][home])
        distance += int(dist[here][home])
        if back > w.shift_end or load > w.capacity:
            feasible = False
        routes.append(Route(v.key, visits, leave, back, distance, back - leave))
    unplanned = _unplanned(problem, served, vehicles, matrices, place_index, routes)
    if any(u.code != "optional" and _required(problem, u.key) for u in unplanned):
        feasible = False
    if not solution.is_feasible():
        feasible = False
    cost = sum(r.distance if problem.objective == "distance" else r.duration for r in routes)
    return Plan(routes, unplanned, cost, feasible, round(time.perf_counter() - started, 3))


def _required(problem: Problem, key: str) -> bool:
    if key.startswith("break:"):
        return True
    return next(s.required for s in problem.stops if s.key == key)


def _unplanned(problem, served, vehicles, matrices, place_index, routes) -> list[Unplanned]:
    out = []
    for i, s in enumerate(problem.stops):
        if i in served:
            continue
        code, reason = _reason(s, problem.workers, matrices, place_index)
        if code == "no_room" and not s.required:
            code, reason = "optional", _("可选拜访，今天的路线里没有余地，未排入")
        out.append(Unplanned(s.key, reason, code))
    planned_breaks = {v.key for r in routes for v in r.visits if v.key.startswith("break:")}
    used = {r.worker for r in routes}
    for v in vehicles:
        if v.worker.breaks and v.key in used and f"break:{v.key}" not in planned_breaks:
            out.append(Unplanned(f"break:{v.key}", _("休息时间排不进这条路线（时间窗与班次冲突或太满）"), "no_room"))
    return out


def _reason(s: Stop, workers: list[Worker], matrices, place_index) -> tuple[str, str]:
    """Why no route takes `s`: the first check every worker fails, in the order a dispatcher
    would look (who may do it, when, how far, how much), else "no room"."""
    if s.worker is not None and s.worker not in {w.key for w in workers}:
        return "skills", _("指定的人员不在今天的计划里，请改派或取消指定")
    eligible = [w for w in workers if _may_serve(s, w)]
    if not eligible:
        return "skills", _("没有人员同时具备这次服务所需的全部技能或证书")
    in_shift = [w for w in eligible if max(s.earliest, w.shift_start) <= min(s.latest, w.shift_end - s.duration)]
    if not in_shift:
        if s.worker is not None:
            return "window", _("时间窗不在指定人员的班次之内")
        return "window", _("时间窗不在任何人员的班次之内")
    reachable = []
    for w in in_shift:
        dist, dur = matrices[w.mode]
        here, there, home = place_index[w.start], place_index[s.place], place_index[w.end]
        arrive = w.shift_start + int(dur[here][there])
        start = max(arrive, s.earliest)
        if start <= s.latest and start + s.duration + int(dur[there][home]) <= w.shift_end:
            reachable.append(w)
    if not reachable:
        return "reach", _("从出发地赶不到：路上时间太长，开始时间会晚于时间窗，或收工前回不去")
    if not any(s.demand <= w.capacity for w in reachable):
        return "capacity", _("需求量超过了每位人员的载量")
    return "no_room", _("所有路线都已排满，排不进这次服务（时间窗与其他服务冲突）")


def _plan_without_solving(problem: Problem, vehicles, started) -> Plan:
    unplanned = []
    for s in problem.stops:
        if not problem.workers:
            unplanned.append(Unplanned(s.key, _("今天没有可派的人员"), "skills"))
    feasible = not any(s.required for s in problem.stops)
    return Plan([], unplanned, 0, feasible, round(time.perf_counter() - started, 3))
