"""A read-only index of both catalogs, cached in SQLite and rebuilt only when a file changes.

Why: every `sendNativeMessage` starts a new host process, and parsing a 50,000-entry catalog
costs far more than the interpreter start. The index holds, per CivitAI version id, the
fields `map` / `lookup` return (without the on-disk status, which is checked live), keyed
by the catalog files' (mtime, size, inode) signature. A stale index is rebuilt from the
files; a write rebuilds it from the documents it just saved. The cache is disposable: it is
built in a temp file and renamed into place, so concurrent processes never see half of one.
It lives beside the catalogs (`.catalog-host-index.sqlite`), so every host process using
that folder shares it, and finding it needs no platform lookup. Stdlib only (sqlite3).
"""

from __future__ import annotations

import os
import sqlite3

from host import jsonfast
from host.catalog.ids import canonical_id
from host.catalog.layout import (
    CATALOG_NAMES,
    INDEX_NAME,
    catalog_file,
    catalog_signature,
    index_path,
    write_summary,
)
from host.errors import CatalogCorruptError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds in every cold start
    from collections.abc import Iterable, Iterator
    from pathlib import Path
    from typing import Any

    from host.catalog.document import Document

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE versions (seq INTEGER PRIMARY KEY, vid TEXT NOT NULL UNIQUE, mid TEXT,
                       dest TEXT NOT NULL, file TEXT, record TEXT NOT NULL);
