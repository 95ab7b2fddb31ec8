"""Peak memory of one import or export, measured in a fresh process.

The benchmark process has loaded other data and holds what earlier benchmarks left behind, so
its own peak says nothing about one import. `measure(task, **params)` starts

    python bench/subproc.py <task> <json params>

with the environment of the run (production settings, the same DATABASE_URL), which sets up
Django, does the one piece of work and prints its figures as JSON:

- seconds: wall time of the work alone (not Python start-up or django.setup());
- rss_before_kib: the process's VmRSS just before the work (Django loaded);
- maxrss_self_kib: getrusage(RUSAGE_SELF).ru_maxrss, the process's peak resident set;
- maxrss_children_kib: getrusage(RUSAGE_CHILDREN).ru_maxrss, the peak of its biggest
  finished child (the importer's forked checkers);
- cpu_self_s / cpu_children_s / cpu_postgres_s: CPU seconds (user + system) of the work in
  the process, in its finished children, and in the PostgreSQL backend serving its database
  connection (read from /proc, PostgreSQL runs on the same machine).

Meanwhile the parent samples the child's process tree every 50 ms and keeps the peak of the
summed Pss (proportional set size, /proc/PID/smaps_rollup: pages shared after fork() are
counted once, split between the sharers) and of the summed VmRSS (shared pages counted in
every process). Pss summed is the memory the work really took from the machine; PostgreSQL's
own memory is not included.
"""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARK = "BENCH-RESULT "


# --- parent side -------------------------------------------------------------------------------


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except OSError:
            pass
    return out


def _kib(path: str, key: str) -> int:
    try:
        with open(path) as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class _Sampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.05):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_pss = self.peak_rss = self.peak_procs = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            pids = _tree(self.pid)
            pss = sum(_kib(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids)
            rss = sum(_kib(f"/proc/{p}/status", "VmRSS:") for p in pids)
            self.peak_pss, self.peak_rss = max(self.peak_pss, pss), max(self.peak_rss, rss)
            self.peak_procs = max(self.peak_procs, len(pids))
            self.stop.wait(self.interval)


def measure(task: str, **params) -> dict:
    """Run `task` in a fresh process; its JSON figures plus peak_tree_pss_kib/peak_tree_rss_kib."""
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), task, json.dumps(params)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sampler = _Sampler(proc.pid)
    sampler.start()
    out, err = proc.communicate()
    sampler.stop.set()
    sampler.join()
    lines = [line for line in out.splitlines() if line.startswith(MARK)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"bench/subproc.py {task} failed ({proc.returncode}):\n{out[-2000:]}\n{err[-4000:]}")
    result = json.loads(lines[-1][len(MARK) :])
    result.update(peak_tree_pss_kib=sampler.peak_pss, peak_tree_rss_kib=sampler.peak_rss, peak_processes=sampler.peak_procs)
    return result


# --- child side ---------------------------------------------------------------------------------


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, or 0 if /proc does not show it."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _vmrss() -> int:
    return _kib("/proc/self/status", "VmRSS:")


def _import(path: str, username: str) -> dict:
    from accounts.models import User
    from elders.importer import import_elders

    by = User.objects.select_related("region").get(username=username)
    before = _vmrss()
    started = time.perf_counter()
    report = import_elders(path, by=by, filename=Path(path).name)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rss_before_kib": before,
        "total_rows": report.total_rows,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected": report.rejected,
        "written": report.written,
        "errors": [e.as_dict() for e in report.errors[:5]],
    }


def _export(username: str, region: int | None, out: str) -> dict:
    from accounts.models import User
    from elders.exporter import export_elders
    from elders.selectors import ElderFilter, elder_list

    by = User.objects.select_related("region").get(username=username)
    qs = elder_list(user=by, filters=ElderFilter(region=region), action="export")
    before = _vmrss()
    started = time.perf_counter()
    rows = export_elders(qs, out, reveal=False)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rss_before_kib": before, "rows": rows, "bytes": os.path.getsize(out)}


TASKS = {"import": _import, "export": _export}


def main(task: str, raw: str) -> None:
    import resource
    import warnings

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yinling.settings")
    warnings.filterwarnings("ignore", message="No directory at", module="django.core.handlers.base")
    import django

    django.setup()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    pg_before = _cpu_of(backend)
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    result = TASKS[task](**json.loads(raw))
    result["cpu_postgres_s"] = _cpu_of(backend) - pg_before
    cpu_self, cpu_children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    result["cpu_self_s"] = cpu_self.ru_utime + cpu_self.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime
    result["cpu_children_s"] = cpu_children.ru_utime + cpu_children.ru_stime
    result["maxrss_self_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result["maxrss_children_kib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(MARK + json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
