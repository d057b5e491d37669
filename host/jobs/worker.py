"""The worker: `python -m host.jobs.worker CATALOG_DIR` runs that folder's unfinished jobs.

One per catalog folder (it holds WORKER_LOCK_NAME; a second one exits at once). Each tick
(TICK_S) it copies what the running jobs reported into the job file, passes cancels to
them, starts queued jobs while fewer than MAX_PARALLEL run, and touches the ACTIVE file
(its heartbeat, see host.jobs.wake). A job found in a running state with no thread of
this worker was left by a killed worker: it is run again (a download resumes its partial
file). With nothing left, it removes ACTIVE and exits; after releasing its lock it looks
once more, so a job queued during its exit is never stranded.

`--await KIND PID` (a worker started ahead of its job by an op in process PID, see
host.jobs.spawn.prestart_worker): it imports KIND's runner, then waits for the ACTIVE file
(some job is unfinished) while PID is its parent, at most AWAIT_S, before its first tick.
When none comes, it exits without writing anything.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

from host.jobs.control import JobCanceled, JobControl, JobFailed
from host.jobs.kinds import runner_module
from host.jobs.paths import UNFINISHED, WORKER_LOCK_NAME, active_path
from host.jobs.state import locked_jobs
from host.settings import Settings

MAX_PARALLEL = 2
TICK_S = 0.5
# Consecutive ticks that could not update the job file before the worker gives up (a minute).
MAX_TICK_FAILURES = 120
# How long a worker started ahead of its job waits for it, and how often it looks.
AWAIT_S = 5.0
AWAIT_POLL_S = 0.01


class Running:
    """A job's thread and its control."""

    def __init__(self, job: dict[str, Any], settings: Settings, wake: threading.Event) -> None:
        self.kind = str(job["kind"])
        self.key = str(job["key"])
        self.resource: str | None = job.get("resource")
        # Which job of this kind and key it runs: one queued again after a cancel is another
        # job, even while this run is still ending (`created` has millisecond resolution).
        self.created = job.get("created")
        self.control = JobControl(dict(job), settings)
        self.outcome: dict[str, Any] | None = None
        self._wake = wake
        self.thread = threading.Thread(target=self._run, name=f"job-{self.kind}-{self.key}", daemon=True)

    def _run(self) -> None:
        from host.log import get_logger

        log = get_logger()
        module_name = runner_module(self.kind)
        try:
            if module_name is None:
                raise JobFailed("unknown_kind", f"this version of catalog-host cannot run {self.kind!r} jobs")
            module = __import__(module_name, fromlist=["run"])
            module.run(self.control)
            self.outcome = {"state": "done"}
            log.info("job %s %s done", self.kind, self.key)
        except JobCanceled:
            self.outcome = {"state": "canceled"}
            log.info("job %s %s canceled", self.kind, self.key)
        except JobFailed as exc:
            self.outcome = {"state": "failed", "error": {"code": exc.code, "message": exc.message}}
            log.info("job %s %s failed: %s: %s", self.kind, self.key, exc.code, exc.message)
        except Exception as exc:  # a bug: the job fails, the worker goes on
            log.exception("job %s %s crashed", self.kind, self.key)
            message = f"internal error ({type(exc).__name__}); see the host log"
            self.outcome = {"state": "failed", "error": {"code": "internal_error", "message": message}}
        finally:
            self._wake.set()


def _tick(catalog_dir: str, settings: Settings, running: dict[tuple[str, str], Running],
          wake: threading.Event, first: bool = False) -> bool:
    """One round of bookkeeping; False when there is nothing left to do. The `first` one also
    deletes the job-file temps of writers killed mid-write (a killed worker's, a killed host's)."""
    now = round(time.time(), 3)
    with locked_jobs(catalog_dir, durable=False, sweep=first) as jobs:
        jobs.data["worker"] = {"pid": os.getpid(), "tick": now}
        for key, run in list(running.items()):
            job = jobs.find(*key)
            if job is None or job.get("state") not in UNFINISHED or job.get("created") != run.created:
                # canceled, removed, or replaced by a new job of the same kind and key (which
                # starts once this run has ended): this run's outcome belongs to no stored job
                run.control.cancel()
                if not run.thread.is_alive():
                    del running[key]
                continue
            fields = run.control.take_fields()
            if run.outcome is not None and not run.thread.is_alive():
                fields.update(run.outcome)
                if run.outcome["state"] != "done":
                    fields["rate"] = 0
                del running[key]
            if fields:
                job.update(fields)
                job["updated"] = now
        busy = {run.resource for run in running.values() if run.resource is not None}
        for job in sorted(jobs.unfinished(), key=lambda j: float(j.get("created") or 0)):
            if len(running) >= MAX_PARALLEL:
                break
            key = (str(job.get("kind")), str(job.get("key")))
            resource = job.get("resource")
            if key in running or (resource is not None and resource in busy):
                continue  # e.g. two catalog entries naming one file: one download at a time
            if resource is not None:
                busy.add(resource)
            run = Running(job, settings, wake)
            running[key] = run
            run.thread.start()
        jobs.changed = True  # the tick stamp is the worker's sign of life for readers
        return bool(running) or bool(jobs.unfinished())


