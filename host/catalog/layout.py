"""The names of the files in the catalog folder, and the catalogs' change signature.

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
