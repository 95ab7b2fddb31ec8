"""Writing an import's checked rows, all in one transaction: new elders by COPY, changed ones
by bulk update, each with its contacts and one history record; a registration another
import made meanwhile is found, the transaction rolled back and the file run again."""

import collections

from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import access_log
from core.scoping import in_scope
from elders.importer.check import BadRow, column_for
from elders.importer.read import UnreadableFile
from elders.importer.report import reject
from elders.models import Elder, EmergencyContact
from elders.services import (
    BULK_CURRENT_FIELDS,
    ElderChange,
    NewElderRows,
    elder_bulk_changes,
    elder_bulk_create,
    elder_bulk_update,
)

CHUNK = 2000
CONCURRENT_RETRIES = 3


class ImportConflict(UnreadableFile):
    """Other imports kept registering the same people while this one ran."""


class RegisteredMeanwhile(Exception):
    """A concurrent import registered some of this import's new people first (or the two
    deadlocked); raised after this import's transaction was rolled back."""

    def __init__(self, hashes: set[str]):
        super().__init__(len(hashes))
        self.hashes = hashes


def write_checked(checked, report, *, ctx, by, note, now, total, progress, filename, acting_label, taken) -> None:
    dry_run, skip_invalid = report.dry_run, report.skip_invalid
    seen: dict[bytes, int] = {}
    id_column = column_for("id_number", ctx["headers_by_key"])
    region_name = ctx["resolver"].by_id
    created: list[str] = []  # the ID hashes this run registers, to find a concurrent import's
    done = 0
    # Checked rows are written as they come, inside one transaction, so the database works
    # while the next rows are checked; a bad row (unless skip_invalid) stops the writing and
    # rolls everything back at the end, after every row has been checked and reported.
    try:
        with transaction.atomic():
            for results in checked:
                goods = []
                for item in results:
                    report.total_rows += 1
                    if isinstance(item, BadRow):
                        reject(report, item.number, item.cells, item.problems)
                        continue
                    key = bytes.fromhex(item.id_hash[:16])
                    first = seen.get(key)
                    if first is not None:
                        reject(
                            report,
                            item.number,
                            item.cells,
                            [(id_column, _("与第%(r)d行是同一个身份证号，同一人只能出现一次") % {"r": first})],
                        )
                        continue
                    seen[key] = item.number
                    if item.id_hash in taken:
                        message = _(
                            "该身份证号已由同时进行的另一次导入登记，本行没有写入。"
                            "如需用本行更新这位老人的信息，请在那次导入完成后重新导入本行"
                        )
                        reject(report, item.number, item.cells, [(id_column, message)])
                        continue
                    goods.append(item)
                existing = _existing_by_hash([item.id_hash for item in goods])
                creates: list[NewElderRows] = []
                updates: list[ElderChange] = []
                for row in goods:
                    elder = existing.get(row.id_hash)
                    if elder is None:
                        report.created += 1
                        report.add_preview(row.number, "create", row.clean["name"], region_name[row.region_id].name)
                        creates.append(row.new_rows)
                        created.append(row.id_hash)
                    elif not in_scope(by, elder.region_path):
                        message = _("该身份证号已在其他辖区登记，如老人迁入本辖区，请联系原社区办理迁出")
                        reject(report, row.number, row.cells, [(id_column, message)])
                    else:
                        changes = elder_bulk_changes(elder, row.clean, row.region_id)
                        if not changes:
                            report.unchanged += 1
                            continue
                        report.updated += 1
                        report.add_preview(
                            row.number, "update", row.clean["name"], region_name[row.region_id].name, fields=sorted(changes)
                        )
                        updates.append(ElderChange(elder.pk, row.clean, row.region_id, changes))
                if (creates or updates) and not dry_run and (skip_invalid or not report.rejected):
                    try:
                        elder_bulk_create(by=by, rows=creates)
                        elder_bulk_update(by=by, rows=updates, action="import", note=note, now=now)
                    except Exception as exc:  # COPY raises the driver's own errors, not Django's
                        if not _is_registration_race(exc):
                            raise
                        raise _WriteRace from exc
                done += len(results)
                if progress:
                    progress(done, max(total, done), "validate")
            if dry_run or (report.rejected and not skip_invalid):
                raise _NothingWritten
            access_log(
                kind="import",
                model="elders.elder",
                by=by,
                region=by.region,
                detail={
                    "file": filename,
                    "created": report.created,
                    "updated": report.updated,
                    "rejected": report.rejected,
                    "via": acting_label,
                },
            )
    except _NothingWritten:
        pass
    except _WriteRace:
        # rolled back: find whom the other import registered meanwhile, and run again
        raise RegisteredMeanwhile(registered_now(created)) from None
    else:
        report.written = True


class _WriteRace(Exception):
    """Raised inside the import's transaction when a concurrent import won a row."""


class _NothingWritten(Exception):
    """Raised inside the import's transaction to roll it back (dry run, or bad rows)."""


def registered_by_hash(hashes: list[str], fields=(*BULK_CURRENT_FIELDS, "region__path")):
    """The registered elders with these ID hashes, as plain values. exclude(""), though no hash
    given is empty, repeats the partial unique index's condition, which PostgreSQL cannot prove
    from an IN list of more than 100 values: without it each chunk of 1,000 scanned the whole
    register (0.7 s at 2,000,000 elders)."""
    return Elder.objects.filter(id_number_hash__in=hashes).exclude(id_number_hash="").order_by().values(*fields)


def _existing_by_hash(hashes: list[str]) -> dict:
    """Registered elders by ID hash, as light records (plain values, the region's path and the
    contacts, primary first): a re-import of 100,000 people must not build 100,000 model instances."""
    from types import SimpleNamespace

    found = {}
    for i in range(0, len(hashes), CHUNK):
        chunk = hashes[i : i + CHUNK]
        rows = list(registered_by_hash(chunk))
        if not rows:
            continue
        contacts = collections.defaultdict(list)
        for elder_id, *contact in EmergencyContact.objects.filter(elder_id__in=[r["id"] for r in rows]).values_list(
            "elder_id", "name", "relation", "phone_masked", "is_primary"
        ):  # the model's order: primary first, then by id
            contacts[elder_id].append(tuple(contact))
        for row in rows:
            record = SimpleNamespace(**row)
            record.pk = row["id"]
            record.region_path = row["region__path"]
            record.contacts = contacts.get(row["id"], [])
            found[row["id_number_hash"]] = record
    return found


def _is_registration_race(exc: Exception) -> bool:
    """The unique ID index refused a row another transaction registered first, or two imports
    deadlocked on each other's new rows."""
    cause = exc.__cause__ or exc
    if getattr(cause, "sqlstate", "") == "40P01":  # PostgreSQL deadlock_detected
        return True
    diag = getattr(cause, "diag", None)
    if diag is not None:
        return getattr(diag, "constraint_name", "") == "elder_id_number_unique"
    return "id_number_hash" in str(cause)  # SQLite names the column


def registered_now(hashes: list[str]) -> set[str]:
    found = set()
    for i in range(0, len(hashes), CHUNK):
        found.update(row["id_number_hash"] for row in registered_by_hash(hashes[i : i + CHUNK], fields=("id_number_hash",)))
    return found
