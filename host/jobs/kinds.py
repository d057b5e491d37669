"""Which code runs a job of each kind: kind name -> module with `run(control)`.

The table is data: the worker imports a kind's module only when a job of that kind runs.
"""

from __future__ import annotations

KINDS: dict[str, str] = {
    "download": "host.download.runner",
    "scan": "host.disk.scan_job",
}


def runner_module(kind: str) -> str | None:
    return KINDS.get(kind)
