"""Follow one job until it ends, for the CLI's `--wait` (download, scan): poll the job file,
show each state through a callback, restart a worker killed meanwhile.

No progress bar here: each command draws its own (host.download.progress, host.disk.scan_cli).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from host.jobs.paths import UNFINISHED, find_job, public_job

POLL_S = 0.25


def follow(
    catalog_dir: str, kind: str, key: str, what: str, show: Callable[[dict[str, Any]], None]
) -> tuple[int, dict[str, Any] | None]:
    """Call `show(job)` at every poll and once with the final state; then (exit status: 0 when
    done, else 1; the job as replies show it, None when it is no longer listed). A failure's
    message goes to stderr, starting with `what` ("download", "scan")."""
    from host.jobs.wake import wake_if_needed

    job = find_job(catalog_dir, kind, key)
    while job is not None and job["state"] in UNFINISHED:
        show(job)
        time.sleep(POLL_S)
        wake_if_needed(catalog_dir)  # a worker killed meanwhile is restarted
        job = find_job(catalog_dir, kind, key)
    if job is None:
        print(f"the {what} job is no longer listed", file=sys.stderr)
        return 1, None
    show(job)
    if job["state"] == "failed":
        error = job.get("error")
        message = error.get("message") if isinstance(error, dict) else None
        print(f"{what} failed: {message}", file=sys.stderr)
    return (0 if job["state"] == "done" else 1), public_job(job)
