"""Generate a synthetic city at the scale of SPEC §3 under 示范省: regions and N elders.

    python manage.py generate_city --elders 2000000 [--communities 2000] [--city-name 演示市] [--seed 1]

Regions go in with bulk_create (one level at a time) and one bulk_update of their paths; elders
with COPY on PostgreSQL (bulk_create on SQLite), in one transaction: a failed run leaves
nothing behind. Rows are built and encrypted in up to --workers processes. Generated rows get
no history of their own; one ChangeRecord on the city records the generation. See
docs/generate_city.md.

Not through elders.services.elder_bulk_create, on purpose: that service writes one history
record (and the contacts) per elder, 2,000,000 more rows here, and takes row tuples where the
workers here hand over ready COPY text. The numbers, hashes, masks and search keys still come
from the services' setters (devdata.synthetic.build_job); measured per process, building rows
with elder_bulk_create's ElderRowBuilder was 13,000–19,000 rows/s against build_job's
19,000–24,000 (20,000 rows, a loaded 2-core machine), before its second COPY.
"""

import multiprocessing
import random
import time
from collections import deque

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections, transaction
from django.utils import timezone

from audit.models import ChangeRecord
from devdata import synthetic
from devdata.synthetic_merchants import city_merchants
from elders.models import Elder
from regions.models import Level, Region
from regions.services import region_create

PROVINCE_NAME = "示范省"
PROVINCE_CODE = "990000000000"  # as seed_demo creates it
JOB_SIZE = 20_000  # elders per unit of work handed to a worker
POOL_FROM = 50_000  # below this many elders, worker processes cost more than they save


