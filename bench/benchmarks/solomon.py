"""Day routes on the field's yardstick (issue 14): the 56 Solomon VRPTW instances, each solved by
`manage.py solve_vrptw` (routing.vrplib → routing.solver, the app's own modelling, PyVRP) and by
OR-Tools (routing library, guided local search) with the same time limit on the same
DIMACS-rounded integer matrix; the two run at the same time in two processes (two cores).

Figures: the gap to the best-known cost (the .sol files beside the instances) per instance, its
mean per family (C1, C2, R1, R2, RC1, RC2) and overall, and the count of instances where
OR-Tools is ahead. Each PyVRP answer is checked independently (every client once, capacity,
windows, cost recomputed from its routes); a plan that fails the check counts as no plan.

Environment: SOLOMON_DIR (default ../shared/data/vrptw/solomon beside the repository),
SOLOMON_SECONDS (default 10) per instance, SOLOMON_ONLY=C101,R101 for a subset.

    .venv/bin/python -m bench.benchmarks.solomon ortools FILE.vrp SECONDS   # the baseline alone
"""

import math
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.registry import Figure, Result, Skip, benchmark

ROOT = Path(__file__).resolve().parent.parent.parent
FAMILIES = ("C1", "C2", "R1", "R2", "RC1", "RC2")
TARGET_MEAN_GAP_PCT = 0.5


def _directory() -> Path:
    if os.environ.get("SOLOMON_DIR"):
        return Path(os.environ["SOLOMON_DIR"])
    from django.conf import settings

    return settings.BASE_DIR.parent / "shared" / "data" / "vrptw" / "solomon"


def _family(name: str) -> str:
    m = re.match(r"(RC|R|C)(\d)", name.upper())
    return f"{m.group(1)}{m.group(2)}" if m else "?"


def _dimacs_matrix(xy) -> list[list[int]]:
    import numpy as np

    xy = np.asarray(xy, dtype=float)
    diff = xy[:, None, :] - xy[None, :, :]
    return (10 * np.sqrt((diff**2).sum(axis=2))).astype(np.int64).tolist()


def parse_solution(text: str) -> tuple[list[list[int]], float | None]:
    routes, cost = [], None
    for line in text.splitlines():
        line = line.strip()
        if m := re.fullmatch(r"Route #\d+:\s*([\d ]*)", line):
            routes.append([int(c) for c in m.group(1).split()])
        elif m := re.fullmatch(r"Cost\s+([\d.]+)", line):
            cost = float(m.group(1))
    return routes, cost


def check(path: Path, routes: list[list[int]]) -> tuple[int | None, str]:
    """The cost in tenths recomputed from the routes, or None and what is wrong."""
    import vrplib

    inst = vrplib.read_instance(str(path))
    xy, demand, tw, service = inst["node_coord"], inst["demand"], inst["time_window"], inst["service_time"]
    n = len(xy)
    d = _dimacs_matrix(xy)
    if sorted(c for r in routes for c in r) != list(range(1, n)):
        return None, "not every client exactly once"
    if len(routes) > inst.get("vehicles", n):
        return None, "more routes than vehicles"
    total = 0
    for route in routes:
        if sum(demand[c] for c in route) > inst["capacity"]:
            return None, "over capacity"
        t, here = 10 * tw[0][0], 0
        for c in route:
            t = max(t + d[here][c], 10 * tw[c][0])
            if t > 10 * tw[c][1]:
                return None, f"client {c} late"
            t += 10 * service
            total += d[here][c]
            here = c
        if t + d[here][0] > 10 * tw[0][1]:
            return None, "back at the depot too late"
        total += d[here][0]
    return total, ""


