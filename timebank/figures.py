"""The figures' transfers at city scale (issue 13 §6; docs/timebank.md, "Figures").

Counting the transfers that touched a member of a street or a city over a year read every
movement of the period and joined it to its account, member and region (8.5 s for a city of
200,000 members, docs/performance.md). So the transfers are rolled up, set-based, into
`DayFigure` — per day (Asia/Shanghai), the community the transfer is counted in, bank, kind and
category — up to a watermark, and the figures add the transfers after it live (a few minutes'
worth). Exact at any moment: a transfer is in the rollup or after the watermark, never both.

- **Where a transfer counts**: in the community of the member of its first personal leg (the
  payer of a gift, the member credited by a deposit, the elder of a hold) — once, so a street's
  or the city's figures are the sum of their communities'. A transfer with no member's leg (an
  order's take: hold → issue) counts in no member figure; its legs still count in the ledger's sum.
- **Services** (deposits with minutes served) are counted on their own day; a reversal, whenever
  it comes, takes its service back out of that day.
- **Reversals** are not transactions; their legs are in the ledger's sum.
- **The watermark lags one run**: a run rolls the transfers up to the highest id the previous run
  saw (a transaction still open then has committed since), so a late commit with a lower id is
  never skipped. `timebank_figures` runs every 10 minutes (jobs/schedule.py).
"""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BigIntegerField, Count, Exists, F, Max, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncDate

from timebank.models import AccountKind, DayFigure, FigureWatermark, Movement, Transfer, TransferKind

# Deposits that carry minutes served (timebank.members.SERVED_KINDS, kept here to stay below it).
SERVED_KINDS = (TransferKind.SERVICE, TransferKind.DESK_DEPOSIT, TransferKind.IMPORT, TransferKind.GROUP)
KEYS = ("f_day", "f_region", "bank_id", "f_kind", "f_category")
VALUES = ("f_transfers", "f_services", "f_served", "f_sum")


def _tz():
    return ZoneInfo(settings.TIME_ZONE)


def _first_member_region(ref: str):
    legs = Movement.objects.filter(transfer=OuterRef(ref), account__kind=AccountKind.PERSONAL).order_by("id")
    return Subquery(legs.values("account__member__region_id")[:1])


def _grouped(transfers):
    """Two grouped querysets over `transfers`, each row KEYS + VALUES: the transfers themselves
    (counted where their first member lives, else the bank's region), and the reversals of
    services (minus the service, on the reversed transfer's day, kind and category)."""
    legs_sum = Movement.objects.filter(transfer=OuterRef("pk")).values("transfer").annotate(s=Sum("minutes")).values("s")
    personal = Exists(Movement.objects.filter(transfer=OuterRef("pk"), account__kind=AccountKind.PERSONAL))
    served = Q(f_personal=True, kind__in=SERVED_KINDS, served_minutes__isnull=False)
    own = (
        transfers.annotate(
            f_day=TruncDate("at", tzinfo=_tz()),
            f_region=Coalesce(_first_member_region("pk"), F("bank__region_id"), output_field=BigIntegerField()),
            f_kind=F("kind"),
            f_category=F("category"),
            f_personal=personal,
            f_legs=Subquery(legs_sum),
        )
        .values(*KEYS)
        .annotate(
            f_transfers=Count("id", filter=Q(f_personal=True) & ~Q(kind=TransferKind.REVERSAL)),
            f_services=Count("id", filter=served),
            f_served=Coalesce(Sum("served_minutes", filter=served), 0),
            f_sum=Coalesce(Sum("f_legs"), 0),
        )
        .order_by()
    )
    undone = (
        transfers.filter(kind=TransferKind.REVERSAL, reverses__kind__in=SERVED_KINDS, reverses__served_minutes__isnull=False)
        .annotate(
            f_day=TruncDate("reverses__at", tzinfo=_tz()),
            f_region=Coalesce(_first_member_region("reverses_id"), F("bank__region_id"), output_field=BigIntegerField()),
            f_kind=F("reverses__kind"),
            f_category=F("reverses__category"),
        )
        .values(*KEYS)
        .annotate(
            f_transfers=Value(0),
            f_services=-Count("id"),
            f_served=-Coalesce(Sum("reverses__served_minutes"), 0),
            f_sum=Value(0),
        )
        .order_by()
    )
    return own, undone


