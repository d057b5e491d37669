"""`scan {}`: queue a scan of every model folder as a job (SPEC §10); see host.disk.scan_job."""

from __future__ import annotations

from typing import Any

from host.context import Context
from host.disk.scan_job import start_scan


def handle(params: dict[str, Any], context: Context) -> dict[str, Any]:
    return start_scan(context.settings.catalog_dir)
