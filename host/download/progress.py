"""`catalog-host download --wait`: a progress bar (tqdm, on stderr) until the job ends.

tqdm is imported here only: never by the host the browser starts. It was chosen over rich for
being small (no dependencies, ~100 KB) and drawing a correct bar on any terminal, including
Windows consoles and a pipe (where it prints plain lines).
"""

from __future__ import annotations

import sys
from typing import Any

from host.jobs.follow import follow
from host.jobs.paths import find_job


def wait_for(catalog_dir: str, version_id: str) -> tuple[int, dict[str, Any] | None]:
    """Show the download's progress until it ends: (exit status, the last job state)."""
    from tqdm import tqdm

    job = find_job(catalog_dir, "download", version_id)
    bar = tqdm(
        total=None, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr,
        desc=str(job.get("file") if job else version_id)[:40], dynamic_ncols=True,
    )

    def show(job: dict[str, Any]) -> None:
        if job["state"] == "done":
            bar.total = int(job.get("total") or bar.n)
            bar.update(bar.total - bar.n)
            return
        total = job.get("total")
        if isinstance(total, int) and bar.total != total:
            bar.total = total
        bar.update(int(job.get("bytes") or 0) - bar.n)
        bar.set_postfix_str(str(job["state"]), refresh=False)

    try:
        return follow(catalog_dir, "download", version_id, "download", show)
    finally:
        bar.close()
