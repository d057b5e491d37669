"""`map`: every CivitAI version in both catalogs, paged under Chrome's 1 MiB reply limit.

The catalog entries come first, then the versions the last scan found in no catalog
(`untracked`). A page holds as many entries as fit in PAGE_BUDGET_BYTES; `next` is an opaque cursor
(catalog-contents tag + position). `by_model` in a page covers the versions of that page;
the client merges pages by union. A matching `etag` on a first request answers `unchanged`.
"""

from __future__ import annotations

from host import jsonfast
from host.catalog.index import open_index
from host.catalog.views import listing_tag, map_etag
from host.context import Context
from host.disk.status import DiskView
from host.errors import CursorExpiredError, InvalidRequestError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from host.catalog.index import CatalogIndex

# Room for the envelope and by_model under the 1 MiB frame limit.
PAGE_BUDGET_BYTES = 600 * 1024
_FETCH = 2000


def _parse_cursor(cursor: str, tag: str) -> int:
    prefix, _, position = cursor.partition(":")
    if not (position.isascii() and position.isdigit()) or len(position) > 12:
        raise InvalidRequestError("'cursor' is not a cursor this host gave out", param="cursor")
    if prefix != tag:
        raise CursorExpiredError("the catalog changed since this cursor was given; start the map again")
    return int(position)


def _cost(vid: str, record: dict[str, Any], record_json: bytes | None = None) -> int:
    """Reply bytes an entry takes: its record JSON, its id in by_model, some punctuation."""
    size = len(record_json) if record_json is not None else len(jsonfast.dumps(record).encode("utf-8"))
    path = record.get("path")
    if record_json is not None and path:  # added to the stored record by the status
        size += len(jsonfast.dumps(path).encode("utf-8")) + 10
    return size + 2 * len(vid) + 64


def _listing(index: CatalogIndex, disk: DiskView, position: int) -> Iterator[tuple[int, str, int, Any]]:
    """(position, version id, cost, record) after `position`: the catalog entries in catalog
    order, then the versions the last scan found on disk in no catalog (`untracked`)."""
    while position < index.count:
        for seq, vid, record_json in index.rows_after(position, _FETCH):
            record = disk.with_status(vid, index.decode(record_json))
            yield seq, vid, _cost(vid, record, record_json), record
            position = seq
    scan = disk.scan
    if scan is None:
        return
    for k, vid in enumerate(scan.version_ids()[position - index.count :], start=position + 1):
        if index.records([vid]):
            continue
        untracked = disk.untracked(vid)
        if untracked is not None:
            yield k, vid, _cost(vid, untracked), untracked


def handle(params: dict[str, Any], context: Context) -> dict[str, Any]:
    index = open_index(context.settings.catalog_dir)
    disk = DiskView.of(context.settings)
    try:
        errors = index.catalog_errors()  # such a catalog's entries are not listed; it is named
        unreadable = {"catalog_errors": errors} if errors else {}
        etag = map_etag(index.signature, index.dests, disk)
        cursor = params.get("cursor")
        if cursor is None and params.get("etag") == etag:
            return {"unchanged": True, "etag": etag, **unreadable}
        tag = listing_tag(index.signature, disk)
        position = _parse_cursor(cursor, tag) if cursor is not None else 0
        by_version: dict[str, Any] = {}
        by_model: dict[str, list[str]] = {}
        used = 0
        next_cursor = None
        jobs: dict[str, Any] | None = None  # read at the first `missing` record
        for seq, vid, cost, record in _listing(index, disk, position):
            if record["status"] == "missing":
                if jobs is None:
                    from host.jobs.paths import record_jobs  # only when a download could show

                    jobs = record_jobs(context.settings.catalog_dir)
                if vid in jobs:  # its cost counts, or many jobs could push a page past 1 MiB
                    from host.jobs.paths import attach_job

                    attach_job(record, jobs[vid])
                    cost += len(jsonfast.dumps(record["job"]).encode("utf-8", "backslashreplace")) + 16
            if by_version and used + cost > PAGE_BUDGET_BYTES:
                next_cursor = f"{tag}:{position}"
                break
            by_version[vid] = record
            mid = record.get("civitai_model_id")
            if mid is not None:
                by_model.setdefault(mid, []).append(vid)
            used += cost
            position = seq
    finally:
        index.close()
        disk.close()
    return {"by_version": by_version, "by_model": by_model, "etag": etag, "next": next_cursor, **unreadable}
