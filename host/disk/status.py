"""Where an entry's file is, for `lookup` and `map`: present, elsewhere, missing; and the
untracked versions a scan found on disk. Stdlib only (cold read path).

Status is never cached: each answer stats the candidate files live. The scan results only
say which files to look at (by SHA256 or by identified version); a file that has since gone
or changed size is not reported.
"""

from __future__ import annotations

import os
import stat

from host import jsonfast
from host.catalog.views import MAX_RECORD_JSON_BYTES, RECORD_TEXT_FIELDS, reply_safe
from host.disk.folders import load_folders, stat_signature

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds in every cold start
    from typing import Any

    from host.disk.folders import ModelFolders
    from host.disk.scan_index import ScanIndex
    from host.settings import Settings


def _still_there(found: dict[str, Any]) -> bool:
    """The scanned file is still a regular file of the size the scan hashed."""
    try:
        st = os.stat(found["path"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return stat.S_ISREG(st.st_mode) and st.st_size == found.get("size")


def _set_path(record: dict[str, Any], path: str) -> None:
    """`path` in the record, unless the record would then exceed MAX_RECORD_JSON_BYTES (the
    bound that keeps every lookup in one frame): then null. Real records are far smaller."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:  # a name the file system gave as undecodable bytes
        record["path"] = None
        return
    record["path"] = path
    chars = len(path) + sum(len(v) for v in map(record.get, RECORD_TEXT_FIELDS) if isinstance(v, str))
    if chars * 6 + 300 <= MAX_RECORD_JSON_BYTES:  # 6 bytes: the most JSON writes for one character
        return
    if len(jsonfast.dumps(record).encode("utf-8")) > MAX_RECORD_JSON_BYTES:
        record["path"] = None


class DiskView:
    """The model folders in force and the last scan's results, opened once per request."""

    __slots__ = ("_scan", "_scan_loaded", "catalog_dir", "folders")

    def __init__(self, folders: ModelFolders, catalog_dir: str) -> None:
        self.folders = folders
        self.catalog_dir = catalog_dir
        self._scan: ScanIndex | None = None
        self._scan_loaded = False

    @classmethod
    def of(cls, settings: Settings) -> DiskView:
        return cls(load_folders(settings), settings.catalog_dir)

    @property
    def scan(self) -> ScanIndex | None:
        if not self._scan_loaded:  # opened (and imported) only when a file is not where its entry says
            from host.disk.scan_index import open_scan_index

            self._scan = open_scan_index(self.catalog_dir)
            self._scan_loaded = True
        return self._scan

    def close(self) -> None:
        if self._scan is not None:
            self._scan.close()

    def signature(self) -> str:
        """Part of the map etag: the folders in force and the scan results file."""
        from host.disk.scan_index import scan_path

        return f"{self.folders.extras!r}|{stat_signature(scan_path(self.catalog_dir))}"

    def _elsewhere(self, version_id: str, record: dict[str, Any], sha256: object) -> str | None:
        scan = self.scan
        if scan is None:
            return None
        try:
            if isinstance(sha256, str) and sha256:
                candidates = scan.files_with_sha256(sha256)
            else:  # an entry without a hash: a file CivitAI identified as this version, same name
                same = scan.files_of_version(version_id)
                candidates = [f for f in same if f.get("file") == record.get("file")]
        except ValueError:  # a damaged scan file: as if there were none; the next scan rewrites it
            return None
        for found in candidates:
            if _still_there(found):
                return str(found["path"])
        return None

    def with_status(self, version_id: str, record: dict[str, Any]) -> dict[str, Any]:
        """`present` + path, `elsewhere` + path, or `missing`. Pops the record's internal
        fields (host.catalog.views.entry_record)."""
        sha256 = record.pop("hash", None)
        record.pop("file_id", None)
        path = self.folders.locate(record.pop("dest_whole", record.get("dest")), record.get("file"))
        if path is not None:
            record["status"] = "present"
            _set_path(record, path)
            return record
        path = self._elsewhere(version_id, record, sha256)
        if path is not None:
            record["status"] = "elsewhere"
            _set_path(record, path)
        else:
            record["status"] = "missing"
        return record

    def scanned_file(self, version_id: str) -> dict[str, Any] | None:
        """The scan's record of a file identified as this version that is still on disk."""
        scan = self.scan
        if scan is None:
            return None
        try:
            candidates = scan.files_of_version(version_id)
        except ValueError:
            return None
        return next((found for found in candidates if _still_there(found)), None)

    def untracked(self, version_id: str) -> dict[str, Any] | None:
        """The record of a version in no catalog whose file the last scan found."""
        found = self.scanned_file(version_id)
        if found is None:
            return None
        record = {
            "file": reply_safe(found.get("file")),
            "dest": reply_safe(found.get("dest")),
            "name": None,
            "base_model": None,
            "status": "untracked",
            "catalog": None,
            "civitai_model_id": reply_safe(found.get("model_id")),
        }
        _set_path(record, str(found.get("path")))
        return record
