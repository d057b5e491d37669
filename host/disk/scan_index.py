"""The last scan's results in one binary file beside the catalogs, read like the catalog index.

Stdlib only: `lookup` and `map` read it on the cold path through mmap and binary search, so
10,000 scanned files cost a lookup a few page reads, not a parse. The scan writes it whole
(temp file + rename) when it finishes; a killed scan leaves the previous one in place.

File layout (little-endian):
    MAGIC, u32 header length, header JSON {"counts": [files, identified, records size], "finished",
                                           "digest": of the records, to skip rewriting the same}
    by version:  identified × (u64 version id, u32 record offset, u32 record length), sorted
    by SHA256:   files × (u64 first 8 bytes of the SHA256, u32 offset, u32 length), sorted
    records:     one JSON object per file: {"file", "dest", "path", "sha256", "size",
                 "version_id", "model_id"} (ids are strings or null; sha256 lower-case hex)
"""

from __future__ import annotations

import mmap
import os
import struct

from host import jsonfast

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds in every cold start
    from typing import Any

SCAN_NAME = ".catalog-host-scan"
MAGIC = b"catalog-host scan 1\n"
_ROW = struct.Struct("<QII")
_U32 = struct.Struct("<I")


def scan_path(catalog_dir: str) -> str:
    return os.path.join(catalog_dir, SCAN_NAME)


def _sha_key(sha256: str) -> int | None:
    try:
        return int(sha256[:16], 16) if len(sha256) == 64 else None
    except ValueError:
        return None


def records_digest(files: list[dict[str, Any]]) -> str:
    """Changes whenever any record does (change detection, not security)."""
    import zlib

    data = jsonfast.dumps(files).encode("utf-8")
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}{len(data):x}"


def build_scan_bytes(files: list[dict[str, Any]], finished: str, digest: str = "") -> bytes:
    """The whole file for these file records (see the layout above)."""
    blobs: list[bytes] = []
    by_version: list[tuple[int, int, int]] = []
    by_sha: list[tuple[int, int, int]] = []
    position = 0
    for record in files:
        blob = jsonfast.dumps(record).encode("utf-8")
        blobs.append(blob)
        vid = record.get("version_id")
        if vid is not None:
            by_version.append((int(vid), position, len(blob)))
        key = _sha_key(str(record.get("sha256") or ""))
        if key is not None:
            by_sha.append((key, position, len(blob)))
        position += len(blob)
    header = jsonfast.dumps({"counts": [len(by_sha), len(by_version), position], "finished": finished,
                             "digest": digest})
    head = header.encode("utf-8")
    parts = [MAGIC, _U32.pack(len(head)), head]
    parts += [_ROW.pack(*row) for row in sorted(by_version)]
    parts += [_ROW.pack(*row) for row in sorted(by_sha)]
    parts += blobs
    return b"".join(parts)


class ScanIndex:
    """Read access to a scan results file (mapped, or bytes built in memory)."""

    def __init__(self, data: mmap.mmap | bytes) -> None:
        self._data = data
        start = len(MAGIC)
        if data[:start] != MAGIC:
            raise ValueError("not a catalog-host scan file")
        (size,) = _U32.unpack_from(data, start)
        header = jsonfast.loads(bytes(data[start + 4 : start + 4 + size]).decode("utf-8"))
        self.finished: str = header["finished"]
        self.digest: str = header.get("digest", "")
        self.file_count, self._version_count, records_size = header["counts"]
        self._by_version = start + 4 + size
        self._by_sha = self._by_version + self._version_count * _ROW.size
        self._records = self._by_sha + self.file_count * _ROW.size
        if self._records + records_size != len(data):
            raise ValueError("truncated or padded catalog-host scan file")

    def close(self) -> None:
        if isinstance(self._data, mmap.mmap):
            self._data.close()

    def _matches(self, table: int, count: int, key: int) -> list[dict[str, Any]]:
        """The records of every row with this key in a sorted table."""
        low, high = 0, count
        while low < high:  # the first row whose key is >= key
            middle = (low + high) // 2
            if _ROW.unpack_from(self._data, table + middle * _ROW.size)[0] < key:
                low = middle + 1
            else:
                high = middle
        found = []
        while low < count:
            row_key, offset, length = _ROW.unpack_from(self._data, table + low * _ROW.size)
            if row_key != key:
                break
            start = self._records + offset
            found.append(jsonfast.loads(bytes(self._data[start : start + length]).decode("utf-8")))
            low += 1
        return found

    def files_of_version(self, version_id: str) -> list[dict[str, Any]]:
        return self._matches(self._by_version, self._version_count, int(version_id))

    def files_with_sha256(self, sha256: str) -> list[dict[str, Any]]:
        sha256 = sha256.lower()
        key = _sha_key(sha256)
        if key is None:
            return []
        return [r for r in self._matches(self._by_sha, self.file_count, key) if r.get("sha256") == sha256]

    def version_ids(self) -> list[str]:
        """Every identified version id once, in ascending order."""
        ids: list[str] = []
        last = None
        for k in range(self._version_count):
            vid = _ROW.unpack_from(self._data, self._by_version + k * _ROW.size)[0]
            if vid != last:
                ids.append(str(vid))
                last = vid
        return ids


def open_scan_index(catalog_dir: str) -> ScanIndex | None:
    """The last scan's results, or None when there are none (or the file is damaged)."""
    try:
        with open(scan_path(catalog_dir), "rb") as handle:
            data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # absent, unreadable, or empty
        return None
    try:
        return ScanIndex(data)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, struct.error):
        data.close()
        return None
