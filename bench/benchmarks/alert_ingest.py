"""Alert ingest through the API (issue 12, item 4, "Done when"): device gateways post alerts to
`POST /api/alerts` with their per-device tokens at a fixed offered rate (target 500 alerts/s),
through a real HTTP server (gunicorn, production settings), and the time from the request
leaving the gateway to the first notification of the alert's chain being handed to the channel
is measured (target p99 < 200 ms).

How: 2,000 devices of 100 elders of a benchmark community (each elder with a watcher who has an
account, so step 0 notifies someone through the real recipient path) get fresh tokens. gunicorn
serves the project with NOTIFY_CHANNEL set to `StampChannel` below, which appends
"<time> <alert id>" to a file each time a notice is sent (in the server's process, after the
alert's transaction commits — the moment core.notify would call an SMS gateway). A pool of client
threads sends the requests open-loop: request k is due at start + k / rate, whether or not earlier
ones have been answered, so a server that falls behind shows it as latency (measured from when
the request was due) rather than as a quietly lower rate. Receipt → first notification is
notice time − the time the request was due (and, beside it, − the time it was actually sent).
Client, server and PostgreSQL share the machine's cores.
"""

import http.client
import json
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from bench import elderdata
from bench.context import Context
from bench.registry import Figure, Result, Timing, benchmark
from bench.subproc import _cpu_of, _tree

ROOT = Path(__file__).resolve().parents[2]
TARGET_RATE = 500  # alerts per second
TARGET_P99_MS = 200
DEVICES = 2000
ELDERS = 100
PORT = int(os.environ.get("BENCH_ALERT_PORT", "8765"))


class StampChannel:
    """The benchmark's notice channel (in the server): one line per notice, "<epoch s> <alert id>"."""

    _pattern = re.compile(r"/alerts/(\d+)/respond/")

    def send(self, to_user_ids, subject, body):
        found = self._pattern.search(str(body))
        line = f"{time.time():.6f} {found.group(1) if found else 0}\n"
        fd = os.open(os.environ["BENCH_NOTIFY_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)


def _world():
    """The benchmark community with its elders, watchers and devices (idempotent); fresh tokens."""
    import datetime

    from django.db import connection
    from django.utils import timezone

    from alerts.models import Device
    from alerts.services import device_register, device_token_issue
    from elders.models import Elder
    from pairing.models import Pairing
    from regions.models import Level

    district = elderdata.demo_district()
    street = elderdata.node("基准呼叫街道", Level.STREET, district, code="990102099000")
    community = elderdata.node("基准呼叫社区", Level.COMMUNITY, street, code="990102099001")
    grid = elderdata.node("基准呼叫第一网格", Level.GRID, community)
    desk = elderdata.user("bench_alert_desk", "community", community, "基准呼叫 值班员")
    elders = list(Elder.objects.filter(region=grid).order_by("id")[:ELDERS])
    for n in range(len(elders), ELDERS):
        elder = Elder(
            region=grid, name=f"基准老人{n:03d}", sex="F", birth_date=datetime.date(1940, 1, 1) + datetime.timedelta(days=n)
        )
        elder.save()
        elders.append(elder)
    for n, elder in enumerate(elders):
        if not Pairing.objects.filter(elder=elder, user__isnull=False).exists():
            watcher = elderdata.user(f"bench_alert_watch{n:03d}", "volunteer", community, f"基准守望员{n:03d}")
            Pairing.objects.create(
                elder=elder,
                region=grid,
                role="watcher",
                partner_name=watcher.full_name,
                user=watcher,
                starts_on=datetime.date(2020, 1, 1),
            )
    devices = list(Device.objects.filter(region=grid, status="active").order_by("id")[:DEVICES])
    for n in range(len(devices), DEVICES):
        devices.append(
            device_register(
                by=desk,
                elder=elders[n % ELDERS],
                kind="call_button",
                number=f"BENCH-ALERT-{n:05d}",
                installed_on=timezone.localdate(),
            )
        )
    # The alerts of earlier runs go (with their events): each run starts from the same table sizes.
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM alerts_alertevent WHERE alert_id IN (SELECT id FROM alerts_alert WHERE region_id = %s)", [grid.pk]
        )
        cursor.execute("DELETE FROM alerts_alert WHERE region_id = %s", [grid.pk])
    tokens = [(d.number, device_token_issue(by=desk, device=d)) for d in devices]
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) alerts_alert, alerts_alertevent, alerts_device")
    return tokens


