"""/api/jobs: follow a background job; download its output."""

import datetime

from django.http import FileResponse, Http404
from django.urls import reverse
from ninja import Router, Schema, Status

from core.schemas import ErrorOut
from jobs.selectors import job_get
from jobs.services import job_can_rerun, job_rerun

router = Router(tags=["jobs"])


class JobOut(Schema):
    id: int
    kind: str
    status: str
    phase: str
    progress_done: int
    progress_total: int
    percent: int
    result: dict
    error: str
    created_at: datetime.datetime
    finished_at: datetime.datetime | None
    heartbeat_at: datetime.datetime | None
    has_output: bool
    can_rerun: bool


class JobStartedOut(Schema):
    """A job was started: follow it at `url` (GET /api/jobs/{job_id})."""

    job_id: int
    status: str
    url: str
    page_url: str


def job_started(request, job) -> dict:
    """The 202 answer for a job just started (shared by the routes that start jobs)."""
    return {
        "job_id": job.pk,
        "status": job.status,
        "url": request.build_absolute_uri(reverse("api:job_get_api", args=[job.pk])),
        "page_url": request.build_absolute_uri(reverse("jobs:detail", args=[job.pk])),
    }


@router.get("/{job_id}", response={200: JobOut, 403: ErrorOut, 404: ErrorOut}, url_name="job_get_api")
def job_get_api(request, job_id: int):
    """A job's status, progress and result; a running job whose worker died is reported failed."""
    job = job_get(user=request.user, job_id=job_id)
    return {
        **{f: getattr(job, f) for f in JobOut.model_fields if hasattr(job, f)},
        "has_output": bool(job.output_file),
        "can_rerun": job_can_rerun(job),
    }


@router.post("/{job_id}/rerun", response={202: JobStartedOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
def job_rerun_api(request, job_id: int):
    """Run a failed job again on the same uploaded file: 202 with the new job; 422 when the job
    has not failed or its file is gone (upload it again)."""
    job = job_get(user=request.user, job_id=job_id)
    again = job_rerun(job=job, by=request.user)
    return Status(202, job_started(request, again))


@router.get("/{job_id}/download", response={200: None, 403: ErrorOut, 404: ErrorOut}, url_name="job_download")
def job_download_api(request, job_id: int):
    job = job_get(user=request.user, job_id=job_id)
    if not job.output_file:
        raise Http404
    return FileResponse(job.output_file.open("rb"), as_attachment=True, filename=job.output_name or "download.xlsx")