CREATE INDEX versions_mid ON versions (mid, seq);
"""
# SQLite allows 999+ host parameters; stay well under it for `IN (...)` queries.
_MAX_PARAMS = 500


def _read_only_uri(path: str) -> str:
    """SQLite URI opening `path` read-only (characters with a meaning in URIs escaped)."""
    text = os.path.abspath(path).replace(os.sep, "/")
    text = text.replace("%", "%25").replace("?", "%3f").replace("#", "%23")
    return "file:" + ("" if text.startswith("/") else "/") + text + "?mode=ro"


def entry_record(entry: dict[str, Any], catalog: str) -> dict[str, Any]:
    """The fields map/lookup report for an entry (status is added at answer time)."""
    base_model = entry.get("base_model")
    if base_model is None:
        base_model = entry.get("civitai_base_model")
    return {
        "file": entry.get("file"),
        "dest": entry.get("dest"),
        "name": entry.get("name"),
        "base_model": base_model,
        "catalog": catalog,
        "civitai_model_id": canonical_id(entry.get("civitai_model_id")),
    }


def _summary(
    catalog_dir: str | Path, docs: dict[str, Document | None], errors: dict[str, str]
) -> dict[str, Any]:
    """Per catalog: version, date, entry count and whether the file exists; or its error."""
    from host.catalog.document import entries

    catalogs: dict[str, Any] = {}
    for name in CATALOG_NAMES:
        doc = docs.get(name)
        if doc is None:
            catalogs[name] = {"error": errors.get(name, "unreadable")}
        elif not os.path.exists(catalog_file(catalog_dir, name)):
            catalogs[name] = {"exists": False, "version": None, "date": None, "entries": 0}
        else:
            count = sum(1 for _ in entries(doc))
            catalogs[name] = {
                "exists": True,
                "version": doc.get("version"),
                "date": doc.get("date"),
                "entries": count,
            }
    return catalogs


def _rows(docs: dict[str, Document | None]) -> Iterator[tuple[str, str | None, str, Any, str]]:
    from host.catalog.document import entries, version_id_of

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
            dest = record["dest"] if isinstance(record["dest"], str) else ""
            yield vid, record["civitai_model_id"], dest, record["file"], jsonfast.dumps(record)


def _write_index(
    conn: sqlite3.Connection, signature: str, summary: dict[str, Any], docs: dict[str, Document | None]
) -> None:
    conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
    conn.executemany(
        "INSERT INTO versions (vid, mid, dest, file, record) VALUES (?, ?, ?, ?, ?)", _rows(docs)
    )
    dests = [row[0] for row in conn.execute("SELECT DISTINCT dest FROM versions ORDER BY dest")]
    conn.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        [("signature", signature), ("summary", jsonfast.dumps(summary)), ("dests", jsonfast.dumps(dests))],
    )
    conn.commit()


def _in_memory(
    signature: str, summary: dict[str, Any], docs: dict[str, Document | None]
) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    _write_index(conn, signature, summary, docs)
    return conn


def _build(
    catalog_dir: str | Path, signature: str, docs: dict[str, Document | None], errors: dict[str, str]
) -> sqlite3.Connection:
    """Build a fresh index file and move it into place; in memory if that cannot be done."""
    import tempfile  # deferred: only a rebuild needs it

    summary = _summary(catalog_dir, docs, errors)
    target = index_path(catalog_dir)
    try:
        fd, temp_name = tempfile.mkstemp(prefix=INDEX_NAME + ".", suffix=".tmp", dir=catalog_dir)
        os.close(fd)
    except OSError:  # e.g. a read-only catalog folder: answer from memory
        return _in_memory(signature, summary, docs)
    try:
        conn = sqlite3.connect(temp_name)
        _write_index(conn, signature, summary, docs)
        conn.close()
        os.replace(temp_name, target)
    except (OSError, sqlite3.Error):
        # e.g. Windows refuses to replace a file another process has open: answer from
        # memory this time; the next process will try the cache again.
        try:
            os.unlink(temp_name)
        except OSError:
            pass
        return _in_memory(signature, summary, docs)
    write_summary(catalog_dir, signature, summary)
    return sqlite3.connect(_read_only_uri(target), uri=True)


def rebuild_from_documents(catalog_dir: str | Path, docs: dict[str, Document]) -> None:
    """After a write (inside the lock): index exactly what was just saved."""
    _build(catalog_dir, catalog_signature(catalog_dir), dict(docs), {}).close()


def _rebuild_from_files(catalog_dir: str | Path) -> sqlite3.Connection:
    from pathlib import Path

    from host.catalog.store import read_document

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


def _open_cached(catalog_dir: str | Path) -> sqlite3.Connection | None:
    path = index_path(catalog_dir)
    if not os.path.exists(path):
        return None
    try:
        conn = sqlite3.connect(_read_only_uri(path), uri=True)
        row = conn.execute("SELECT value FROM meta WHERE key = 'signature'").fetchone()
    except sqlite3.Error:
        return None
    if row is None or row[0] != catalog_signature(catalog_dir):
        conn.close()
        return None
    return conn


class CatalogIndex:
    """Read access to the index of one catalog folder."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        self.signature: str = meta["signature"]
        self.summary: dict[str, Any] = jsonfast.loads(meta["summary"])
        # distinct dest folders of indexed entries: their mtimes make up the map etag
        self.dests: list[str] = jsonfast.loads(meta["dests"])

    def close(self) -> None:
        self._conn.close()

    def require_readable(self) -> None:
        """Raise CatalogCorruptError if either catalog file could not be read."""
        for name in CATALOG_NAMES:
            error = self.summary[name].get("error")
            if error:
                raise CatalogCorruptError(error, catalog=name)

    def records(self, version_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = list(dict.fromkeys(version_ids))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), _MAX_PARAMS):
            chunk = wanted[start : start + _MAX_PARAMS]
            marks = ",".join("?" * len(chunk))
            for vid, record in self._conn.execute(
                f"SELECT vid, record FROM versions WHERE vid IN ({marks})", chunk
            ):
                found[vid] = jsonfast.loads(record)
        return found

    def versions_of_models(self, model_ids: Iterable[str]) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {mid: [] for mid in model_ids}
        wanted = list(result)
        for start in range(0, len(wanted), _MAX_PARAMS):
            chunk = wanted[start : start + _MAX_PARAMS]
            marks = ",".join("?" * len(chunk))
            for mid, vid in self._conn.execute(
                f"SELECT mid, vid FROM versions WHERE mid IN ({marks}) ORDER BY seq", chunk
            ):
                result[mid].append(vid)
        return result

    def rows_after(self, seq: int, limit: int) -> list[tuple[int, str, str]]:
        """(seq, vid, record JSON) in catalog order, after position `seq`."""
        return self._conn.execute(
            "SELECT seq, vid, record FROM versions WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, limit),
        ).fetchall()


def open_index(catalog_dir: str | Path) -> CatalogIndex:
    """The index for `catalog_dir`, rebuilt first if either catalog file has changed."""
    conn = _open_cached(catalog_dir) or _rebuild_from_files(catalog_dir)
    return CatalogIndex(conn)
