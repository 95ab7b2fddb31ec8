"""The elder register through the API on the demo data: list (four ways) and detail."""

from urllib.parse import quote

from bench.context import Context
from bench.registry import Result, benchmark

TARGET_P95_MS = 150  # API list and detail: p95 under 150 ms
USERNAME, PASSWORD = "community", "demo12345"  # seed_demo's worker of 安泰社区

LISTS = [  # (what it is, query string as a person writes it)
    ("list, first page", ""),
    ("list, page 20", "page=20"),
    ("search by name", "q=冷"),
    ("two categories (AND)", "category=lives_alone&category=very_old"),
]


def _path(query: str) -> str:
    """The request path, percent-encoding the query string's values."""
    return "/api/elders" + (f"?{quote(query, safe='=&')}" if query else "")


@benchmark(key="api_elders", title="API: elder list and detail on the demo data")
def run(ctx: Context) -> Result:
    ctx.seed_demo()
    client = ctx.api_client(username=USERNAME, password=PASSWORD)

    timings = []
    for what, query in LISTS:
        path = _path(query)
        body = client.get(path).json()
        shown = "/api/elders" + (f"?{query}" if query else "")
        timing = ctx.time_get(client, name=f"`GET {shown}`", paths=[path], target_p95_ms=TARGET_P95_MS)
        timing.note = f"{what}: {body['count']} match, {len(body['items'])} returned"
        timings.append(timing)

    # Detail: cycle through the first 100 elders of the list, so no one row stays hot.
    ids = [e["id"] for page in (1, 2, 3, 4, 5) for e in client.get(_path(f"page={page}")).json()["items"]]
    detail = ctx.time_get(
        client,
        name="`GET /api/elders/{id}`",
        paths=[f"/api/elders/{i}" for i in ids],
        target_p95_ms=TARGET_P95_MS,
    )
    detail.note = f"detail, cycling through {len(ids)} elders"
    timings.append(detail)

    return Result(
        timings=timings,
        method=f"""
Data: `seed_demo` (安泰社区 of seed 000: 1,097 elders, 1,080 in residence; 驻春路社区 of seed 004:
340), the data `make run` shows. User `{USERNAME}` (安泰社区's worker, so every list is restricted
to that community) with a Bearer token from `POST /api/auth/token`.

Method: in-process, through `django.test.Client` (no HTTP server, so network and WSGI-server
time are not included), with production settings (`DEBUG=false`), PostgreSQL on the same
machine, one client at a time. Each request: {ctx.warmup} untimed warm-up calls, then
N={ctx.requests} timed ones; the SQL query count is of one request.
""",
    )
