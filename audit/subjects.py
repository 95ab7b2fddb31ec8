"""What an access-log row was about, in words: "老年人 王秀兰 的身份证号和电话".

The audit app names no other app: each app that writes access logs registers, for its model
label, the noun, how to read the names of the rows a user may see (through its own selector,
so a row outside the user's scope stays "#id"), where a row's page is, and how to say an
export's filters in words. Registered in the app's AppConfig.ready().
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Subject:
    noun: str
    names: Callable  # (user, ids) -> {id: name}, only rows the user may see
    url_name: str | None = None  # a page taking the row's id, e.g. "elders:detail"
    filters_text: Callable | None = None  # (filters dict as recorded) -> str
    field_labels: dict | None = None  # field code -> label


_SUBJECTS: dict[str, Subject] = {}


def register_subject(model: str, subject: Subject) -> None:
    _SUBJECTS[model] = subject


def subject_for(model: str) -> Subject | None:
    return _SUBJECTS.get(model)


def join_words(words: list[str]) -> str:
    """身份证号 / 身份证号和电话 / 身份证号、电话和联系人电话."""
    words = [str(w) for w in words]
    if len(words) <= 1:
        return "".join(words)
    return _("%(first)s和%(last)s") % {"first": "、".join(words[:-1]), "last": words[-1]}


def describe_logs(logs, *, user) -> None:
    """Set on each log `what` (its subject in words), `url` (the row's page, when the user
    may see it) and `filters_text` (an export's filters, as recorded: numbers starred)."""
    logs = list(logs)
    wanted: dict[str, set[int]] = {}
    for log in logs:
        ids = [log.object_id] if log.object_id else []
        wanted.setdefault(log.model, set()).update(ids)
    names = {}
    for model, ids in wanted.items():
        subject = subject_for(model)
        names[model] = subject.names(user, sorted(ids)) if subject and ids else {}
    for log in logs:
        subject = subject_for(log.model)
        noun = subject.noun if subject else log.model
        labels = (subject.field_labels or {}) if subject else {}
        fields = join_words([labels.get(f, f) for f in log.fields.split(",") if f])
        name = names.get(log.model, {}).get(log.object_id)
        log.url = None
        if log.object_id:
            who = f"{noun} {name}" if name else f"{noun} #{log.object_id}"
            if name and subject.url_name:
                from django.urls import reverse

                log.url = reverse(subject.url_name, args=[log.object_id])
            log.what = _("%(who)s 的%(fields)s") % {"who": who, "fields": fields} if fields else who
        else:
            log.what = _("%(noun)s名单") % {"noun": noun}
            if fields:
                log.what = _("%(what)s（含完整%(fields)s）") % {"what": log.what, "fields": fields}
        filters = (log.detail or {}).get("filters")
        log.filters_text = ""
        if isinstance(filters, dict) and subject and subject.filters_text:
            log.filters_text = subject.filters_text(filters)
