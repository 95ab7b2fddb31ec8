"""The benchmark registry: each module in bench/benchmarks/ registers one benchmark.

A benchmark is a function taking a `Context` and returning a `Result` (its figures). To add
one, drop a module into bench/benchmarks/ with

    @benchmark(key="import_xlsx", title="Import of a 100,000-row workbook")
    def run(ctx: Context) -> Result:
        ...
        return Result(figures=[Figure(name=..., value=..., unit="s", target=..., target_max=...)])

`bench/run.py` runs it and rewrites only its own section of docs/performance.md.
"""

import dataclasses
import importlib
import math
import pkgutil
from collections.abc import Callable


@dataclasses.dataclass
class Figure:
    """One measured number and the target it is held to (`target_max`: met when value < it;
    `target_min`, for a rate: met when value >= it)."""

    name: str
    value: float
    unit: str
    target: str = ""
    target_max: float | None = None
    target_min: float | None = None

    @property
    def is_met(self) -> bool | None:
        if self.target_max is None and self.target_min is None:
            return None
        return (self.target_max is None or self.value < self.target_max) and (
            self.target_min is None or self.value >= self.target_min
        )


@dataclasses.dataclass
class Timing:
    """Latencies of one request, N samples after warm-up; p95 is the nearest-rank percentile."""

    name: str
    samples_ms: list[float]
    target_p95_ms: float | None = None
    queries: int | None = None
    note: str = ""

    def percentile(self, p: float) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    def figures(self) -> list[Figure]:
        target = f"p95 < {self.target_p95_ms:g} ms" if self.target_p95_ms is not None else ""
        return [
            Figure(f"{self.name} p50", self.percentile(50), "ms"),
            Figure(f"{self.name} p95", self.percentile(95), "ms", target, self.target_p95_ms),
            Figure(f"{self.name} max", max(self.samples_ms), "ms"),
        ]


@dataclasses.dataclass
class Result:
    """What a benchmark returns: latency tables and/or single figures, and how it was measured."""

    timings: list[Timing] = dataclasses.field(default_factory=list)
    figures: list[Figure] = dataclasses.field(default_factory=list)
    method: str = ""  # Markdown: what was measured and how
    appendix: str = ""  # Markdown after the tables (e.g. query plans)

    def all_figures(self) -> list[Figure]:
        return [f for t in self.timings for f in t.figures()] + self.figures


class Skip(Exception):
    """Raised by a benchmark that cannot run here (e.g. its database is not the one it needs);
    `bench/run.py` says why and leaves its section of docs/performance.md as it was."""


@dataclasses.dataclass
class Benchmark:
    key: str
    title: str
    func: Callable
    command: str


BENCHMARKS: dict[str, Benchmark] = {}


def benchmark(*, key: str, title: str):
    """Register the decorated `run(ctx) -> Result` under `key` (its section id in performance.md)."""

    def register(func):
        if key in BENCHMARKS:
            raise ValueError(f"benchmark {key!r} registered twice")
        BENCHMARKS[key] = Benchmark(key=key, title=title, func=func, command=f"make bench BENCH_ONLY={key}")
        return func

    return register


def discover() -> dict[str, Benchmark]:
    """Import every module of bench.benchmarks, so each registers itself; keys in import order."""
    import bench.benchmarks as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        importlib.import_module(f"{package.__name__}.{info.name}")
    return BENCHMARKS
