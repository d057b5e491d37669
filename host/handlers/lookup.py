"""`lookup`: the map's data for the versions (and models) on one page — the extension's fast path.

A catalog that cannot be read does not block the other: the answer comes from the readable
one and names the other in `catalog_errors`. Where each file is (present, elsewhere, missing;
untracked for a version in no catalog that a scan found on disk) is host.disk.status's.
"""

from __future__ import annotations

from host.catalog.index import open_index
from host.catalog.views import MAX_VERSIONS_PER_MODEL
from host.context import Context
from host.disk.status import DiskView

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def handle(params: dict[str, Any], context: Context) -> dict[str, Any]:
    settings = context.settings
    index = open_index(settings.catalog_dir)
    try:
        version_ids: list[str] = params["version_ids"]
        found = index.records(version_ids)
        by_model = index.versions_of_models(params.get("model_ids", []), MAX_VERSIONS_PER_MODEL)
        errors = index.catalog_errors()
    finally:
        index.close()
    disk = DiskView.of(settings)
    try:
        by_version = {
            vid: disk.with_status(vid, found[vid]) if vid in found else disk.untracked(vid)
            for vid in version_ids
        }
    finally:
        disk.close()
    if "missing" in (r["status"] for r in by_version.values() if r is not None):
        from host.jobs.paths import overlay_jobs  # only when a download could show

        overlay_jobs(by_version, settings.catalog_dir)
    result: dict[str, Any] = {"by_version": by_version, "by_model": by_model}
    if errors:  # answered from the readable catalog; a null may be in the other one
        result["catalog_errors"] = errors
    return result
