"""`jobs {}`: every unfinished job of any kind, and the finished / failed / canceled ones of the
last 24 h, as many as fit in one reply (host.jobs.listing)."""

from __future__ import annotations

from typing import Any

from host.context import Context
from host.jobs.listing import jobs_reply


def handle(params: dict[str, Any], context: Context) -> dict[str, Any]:
    return jobs_reply(context.settings.catalog_dir)
