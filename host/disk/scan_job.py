"""The scan as a job of kind "scan" on the job runner (host.jobs): queue it, run it, follow it.

`start_scan` (the `scan` op) queues one scan per catalog folder and `cancel_scan` (`cancel
{kind: "scan"}`) stops it; the worker calls `run`, which runs host.disk.scan.run_scan and
reports its progress (phase, files and bytes done / total) into the job, where `jobs` shows
it; its summary lands in the job's `result`.
"""

from __future__ import annotations

import os
from typing import Any

from host.jobs.control import JobCanceled, JobControl, JobFailed

KIND = "scan"
KEY = "scan"  # one scan per catalog folder at a time


def start_scan(catalog_dir: str) -> dict[str, Any]:
    """Queue a scan: {"status": "queued" | "already_queued", "job"}."""
    from host.jobs.paths import public_job
    from host.jobs.state import new_job, submit

    job = new_job(KIND, KEY, {"phase": "queued", "files": 0, "files_total": None}, {})
    queued, job = submit(catalog_dir, job)
    return {"status": "queued" if queued else "already_queued", "job": public_job(job)}


def cancel_scan(catalog_dir: str) -> dict[str, Any]:
    """Cancel the queued or running scan: {"status": "canceled"}, or NotFoundError. The worker
    tells the scan's thread, which stops at its next chunk and saves the hash cache first, so
    the next scan hashes only what this one had not."""
    import time

    from host.errors import NotFoundError
    from host.jobs.paths import UNFINISHED, jobs_path
    from host.jobs.state import locked_jobs

    if not os.path.exists(jobs_path(catalog_dir)):  # nothing to cancel: create nothing either
        raise NotFoundError("no scan is queued or running")
    with locked_jobs(catalog_dir) as jobs:
        job = jobs.find(KIND, KEY)
        if job is None or job.get("state") not in UNFINISHED:
            raise NotFoundError("no scan is queued or running")
        job.update(state="canceled", rate=0, updated=round(time.time(), 3))
        jobs.changed = True
    return {"status": "canceled"}


def run(control: JobControl) -> None:
    from host.disk.scan import ScanBusyError, run_scan

    control.update(state="running", phase="walking")

    def progress(state: dict[str, Any]) -> None:
        control.update(phase=state["phase"], files=state["files"], files_total=state["files_total"],
                       bytes=state["bytes"], total=state["total"])

    try:
        result = run_scan(control.settings, progress, control.canceled)
    except ScanBusyError as exc:  # a `catalog-host scan --here` is running
        raise JobFailed(exc.code, exc.message) from exc
    if result["state"] == "canceled":
        raise JobCanceled()
    control.update(phase="done", result=result)
