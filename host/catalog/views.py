"""What `map`, `lookup` and `ping` report, from the index plus a live look at the disk.

Stdlib only. Status is never cached: it is one stat() per entry asked about. The map etag
covers the catalog files and the folders the entries live in (a download or a deletion
changes its folder's mtime), so an unchanged etag is answered without a stat per entry.
"""

from __future__ import annotations

import os
import zlib

from host.catalog.paths import dest_problem

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds in every cold start

    from host.catalog.index import CatalogIndex
    from host.disk.status import DiskView


def _folder_state(folder: str) -> str:
    try:
        st = os.stat(folder)
    except (OSError, ValueError):
        return "absent"
    return f"{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def map_etag(index: CatalogIndex, disk: DiskView) -> str:
    """Changes when a catalog file changes, a file appears in / leaves one of an entry's
    folders (in any folder ComfyUI searches for its dest), the folders change, a scan ends, or
    a download job changes."""
    parts = [index.signature, disk.folders.models_dir or "", disk.signature(), _jobs_state(disk.catalog_dir)]
    for dest in index.dests:
        if dest_problem(dest):
            parts.append(f"{dest}=unsafe")
            continue
        parts.extend(f"{dest}={_folder_state(folder)}" for folder in disk.folders.dest_folders(dest))
    return _digest("\n".join(parts))


def _jobs_state(catalog_dir: str | None) -> str:
    """The download jobs shown in records change with the job file (see host.jobs)."""
    if catalog_dir is None:
        return ""
    try:
        st = os.stat(os.path.join(catalog_dir, ".catalog-host-jobs"))  # host.jobs.paths.JOBS_NAME
    except OSError:
        return "jobs=none"
    return f"jobs={st.st_mtime_ns}:{st.st_size}:{st.st_ino}"


def listing_tag(index: CatalogIndex, disk: DiskView) -> str:
    """Identifies the catalog contents (and scan results) a map cursor pages through."""
    return _digest(index.signature + "|" + disk.signature())


def _digest(text: str) -> str:
    # Change detection, not security (a web page cannot set file mtimes): two 32-bit
    # checksums and the length, so no hashlib (OpenSSL) import in a cold start.
    data = text.encode("utf-8", "surrogatepass")
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}{len(data):x}"
