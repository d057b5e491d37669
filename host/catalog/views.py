"""What `map`, `lookup` and `ping` report, from the index plus a live look at the disk.

Stdlib only. Status is never cached: it is one stat() per entry asked about. The map etag
covers the catalog files and the folders the entries live in (a download or a deletion
changes its folder's mtime), so an unchanged etag is answered without a stat per entry.
"""

from __future__ import annotations

import os
import zlib

from host.catalog.paths import dest_parts, dest_problem, file_status

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds in every cold start
    from typing import Any

    from host.catalog.index import CatalogIndex


def with_status(record: dict[str, Any], models_dir: str | None) -> dict[str, Any]:
    record["status"] = file_status(models_dir, record.get("dest"), record.get("file"))
    return record


def _folder_state(models_dir: str, dest: str) -> str:
    if dest_problem(dest):
        return "unsafe"
    try:
        st = os.stat(os.path.join(models_dir, *dest_parts(dest)))
    except (OSError, ValueError):
        return "absent"
    return f"{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def map_etag(index: CatalogIndex, models_dir: str | None) -> str:
    """Changes when a catalog file changes or a file appears in / leaves an entry's folder."""
    parts = [index.signature, models_dir or ""]
    if models_dir is not None:
        parts.extend(f"{dest}={_folder_state(models_dir, dest)}" for dest in index.dests)
    return _digest("\n".join(parts))


def listing_tag(index: CatalogIndex) -> str:
    """Identifies the catalog contents a map cursor pages through."""
    return _digest(index.signature)


def _digest(text: str) -> str:
    # Change detection, not security (a web page cannot set file mtimes): two 32-bit
    # checksums and the length, so no hashlib (OpenSSL) import in a cold start.
    data = text.encode("utf-8", "surrogatepass")
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}{len(data):x}"
