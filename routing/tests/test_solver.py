"""The solver on small hand-checked days: plane coordinates, Euclidean(scale=1) (distance = time,
truncated), so every number can be worked out on paper."""

from routing.model import Break, Place, Problem, Stop, Worker
from routing.solver import solve
from routing.travel import Euclidean

HOME = Place(0, 0)


def at(x, y=0):
    return Place(x, y)


def worker(key="w1", home=HOME, **kw):
    return Worker(key=key, start=home, end=home, **kw)


def run(stops, workers, **kw):
    problem = Problem(stops=stops, workers=workers, travel=Euclidean(1), objective=kw.pop("objective", "distance"), **kw)
    return solve(problem, seconds=30, seed=1, no_improvement=300)  # stops on no_improvement: load-independent


def route_of(plan, key):
    return next(r.worker for r in plan.routes for v in r.visits if v.key == key)


def test_a_route_keeps_windows_and_durations():
    # B (20 away) must start by 50, A (10 away) not before 100: B first, then A.
    stops = [Stop("A", at(10), duration=5, earliest=100, latest=110), Stop("B", at(20), duration=10, earliest=0, latest=50)]
    plan = run(stops, [worker(shift_start=0, shift_end=1000)])
    assert plan.feasible and not plan.unplanned
    (route,) = plan.routes
    b, a = route.visits
    assert (b.key, a.key) == ("B", "A")
    assert b.arrive == route.leave + 20 and b.start <= 50 and b.end == b.start + 10
    assert a.travel_from_previous == 10 and a.distance_from_previous == 10
    assert a.arrive == b.end + 10 and a.start == max(a.arrive, 100) and a.end == a.start + 5
    assert route.back == a.end + 10 and route.distance == 40 and plan.cost == 40
    assert route.duration == route.back - route.leave


def test_duration_objective_costs_the_time_from_leaving_to_back():
    stops = [Stop("A", at(10), duration=5, earliest=100, latest=110)]
    plan = run(stops, [worker()], objective="duration")
    (route,) = plan.routes
    # leaves as late as it can: at 90, there at 100, done at 105, back at 115
    assert (route.leave, route.back, plan.cost) == (90, 115, 25)


def test_skills_decide_who_goes():
    stops = [Stop("S", at(100), skills=frozenset({"nurse"}))]
    plan = run(stops, [worker("near", home=at(100)), worker("nurse", skills=frozenset({"nurse", "bath"}))])
    assert route_of(plan, "S") == "nurse"


def test_a_fixed_worker_keeps_the_stop_even_when_someone_is_nearer():
    stops = [Stop("S", at(100), worker="far")]
    plan = run(stops, [worker("near", home=at(100)), worker("far")])
    assert route_of(plan, "S") == "far"


def test_continuity_kept_unless_much_worse():
    # The known caregiver lives 10 further away than the other one: round trip 20 more.
    stops = [Stop("S", at(45), preferred="known")]
    workers = [worker("other"), worker("known", home=at(100))]
    assert route_of(run(stops, workers, continuity_weight=100), "S") == "known"
    assert route_of(run(stops, workers, continuity_weight=5), "S") == "other"
    # much worse: 200 more than the weight is worth
    far = [worker("other"), worker("known", home=at(200))]
    assert route_of(run(stops, far, continuity_weight=100), "S") == "other"


def test_a_break_is_taken_in_its_window_at_a_place_on_the_way():
    stops = [Stop("A", at(10), duration=100), Stop("B", at(20), duration=100)]
    plan = run(stops, [worker(shift_start=0, shift_end=1000, breaks=[Break(earliest=100, latest=120, duration=30)])])
    assert plan.feasible and not plan.unplanned
    (route,) = plan.routes
    keys = [v.key for v in route.visits]
    assert sorted(keys) == ["A", "B", "break:w1"]
    brk = next(v for v in route.visits if v.key == "break:w1")
    assert 100 <= brk.start <= 120 and brk.end == brk.start + 30
    for before, after in zip(route.visits, route.visits[1:], strict=False):
        assert after.arrive == before.end + after.travel_from_previous  # times add up
        assert after.start >= before.end  # nothing overlaps the break
    assert route.distance == 40  # taken at A's or B's door: no detour


