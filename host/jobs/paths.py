"""Names of the job files beside the catalogs, and the pieces the cold read path needs.

Stdlib only (os): lookup and map import this module only when some record is `missing`.
"""

from __future__ import annotations

import os

from host import jsonfast

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Every job of the last 24 h, as JSON; replaced atomically on every change.
JOBS_NAME = ".catalog-host-jobs"
# Exists while unfinished jobs exist; the worker touches it every tick (its heartbeat).
ACTIVE_NAME = ".catalog-host-jobs-active"
# Held by the one worker of this catalog folder.
WORKER_LOCK_NAME = ".catalog-host-worker.lock"
# Held briefly around every read-modify-write of the job file.
JOBS_LOCK_NAME = ".catalog-host-jobs.lock"

UNFINISHED = ("queued", "downloading", "verifying", "running")
# States a lookup / map record shows instead of `missing` (SPEC §9 Status).
RECORD_STATES = ("queued", "downloading", "verifying", "failed")
# Finished, failed and canceled jobs are kept (and listed by `jobs`) this long.
KEEP_FINISHED_S = 24 * 3600.0
# Job times are Unix seconds; beyond this a stored one is damage (NaN fails the test too).
MAX_TIME = 1e12


def jobs_path(catalog_dir: str) -> str:
    return os.path.join(catalog_dir, JOBS_NAME)


def active_path(catalog_dir: str) -> str:
    return os.path.join(catalog_dir, ACTIVE_NAME)


def read_jobs_file(catalog_dir: str) -> dict[str, Any]:
    """The job file's content, or an empty one when it is absent or unreadable (it is
    replaced atomically, so a reader never sees half a file). Only well-formed jobs are kept
    (see `_well_formed`): a damaged entry is dropped, never fatal to a lookup or the worker."""
    try:
        with open(jobs_path(catalog_dir), encoding="utf-8") as handle:
            data = jsonfast.loads(handle.read())
    except (OSError, ValueError):
        return {"jobs": []}
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), list):
        return {"jobs": []}
    data["jobs"] = [job for job in data["jobs"] if _well_formed(job)]
    return data


def _well_formed(job: object) -> bool:
    """A dict with string kind, key and state (and resource, when it has one); its times made
    numbers (0 when not one, or not a time float() and a reply can carry: NaN, infinities and
    huge integers all parse as JSON)."""
    if not isinstance(job, dict):
        return False
    if not all(isinstance(job.get(name), str) for name in ("kind", "key", "state")):
        return False
    if not isinstance(job.get("resource", ""), str):  # the worker hashes it
        return False
    for name in ("created", "updated"):
        value = job.get(name)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not -MAX_TIME < value < MAX_TIME:
            job[name] = 0
    return True


def kept(job: dict[str, Any], now: float) -> bool:
    """Whether a job is still listed: unfinished, or finished within KEEP_FINISHED_S."""
    return job.get("state") in UNFINISHED or now - float(job["updated"]) <= KEEP_FINISHED_S


def find_job(catalog_dir: str, kind: str, key: str) -> dict[str, Any] | None:
    """The stored job of this kind and key, read without the lock."""
    jobs: list[dict[str, Any]] = read_jobs_file(catalog_dir)["jobs"]
    return next((job for job in jobs if job["kind"] == kind and job["key"] == key), None)


def public_job(job: dict[str, Any]) -> dict[str, Any]:
    """A job as replies show it: everything but the runner's private `params` and `resource`."""
    return {key: value for key, value in job.items() if key not in ("params", "resource")}


# A job inside a lookup / map record is bounded like the record itself (host.catalog.views):
# these fields only, short text (identifiers: a kind, a state, an error code), a message of
# RECORD_JOB_MESSAGE_BYTES and the file and folder cut as short. When even that would take a
# record past MAX_RECORD_JSON_BYTES (its own text at the limit), the record carries only
# RECORD_JOB_MINIMAL: what a progress bar needs.
RECORD_JOB_TEXT = ("kind", "key", "version_id", "state", "verify", "file", "dest")
RECORD_JOB_NUMBERS = ("bytes", "total", "rate", "created", "updated")
RECORD_JOB_MINIMAL = ("state", "bytes", "total")
RECORD_JOB_SHORT_BYTES = 64
RECORD_JOB_MESSAGE_BYTES = 256


def _record_number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if -(2**63) < value < 2**63 and value == value else None  # NaN is not equal to itself


def record_job(job: dict[str, Any]) -> dict[str, Any]:
    """What a lookup / map record shows of its download job (PROTOCOL.md, A job)."""
    from host.catalog.views import reply_safe

    shown: dict[str, Any] = {}
    for name in RECORD_JOB_TEXT:
        if name in job:
            shown[name] = reply_safe(job[name], RECORD_JOB_SHORT_BYTES)
    for name in RECORD_JOB_NUMBERS:
        if name in job:
            shown[name] = _record_number(job[name])
    error = job.get("error")
    if isinstance(error, dict):
        shown["error"] = {"code": reply_safe(error.get("code"), RECORD_JOB_SHORT_BYTES),
                          "message": reply_safe(error.get("message"), RECORD_JOB_MESSAGE_BYTES)}
    return shown


def download_jobs_by_version(catalog_dir: str) -> dict[str, dict[str, Any]]:
    """The download job shown in lookup / map records, per version id (record_job)."""
    import time

    now = time.time()
    found: dict[str, dict[str, Any]] = {}
    for job in read_jobs_file(catalog_dir)["jobs"]:
        if job["kind"] != "download" or job["state"] not in RECORD_STATES or not kept(job, now):
            continue
        found[str(job.get("version_id"))] = record_job(job)
    return found


def record_jobs(catalog_dir: str) -> dict[str, dict[str, Any]]:
    """download_jobs_by_version, or {} at the cost of one stat when there is no job file."""
    if not os.path.exists(jobs_path(catalog_dir)):
        return {}
    return download_jobs_by_version(catalog_dir)


def attach_job(record: dict[str, Any], job: dict[str, Any]) -> None:
    """Show `job` in a `missing` record: its state as the status, and the job itself (the
    minimal one when the whole would take the record past its bound)."""
    from host.catalog.views import MAX_RECORD_JSON_BYTES

    record["status"] = job["state"]
    record["job"] = job
    if len(jsonfast.dumps(record).encode("utf-8", "backslashreplace")) > MAX_RECORD_JSON_BYTES:
        record["job"] = {name: job.get(name) for name in RECORD_JOB_MINIMAL}


def overlay_jobs(records: dict[str, Any], catalog_dir: str) -> None:
    """Give `missing` records whose version has a job that job's state and the job itself
    (SPEC §9: `present` always wins). Costs one stat when no job file exists."""
    if not any(r is not None and r.get("status") == "missing" for r in records.values()):
        return
    jobs = record_jobs(catalog_dir)
    for vid, record in records.items():
        if jobs and record is not None and record.get("status") == "missing" and vid in jobs:
            attach_job(record, jobs[vid])
