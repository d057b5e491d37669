"""The hash cache beside the catalogs: each model file's hashes, keyed by path, size, mtime and
inode, and what CivitAI said each SHA256 is.

A file is hashed again only when one of its four keys changed. The cache is one JSON file
written whole (temp file + fsync + rename, host.atomicfile), so a scan killed at any moment
leaves the previous complete cache or the new complete one, never half of one; the scan
saves it every few seconds, so a killed scan keeps what it finished. A cache that does not
decode is set aside (renamed *.damaged) and the scan starts from nothing.
"""

from __future__ import annotations

import os
import time
from typing import Any

from host import jsonfast
from host.atomicfile import write_atomically

HASHES_NAME = ".catalog-host-hashes"
_FORMAT = 1
# A hash CivitAI did not know is asked about again after this long (a new upload may match).
RECHECK_UNKNOWN_S = 24 * 3600


def hashes_path(catalog_dir: str) -> str:
    return os.path.join(catalog_dir, HASHES_NAME)


class HashCache:
    def __init__(self, path: str) -> None:
        self.path = path
        # path -> [size, mtime_ns, inode, sha256, autov3 or None]
        self.files: dict[str, list[Any]] = {}
        # sha256 -> [version id or None, model id or None, unix time asked]
        self.ids: dict[str, list[Any]] = {}
        self.damaged = False
        self.dirty = False

    @classmethod
    def load(cls, catalog_dir: str) -> HashCache:
        cache = cls(hashes_path(catalog_dir))
        try:
            with open(cache.path, "rb") as handle:
                raw = handle.read()
        except FileNotFoundError:
            return cache
        try:
            data = jsonfast.loads(raw.decode("utf-8"))
            if data["format"] != _FORMAT:
                raise ValueError("another format")
            files, ids = data["files"], data["ids"]
            if not (isinstance(files, dict) and isinstance(ids, dict)):
                raise ValueError("not a cache")
        except (ValueError, KeyError, TypeError):
            cache.damaged = True
            try:
                os.replace(cache.path, cache.path + ".damaged")
            except OSError:
                pass
            return cache
        cache.files = {p: row for p, row in files.items() if isinstance(row, list) and len(row) == 5}
        cache.ids = {h: row for h, row in ids.items() if isinstance(row, list) and len(row) == 3}
        return cache

    def hashes(self, path: str, size: int, mtime_ns: int, ino: int) -> tuple[str, str | None] | None:
        """(sha256, autov3) when the file is unchanged since it was hashed, else None."""
        row = self.files.get(path)
        if row is None or row[0] != size or row[1] != mtime_ns or row[2] != ino:
            return None
        return str(row[3]), row[4]

    def store(self, path: str, size: int, mtime_ns: int, ino: int, sha256: str, autov3: str | None) -> None:
        self.files[path] = [size, mtime_ns, ino, sha256, autov3]
        self.dirty = True

    def keep_only(self, paths: set[str]) -> None:
        """Forget files no longer on disk (after a complete walk)."""
        gone = [p for p in self.files if p not in paths]
        for path in gone:
            del self.files[path]
        self.dirty = self.dirty or bool(gone)

    def identity(self, sha256: str) -> tuple[str | None, str | None] | None:
        """(version id, model id) CivitAI gave for this hash ((None, None) = unknown to it),
        or None when it must be asked (never asked, or an unknown answer grown old)."""
        row = self.ids.get(sha256)
        if row is None:
            return None
        if row[0] is None and time.time() - float(row[2]) > RECHECK_UNKNOWN_S:
            return None
        return row[0], row[1]

    def answers(self) -> dict[str, tuple[str | None, str | None]]:
        """identity() of every hash that needs no asking, at once."""
        stale = time.time() - RECHECK_UNKNOWN_S
        return {sha: (row[0], row[1]) for sha, row in self.ids.items()
                if row[0] is not None or float(row[2]) >= stale}

    def identify(self, sha256: str, version_id: str | None, model_id: str | None) -> None:
        self.ids[sha256] = [version_id, model_id, int(time.time())]
        self.dirty = True

    def save(self) -> None:
        """Write the cache whole (OSError when it cannot be written)."""
        data = {"format": _FORMAT, "files": self.files, "ids": self.ids}
        write_atomically(self.path, jsonfast.dumps(data).encode("utf-8"))
        self.dirty = False