def _upsert(queryset) -> None:
    sql, params = queryset.query.sql_with_params()
    cols = ", ".join(f'g."{c}"' for c in (*KEYS, *VALUES))
    table = DayFigure._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table} (day, region_id, bank_id, kind, category, transfers, services, served_minutes, minutes_sum)
                SELECT {cols} FROM ({sql}) g WHERE true
                ON CONFLICT (day, region_id, bank_id, kind, category) DO UPDATE SET
                  transfers = {table}.transfers + excluded.transfers,
                  services = {table}.services + excluded.services,
                  served_minutes = {table}.served_minutes + excluded.served_minutes,
                  minutes_sum = {table}.minutes_sum + excluded.minutes_sum""",
            params,
        )


@transaction.atomic
def figures_rollup() -> int:
    """Roll the transfers up to the highest id the previous run saw into DayFigure (set-based, two
    INSERT … SELECT … ON CONFLICT); remember the highest id now. Answers how many ids were rolled."""
    mark = FigureWatermark.objects.select_for_update().order_by("id").first() or FigureWatermark.objects.create()
    low, high = mark.rolled_to, mark.seen_max
    if high > low:
        for grouped in _grouped(Transfer.objects.filter(pk__gt=low, pk__lte=high)):
            _upsert(grouped)
        mark.rolled_to = high
    mark.seen_max = max(Transfer.objects.aggregate(m=Max("id"))["m"] or 0, mark.rolled_to)
    mark.save(update_fields=["rolled_to", "seen_max"])
    return high - low if high > low else 0


def rolled_to() -> int:
    mark = FigureWatermark.objects.order_by("id").first()
    return mark.rolled_to if mark else 0


def transfer_rows(*, region, start=None, end=None) -> list[dict]:
    """Per kind and category: transactions (`n`), services and minutes served of the transfers
    counted in `region`'s subtree in [start, end): the rollup's days plus the transfers after
    its watermark, live."""
    from django.utils import timezone

    from regions.models import Region

    mark = rolled_to()
    rolled = DayFigure.objects.filter(region__path__startswith=region.path)
    live_own, live_undone = _grouped(Transfer.objects.filter(pk__gt=mark))
    regions = Region.objects.filter(path__startswith=region.path).values("pk")
    live = [q.filter(f_region__in=regions) for q in (live_own, live_undone)]
    if start is not None:
        day = timezone.localdate(start)
        rolled = rolled.filter(day__gte=day)
        live = [q.filter(f_day__gte=day) for q in live]
    if end is not None:
        day = timezone.localdate(end)
        rolled = rolled.filter(day__lt=day)
        live = [q.filter(f_day__lt=day) for q in live]
    totals: dict[tuple, dict] = {}

    def add(kind, category, n, services, minutes):
        row = totals.setdefault((kind, category), {"kind": kind, "category": category, "n": 0, "services": 0, "minutes": 0})
        row["n"] += int(n or 0)
        row["services"] += int(services or 0)
        row["minutes"] += int(minutes or 0)

    for r in (
        rolled.values("kind", "category").annotate(n=Sum("transfers"), s=Sum("services"), m=Sum("served_minutes")).order_by()
    ):
        add(r["kind"], r["category"], r["n"], r["s"], r["m"])
    for q in live:
        for r in q:
            add(r["f_kind"], r["f_category"], r["f_transfers"], r["f_services"], r["f_served"])
    return [r for r in totals.values() if r["n"] or r["services"] or r["minutes"]]


def ledger_sum(*, banks) -> int:
    """The sum of every leg of `banks`' transfers: the rollup's sums plus the legs after its watermark (0 when whole)."""
    mark = rolled_to()
    rolled = DayFigure.objects.filter(bank__in=banks).aggregate(s=Sum("minutes_sum"))["s"] or 0
    live = Movement.objects.filter(transfer__pk__gt=mark, transfer__bank__in=banks).aggregate(s=Sum("minutes"))["s"] or 0
    return int(rolled) + int(live)
