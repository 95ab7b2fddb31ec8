"""docs/performance.md: one section per benchmark, each rewritten only by its own run.

A section lies between `<!-- bench:KEY -->` and `<!-- /bench:KEY -->`; text outside the
sections (the introduction, notes written by hand) is never touched.
"""

import re
from pathlib import Path

from bench.registry import Benchmark, Result

HEADER = """# Performance

Measured figures, each with its target, the machine, the date and the command that reproduces
it. `make bench` runs every benchmark in `bench/benchmarks/` against PostgreSQL (never SQLite)
and rewrites only its own section below; `make bench BENCH_ONLY=<key>` runs one.

How to add a benchmark: see `bench/registry.py`. `city_2m` runs against the database of
`generate_city --elders 2000000` (set `DATABASE_URL` to it, e.g. `.../yinling_city`); on any other
database it is skipped and its section left as it was. `import_xlsx` and `export_100k` measure
memory in a fresh process each (`bench/subproc.py`).

Settings of a run (environment of `make bench`):

| Variable | Default | Meaning |
| --- | --- | --- |
| `DATABASE_URL` | `postgres://postgres@127.0.0.1:5432/yinling_bench` | The bench database (created if missing, migrated; each benchmark loads its data). A SQLite URL is refused. |
| `BENCH_ONLY` | all | Space-separated keys of the benchmarks to run. |
| `BENCH_REQUESTS` | `300` | Timed requests per measured call (N). |
| `BENCH_WARMUP` | `30` | Untimed requests before them. |
| `BENCH_SETTLE` | `180` | The machine is shared: before each measurement a benchmark may wait up to this many seconds for the 1-minute load average to fall to 2, and reports the load it started at. |

Percentiles are nearest-rank over the N timed samples; times are wall-clock milliseconds.
"""


def _markers(key: str) -> tuple[str, str]:
    return f"<!-- bench:{key} -->", f"<!-- /bench:{key} -->"


def render(bench: Benchmark, result: Result, *, machine: str, date: str, command: str, commit: str) -> str:
    lines = [f"## {bench.title} (`{bench.key}`)", ""]
    if result.method:
        lines += [result.method.strip(), ""]
    if result.timings:
        lines += [
            "| Request | p50 ms | p95 ms | max ms | Target | Met | SQL queries | Note |",
            "| --- | ---: | ---: | ---: | --- | --- | ---: | --- |",
        ]
        for t in result.timings:
            p95 = t.figures()[1]
            met = {True: "yes", False: "**NO**", None: ""}[p95.is_met]
            lines.append(
                f"| {t.name} | {t.percentile(50):.1f} | {t.percentile(95):.1f} | {max(t.samples_ms):.1f} | "
                f"{p95.target} | {met} | {'' if t.queries is None else t.queries} | {t.note} |"
            )
        lines.append("")
    if result.figures:
        lines += ["| Figure | Value | Target | Met |", "| --- | ---: | --- | --- |"]
        for f in result.figures:
            met = {True: "yes", False: "**NO**", None: ""}[f.is_met]
            lines.append(f"| {f.name} | {f.value:.1f} {f.unit} | {f.target} | {met} |")
        lines.append("")
    if result.appendix:
        lines += [result.appendix.strip(), ""]
    lines += [
        f"- Machine: {machine}",
        f"- Date: {date}, code at {commit}",
        f"- Reproduce: `{command}`",
    ]
    start, end = _markers(bench.key)
    return "\n".join([start, *lines, end])


def update(path: Path, key: str, section: str) -> None:
    """Replace the section of `key` in `path`, or append it; create the file with HEADER first."""
    text = path.read_text() if path.exists() else HEADER
    start, end = _markers(key)
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text if text.endswith("\n") else text + "\n")
