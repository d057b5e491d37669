"""A read-only index of both catalogs, in one binary file rebuilt only when a catalog changes.

Why: every `sendNativeMessage` starts a new host process, and parsing a 50,000-entry catalog
costs far more than the interpreter start. The index holds, per CivitAI version id, the record
`map` / `lookup` return (host.catalog.views; without the on-disk status, which is checked
live), keyed by the catalog files' signature (host.catalog.layout). A stale index is rebuilt
from the files; after a write, host.catalog.transaction rebuilds it from the documents it just
saved. The file is replaced atomically (host.atomicfile), so concurrent processes never see
half of one; readers map it (mmap) and binary-search it, so a lookup reads a few pages whatever the
catalog size. Stdlib only.

File layout (little-endian):
    MAGIC, u32 header length, header JSON {"signature", "summary", "dests", "counts"},
    versions by id:      n × (u64 version id, u32 record offset, u32 record length), sorted
    versions in order:   n × the same, in catalog order (models.json first)
    models by id:        m × (u64 model id, u32 first slot, u32 slot count), sorted
    model slots:         the version ids of each model, u64 each, in catalog order
    records:             the JSON records, one after another
"""

from __future__ import annotations

import mmap
import os
import struct

from host import jsonfast
from host.catalog.layout import (
    CATALOG_NAMES,
    INDEX_FORMAT,
    catalog_file,
    catalog_signature,
    index_path,
    summary_ok,
)
from host.catalog.views import entry_record, reply_safe
from host.errors import CatalogCorruptError, IndexDamagedError
from host.regularfile import open_regular

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds in every cold start
    from collections.abc import Iterable
    from pathlib import Path
    from typing import Any

    from host.catalog.document import Document

MAGIC = f"catalog-host index {INDEX_FORMAT}\n".encode()
_SLOT = struct.Struct("<QII")  # id, offset or first slot, length or count
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


def _summary(
    catalog_dir: str | Path, docs: dict[str, Document | None], errors: dict[str, str]
) -> dict[str, Any]:
    """Per catalog: version, date, entry count and whether the file exists; or its error."""
    from host.catalog.document import entries

    catalogs: dict[str, Any] = {}
    for name in CATALOG_NAMES:
        doc = docs.get(name)
        if doc is None:
            # bounded like a record's text: lookup and map replies carry it (catalog_errors)
            catalogs[name] = {"error": reply_safe(errors.get(name, "unreadable"))}
        elif not os.path.exists(catalog_file(catalog_dir, name)):
            catalogs[name] = {"exists": False, "version": None, "date": None, "entries": 0}
        else:
            count = sum(1 for _ in entries(doc))
            catalogs[name] = {
                "exists": True,
                "version": reply_safe(doc.get("version")),
                "date": reply_safe(doc.get("date")),
                "entries": count,
            }
    return catalogs


def build_index_bytes(signature: str, summary: dict[str, Any], docs: dict[str, Document | None]) -> bytes:
    """The whole index file for these documents."""
    from host.catalog.document import entries, version_id_of

    ordered: list[tuple[int, bytes]] = []  # (version id, record JSON) in catalog order
    by_model: dict[int, list[int]] = {}
    dests: set[str] = set()
    seen: set[str] = set()
    for name in CATALOG_NAMES:  # models first: after a promote cut in half, the entry
        doc = docs.get(name)  # still shows in models.json, where promote finishes it
        if doc is None:
            continue
        for _, entry in entries(doc):
            vid = version_id_of(entry)
            if vid is None or vid in seen:
                continue
            seen.add(vid)
            record = entry_record(entry, name)
            ordered.append((int(vid), jsonfast.dumps(record).encode("utf-8")))
            if record["civitai_model_id"] is not None:
                by_model.setdefault(int(record["civitai_model_id"]), []).append(int(vid))
            dest = record.get("dest_whole", record["dest"])  # the real folder, for the map etag
            dests.add(dest if isinstance(dest, str) else "")
    offsets: list[tuple[int, int, int]] = []
    position = 0
    for number, blob in ordered:
        offsets.append((number, position, len(blob)))
        position += len(blob)
    slots: list[int] = []
    models: list[tuple[int, int, int]] = []
    for mid in sorted(by_model):
        models.append((mid, len(slots), len(by_model[mid])))
        slots.extend(by_model[mid])
    header = jsonfast.dumps({
        "signature": signature,
        "summary": summary,
        "dests": sorted(dests),
        "counts": [len(ordered), len(models), len(slots), position],
    }).encode("utf-8")
    parts = [MAGIC, _U32.pack(len(header)), header]
    parts += [_SLOT.pack(*row) for row in sorted(offsets)]
    parts += [_SLOT.pack(*row) for row in offsets]
    parts += [_SLOT.pack(*row) for row in models]
    parts += [_U64.pack(vid) for vid in slots]
    parts += [blob for _, blob in ordered]
    return b"".join(parts)