def run_jobs(catalog_dir: str, settings: Settings) -> bool:
    """Run jobs until none is left (True), or give up after MAX_TICK_FAILURES failed ticks in a
    row (False: job threads may still run, so only ending the process may follow)."""
    from host.errors import HostError

    running: dict[tuple[str, str], Running] = {}
    wake = threading.Event()
    failures = 0
    swept = False
    while True:
        try:
            if not _tick(catalog_dir, settings, running, wake, not swept):
                return True
            failures, swept = 0, True
        except (HostError, OSError) as exc:  # the job file is busy or unwritable: try again
            from host.log import get_logger

            failures += 1
            get_logger().warning("job worker could not update the job file: %s", exc)
            if failures >= MAX_TICK_FAILURES:  # the folder is gone or read-only: give up
                return False
        try:
            os.utime(active_path(catalog_dir))
        except OSError:
            pass
        wake.wait(TICK_S)
        wake.clear()


def _settings_for(catalog_dir: str) -> Settings:
    from host.settings import load_settings

    settings = load_settings()
    settings.catalog_dir = catalog_dir  # the folder this worker was started for wins
    return settings


def await_job(catalog_dir: str, kind: str, starter: int) -> bool:
    """Get ready for a job of `kind` that the starting process is about to queue; False
    when none came (the worker then only takes its last look, and writes nothing)."""
    module_name = runner_module(kind)
    if module_name is not None:
        __import__(module_name)
    deadline = time.monotonic() + AWAIT_S
    active = active_path(catalog_dir)
    while not os.path.exists(active) and time.monotonic() < deadline:
        if os.getppid() != starter:  # the op is over (its process exited) and queued nothing
            break
        time.sleep(AWAIT_POLL_S)
    return os.path.exists(active)


def main(argv: list[str]) -> int:
    await_kind, starter = None, 0
    if len(argv) == 4 and argv[1] == "--await" and argv[3].isdigit():
        argv, await_kind, starter = argv[:1], argv[2], int(argv[3])
    if len(argv) != 1:
        print("usage: python -m host.jobs.worker CATALOG_DIR [--await KIND PID]", file=sys.stderr)
        return 2
    import filelock

    from host.errors import HostError
    from host.log import get_logger

    catalog_dir = os.path.abspath(argv[0])
    settings = _settings_for(catalog_dir)
    lock = filelock.FileLock(os.path.join(catalog_dir, WORKER_LOCK_NAME))
    while True:
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            return 0  # another worker runs this folder's jobs
        try:
            awaited = await_kind is None or await_job(catalog_dir, await_kind, starter)
            await_kind = None
            if awaited:
                get_logger().info("job worker started for %s", catalog_dir)
                if not run_jobs(catalog_dir, settings):
                    # Its job threads may still run: running the jobs again in this process would
                    # start a second thread on the same partial file. Exiting ends them; the next
                    # request restarts a worker once the job file can be written again.
                    return 1
        except Exception:  # a bug: its stderr is /dev/null, so the log is the only witness
            get_logger().exception("job worker for %s stopped by an error", catalog_dir)
            return 1
        finally:
            lock.release()
        # A host that queued a job while this worker was exiting found the lock taken by
        # it; look once more now that the lock is free.
        try:
            with locked_jobs(catalog_dir) as jobs:
                if not jobs.unfinished():
                    return 0
        except (HostError, OSError):
            return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
