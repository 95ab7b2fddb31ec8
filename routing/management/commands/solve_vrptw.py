"""`python manage.py solve_vrptw FILE.vrp --seconds N [--seed S]`: solve a VRPLIB VRPTW instance
through the app's own model (routing.vrplib → routing.solver) and print the routes and the cost
in VRPLIB solution format (DIMACS rounding). docs/routing.md."""

from django.core.management.base import BaseCommand, CommandError

from routing import solver, vrplib


def positive_float(raw: str) -> float:
    import argparse

    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seconds 应为正数 / must be a positive number, not {raw!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"--seconds 应为正数 / must be a positive number, not {raw!r}")
    return value


class Command(BaseCommand):
    help = "Solve a VRPLIB VRPTW instance and print the solution (Route #k: …, Cost …)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="a VRPLIB .vrp file (VRPTW, EUC_2D)")
        parser.add_argument("--seconds", type=positive_float, default=10.0, help="time limit (default 10)")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")

    def handle(self, *args, **options):
        try:
            problem = vrplib.read(options["file"])
        except vrplib.InstanceError as exc:
            raise CommandError(str(exc)) from None
        plan = solver.solve(problem, seconds=options["seconds"], seed=options["seed"])
        self.stdout.write(vrplib.write(plan), ending="")
        if not plan.feasible:
            left = ", ".join(u.key for u in plan.unplanned)
            raise CommandError(
                f"没有找到可行解（未排入：{left or '无'}） / No feasible solution found (left out: {left or 'none'})"
            )
