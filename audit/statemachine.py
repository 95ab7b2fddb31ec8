"""One transition table per state machine (STYLE: state machines), and the one way to move.

    ORDER_STATUS = StateMachine(
        transitions={(Status.CREATED, "dispatch"): Status.DISPATCHED, ...},  # (from, action) -> to
        field="status",
        actions={"dispatch": _("派单")},
    )
    ORDER_STATUS.move(order, "dispatch", by=user, reason="…", at=today)

`move` refuses a move the table does not hold (a ValidationError on "action" naming the
field and the current state), sets the field, saves, and writes one change record (actor,
time, reason, before and after) through audit.services.change_record, in the caller's
transaction. Nothing else assigns the field.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class StateMachine:
    def __init__(self, *, transitions: dict, field: str = "status", actions: dict | None = None, record_action: str = "status"):
        self.transitions = dict(transitions)
        self.field = field
        self.actions = actions or {}  # action -> its label, for messages and pages
        self.record_action = record_action  # ChangeRecord.action of a move

    def target(self, state, action: str):
        """The state `action` leads to from `state`, or None when the table has no such move."""
        return self.transitions.get((state, action))

    def actions_from(self, state) -> list[str]:
        """The actions the table allows from `state`, in the table's order."""
        return [a for (s, a) in self.transitions if s == state]

    def check(self, obj, action: str):
        """The state `obj` would move to by `action`; refuses a move the table does not hold."""
        state = getattr(obj, self.field)
        to = self.target(state, action)
        if to is None:
            field = obj._meta.get_field(self.field)
            shown = dict(field.choices or ()).get(state, state)
            raise ValidationError(
                {
                    "action": _("%(field)s当前为“%(state)s”，不能%(action)s，请刷新页面后重新选择")
                    % {"field": field.verbose_name, "state": shown, "action": self.actions.get(action, _("执行此操作"))}
                }
            )
        return to

    def move(
        self, obj, action: str, *, by, reason: str = "", at=None, changes: dict | None = None, update_fields=(), region=None
    ):
        """Move `obj` by `action`: check it, set and save the field (and `update_fields`), and
        write one change record: `changes` (say a region) beside the field's before and after,
        `at` (when it took effect) and `reason` as its note. Returns the record."""
        from audit.services import change_record

        before = getattr(obj, self.field)
        to = self.check(obj, action)
        setattr(obj, self.field, to)
        obj.save(update_fields=[self.field, *update_fields])
        return change_record(
            obj=obj,
            action=self.record_action,
            changes={self.field: [before, to], **(changes or {})},
            by=by,
            region=region if region is not None else getattr(obj, "region", None),
            note=" ".join(str(part) for part in (at, (reason or "").strip()) if part),
        )

    def sources(self, action: str) -> list:
        """The states from which the table allows `action`."""
        return [state for (state, a) in self.transitions if a == action]

    def move_many(
        self, queryset, action: str, *, by, reason: str = "", update: dict | None = None, region: str = "region_id"
    ) -> int:
        """Move every row of `queryset` that the table lets `action` move, set-based: per target
        state, one change record per row written by one INSERT … SELECT
        (audit.services.change_records_from_queryset: before, after, actor, reason) and one UPDATE limited
        to the legal source states (plus the columns in `update`). Rows in other states are left
        as they are. On PostgreSQL the rows are locked first, so the history's "before" is the
        state the UPDATE moves from. Returns the number of rows moved."""
        from django.db import connections, router
        from django.db.models import F

        from audit.services import change_records_from_queryset

        targets: dict = {}
        for (state, a), to in self.transitions.items():
            if a == action:
                targets.setdefault(to, []).append(state)
        if not targets:
            raise ValueError(f"no move {action!r} in the table")
        connection = connections[router.db_for_write(queryset.model)]
        moved = 0
        for to, sources in targets.items():
            rows = queryset.filter(**{f"{self.field}__in": sources}).order_by()
            if connection.vendor == "postgresql":
                sql, params = rows.select_for_update(of=("self",)).values("pk").query.sql_with_params()
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT count(*) FROM ({sql}) locked", params)
            change_records_from_queryset(
                queryset=rows,
                action=self.record_action,
                changes={self.field: [F(self.field), str(to)]},
                by=by,
                note=reason,
                region=region,
            )
            moved += rows.update(**{self.field: to, **(update or {})})
        return moved
