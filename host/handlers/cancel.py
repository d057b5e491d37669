"""`cancel {version_id}`: stop the version's download and delete its partial file."""

from __future__ import annotations

from typing import Any

from host.context import Context
from host.download.queue import cancel_download


def handle(params: dict[str, Any], context: Context) -> dict[str, Any]:
    return cancel_download(params["version_id"], context)
