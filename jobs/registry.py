"""The kinds of background job, registered by the apps that own them (jobs names no app).

An app registers each kind once, in its AppConfig.ready:

    register_job_kind(
        "order_import",
        label=_("订单导入"),
        task="orders.tasks.order_import_task",  # what runs it (and re-runs it): task(job_id)
        template="orders/jobs/order_import.html",  # partials: subtitle, result, summary
        back_url="orders:import", back_label=_("Excel 导入"),
        can_rerun=True,
        phases={"validate": _("正在校验")},
        stale_message=_("导入进程意外中止，文件未写入任何数据，请重新运行"),
    )

The job pages include the kind's template partials, all three (maybe empty): "#subtitle" under
the title, "#result" once the job succeeded, "#summary" in the list (a job with a result); a
kind without a template shows the status and the error only. A job whose result holds
`"full_numbers": true` (or whose
params hold `"reveal": true`) keeps its files only FULL_NUMBER_EXPORT_RETENTION_HOURS.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class JobKind:
    code: str  # stored in Job.kind (at most 20 characters)
    label: str
    task: str  # dotted path of the django-tasks task that runs a job of this kind: task(job_id)
    template: str = ""
    back_url: str = ""  # a URL name without arguments: where the job page's backlink leads
    back_label: str = ""
    can_rerun: bool = False  # a failed job may run again on the same uploaded file
    stale_message: str = ""  # the error of a job whose worker died (jobs.services.job_expire_stale)
    # the phases its work reports through jobs.services.job_progress, in words for the page
    phases: dict = field(default_factory=dict)

    def partial(self, name: str) -> str:
        return f"{self.template}#{name}" if self.template else ""


_KINDS: dict[str, JobKind] = {}


def register_job_kind(code: str, **fields) -> JobKind:
    """Make `code` a kind of job; called from the owning app's AppConfig.ready."""
    if len(code) > 20:
        raise ValueError(f"job kind {code!r}: at most 20 characters (Job.kind)")
    if code in _KINDS:
        raise ValueError(f"job kind {code!r} is registered twice")
    _KINDS[code] = kind = JobKind(code=code, **fields)
    return kind


def job_kind(code: str) -> JobKind:
    """The registered kind `code`; a kind no app registers any more still has a page."""
    return _KINDS.get(code) or JobKind(code=code, label=_("后台任务"), task="")


def job_kinds() -> list[JobKind]:
    return list(_KINDS.values())