def _damaged(why: str) -> ValueError:
    return ValueError(f"damaged catalog-host index: {why}")


def _header(data: mmap.mmap | bytes) -> tuple[int, dict[str, Any]]:
    """(where the tables start, the header), checked field by field: the file is a cache that
    anything may have written, so well-formed JSON of the wrong types is damage too."""
    start = len(MAGIC)
    if data[:start] != MAGIC:
        raise _damaged("not a catalog-host index of this format")
    (size,) = _U32.unpack_from(data, start)
    header = jsonfast.loads(bytes(data[start + 4 : start + 4 + size]).decode("utf-8"))
    if not isinstance(header, dict):
        raise _damaged("the header is not an object")
    counts = header.get("counts")
    dests = header.get("dests")
    if not (isinstance(counts, list) and len(counts) == 4
            and all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**32 for n in counts)):
        raise _damaged("the table sizes are not four counts")
    if not isinstance(header.get("signature"), str):
        raise _damaged("the signature is not text")
    if not (isinstance(dests, list) and all(isinstance(d, str) for d in dests)):
        raise _damaged("the dest folders are not a list of text")
    if not summary_ok(header.get("summary")):
        raise _damaged("the catalogs' summary is not of its shape")
    return start + 4 + size, header


class CatalogIndex:
    """Read access to an index (a mapped file, or bytes built in memory).

    Opening checks the header and that the tables fill the file exactly (ValueError if not:
    the caller rebuilds). A row pointing outside its table is found when it is read: the
    file is then deleted and IndexDamagedError raised (rebuilt by the next request)."""

    def __init__(self, data: mmap.mmap | bytes, path: str | None = None) -> None:
        self._data = data
        self._path = path  # the file it was read from, if any
        tables, header = _header(data)
        self.signature: str = header["signature"]
        self.summary: dict[str, Any] = header["summary"]
        # distinct dest folders of indexed entries: their mtimes make up the map etag
        self.dests: list[str] = header["dests"]
        self.count, models, slots, records_size = header["counts"]
        self._by_id = tables
        self._in_order = self._by_id + self.count * _SLOT.size
        self._models = self._in_order + self.count * _SLOT.size
        self._model_count = models
        self._slots = self._models + models * _SLOT.size
        self._slot_count = slots
        self._records = self._slots + slots * _U64.size
        self._records_size = records_size
        if self._records + records_size != len(data):
            raise _damaged("truncated or padded")

    def close(self) -> None:
        if isinstance(self._data, mmap.mmap):
            self._data.close()

    def catalog_errors(self) -> dict[str, str]:
        """Catalog name -> why it could not be read, for each catalog that could not be (its
        entries are then not in the index: reads answer from the other one)."""
        return {name: self.summary[name]["error"] for name in CATALOG_NAMES if "error" in self.summary[name]}

    def require_readable(self) -> None:
        """Raise CatalogCorruptError if either catalog file could not be read (for writes,
        which need both)."""
        for name, error in self.catalog_errors().items():
            raise CatalogCorruptError(error, catalog=name)

    def _find(self, table: int, count: int, key: int) -> tuple[int, int] | None:
        """Binary search a sorted (id, a, b) table; (a, b) of the row with that id."""
        low, high = 0, count
        while low < high:
            middle = (low + high) // 2
            found, a, b = _SLOT.unpack_from(self._data, table + middle * _SLOT.size)
            if found == key:
                return a, b
            if found < key:
                low = middle + 1
            else:
                high = middle
        return None

    def _record_bytes(self, offset: int, length: int) -> bytes:
        if offset + length > self._records_size:
            raise self._damaged()
        start = self._records + offset
        return bytes(self._data[start : start + length])

    def decode(self, blob: bytes) -> dict[str, Any]:
        """A record's JSON as the record object (IndexDamagedError when it is not one)."""
        try:
            record = jsonfast.loads(blob.decode("utf-8"))
        except ValueError as exc:  # includes UnicodeDecodeError
            raise self._damaged() from exc
        if not isinstance(record, dict) or not isinstance(record.get("civitai_model_id"), (str, type(None))):
            raise self._damaged()
        return record

    def _damaged(self) -> IndexDamagedError:
        """Delete the index file (the next request rebuilds it) and say so."""
        if self._path is not None:
            try:
                os.unlink(self._path)
            except OSError:
                pass
        return IndexDamagedError("the catalog's read index was damaged; it was removed and is "
                                 "rebuilt on the next request: try again")

    def records(self, version_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The record of each of these (canonical) version ids that is in the catalogs."""
        found: dict[str, dict[str, Any]] = {}
        for vid in version_ids:
            row = self._find(self._by_id, self.count, int(vid))
            if row is not None:
                found[vid] = self.decode(self._record_bytes(*row))
        return found

    def versions_of_models(self, model_ids: Iterable[str], limit: int) -> dict[str, list[str]]:
        """Each model id -> its first `limit` version ids in the catalogs, in catalog order."""
        result: dict[str, list[str]] = {}
        for mid in model_ids:
            row = self._find(self._models, self._model_count, int(mid))
            first, count = row if row is not None else (0, 0)
            if first + count > self._slot_count:
                raise self._damaged()
            result[mid] = [
                str(_U64.unpack_from(self._data, self._slots + (first + k) * _U64.size)[0])
                for k in range(min(count, limit))
            ]
        return result

    def rows_after(self, position: int, limit: int) -> list[tuple[int, str, bytes]]:
        """(position, version id, record JSON) in catalog order, after `position` (1-based)."""
        rows = []
        for index in range(position, min(position + limit, self.count)):
            vid, offset, length = _SLOT.unpack_from(self._data, self._in_order + index * _SLOT.size)
            rows.append((index + 1, str(vid), self._record_bytes(offset, length)))
        return rows


def _build(catalog_dir: str | Path, signature: str, docs: dict[str, Document | None],
           errors: dict[str, str]) -> CatalogIndex:
    """Build the index, write it into place, and return it. When it cannot be written (a
    read-only folder, or Windows refusing to replace a file another process has open), the
    index is used from memory this time and the next process tries again."""
    from host.atomicfile import write_atomically

    summary = _summary(catalog_dir, docs, errors)
    data = build_index_bytes(signature, summary, docs)
    try:
        write_atomically(index_path(catalog_dir), data, durable=False)  # a cache: no fsync
    except OSError:
        pass
    return CatalogIndex(data)


def rebuild_from_documents(
    catalog_dir: str | Path, docs: dict[str, Document], signature: str
) -> dict[str, Any]:
    """After a write: index exactly what was saved, under the signature the files had right
    after saving (taken inside the lock); the catalogs' summary. If another process has
    written since, that signature no longer matches the files and readers rebuild: never a
    stale answer."""
    index = _build(catalog_dir, signature, dict(docs), {})
    index.close()
    return index.summary


def _rebuild_from_files(catalog_dir: str | Path) -> CatalogIndex:
    from pathlib import Path

    from host.catalog.store import read_document  # deferred: a current index never needs it

    signature = catalog_signature(catalog_dir)  # taken before reading: a later write
    docs: dict[str, Document | None] = {}  # changes it, so it is never stale-but-trusted
    errors: dict[str, str] = {}
    for name in CATALOG_NAMES:
        try:
            docs[name] = read_document(Path(catalog_file(catalog_dir, name)))
        except CatalogCorruptError as exc:
            docs[name] = None
            errors[name] = exc.message
    return _build(catalog_dir, signature, docs, errors)


def _open_cached(catalog_dir: str | Path) -> CatalogIndex | None:
    """The index file if it exists, is intact and matches the catalog files now."""
    try:
        fd = open_regular(index_path(catalog_dir))  # never blocks on a FIFO put there
    except OSError:  # absent, unreadable, or not a regular file: rebuilt (and replaced)
        return None
    try:
        data = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # empty (mmap refuses size 0)
        return None
    finally:
        os.close(fd)
    try:
        index = CatalogIndex(data, index_path(catalog_dir))
    except (ValueError, RecursionError, struct.error):  # ValueError: also bad JSON or UTF-8
        data.close()  # damaged or of another format: rebuilt by the caller
        return None
    if index.signature != catalog_signature(catalog_dir):
        index.close()
        return None
    return index


def open_index(catalog_dir: str | Path) -> CatalogIndex:
    """The index for `catalog_dir`, rebuilt first if either catalog file has changed."""
    return _open_cached(catalog_dir) or _rebuild_from_files(catalog_dir)
