"""`manage.py solve_vrptw` on Solomon's C101: the output parses, its cost is the one recomputed
from its routes with DIMACS rounding, every client is served once, and an independent check of
windows and capacity on the raw file passes."""

import io
import math
import re

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

SOLOMON = settings.BASE_DIR.parent / "shared" / "data" / "vrptw" / "solomon"
C101 = SOLOMON / "C101.vrp"


def parse(text: str):
    routes, cost = [], None
    for line in text.strip().splitlines():
        if m := re.fullmatch(r"Route #(\d+): ([\d ]+)", line.strip()):
            assert int(m.group(1)) == len(routes) + 1
            routes.append([int(c) for c in m.group(2).split()])
        elif m := re.fullmatch(r"Cost (\d+\.\d)", line.strip()):
            cost = m.group(1)
        else:
            raise AssertionError(f"not VRPLIB solution format: {line!r}")
    return routes, cost


@pytest.mark.skipif(not C101.exists(), reason="the Solomon instances are not in ../shared/data")
def test_solve_vrptw_c101_prints_a_feasible_solution_whose_cost_adds_up():
    import vrplib

    out = io.StringIO()
    call_command("solve_vrptw", str(C101), "--seconds", "2", stdout=out)
    routes, cost = parse(out.getvalue())

    inst = vrplib.read_instance(str(C101))
    xy, demand, tw, service = inst["node_coord"], inst["demand"], inst["time_window"], inst["service_time"]
    n = len(xy)
    assert sorted(c for r in routes for c in r) == list(range(1, n))  # every client exactly once

    def d10(a, b):  # DIMACS: Euclidean distance truncated to one decimal, in tenths
        return int(10 * math.sqrt((xy[a][0] - xy[b][0]) ** 2 + (xy[a][1] - xy[b][1]) ** 2))

    total = 0
    for route in routes:
        assert sum(demand[c] for c in route) <= inst["capacity"]
        t, here = 10 * tw[0][0], 0
        for c in route:
            t = max(t + d10(here, c), 10 * tw[c][0])
            assert t <= 10 * tw[c][1], f"client {c} starts after its window"
            t += 10 * service
            total += d10(here, c)
            here = c
        assert t + d10(here, 0) <= 10 * tw[0][1]
        total += d10(here, 0)
    assert cost == f"{total // 10}.{total % 10}"
    assert float(cost) <= 827.3 * 1.05  # best known 827.3 (C101.sol); loose: 2 s on a busy machine


def test_solve_vrptw_refuses_a_missing_or_garbled_file(tmp_path):
    with pytest.raises(CommandError, match="没有这个文件"):
        call_command("solve_vrptw", str(tmp_path / "nothing.vrp"), "--seconds", "1")
    garbled = tmp_path / "garbled.vrp"
    garbled.write_text("NAME : x\nNODE_COORD_SECTION\n1 a b\nEOF\n")
    with pytest.raises(CommandError, match="读不懂"):
        call_command("solve_vrptw", str(garbled), "--seconds", "1")


def test_read_gives_one_vehicle_type_and_scaled_times():
    from routing import vrplib

    problem = vrplib.read(C101)
    (w,) = problem.workers
    assert (w.count, w.capacity, w.shift_start, w.shift_end) == (25, 200, 0, 12360)
    first = problem.stops[0]
    assert (first.key, first.demand, first.duration, first.earliest, first.latest) == ("1", 10, 900, 9120, 9670)
    assert len(problem.stops) == 100 and problem.objective == "distance"
