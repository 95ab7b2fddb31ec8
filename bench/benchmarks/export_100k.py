"""Excel export of 100,000 elders through elders.exporter.export_elders, with its peak memory (at
50,000 too, to see that memory stays flat)."""

import tempfile
import time
from pathlib import Path

from bench import elderdata
from bench.context import Context
from bench.registry import Figure, Result, benchmark
from bench.subproc import measure

ROWS = 100_000
TARGET_S = 10
TARGET_GROWTH_PCT = 10  # "flat": the peak at ROWS at most 10 % above the one at ROWS / 2
STREET, STREET_CODE = "银龄基准导出街道", "990102090000"  # under seed_demo's 锦山区
COMMUNITIES = [("银龄基准导出甲社区", "990102090001"), ("银龄基准导出乙社区", "990102090002")]
LOADER, USERNAME = "bench_export_loader", "bench_export"
AREAS = ["310101", "310104", "310105", "310106", "310107", "310109"]  # no other data uses these


def _mib(kib: int) -> float:
    return kib / 1024


def _load(street, communities) -> str:
    """The street holds ROWS elders, half in each community (kept between runs; loaded with
    import_elders if the count is off). Returns what was done, for the doc."""
    from accounts.models import User

    held = elderdata.count_in(street)
    if held == ROWS:
        return f"kept from an earlier run ({held:,} elders)"
    elderdata.clear_subtree(street)
    tmp = Path(tempfile.mkdtemp(prefix="bench-export-"))
    path = tmp / f"export-data-{ROWS}.xlsx"
    elderdata.write_workbooks([(path, ROWS)], seed="export_100k", areas=AREAS, communities=[c.name for c in communities])
    result = measure("import", path=str(path), username=LOADER)
    path.unlink()
    tmp.rmdir()
    if result["created"] != ROWS:
        raise RuntimeError(f"loading the export data: {result}")
    User.objects.filter(username=LOADER).update(is_active=False)  # only needed to load
    return f"loaded by this run with import_elders ({ROWS:,} rows in {result['seconds']:.0f} s)"


@benchmark(key="export_100k", title="Export of 100,000 elders")
def run(ctx: Context) -> Result:
    from regions.models import Level

    ctx.seed_demo()
    street = elderdata.node(STREET, Level.STREET, elderdata.demo_district(), STREET_CODE)
    communities = [elderdata.node(name, Level.COMMUNITY, street, code) for name, code in COMMUNITIES]
    elderdata.user(LOADER, "admin", street, f"{STREET} 基准数据")  # an importer for the whole street
    elderdata.user(USERNAME, "street", street, f"{STREET} 基准")
    started = time.perf_counter()
    loaded = _load(street, communities)
    print(f"  data: {loaded} ({time.perf_counter() - started:.0f} s)")

    tmp = Path(tempfile.mkdtemp(prefix="bench-export-"))
    out = tmp / "export.xlsx"
    half = elderdata.count_in(communities[0])
    runs = []  # (label, rows, load, result)
    plan = (
        (f"{ROWS:,} rows, run 1", None, ROWS),
        (f"{half:,} rows", communities[0].pk, half),
        (f"{ROWS:,} rows, run 2", None, ROWS),
    )
    for label, region, rows in plan:
        load = ctx.settle()
        result = measure("export", username=USERNAME, region=region, out=str(out))
        if result["rows"] != rows:
            raise RuntimeError(f"export {label}: {result}")
        print(
            f"  export {label}: {result['seconds']:.1f} s, {result['bytes'] / 1e6:.1f} MB, "
            f"peak Pss {_mib(result['peak_tree_pss_kib']):.0f} MiB (load {load:.2f})"
        )
        runs.append((label, rows, load, result))
        out.unlink()
    tmp.rmdir()

    full = [r for _l, rows, _load, r in runs if rows == ROWS]
    seconds = sum(r["seconds"] for r in full) / len(full)
    peak_full = max(r["peak_tree_pss_kib"] for r in full)
    peak_half = next(r["peak_tree_pss_kib"] for _l, rows, _load, r in runs if rows == half)
    growth = (peak_full - peak_half) / peak_half * 100
    table = [
        "| Run | Load avg at start | Seconds | Rows/s | File | Peak Pss | Peak RSS | RSS before the export |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, rows, load, r in runs:
        table.append(
            f"| export_elders, {label} | {load:.2f} | {r['seconds']:.1f} | {rows / r['seconds']:,.0f} | "
            f"{r['bytes'] / 1e6:.1f} MB | {_mib(r['peak_tree_pss_kib']):.0f} MiB | {_mib(r['maxrss_self_kib']):.0f} MiB | "
            f"{_mib(r['rss_before_kib']):.0f} MiB |"
        )
    method = f"""
Data: {ROWS:,} synthetic elders (the same generator as `import_xlsx`: valid distinct ID numbers,
names, mobiles, addresses, one emergency contact each) in {STREET}, a street made under
seed_demo's 锦山区 for this benchmark, half in each of its two communities; {loaded}.
Exported by `{USERNAME}` (role street, attached to {STREET}) the way the export job does it:
`export_elders(elder_list(user=…, filters=…, action="export"), path, reveal=False)` (numbers
masked) into a temporary file — the whole street for {ROWS:,} rows, `region=`{COMMUNITIES[0][0]} for
{half:,}.

Method: each export runs in a fresh process (`bench/subproc.py`, as in `import_xlsx`): seconds are
the wall time of `export_elders` alone (the job's `count()` before it is not included); the
process is sampled every 50 ms for its Pss (its peak is *peak Pss*), and *peak RSS* is
`getrusage`'s. PostgreSQL's own memory is not included. The time figure is the mean of the two
{ROWS:,}-row runs.

{chr(10).join(table)}

Memory at {ROWS:,} rows against {half:,}: peak Pss {_mib(peak_full):.0f} MiB against {_mib(peak_half):.0f} MiB
({growth:+.1f} %); "flat" is held to at most +{TARGET_GROWTH_PCT} % when the rows double.
"""
    figures = [
        Figure(f"export_elders, {ROWS:,} rows (mean of 2 runs)", seconds, "s", f"< {TARGET_S} s", target_max=TARGET_S),
        Figure(f"peak memory (Pss), {ROWS:,} rows", _mib(peak_full), "MiB"),
        Figure(f"peak memory (Pss), {half:,} rows", _mib(peak_half), "MiB"),
        Figure(
            f"peak memory growth, {half:,} → {ROWS:,} rows", growth, "%", f"< {TARGET_GROWTH_PCT} % (flat)", TARGET_GROWTH_PCT
        ),
    ]
    return Result(figures=figures, method=method)
