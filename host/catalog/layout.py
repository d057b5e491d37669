"""The names of the files in the catalog folder, the catalogs' change signature, and the shape
of the catalogs' summary that the index and the summary file keep (checked when read back).

A leaf: stdlib only, imports no other catalog module, opens no file (one stat per catalog).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # pathlib costs milliseconds in every cold start
    from pathlib import Path

CATALOG_NAMES = ("models", "loras")
INDEX_NAME = ".catalog-host-index"
# no .json suffix: tools that load every *.json in the folder as a catalog must skip it
SUMMARY_NAME = ".catalog-host-summary"

# The format of the read index and the summary (their layout and record fields). It is part
# of the signature both are keyed by, so bumping it makes every older copy stale.
INDEX_FORMAT = "10"


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


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _catalog_summary_ok(value: object) -> bool:
    """One catalog's part of a summary: {"error": text} or exists / version / date / entries."""
    if not isinstance(value, dict):
        return False
    if "error" in value:
        return isinstance(value["error"], str) and len(value) == 1
    version = value.get("version")
    return (
        isinstance(value.get("exists"), bool)
        and (version is None or (isinstance(version, int) and not isinstance(version, bool)))
        and (value.get("date") is None or isinstance(value.get("date"), str))
        and _is_count(value.get("entries"))
    )


def summary_ok(summary: object) -> bool:
    """Whether `summary` (read back from the index or the summary file, which are caches that
    anything may have damaged) is what ping reports: one valid part per catalog."""
    return (
        isinstance(summary, dict)
        and len(summary) == len(CATALOG_NAMES)
        and all(_catalog_summary_ok(summary.get(name)) for name in CATALOG_NAMES)
    )