def test_a_break_only_its_worker_takes_and_an_idle_worker_has_no_route():
    stops = [Stop("A", at(10), duration=100)]
    workers = [
        worker("busy", breaks=[Break(earliest=0, latest=500, duration=30)]),
        worker("idle", home=at(1000), breaks=[Break(earliest=0, latest=500, duration=30)]),
    ]
    plan = run(stops, workers)
    assert [r.worker for r in plan.routes] == ["busy"] and plan.feasible
    assert sorted(v.key for v in plan.routes[0].visits) == ["A", "break:busy"]


def test_capacity_splits_the_deliveries():
    stops = [Stop(f"M{i}", at(10 + i), demand=6) for i in range(3)]
    plan = run(stops, [worker(capacity=12, count=2)])
    assert plan.feasible and not plan.unplanned and len(plan.routes) == 2
    demand = {s.key: s.demand for s in stops}
    assert all(sum(demand[v.key] for v in r.visits) <= 12 for r in plan.routes)


def test_optional_stops_are_served_when_worth_their_prize():
    stops = [Stop("near", at(10), required=False, prize=1000), Stop("far", at(500), required=False, prize=10)]
    plan = run(stops, [worker()])
    assert [v.key for r in plan.routes for v in r.visits] == ["near"]
    assert plan.feasible
    (left,) = plan.unplanned
    assert (left.key, left.code) == ("far", "optional") and left.reason


def test_each_stop_that_cannot_be_planned_says_why_and_the_rest_is_planned():
    w = worker(shift_start=0, shift_end=1000, capacity=10)
    stops = [
        Stop("ok", at(10)),
        Stop("skills", at(10), skills=frozenset({"nurse"})),
        Stop("window", at(10), earliest=2000, latest=2100),
        Stop("reach", at(50), earliest=0, latest=5),
        Stop("capacity", at(10), demand=11),
        Stop("busy1", at(30), duration=50, earliest=100, latest=100),
        Stop("busy2", at(30), duration=50, earliest=100, latest=100),
        Stop("absent", at(10), worker="nobody"),
    ]
    plan = run(stops, [w])
    assert not plan.feasible
    codes = {u.key: u.code for u in plan.unplanned}
    busy = "busy1" if "busy1" in codes else "busy2"
    assert codes == {
        "skills": "skills",
        "window": "window",
        "reach": "reach",
        "capacity": "capacity",
        busy: "no_room",
        "absent": "skills",
    }
    assert all(u.reason for u in plan.unplanned)
    planned = {v.key for r in plan.routes for v in r.visits}
    assert planned == {"ok", "busy1", "busy2"} - {busy}


def test_the_same_seed_gives_the_same_plan():
    stops = [Stop(f"S{i}", at((i * 37) % 101, (i * 53) % 97), duration=10, earliest=0, latest=600) for i in range(25)]
    workers = [worker(count=4, shift_end=800)]
    problem = Problem(stops=stops, workers=workers, travel=Euclidean(1), objective="distance")
    one = solve(problem, seconds=60, seed=7, iterations=500)
    two = solve(problem, seconds=60, seed=7, iterations=500)
    assert [[v.key for v in r.visits] for r in one.routes] == [[v.key for v in r.visits] for r in two.routes]
    assert one.cost == two.cost and one.feasible


def test_a_day_too_big_for_memory_is_refused_before_its_matrices_are_built():
    import pytest

    from routing.solver import ProblemTooLarge

    # 400 stops, 40 workers with distinct skills: 40 profiles × ~440² cells × 4 matrices ≈ 236 MB.
    stops = [Stop(f"s{i}", at(i % 50, i // 50), duration=5, skills=frozenset({f"k{i % 40}"})) for i in range(400)]
    workers = [worker(f"w{j}", home=at(j), skills=frozenset({f"k{j}"})) for j in range(40)]
    problem = Problem(stops=stops, workers=workers, travel=Euclidean(1), objective="distance")
    with pytest.raises(ProblemTooLarge) as caught:
        solve(problem, seconds=1, max_matrix_mb=100)
    assert caught.value.stops == 400 and caught.value.profiles == 40 and caught.value.megabytes > 100
    assert "分开排" in str(caught.value) and "plan it in parts" in str(caught.value)