def ortools_solve(path: Path, seconds: float) -> str:
    """The baseline: OR-Tools' routing library, PATH_CHEAPEST_ARC then guided local search, on
    the same DIMACS integer matrix (times and windows × 10), VEHICLES vehicles."""
    import vrplib
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    inst = vrplib.read_instance(str(path))
    xy, demand, tw, service = inst["node_coord"], inst["demand"], inst["time_window"], inst["service_time"]
    n = len(xy)
    d = _dimacs_matrix(xy)
    vehicles = int(inst.get("vehicles", n - 1))
    horizon = int(10 * tw[0][1])
    manager = pywrapcp.RoutingIndexManager(n, vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)
    arc = routing.RegisterTransitMatrix(d)
    routing.SetArcCostEvaluatorOfAllVehicles(arc)
    times = [[d[i][j] + (0 if i == 0 else int(10 * service)) for j in range(n)] for i in range(n)]
    routing.AddDimension(routing.RegisterTransitMatrix(times), horizon, horizon, False, "Time")
    time_dim = routing.GetDimensionOrDie("Time")
    for node in range(1, n):
        time_dim.CumulVar(manager.NodeToIndex(node)).SetRange(int(10 * tw[node][0]), int(10 * tw[node][1]))
    for v in range(vehicles):
        time_dim.CumulVar(routing.Start(v)).SetRange(int(10 * tw[0][0]), horizon)
        time_dim.CumulVar(routing.End(v)).SetRange(int(10 * tw[0][0]), horizon)
    load = routing.RegisterUnaryTransitVector([int(x) for x in demand])
    routing.AddDimensionWithVehicleCapacity(load, 0, [int(inst["capacity"])] * vehicles, True, "Capacity")
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(int(seconds * 1000))
    solution = routing.SolveWithParameters(params)
    if solution is None:
        return "No solution\n"
    lines = []
    for v in range(vehicles):
        index = solution.Value(routing.NextVar(routing.Start(v)))
        route = []
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = solution.Value(routing.NextVar(index))
        if route:
            lines.append(f"Route #{len(lines) + 1}: " + " ".join(map(str, route)))
    cost = solution.ObjectiveValue()
    lines.append(f"Cost {cost // 10}.{cost % 10}")
    return "\n".join(lines) + "\n"


