"""`cancel {version_id}`: stop the version's download and delete its partial file.
`cancel {kind: "scan"}`: stop the catalog folder's scan (what it hashed stays in the hash cache)."""

from __future__ import annotations

from typing import Any

from host.context import Context
from host.errors import InvalidRequestError


def handle(params: dict[str, Any], context: Context) -> dict[str, Any]:
    if ("version_id" in params) == ("kind" in params):
        raise InvalidRequestError(
            "'cancel' needs either 'version_id' (a download) or 'kind': \"scan\" (the scan), not both",
            param="kind" if params else "version_id",
        )
    if "kind" in params:
        from host.disk.scan_job import cancel_scan

        return cancel_scan(context.settings.catalog_dir)
    from host.download.queue import cancel_download

    return cancel_download(params["version_id"], context)
