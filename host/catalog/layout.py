"""Where the host keeps its files in the catalog folder, and the catalogs' change signature.

Stdlib only, and imports nothing heavy: `ping` answers from here without opening the index.
"""

from __future__ import annotations

import os

from host import jsonfast

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing and pathlib cost milliseconds in every cold start
    from pathlib import Path
    from typing import Any

CATALOG_NAMES = ("models", "loras")
INDEX_NAME = ".catalog-host-index"
# no .json suffix: tools that load every *.json in the folder as a catalog must skip it
SUMMARY_NAME = ".catalog-host-summary"

# Bump when the table layout or the record fields change: old caches are then rebuilt.
INDEX_FORMAT = "6"


def catalog_file(catalog_dir: str | Path, name: str) -> str:
    return os.path.join(catalog_dir, f"{name}.json")


def catalog_signature(catalog_dir: str | Path) -> str:
    """Changes whenever either catalog file is replaced or edited."""
    parts = [INDEX_FORMAT, os.fspath(catalog_dir)]
    for name in CATALOG_NAMES:
        try:
            st = os.stat(catalog_file(catalog_dir, name))
        except OSError:
            parts.append("absent")
        else:
            # ctime too: tools that restore an mtime (cp -p, rsync) cannot restore it.
            parts.append(f"{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_size}:{st.st_ino}")
    return "|".join(parts)


def index_path(catalog_dir: str | Path) -> str:
    return os.path.join(catalog_dir, INDEX_NAME)


def summary_path(catalog_dir: str | Path) -> str:
    return os.path.join(catalog_dir, SUMMARY_NAME)


def read_summary(catalog_dir: str | Path) -> dict[str, Any]:
    """Both catalogs' version / date / entry count (or error), for `ping`: from the small
    summary file when it is current, else from the (rebuilt if needed) index."""
    try:
        with open(summary_path(catalog_dir), encoding="utf-8") as handle:
            data = jsonfast.loads(handle.read())
        if data["signature"] == catalog_signature(catalog_dir):
            summary: dict[str, Any] = data["summary"]
            return summary
    except (OSError, ValueError, KeyError, TypeError):
        pass
    from host.catalog.index import open_index  # deferred: sqlite3 costs a cold start ~2 ms

    index = open_index(catalog_dir)
    try:
        write_summary(catalog_dir, index.signature, index.summary)  # the next ping reads it
        return index.summary
    finally:
        index.close()


def write_summary(catalog_dir: str | Path, signature: str, summary: dict[str, Any]) -> None:
    """The small file `ping` reads instead of opening the index (best effort)."""
    import tempfile

    try:
        fd, temp_name = tempfile.mkstemp(prefix=SUMMARY_NAME + ".", suffix=".tmp", dir=catalog_dir)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(jsonfast.dumps({"signature": signature, "summary": summary}))
        os.replace(temp_name, summary_path(catalog_dir))
    except OSError:
        pass
