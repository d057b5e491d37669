"""The job file: read-modify-write under a lock, replaced atomically, pruned after 24 h.

Every process that changes jobs (a host answering `download` / `cancel`, the worker
reporting progress) does it through `locked_jobs`, which holds a small lock file beside the
catalogs for the few milliseconds of one read-modify-write. Readers (lookup, map, `jobs`)
read without the lock: the file is only ever replaced by a rename, so they see the old or
the new version, never a mix.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from host.atomicfile import remove_dead_temps
from host.jobs.paths import (
    JOBS_LOCK_NAME,
    JOBS_NAME,
    UNFINISHED,
    active_path,
    jobs_path,
    kept,
    read_jobs_file,
)

LOCK_TIMEOUT_S = 15.0
FORMAT = 1


class JobFile:
    """The job file's content while the lock is held; `save()` writes it back."""

    def __init__(self, catalog_dir: str, data: dict[str, Any]) -> None:
        self.catalog_dir = catalog_dir
        self.data = data
        self.changed = False

    @property
    def jobs(self) -> list[dict[str, Any]]:
        jobs: list[dict[str, Any]] = self.data["jobs"]
        return jobs

    def find(self, kind: str, key: str) -> dict[str, Any] | None:
        for job in self.jobs:
            if job.get("kind") == kind and job.get("key") == key:
                return job
        return None

    def put(self, job: dict[str, Any]) -> None:
        """Add `job`, replacing any job of the same kind and key."""
        self.data["jobs"] = [
            j for j in self.jobs if not (j.get("kind") == job["kind"] and j.get("key") == job["key"])
        ]
        self.jobs.append(job)
        self.changed = True

    def unfinished(self) -> list[dict[str, Any]]:
        return [j for j in self.jobs if j.get("state") in UNFINISHED]


def _prune(data: dict[str, Any], now: float) -> None:
    data["jobs"] = [j for j in data["jobs"] if kept(j, now)]


def save_jobs_file(path: str, data: bytes, durable: bool) -> None:
    """Replace the job file (host.atomicfile). `durable` fsyncs (state changes); progress
    ticks skip it: losing the last byte count in a power cut costs nothing, since the worker
    resumes from the partial file's real size."""
    from host.atomicfile import write_atomically

    for attempt in range(20):
        try:
            write_atomically(path, data, durable=durable)
            return
        except PermissionError:  # Windows: a reader has the file open; it closes it at once
            if attempt == 19:
                raise
            time.sleep(0.01)


def set_active(catalog_dir: str, active: bool) -> None:
    """Create (touch) or remove the ACTIVE file that says unfinished jobs exist."""
    path = active_path(catalog_dir)
    if active:
        with open(path, "a"):
            pass
        os.utime(path)
    else:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


@contextmanager
def locked_jobs(catalog_dir: str, durable: bool = True, sweep: bool = False) -> Iterator[JobFile]:
    """The job file under its lock; saved on exit when changed, with the ACTIVE file kept in
    step: created *before* a save that leaves unfinished jobs, removed only *after* a save that
    leaves none. So whenever the job file holds an unfinished job, ACTIVE exists, even after a
    process killed between the two writes (then a worker is restarted by the next request
    once ACTIVE is stale, see host.jobs.wake); the opposite leftover (ACTIVE with nothing
    unfinished) only starts a worker that finds nothing and removes it.

    `sweep` also deletes the job file's temps left by writers killed mid-write (every write
    of the job file happens under this lock, so each one found is a dead process's)."""
    import filelock

    from host.errors import CatalogBusyError

    os.makedirs(catalog_dir, exist_ok=True)
    lock = filelock.FileLock(os.path.join(catalog_dir, JOBS_LOCK_NAME), timeout=LOCK_TIMEOUT_S)
    try:
        lock.acquire()
    except filelock.Timeout as exc:
        raise CatalogBusyError(
            f"another process kept the job file locked for over {LOCK_TIMEOUT_S:.0f} s"
        ) from exc
    try:
        if sweep:
            remove_dead_temps(catalog_dir, [JOBS_NAME])
        data = read_jobs_file(catalog_dir)
        data.setdefault("format", FORMAT)
        before = len(data["jobs"])
        _prune(data, time.time())
        jobs = JobFile(catalog_dir, data)
        jobs.changed = len(data["jobs"]) != before
        yield jobs
        if jobs.changed:
            body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            active = bool(jobs.unfinished())
            if active:
                set_active(catalog_dir, True)
            save_jobs_file(jobs_path(catalog_dir), body, durable)
            if not active:
                set_active(catalog_dir, False)
    finally:
        lock.release()


def new_job(
    kind: str, key: str, public: dict[str, Any], params: dict[str, Any], resource: str | None = None
) -> dict[str, Any]:
    """A queued job: `public` fields are shown in replies, `params` only to the kind's runner.
    Jobs naming the same `resource` (e.g. a target file) never run at the same time."""
    now = round(time.time(), 3)
    job: dict[str, Any] = {"kind": kind, "key": key, **public}
    if resource is not None:
        job["resource"] = resource
    job.update({"state": "queued", "bytes": 0, "total": None, "rate": 0, "created": now, "updated": now})
    job["params"] = params
    return job


def submit(catalog_dir: str, job: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    """Queue `job` unless an unfinished job of the same kind and key exists, then make sure a
    worker runs. (True, job) when queued; (False, the existing job) when already queued."""
    with locked_jobs(catalog_dir) as jobs:
        existing = jobs.find(job["kind"], job["key"])
        if existing is not None and existing.get("state") in UNFINISHED:
            return False, existing
        jobs.put(job)
    from host.jobs.spawn import start_worker

    start_worker(catalog_dir)
    return True, job