def _server(notify_file: str, workers: int):
    env = {
        **os.environ,
        "NOTIFY_CHANNEL": "bench.benchmarks.alert_ingest.StampChannel",
        "BENCH_NOTIFY_FILE": notify_file,
        "ALLOWED_HOSTS": "testserver,127.0.0.1",
        "LOG_LEVEL": "ERROR",
        "PYTHONPATH": str(ROOT),
    }
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    process = subprocess.Popen(
        [gunicorn, "yinling.wsgi:application", "--workers", str(workers), "--bind", f"127.0.0.1:{PORT}", "--log-level", "error"],
        cwd=str(ROOT),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            conn.request("GET", "/healthz", headers={"Host": "testserver", "X-Forwarded-Proto": "https"})
            conn.getresponse().read()
            return process
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError("gunicorn did not start: " + process.stderr.read().decode()[-2000:])


def _drive(tokens, *, rate: int, seconds: float, threads: int) -> list[dict]:
    """Open-loop: request k due at start + k / rate; `threads` clients take them in turn."""
    todo: queue.Queue = queue.Queue()
    done: list[dict] = []
    lock = threading.Lock()

    def client():
        while True:
            job = todo.get()
            if job is None:
                return
            k, due = job
            number, token = tokens[k % len(tokens)]
            body = json.dumps(
                {"device": number, "event_id": uuid.uuid4().hex, "kind": "fall", "occurred_at": "2026-03-02T09:00:00+08:00"}
            )
            sent = time.time()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
                conn.request(
                    "POST",
                    "/api/alerts",
                    body=body,
                    headers={
                        "Host": "testserver",
                        "X-Forwarded-Proto": "https",
                        "Content-Type": "application/json",
                        "Authorization": f"Device {token}",
                    },
                )
                response = conn.getresponse()
                payload = response.read()
                status = response.status
                alert_id = json.loads(payload).get("id") if status in (200, 201) else None
                conn.close()
            except OSError as exc:
                status, alert_id = f"error {type(exc).__name__}", None
            answered = time.time()
            with lock:
                done.append({"due": due, "sent": sent, "answered": answered, "status": status, "id": alert_id})

    pool = [threading.Thread(target=client, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    total = int(rate * seconds)
    start = time.time() + 0.5
    for k in range(total):
        due = start + k / rate
        pause = due - time.time()
        if pause > 0:
            time.sleep(pause)
        todo.put((k, due))
    for _ in pool:
        todo.put(None)
    for t in pool:
        t.join(timeout=120)
    return done


def _percentile(values, p):
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * p // 100) - 1)] if ordered else float("nan")


def _backend_pids() -> list[int]:
    """The PostgreSQL backends serving the bench database (the server's workers keep theirs)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return [row[0] for row in cursor.fetchall()]


def _cpu(pids) -> float:
    return sum(_cpu_of(p) for p in pids)


def _measure(tokens, *, rate, seconds, workers, threads, label):
    notify_file = tempfile.NamedTemporaryFile(prefix="bench-notify-", delete=False).name
    server = _server(notify_file, workers)
    try:
        _drive(tokens[:50], rate=40, seconds=2, threads=8)  # warm the workers (imports, connections)
        Path(notify_file).write_text("")
        load = os.getloadavg()[0]
        app_pids, db_pids = _tree(server.pid), _backend_pids()
        db_start = {p: _cpu_of(p) for p in db_pids}
        app_before, client_before = _cpu(app_pids), time.process_time()
        done = _drive(tokens, rate=rate, seconds=seconds, threads=threads)
        # Per backend: CPU since the start, or all of it for a backend that came up during the run (a worker
        # reconnecting); a backend that went away during the run is lost, so then the figure is a lower bound.
        db_after = _backend_pids()
        db_cpu = sum(_cpu_of(p) - db_start.get(p, 0.0) for p in db_after)
        db_gone = len(set(db_pids) - set(db_after))
        app_cpu = _cpu(app_pids) - app_before
        client_cpu = time.process_time() - client_before
        time.sleep(1)
    finally:
        server.terminate()
        server.wait(timeout=30)
    notices = {}
    for line in Path(notify_file).read_text().splitlines():
        at, alert_id = line.split()
        notices.setdefault(int(alert_id), float(at))
    os.unlink(notify_file)
    created = [d for d in done if d["status"] == 201]
    errors = [d for d in done if d["status"] != 201]
    first = min(d["due"] for d in done)
    last = max(d["answered"] for d in created) if created else first
    achieved = len(created) / (last - first) if created else 0.0
    from_due = [(notices[d["id"]] - d["due"]) * 1000 for d in created if d["id"] in notices]
    from_sent = [(notices[d["id"]] - d["sent"]) * 1000 for d in created if d["id"] in notices]
    answered = [(d["answered"] - d["due"]) * 1000 for d in created]
    figures = [
        Figure(f"{label}: offered rate", rate, "alerts/s"),
        Figure(
            f"{label}: achieved rate (201 answers)", round(achieved, 1), "alerts/s", f">= {TARGET_RATE}/s", target_min=TARGET_RATE
        ),
        Figure(f"{label}: receipt → first notice p50", round(_percentile(from_due, 50), 1), "ms"),
        Figure(
            f"{label}: receipt → first notice p99",
            round(_percentile(from_due, 99), 1),
            "ms",
            f"p99 < {TARGET_P99_MS} ms",
            target_max=TARGET_P99_MS,
        ),
        Figure(f"{label}: sent → first notice p99 (client queue excluded)", round(_percentile(from_sent, 99), 1), "ms"),
        Figure(f"{label}: answer p99", round(_percentile(answered, 99), 1), "ms"),
        Figure(f"{label}: requests not answered 201", len(errors), "requests"),
        Figure(f"{label}: alerts without a notice", len(created) - len(from_due), "alerts"),
        Figure(f"{label}: load average at start", round(load, 2), ""),
        Figure(f"{label}: server CPU per alert (gunicorn workers)", round(app_cpu * 1000 / max(1, len(done)), 2), "ms"),
        Figure(
            f"{label}: PostgreSQL CPU per alert (the workers' backends{', lower bound' if db_gone else ''})",
            round(db_cpu * 1000 / max(1, len(done)), 2),
            "ms",
        ),
        Figure(f"{label}: client CPU per alert (the load generator)", round(client_cpu * 1000 / max(1, len(done)), 2), "ms"),
    ]
    return figures, from_due, None if db_gone else (app_cpu + db_cpu) * 1000 / max(1, len(done))


@benchmark(key="alert_ingest", title="Alert ingest through the API: receipt to first notification")
def run(ctx: Context) -> Result:
    ctx.seed_demo()
    tokens = _world()
    seconds = float(os.environ.get("BENCH_ALERT_SECONDS", "15"))
    workers = int(os.environ.get("BENCH_ALERT_WORKERS", "4"))
    threads = int(os.environ.get("BENCH_ALERT_THREADS", "32"))
    rates = [int(r) for r in os.environ.get("BENCH_ALERT_RATES", f"{TARGET_RATE},150").split(",") if r.strip()]
    ctx.settle(max_load=2.0)
    figures, timings, cpu_ms = [], [], []
    for rate in rates:
        measured, samples, cpu = _measure(tokens, rate=rate, seconds=seconds, workers=workers, threads=threads, label=f"{rate}/s")
        figures += measured
        if cpu is not None:
            cpu_ms.append(cpu)
        if samples:
            timings.append(Timing(name=f"receipt → first notice at {rate}/s offered", samples_ms=samples, target_p95_ms=None))
    method = (
        f"{DEVICES:,} devices with tokens, {ELDERS} elders each with a watcher account; gunicorn with {workers} sync workers "
        f"(production settings) on 127.0.0.1; {threads} client threads post open-loop for {seconds:g} s per offered rate "
        f"({', '.join(f'{r}/s' for r in rates)}), each request a new event id. Receipt → first notice: the time the "
        "server's notice channel was called for the alert's step 0 (after its transaction committed) minus the time the "
        "request was due to leave the gateway. Client threads, gunicorn and PostgreSQL share the 2 cores of this machine "
        "with other work (load average at start in the figures)."
    )
    per_alert = min(cpu_ms) if cpu_ms else 0
    appendix = (
        f"Server and database CPU per alert: **{per_alert:.1f} ms** (the lowest of the runs whose database CPU was measured whole). On this machine's 2 cores, "
        f"even with nothing else running, that caps ingest near {2000 / per_alert:.0f} alerts/s; 500 alerts/s needs about "
        f"{500 * per_alert / 1000:.1f} cores of application and database CPU (more gunicorn workers on more cores: the "
        "path holds no lock but the row it inserts). Latencies here are those of a machine already loaded by other work "
        "(load average in the figures): requests queue for a CPU before and inside the server."
        if per_alert
        else ""
    )
    return Result(timings=timings, figures=figures, method=method, appendix=appendix)