def _run_pair(path: Path, seconds: float) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    pyvrp = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "solve_vrptw",
            str(path),
            "--seconds",
            str(seconds),
            "--seed",
            "1",
            "--skip-checks",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    ortools = subprocess.Popen(
        [sys.executable, "-m", "bench.benchmarks.solomon", "ortools", str(path), str(seconds)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out = {}
    for name, proc in (("pyvrp", pyvrp), ("ortools", ortools)):
        stdout, stderr = proc.communicate(timeout=seconds * 10 + 120)
        routes, cost = parse_solution(stdout)
        recomputed, problem = check(path, routes) if routes else (None, stderr.strip()[-200:] or "no solution")
        if recomputed is not None and cost is not None and abs(recomputed / 10 - cost) > 0.05:
            problem, recomputed = f"printed cost {cost} ≠ recomputed {recomputed / 10}", None
        out[name] = (None if recomputed is None else recomputed / 10, problem, len(routes))
    return out


@benchmark(key="solomon", title="Day routes: Solomon VRPTW instances, PyVRP (solve_vrptw) against OR-Tools")
def run(ctx) -> Result:
    directory = _directory()
    if not directory.is_dir():
        raise Skip(f"no Solomon instances in {directory} (set SOLOMON_DIR)")
    seconds = float(os.environ.get("SOLOMON_SECONDS", "10"))
    only = {n.strip().upper() for n in os.environ.get("SOLOMON_ONLY", "").split(",") if n.strip()}
    files = sorted(p for p in directory.glob("*.vrp") if not only or p.stem.upper() in only)
    if not files:
        raise Skip(f"no instance of {sorted(only)} in {directory}")
    rows = []
    started = time.perf_counter()
    for path in files:
        bks = parse_solution((path.with_suffix(".sol")).read_text())[1]
        result = _run_pair(path, seconds)
        row = {"name": path.stem, "family": _family(path.stem), "bks": bks}
        for solver in ("pyvrp", "ortools"):
            cost, problem, n_routes = result[solver]
            row[solver] = cost
            row[f"{solver}_gap"] = None if cost is None else 100 * (cost - bks) / bks
            row[f"{solver}_note"] = problem
            row[f"{solver}_routes"] = n_routes
        rows.append(row)
        print(
            f"  {row['name']:<6} best {bks:8.1f}  pyvrp {row['pyvrp'] or float('nan'):8.1f} "
            f"({_pct(row['pyvrp_gap'])})  ortools {row['ortools'] or float('nan'):8.1f} ({_pct(row['ortools_gap'])})",
            flush=True,
        )
    wall = time.perf_counter() - started

    def mean(values):
        values = [v for v in values if v is not None]
        return statistics.fmean(values) if values else math.nan

    figures = []
    for family in FAMILIES:
        fam = [r for r in rows if r["family"] == family]
        if fam:
            figures.append(Figure(f"{family} mean gap, PyVRP ({len(fam)} instances)", mean(r["pyvrp_gap"] for r in fam), "%"))
            solved = [r["ortools_gap"] for r in fam if r["ortools_gap"] is not None]
            if solved:  # a family where OR-Tools found no feasible plan has no mean (the table says "none")
                figures.append(Figure(f"{family} mean gap, OR-Tools ({len(solved)} of {len(fam)} solved)", mean(solved), "%"))
    figures.append(
        Figure(
            f"Mean gap to best known, PyVRP ({len(rows)} instances)",
            mean(r["pyvrp_gap"] for r in rows),
            "%",
            f"≤ {TARGET_MEAN_GAP_PCT} %",
            target_max=TARGET_MEAN_GAP_PCT + 1e-9,
        )
    )
    figures.append(Figure("Mean gap to best known, OR-Tools (instances it solved)", mean(r["ortools_gap"] for r in rows), "%"))
    no_plan_pyvrp = sum(r["pyvrp"] is None for r in rows)
    figures.append(Figure("Instances without a checked plan, PyVRP", no_plan_pyvrp, "", "0", target_max=1))
    figures.append(Figure("Instances without a feasible plan, OR-Tools", sum(r["ortools"] is None for r in rows), ""))
    behind = sum(1 for r in rows if r["pyvrp"] is None or (r["ortools"] is not None and r["ortools"] < r["pyvrp"] - 1e-9))
    figures.append(Figure("Instances where OR-Tools is ahead of PyVRP", behind, "", "0", target_max=1))
    figures.append(Figure("Wall time of the run", wall, "s"))

    table = [
        "| Instance | Best known | PyVRP | Gap | Routes | OR-Tools | Gap | Routes |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        table.append(
            f"| {r['name']} | {r['bks']:.1f} | {_cost(r['pyvrp'], r['pyvrp_note'])} | {_pct(r['pyvrp_gap'])} | {r['pyvrp_routes']} "
            f"| {_cost(r['ortools'], r['ortools_note'])} | {_pct(r['ortools_gap'])} | {r['ortools_routes']} |"
        )
    subset = f" (subset SOLOMON_ONLY={','.join(sorted(only))})" if only else ""
    method = (
        f"{len(rows)} Solomon VRPTW instances{subset} from `{directory.name}/` (PyVRP's instance collection, MIT; "
        f"best-known costs from the .sol files), {seconds:g} s each. PyVRP: `manage.py solve_vrptw FILE --seconds "
        f"{seconds:g} --seed 1` — the app's modelling (routing.vrplib → routing.model → routing.solver), every "
        "stop optional internally with a large prize. OR-Tools: its routing library, PATH_CHEAPEST_ARC then guided "
        "local search, the same limit, the same DIMACS integer matrix (Euclidean distance truncated to one decimal; "
        "times and windows × 10), VEHICLES vehicles. The two run at the same time in two processes. Every plan is "
        "checked independently (each client once, capacity, windows, the cost recomputed from the routes); "
        "objective: total distance (the best-known solutions minimise distance). Gap = (cost − best known) / best known. "
        f"This run: `{' '.join(f'{k}={os.environ[k]}' for k in ('SOLOMON_ONLY', 'SOLOMON_SECONDS') if os.environ.get(k))}"
        f"{' ' if only or os.environ.get('SOLOMON_SECONDS') else ''}.venv/bin/python bench/run.py solomon` "
        f"(wall time {wall:.0f} s, load average {os.getloadavg()[0]:.1f} at the end)."
    )
    return Result(figures=figures, method=method, appendix="\n".join(table))


def _pct(gap) -> str:
    return "—" if gap is None else f"{gap:.2f} %"


def _cost(cost, note) -> str:
    return f"{cost:.1f}" if cost is not None else f"none ({note})" if note else "none"


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "ortools":
        sys.stdout.write(ortools_solve(Path(sys.argv[2]), float(sys.argv[3])))
    else:
        raise SystemExit(__doc__)
