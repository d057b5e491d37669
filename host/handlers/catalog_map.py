"""`map`: every CivitAI version in both catalogs, paged under Chrome's 1 MiB reply limit.

A page holds as many entries as fit in PAGE_BUDGET_BYTES; `next` is an opaque cursor
(catalog-contents tag + position). `by_model` in a page covers the versions of that page;
the client merges pages by union. A matching `etag` on a first request answers `unchanged`.
"""

from __future__ import annotations

from host.catalog.index import open_index
from host.catalog.views import listing_tag, map_etag, with_status
from host.context import Context
from host.errors import CursorExpiredError, InvalidRequestError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

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


def handle(params: dict[str, Any], context: Context) -> dict[str, Any]:
    models_dir = context.settings.models_dir
    index = open_index(context.settings.catalog_dir)
    try:
        errors = index.catalog_errors()  # such a catalog's entries are not listed; it is named
        unreadable = {"catalog_errors": errors} if errors else {}
        etag = map_etag(index.signature, index.dests, models_dir, context.settings.catalog_dir)
        cursor = params.get("cursor")
        if cursor is None and params.get("etag") == etag:
            return {"unchanged": True, "etag": etag, **unreadable}
        tag = listing_tag(index.signature)
        position = _parse_cursor(cursor, tag) if cursor is not None else 0
        by_version: dict[str, Any] = {}
        by_model: dict[str, list[str]] = {}
        used = 0
        next_cursor = None
        while next_cursor is None:
            rows = index.rows_after(position, _FETCH)
            if not rows:
                break
            for seq, vid, record_json in rows:
                # each entry costs its JSON plus its id in by_model and some punctuation
                cost = len(record_json) + 2 * len(vid) + 64
                if by_version and used + cost > PAGE_BUDGET_BYTES:
                    next_cursor = f"{tag}:{position}"
                    break
                record = with_status(index.decode(record_json), models_dir)
                by_version[vid] = record
                mid = record.get("civitai_model_id")
                if mid is not None:
                    by_model.setdefault(mid, []).append(vid)
                used += cost
                position = seq
    finally:
        index.close()
    if "missing" in (r["status"] for r in by_version.values()):
        from host.jobs.paths import overlay_jobs  # only when a download could show

        overlay_jobs(by_version, context.settings.catalog_dir)
    return {"by_version": by_version, "by_model": by_model, "etag": etag, "next": next_cursor, **unreadable}
