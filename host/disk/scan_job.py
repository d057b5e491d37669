"""The scan as a job of kind "scan" on the job runner (host.jobs): queue it, run it, follow it.

`start_scan` (the `scan` op) queues one scan per catalog folder; the worker calls `run`,
which runs host.disk.scan.run_scan and reports its progress (phase, files and bytes done /
total) into the job, where `jobs` shows it; its summary lands in the job's `result`.
"""

from __future__ import annotations

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
