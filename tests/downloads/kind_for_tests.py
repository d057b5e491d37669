"""A job kind for the runner's own tests: counts steps, can fail, records concurrency."""

from __future__ import annotations

import threading

from host.jobs.control import JobCanceled, JobControl, JobFailed

lock = threading.Lock()
running = 0
most_at_once = 0
# With params["linger"]: a canceled job sets `saw_cancel`, then takes until `release` to end
# (as a scan saving its hash cache does).
saw_cancel = threading.Event()
release = threading.Event()


def run(control: JobControl) -> None:
    global running, most_at_once
    params = control.job["params"]
    with lock:
        running += 1
        most_at_once = max(most_at_once, running)
    try:
        for step in range(params["steps"]):
            control.update(state="running", bytes=step, found=step * 2)
            try:
                control.wait_or_cancel(0.02)
            except JobCanceled:
                if params.get("linger"):
                    saw_cancel.set()
                    release.wait(30)
                raise
        if params.get("fail"):
            raise JobFailed("test_failure", "failed as asked")
    finally:
        with lock:
            running -= 1
