"""Providers through the API on the demo data, as 康乃馨家政's provider user (no region: the
organisation axis) and as 安泰社区's worker (the region axis)."""

from bench.context import Context
from bench.registry import Result, benchmark

TARGET_P95_MS = 150  # API list and detail: p95 under 150 ms, as the elders'
PASSWORD = "demo12345"

ROUTES = [  # (user, path, what)
    ("provider", "/api/providers/staff", "staff list, organisation axis"),
    ("provider", "/api/providers/staff?page=2", "staff list page 2, organisation axis"),
    ("provider", "/api/providers/certificates/expiring", "certificates expiring in 60 days"),
    ("community", "/api/providers/staff?kind=aide", "staff list, region axis"),
    ("community", "/api/providers/volunteers", "volunteer list"),
    ("community", "/api/providers/organisations", "organisation list"),
]


@benchmark(key="api_providers", title="API: providers' lists on the demo data")
def run(ctx: Context) -> Result:
    ctx.seed_demo()
    clients = {u: ctx.api_client(username=u, password=PASSWORD) for u in ("provider", "community")}
    timings = []
    for user, path, what in ROUTES:
        body = clients[user].get(path).json()
        timing = ctx.time_get(clients[user], name=f"`GET {path}` ({user})", paths=[path], target_p95_ms=TARGET_P95_MS)
        timing.note = f"{what}: {body['count']} match, {len(body['items'])} returned"
        timings.append(timing)
    ids = [c["id"] for c in clients["provider"].get("/api/providers/staff?page_size=40").json()["items"]]
    detail = ctx.time_get(
        clients["provider"],
        name="`GET /api/providers/staff/{id}` (provider)",
        paths=[f"/api/providers/staff/{i}" for i in ids],
        target_p95_ms=TARGET_P95_MS,
    )
    detail.note = f"detail, cycling through {len(ids)} staff"
    timings.append(detail)
    return Result(
        timings=timings,
        method=f"""
Data: `seed_demo` (康乃馨家政: 30 保姆 and 10 护工, the station's 13 助老服务员, 驻春路社区's day-care
centre, three teams and 34 volunteers). Users `provider` (康乃馨家政, no region: every list is
restricted by the organisation axis) and `community` (安泰社区's worker: the region axis), with
Bearer tokens. In-process through `django.test.Client`, `DEBUG=false`, PostgreSQL on the same
machine; {ctx.warmup} untimed warm-up calls, then N={ctx.requests} timed ones per route.
""",
    )
