"""/api/jobs: follow a background job; download its output."""

import datetime

from django.http import FileResponse, Http404
from ninja import Router, Schema

from jobs.selectors import job_get

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
    has_output: bool


@router.get("/{job_id}", response=JobOut)
def job_get_api(request, job_id: int):
    job = job_get(user=request.user, job_id=job_id)
    return {**{f: getattr(job, f) for f in JobOut.model_fields if hasattr(job, f)}, "has_output": bool(job.output_file)}


@router.get("/{job_id}/download", url_name="job_download")
def job_download_api(request, job_id: int):
    job = job_get(user=request.user, job_id=job_id)
    if not job.output_file:
        raise Http404
    return FileResponse(job.output_file.open("rb"), as_attachment=True, filename=job.output_name or "download.xlsx")
