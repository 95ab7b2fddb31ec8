"""Entry points for the task layer (django-tasks); each calls a service through jobs.job_run."""

from django_tasks import task

from jobs.services import job_progress, job_run


def _coverage_work(job):
    from merchants.selectors import coverage_for, coverage_regions

    region = coverage_regions(user=job.by).get(pk=job.params["region"])  # still in scope when it runs
    report = job_progress(job.pk)
    result = coverage_for(user=job.by, region=region, max_elders=None, progress=lambda done, total: report(done, total, "count"))
    return {
        "region": region.name,
        "region_id": region.pk,
        "elders": result.elders,
        "located": result.located,
        "unlocated": result.unlocated_count,
        "uncovered": result.uncovered_count,
        "minutes": result.minutes,
        "radius_m": round(result.radius_m),
        "kinds": [
            {"label": k.label, "covered": k.covered, "pct": round(k.share * 100), "merchants": k.merchants, "low": k.low}
            for k in result.kinds
        ],
    }


def _import_work(job):
    from merchants.excel import import_job_work

    return import_job_work(job)


@task()
def merchant_import_task(job_id: int) -> None:
    job_run(job_id, _import_work)


@task()
def coverage_task(job_id: int) -> None:
    job_run(job_id, _coverage_work)
