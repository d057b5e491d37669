"""What `jobs` answers: the kept jobs (host.jobs.paths.kept), bounded to REPLY_BUDGET_BYTES.

A day of downloads, or a hand-edited job file, can hold any number of jobs of any size; the
reply must stay under Chrome's 1 MiB limit. So jobs are taken in the order that matters to a
person while they fit (host.reply_budget): the unfinished ones, oldest first (the order the
worker runs them), then the finished, failed and canceled ones, newest first. Each job's text
is cut as a record's is. The reply lists them oldest first, with `left_out` counting the jobs
that did not fit (only when some did not).
"""

from __future__ import annotations

import time
from typing import Any

from host.jobs.paths import UNFINISHED, kept, public_job, read_jobs_file
from host.reply_budget import bounded, fit

# Leaves room under the 1 MiB frame for the envelope; ~1,500 typical download jobs.
REPLY_BUDGET_BYTES = 512 * 1024


def jobs_reply(catalog_dir: str, budget: int = REPLY_BUDGET_BYTES) -> dict[str, Any]:
    now = time.time()
    jobs = [job for job in read_jobs_file(catalog_dir)["jobs"] if kept(job, now)]
    unfinished = sorted((j for j in jobs if j["state"] in UNFINISHED), key=lambda j: float(j["created"]))
    ended = sorted((j for j in jobs if j["state"] not in UNFINISHED), key=lambda j: -float(j["updated"]))
    listed, left_out = fit((bounded(public_job(job)) for job in [*unfinished, *ended]), budget)
    listed.sort(key=lambda j: float(j["created"]))
    reply: dict[str, Any] = {"jobs": listed}
    if left_out:
        reply["left_out"] = left_out
    return reply
