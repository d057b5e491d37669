"""`catalog-host download --wait`: a progress bar (tqdm, on stderr) until the job ends.

tqdm is imported here only: never by the host the browser starts. It was chosen over rich for
being small (no dependencies, ~100 KB) and drawing a correct bar on any terminal, including
Windows consoles and a pipe (where it prints plain lines).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from host.jobs.paths import UNFINISHED, find_job, public_job

POLL_S = 0.25


def _job(catalog_dir: str, version_id: str) -> dict[str, Any] | None:
    return find_job(catalog_dir, "download", version_id)


def wait_for(catalog_dir: str, version_id: str) -> tuple[int, dict[str, Any] | None]:
    """Show the download's progress until it ends: (exit status, the last job state)."""
    from tqdm import tqdm

    from host.jobs.wake import wake_if_needed

    job = _job(catalog_dir, version_id)
    bar = tqdm(
        total=None, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr,
        desc=str(job.get("file") if job else version_id)[:40], dynamic_ncols=True,
    )
    try:
        while job is not None and job.get("state") in UNFINISHED:
            total = job.get("total")
            if isinstance(total, int) and bar.total != total:
                bar.total = total
            done = int(job.get("bytes") or 0)
            bar.update(done - bar.n)
            bar.set_postfix_str(str(job.get("state")), refresh=False)
            time.sleep(POLL_S)
            wake_if_needed(catalog_dir)  # a worker killed meanwhile is restarted
            job = _job(catalog_dir, version_id)
        if job is not None and job.get("state") == "done":
            bar.total = int(job.get("total") or bar.n)
            bar.update(bar.total - bar.n)
    finally:
        bar.close()
    if job is None:
        print(f"the download of version {version_id} is no longer listed", file=sys.stderr)
        return 1, None
    if job.get("state") == "failed":
        print(f"download failed: {job.get('error', {}).get('message')}", file=sys.stderr)
    return (0 if job.get("state") == "done" else 1), public_job(job)