class Command(BaseCommand):
    help = "Generate a synthetic city (districts, streets, communities, grids) with N elders under 示范省."

    def add_arguments(self, parser):
        parser.add_argument("--elders", type=int, default=None, help="how many elders (e.g. 2000000); required")
        parser.add_argument("--communities", type=int, default=2000, help="how many communities (default 2000)")
        parser.add_argument("--city-name", default="演示市", help="name of the new city (default 演示市)")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument("--workers", type=int, default=2, help="processes building rows (default 2, at most 2)")
        parser.add_argument(
            "--merchants", type=int, default=None, help="partner merchants across the city (default 10 per community)"
        )
        parser.add_argument(
            "--caregivers",
            type=int,
            default=None,
            help="provider staff (default one per 400 elders: 5,000 for 2,000,000; 0 for none)",
        )
        parser.add_argument(
            "--orders", type=int, default=0, help="service orders over the city's elders and caregivers (e.g. 1000000)"
        )
        parser.add_argument(
            "--order-days", type=int, default=60, help="the orders' windows: the last D days and the next 7 (default 60)"
        )
        parser.add_argument(
            "--orders-only",
            action="store_true",
            help="add --orders to the existing city --city-name (its elders and caregivers), and nothing else",
        )

    def handle(self, *args, elders, communities, city_name, seed, workers, merchants=None, caregivers=None, **options):
        city_name = city_name.strip()
        orders, order_days = options.get("orders") or 0, options.get("order_days") or 60
        if orders < 0 or order_days < 1:
            raise CommandError("--orders must be 0 or more, --order-days at least 1")
        if options.get("orders_only"):
            return self._orders_only(city_name=city_name, orders=orders, days=order_days, seed=seed)
        if elders is None:
            raise CommandError("--elders is required (or --orders-only with --orders)")
        if elders < 0:
            raise CommandError("--elders must be 0 or more")
        if communities < 1:
            raise CommandError("--communities must be at least 1")
        if not city_name or len(city_name) > 64:
            raise CommandError("--city-name must be 1 to 64 characters")
        self.started = time.monotonic()
        pool = None
        if workers > 1 and elders >= POOL_FROM:
            # Fork before any database connection is open, so no worker inherits one.
            connections.close_all()
            pool = multiprocessing.get_context("fork").Pool(min(workers, 2))
        try:
            with transaction.atomic():
                city, plan = self._regions(city_name=city_name, communities=communities, seed=seed)
                written = self._elders(city=city, plan=plan, total=elders, seed=f"{seed}|{city_name}", pool=pool)
                shops = city_merchants(
                    plan, total=communities * 10 if merchants is None else max(0, merchants), seed=f"{seed}|{city_name}"
                )
                self._say(f"merchants: {shops:,}")
                staff = self._providers(city=city, caregivers=elders // 400 if caregivers is None else caregivers, seed=seed)
                ordered = self._orders(city=city, total=orders, days=order_days, seed=seed)
                changes = {"elders": [None, written]}
                if orders:
                    changes["orders"] = [None, ordered]
                ChangeRecord.objects.create(
                    model="regions.region",
                    object_id=city.pk,
                    action="generate",
                    changes=changes,
                    note=f"generate_city --elders {elders} --communities {communities} --seed {seed}"
                    + (f" --orders {orders} --order-days {order_days}" if orders else ""),
                    region=city,
                )
        finally:
            if pool is not None:
                # Every result has been read on success; on a failure, nothing left is wanted.
                pool.terminate()
                pool.join()
        if connection.vendor == "postgresql":
            # Statistics for the planner, and the visibility map and GIN pending lists settled, so
            # the first queries on the new rows run as they will later (outside the transaction).
            # Inside a caller's transaction (tests) VACUUM cannot run; ANALYZE can.
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
            self._say(f"{command} …")
            with connection.cursor() as cursor:
                cursor.execute(f"{command} {Elder._meta.db_table}")
                cursor.execute(f"{command} {Region._meta.db_table}")
            if orders:
                self._analyze_orders()
        self._say(f"done: {city.name} (region {city.pk}, code {city.code}), {written:,} elders, {staff:,} caregivers")

    # --- orders --------------------------------------------------------------------------

    def _orders(self, *, city: Region, total: int, days: int, seed) -> int:
        """Service orders over the city's elders and caregivers (devdata/city_orders.py)."""
        from devdata.city_orders import generate_orders

        if total <= 0:
            return 0
        try:
            counts = generate_orders(city=city, total=total, seed=f"{seed}|{city.name}", days=days, say=self._say)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        return sum(counts.values())

    def _orders_only(self, *, city_name: str, orders: int, days: int, seed) -> None:
        if orders <= 0:
            raise CommandError("--orders-only needs --orders N (N at least 1)")
        self.started = time.monotonic()
        with transaction.atomic():
            city = Region.objects.filter(name=city_name, level=Level.CITY, parent__name=PROVINCE_NAME).first()
            if city is None:
                raise CommandError(f"{PROVINCE_NAME}下没有“{city_name}”,请先生成这个市或用 --city-name 指定已生成的市")
            written = self._orders(city=city, total=orders, days=days, seed=seed)
            ChangeRecord.objects.create(
                model="regions.region",
                object_id=city.pk,
                action="generate",
                changes={"orders": [None, written]},
                note=f"generate_city --orders-only --orders {orders} --order-days {days} --seed {seed}",
                region=city,
            )
        self._analyze_orders()
        self._say(f"done: {city.name}: {written:,} orders")

    def _analyze_orders(self) -> None:
        """The planner's statistics for the new orders (outside the transaction: VACUUM too)."""
        from devdata.city_orders import TABLES

        if connection.vendor != "postgresql":
            return
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        self._say(f"{command} orders …")
        with connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"{command} {table}")

    def _providers(self, *, city: Region, caregivers: int, seed) -> int:
        """Organisations and their staff over the city's communities (devdata/city_providers.py)."""
        from devdata.city_providers import generate_providers

        if caregivers <= 0:
            return 0
        communities = list(Region.objects.filter(path__startswith=city.path, level=Level.COMMUNITY).only("pk", "name"))
        made = generate_providers(communities=communities, caregivers=caregivers, seed=f"{seed}|{city.name}")
        self._say(f"providers: {made['organisations']:,} organisations, {made['caregivers']:,} caregivers")
        return made["caregivers"]

    def _say(self, text: str) -> None:
        self.stdout.write(f"[{time.monotonic() - self.started:7.1f}s] {text}")
        self.stdout.flush()

    # --- regions -------------------------------------------------------------------------

    def _province(self) -> Region:
        root = Region.objects.filter(name="全国", parent=None).first()
        if root is None:
            root = region_create(name="全国", level=Level.COUNTRY, parent=None)
        province = Region.objects.filter(name=PROVINCE_NAME, parent=root).first()
        if province is None:
            province = region_create(name=PROVINCE_NAME, level=Level.PROVINCE, parent=root, code=PROVINCE_CODE)
        # Two runs at once would pick the same city code; the lock makes the second one wait.
        return Region.objects.select_for_update().get(pk=province.pk)

    def _city_part(self, province: Region) -> int:
        """Digits 3–4 of the new city's code: one more than any city of the province has."""
        head = province.code[:2] or "99"
        taken = {
            int(code[2:4])
            for code in Region.objects.filter(parent=province).values_list("code", flat=True)
            if len(code) == 12 and code.startswith(head) and code[2:4].isdigit()
        }
        free = [n for n in range(max(taken | {1}) + 1, 100)] or [n for n in range(2, 100) if n not in taken]
        if not free:
            raise CommandError(f"{province.name}已有99个市级区划代码,无法再生成新的市")
        return free[0]

    def _regions(self, *, city_name: str, communities: int, seed: int):
        province = self._province()
        if Region.objects.filter(parent=province, name=city_name).exists():
            raise CommandError(f"{province.name}下已有“{city_name}”,请用 --city-name 换一个名称")
        city_part = self._city_part(province)
        head = province.code[:2] or "99"
        city = Region(name=city_name, level=Level.CITY, parent=province, code=f"{head}{city_part:02d}00000000")
        city.save()
        plan = synthetic.city_plan(rng=random.Random(f"{seed}|{city_name}|regions"), communities=communities)
        synthetic.city_points(plan, random.Random(f"{seed}|{city_name}|points"))

        districts = [
            Region(name=d.name, level=Level.DISTRICT, parent=city, code=f"{city.code[:4]}{d.code_part:02d}000000") for d in plan
        ]
        Region.objects.bulk_create(districts)
        streets, street_plans = [], []
        for district, d in zip(districts, plan, strict=True):
            for s in d.streets:
                streets.append(
                    Region(name=s.name, level=Level.STREET, parent=district, code=f"{district.code[:6]}{s.code_part:03d}000")
                )
                street_plans.append(s)
        Region.objects.bulk_create(streets)
        comms, comm_plans = [], []
        for street, s in zip(streets, street_plans, strict=True):
            for c in s.communities:
                comms.append(
                    Region(name=c.name, level=Level.COMMUNITY, parent=street, code=f"{street.code[:9]}{c.code_part:03d}")
                )
                comm_plans.append(c)
        Region.objects.bulk_create(comms)
        grids = []
        for community, c in zip(comms, comm_plans, strict=True):
            grids.extend(
                Region(name=synthetic.grid_name(c.name, n), level=Level.GRID, parent=community) for n in range(1, c.grids + 1)
            )
        Region.objects.bulk_create(grids)

        # Paths need every node's id, known only now; parents come before children in this list.
        nodes = [city, *districts, *streets, *comms, *grids]
        paths = {province.pk: province.path}
        for node in nodes:
            node.path = f"{paths[node.parent_id]}{node.pk}/"
            paths[node.pk] = node.path
        Region.objects.bulk_update(nodes, ["path"], batch_size=1000)

        at = 0
        for community, c in zip(comms, comm_plans, strict=True):
            c.region_id = community.pk
            c.grid_ids = [g.pk for g in grids[at : at + c.grids]]
            at += c.grids
        self._say(
            f"regions: {city.name} {city.code}: {len(districts)} districts, {len(streets)} streets, "
            f"{len(comms)} communities, {len(grids)} grids"
        )
        return city, plan

    # --- elders --------------------------------------------------------------------------

    def _jobs(self, *, city: Region, plan, total: int, seed: str):
        """Units of work in grid order; the ID skeletons are drawn here, in one sequence."""
        rng = random.Random(f"{seed}|elders")
        city_part = int(city.code[2:4])
        serials = synthetic.IdSerials(
            prefix=synthetic.id_prefix(city_part), home_parts=[d.code_part for d in plan], rng=random.Random(f"{seed}|serials")
        )
        landline = synthetic.LANDLINE_AREAS[city_part % len(synthetic.LANDLINE_AREAS)]
        today = timezone.localdate().toordinal()
        now_text = timezone.now().isoformat()
        _, tail = synthetic.other_columns()
        cells = []  # (district index, is_county, community plan, grid id, weight)
        for d_index, d in enumerate(plan):
            for s in d.streets:
                for c in s.communities:
                    for grid_id in c.grid_ids:
                        cells.append((d_index, d.is_county, c, grid_id, c.weight * rng.uniform(0.7, 1.3) / c.grids))
        counts = synthetic.allocate(total=total, weights=[cell[4] for cell in cells])

        def new_job(index):
            return synthetic.Job(index, seed, today, now_text, landline, [], [], [], [], [], [], tail)

        job = new_job(0)
        size = 0
        for (d_index, is_county, c, grid_id, _), count in zip(cells, counts, strict=True):
            if not count:
                continue
            parts = synthetic.skeletons(
                rng=rng, serials=serials, today_ordinal=today, count=count, home_area=d_index, n_home_areas=len(plan)
            )
            centre = synthetic.grid_centre(c.centre, c.grid_ids.index(grid_id), c.grids)
            job.grids.append((grid_id, count, c.is_village, c.places, is_county, centre))
            for target, values in zip((job.bands, job.males, job.births, job.areas, job.sequences), parts, strict=True):
                target.extend(values)
            size += count
            if size >= JOB_SIZE:
                yield job, size
                job, size = new_job(job.index + 1), 0
        if size:
            yield job, size

    def _blocks(self, jobs, pool):
        """(rows, count) per job, in job order; at most two jobs per worker in flight."""
        if pool is None:
            for job, size in jobs:
                yield synthetic.build_job(job), size
            return
        pending = deque()
        for job, size in jobs:
            pending.append((pool.apply_async(synthetic.build_job, (job,)), size))
            if len(pending) >= 4:
                result, n = pending.popleft()
                yield result.get(), n
        while pending:
            result, n = pending.popleft()
            yield result.get(), n

    def _elders(self, *, city: Region, plan, total: int, seed: str, pool) -> int:
        blocks = self._blocks(self._jobs(city=city, plan=plan, total=total, seed=seed), pool)
        written = 0
        step = max(total // 20, 1)
        next_report = step

        def progress(n):
            nonlocal written, next_report
            written += n
            if written >= next_report or written == total:
                elapsed = time.monotonic() - self.started
                self._say(f"elders: {written:,} / {total:,} ({written * 100 // max(total, 1)}%), {written / elapsed:,.0f}/s")
                next_report = (written // step + 1) * step

        columns = synthetic.COLUMNS + synthetic.other_columns()[0]
        if connection.vendor == "postgresql":
            sql = f"COPY {Elder._meta.db_table} ({', '.join(columns)}) FROM STDIN"
            with connection.cursor() as cursor:
                # Session settings only: GIN (trigram) indexes merge their pending entries in
                # bigger, fewer batches.
                cursor.execute("SET LOCAL gin_pending_list_limit = '64MB'")
                cursor.execute("SET LOCAL work_mem = '64MB'")
            with connection.cursor() as cursor, cursor.copy(sql) as copy:
                for data, n in blocks:
                    copy.write(data)
                    progress(n)
        else:
            by_attname = {f.attname: f for f in Elder._meta.concrete_fields}
            fields = [by_attname[name] for name in columns]
            for data, n in blocks:
                rows = []
                for line in data.decode().split("\n")[:-1]:
                    elder = Elder()
                    for f, value in zip(fields, line.split("\t"), strict=True):
                        setattr(elder, f.attname, None if value == "\\N" else f.to_python(value))
                    rows.append(elder)
                Elder.objects.bulk_create(rows, batch_size=500)
                progress(n)
        return written
