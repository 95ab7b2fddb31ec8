"""VRPLIB (VRPTW) instances in and solutions out, through the app's own model (routing.model).

`read(path)` gives a `Problem`: one Worker available VEHICLES times (or once per client when the
file does not say) with the depot's window as its shift and CAPACITY, one Stop per client with
its demand, service time and window; plane coordinates with `Euclidean` DIMACS rounding
(distances truncated to one decimal, kept as whole tenths), so every time and duration is
scaled by 10 too. The objective is distance. `write(plan)` prints the routes and cost as the
.sol files do: clients numbered as in the file minus one (the depot is 0 and not printed),
`Cost` in the file's units with one decimal.
"""

from __future__ import annotations

from pathlib import Path

from routing.model import UNBOUNDED, Place, Plan, Problem, Stop, Worker
from routing.travel import Euclidean

SCALE = 10


class InstanceError(Exception):
    """The file is missing or is not a VRPLIB VRPTW instance we can read."""


def read(path: str | Path) -> Problem:
    import vrplib

    path = Path(path)
    if not path.is_file():
        raise InstanceError(f"没有这个文件：{path} / No such file: {path}")
    try:
        data = vrplib.read_instance(str(path))
        coords = data["node_coord"]
        n = len(coords)
        depot = int(data.get("depot", [0])[0])
        demand = data.get("demand", [0] * n)
        windows = data.get("time_window")
        service = data.get("service_time", 0)
        if not hasattr(service, "__len__"):
            service = [0 if i == depot else service for i in range(n)]
        capacity = data.get("capacity", UNBOUNDED)
        vehicles = int(data.get("vehicles", n - 1))
    except InstanceError:
        raise
    except Exception as exc:  # vrplib raises a variety of errors on garbled input
        raise InstanceError(f"读不懂这个 VRPLIB 文件：{path}（{exc}） / Cannot read this VRPLIB file: {path} ({exc})") from exc
    if n < 2:
        raise InstanceError(f"文件里没有客户点：{path} / The file has no clients: {path}")

    def scaled(value) -> int:
        return int(round(float(value) * SCALE))

    def window(i):
        if windows is None:
            return 0, UNBOUNDED
        return scaled(windows[i][0]), scaled(windows[i][1])

    home = Place(float(coords[depot][0]), float(coords[depot][1]))
    shift_start, shift_end = window(depot)
    worker = Worker(
        key="vehicle",
        start=home,
        end=home,
        shift_start=shift_start,
        shift_end=shift_end,
        capacity=int(capacity),
        count=vehicles,
    )
    stops = []
    for i in range(n):
        if i == depot:
            continue
        earliest, latest = window(i)
        stops.append(
            Stop(
                key=str(i),
                place=Place(float(coords[i][0]), float(coords[i][1])),
                duration=scaled(service[i]),
                earliest=earliest,
                latest=latest,
                demand=int(demand[i]),
            )
        )
    return Problem(stops=stops, workers=[worker], travel=Euclidean(SCALE), objective="distance", name=data.get("name", path.stem))


def write(plan: Plan) -> str:
    """The plan as a VRPLIB solution: `Route #k: c c c`, then `Cost x.y` (the distance / 10)."""
    lines = []
    for k, route in enumerate((r for r in plan.routes if r.visits), start=1):
        lines.append(f"Route #{k}: " + " ".join(v.key for v in route.visits if not v.key.startswith("break:")))
    lines.append(f"Cost {plan.cost / SCALE:.1f}")
    return "\n".join(lines) + "\n"
