"""`jobs {}`: every unfinished job of any kind, and the finished / failed / canceled ones of the
last 24 h (host.jobs.state.list_jobs)."""

from __future__ import annotations

from typing import Any

from host.context import Context
from host.jobs.state import list_jobs


def handle(params: dict[str, Any], context: Context) -> dict[str, Any]:
    return {"jobs": list_jobs(context.settings.catalog_dir)}
