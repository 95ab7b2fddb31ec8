"""What a benchmark gets: the settings of the run and helpers to load data and time requests."""

import dataclasses
import time
from pathlib import Path

from bench.registry import Timing


@dataclasses.dataclass
class Context:
    root: Path
    database_url: str
    requests: int  # timed requests per measured call (N)
    warmup: int  # untimed requests before them

    def seed_demo(self) -> None:
        """The demo data of `make run` (seed 000's 安泰社区 and its neighbour); idempotent."""
        import io

        from django.core.management import call_command

        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        print(f"  {out.getvalue().strip()}")

    def api_client(self, *, username: str, password: str):
        """A django.test.Client carrying a Bearer token from POST /api/auth/token.

        Requests say they came through the HTTPS proxy (X-Forwarded-Proto), as deployed.
        """
        from django.test import Client

        proxy = {"x-forwarded-proto": "https"}
        client = Client(headers=proxy)
        response = client.post("/api/auth/token", {"username": username, "password": password}, content_type="application/json")
        if response.status_code != 200:
            raise RuntimeError(f"POST /api/auth/token as {username}: {response.status_code} {response.content[:300]!r}")
        token = response.json()["token"]
        return Client(headers={**proxy, "authorization": f"Bearer {token}"})

    def time_get(self, client, *, name: str, paths: list[str], target_p95_ms: float | None = None) -> Timing:
        """GET the paths in turn: `warmup` untimed, then `requests` timed; every answer must be 200.

        The SQL query count is of one more request, untimed, between the two.
        """
        from django.db import connection

        def get(i):
            path = paths[i % len(paths)]
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"GET {path}: {response.status_code} {response.content[:300]!r}")
            return response

        for i in range(self.warmup):
            get(i)
        queries = 0

        def count(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            get(0)
        samples = []
        for i in range(self.requests):
            started = time.perf_counter()
            get(i)
            samples.append((time.perf_counter() - started) * 1000)
        return Timing(name=name, samples_ms=samples, target_p95_ms=target_p95_ms, queries=queries)

    def settle(self, *, max_load: float = 2.0) -> float:
        """Wait for the 1-minute load average to fall to `max_load` (the machine is shared),
        for at most BENCH_SETTLE seconds (default 180); return the load average the measurement
        then starts at, which the caller reports beside its figure."""
        import os

        patience = float(os.environ.get("BENCH_SETTLE", "180"))
        deadline = time.monotonic() + patience
        load = os.getloadavg()[0]
        if load > max_load:
            print(f"  load average {load:.2f} > {max_load:g}: waiting up to {patience:.0f} s for it to drop")
        while load > max_load and time.monotonic() < deadline:
            time.sleep(5)
            load = os.getloadavg()[0]
        return load
