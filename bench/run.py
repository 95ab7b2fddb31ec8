"""`make bench`: run the registered benchmarks on PostgreSQL and update docs/performance.md.

    make bench                          # every benchmark in bench/benchmarks/
    make bench BENCH_ONLY=api_elders    # one (keys separated by spaces)
    .venv/bin/python bench/run.py --no-write api_elders   # print, leave the doc alone

The database is DATABASE_URL, by default postgres://postgres@127.0.0.1:5432/yinling_bench; it
is created if missing and migrated, and each benchmark loads the data it needs. Requests run
in this process through django.test.Client with production settings (DEBUG off).
"""

import argparse
import datetime
import os
import platform
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/yinling_bench"
DOC = ROOT / "docs" / "performance.md"


def _positive(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"bench: {name} must be a whole number, not {raw!r}") from None
    if value < 1:
        raise SystemExit(f"bench: {name} must be at least 1, not {value}")
    return value


def _database_url() -> str:
    import dj_database_url

    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    engine = dj_database_url.parse(url)["ENGINE"]
    if "postgresql" not in engine:
        raise SystemExit(
            f"bench: refusing to run on {engine.rsplit('.', 1)[-1]} ({url}).\n"
            "Benchmarks are measured on PostgreSQL only, the database production runs; figures from\n"
            f"SQLite would mislead. Unset DATABASE_URL to use {DEFAULT_DATABASE_URL},\n"
            "or set it to another postgres:// URL."
        )
    return url


def _create_database(url: str) -> None:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = conninfo_to_dict(url)["dbname"]
    try:
        with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                print(f"bench: created database {name}")
    except psycopg.OperationalError as exc:
        raise SystemExit(f"bench: cannot reach PostgreSQL for {url}: {exc}") from None


def _production_environment(url: str) -> None:
    """Settings as deployed (docs/deploy.md), except the host name the test client uses."""
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "false"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["TASK_BACKEND"] = "immediate"
    # The per-user search limit (30 a minute) would answer the timed searches 429; its check
    # still runs in every request, only the ceiling is out of reach.
    os.environ.setdefault("SEARCH_MAX_PER_MINUTE", "1000000000")
    os.environ.setdefault("SEARCH_MAX_PER_HOUR", "1000000000")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yinling.settings")


def _machine() -> str:
    from django.db import connection

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        kib = int(next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        memory = ""
    cores = len(os.sched_getaffinity(0))
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0].split()[0]
    import django

    load = os.getloadavg()[0]
    return (
        f"{cores} cores{f' ({cpu})' if cpu else ''}{memory}; PostgreSQL {pg} on the same machine; "
        f"Python {platform.python_version()}, Django {django.get_version()}; load average {load:.1f} at the start"
    )


def _commit() -> str:
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"commit {head}" + (" (with uncommitted changes in the work tree)" if dirty else "")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("keys", nargs="*", help="benchmarks to run (default: BENCH_ONLY, or all)")
    parser.add_argument("--no-write", action="store_true", help="print the sections, leave docs/performance.md alone")
    args = parser.parse_args(argv)

    url = _database_url()
    _create_database(url)
    _production_environment(url)

    import warnings

    import django

    # WhiteNoise warns that collectstatic has not run; the API serves no static files.
    warnings.filterwarnings("ignore", message="No directory at", module="django.core.handlers.base")
    django.setup()
    from yinling.startup import freeze_startup_objects

    freeze_startup_objects()  # as yinling/wsgi.py does in every server process
    from django.core.management import call_command

    from bench import report
    from bench.context import Context
    from bench.registry import Skip, discover

    benchmarks = discover()
    keys = args.keys or os.environ.get("BENCH_ONLY", "").split() or list(benchmarks)
    unknown = [k for k in keys if k not in benchmarks]
    if unknown:
        raise SystemExit(f"bench: no benchmark {', '.join(unknown)}; known: {', '.join(benchmarks)}")

    ctx = Context(
        root=ROOT,
        database_url=url,
        requests=_positive("BENCH_REQUESTS", os.environ.get("BENCH_REQUESTS", "300")),
        warmup=_positive("BENCH_WARMUP", os.environ.get("BENCH_WARMUP", "30")),
    )
    print(f"bench: migrating {url}")
    call_command("migrate", verbosity=0, interactive=False)
    machine = _machine()
    commit = _commit()
    missed = []
    for key in keys:
        bench = benchmarks[key]
        print(f"bench: {key} — {bench.title}")
        try:
            result = bench.func(ctx)
        except Skip as exc:
            print(f"bench: skipped {key}: {exc}")
            continue
        for figure in result.all_figures():
            flag = {True: "  ok", False: "  MISSED", None: ""}[figure.is_met]
            print(f"  {figure.name:<48} {figure.value:9.1f} {figure.unit}  {figure.target}{flag}")
            if figure.is_met is False:
                missed.append(f"{key}: {figure.name}")
        command = bench.command
        if url != DEFAULT_DATABASE_URL:
            command = f"DATABASE_URL={url} {command}"
        if ctx.requests != 300 or ctx.warmup != 30:
            command = f"BENCH_REQUESTS={ctx.requests} BENCH_WARMUP={ctx.warmup} {command}"
        section = report.render(
            bench,
            result,
            machine=machine,
            date=datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            command=command,
            commit=commit,
        )
        if args.no_write:
            print(section)
        else:
            report.update(DOC, key, section)
            print(f"bench: wrote section {key} of {DOC.relative_to(ROOT)}")
    if missed:
        print("bench: targets missed: " + "; ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
