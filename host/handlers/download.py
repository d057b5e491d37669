"""`download {version_id, file_id?}`: queue a catalog entry's file (SPEC §9); see host.download.queue."""

from __future__ import annotations

from typing import Any

from host.context import Context
from host.download.queue import start_download


def handle(params: dict[str, Any], context: Context) -> dict[str, Any]:
    return start_download(params["version_id"], context, params.get("file_id"))
