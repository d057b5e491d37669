"""Catalog files on disk: read, one cross-process lock, atomic write with a backup.

The only module that writes a catalog file; handlers use it through host.catalog.transaction.
Crash safety: a change is written to a temp file in the same folder, fsynced, then atomically
renamed over the old file, so at every instant the file is either the old or the new version.
The previous version is kept as `<name>.bak`. Concurrency: one lock file per catalog folder
(filelock: an OS lock the kernel drops when a process dies, so a crash never leaves a stale
lock); a read-modify-write happens entirely inside it. Network calls never happen while holding it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from host.atomicfile import remove_dead_temps, write_atomically
from host.catalog.document import Document, empty_document, shape_problem
from host.catalog.layout import CATALOG_NAMES, INDEX_NAME, SUMMARY_NAME
from host.catalog.pretty import pretty_json
from host.errors import CatalogBusyError, CatalogCorruptError, CatalogWriteError
from host.regularfile import read_regular

LOCK_NAME = ".catalog-host.lock"
# How long an operation waits for another host process to finish its write.
LOCK_TIMEOUT_S = 15.0


_BOM = b"\xef\xbb\xbf"


class FileStyle:
    """How a catalog file writes what pretty_json does not decide: line ends, a final line
    end, a UTF-8 byte-order mark. A save keeps the file's own, so that only the lines an
    operation changed differ (a CRLF file rewritten in LF is a diff of every line)."""

    __slots__ = ("bom", "final_newline", "newline")

    def __init__(self, newline: str = "\n", final_newline: bool = True, bom: bool = False) -> None:
        self.newline = newline
        self.final_newline = final_newline
        self.bom = bom

    @classmethod
    def of(cls, raw: bytes) -> FileStyle:
        """The style of a file's bytes (the first line end decides CRLF or LF)."""
        first_end = raw.find(b"\n")
        crlf = first_end > 0 and raw[first_end - 1 : first_end] == b"\r"
        return cls("\r\n" if crlf else "\n", raw.endswith(b"\n"), raw.startswith(_BOM))


DEFAULT_STYLE = FileStyle()  # a new file: what json.dump(indent=2) and ComfyUI Studio write


def read_document(path: Path) -> Document:
    """The parsed catalog; an empty one when the file does not exist.

    Raises CatalogCorruptError when the file does not parse or is not of the catalog shape.
    """
    return read_styled_document(path)[0]


def read_styled_document(path: Path) -> tuple[Document, FileStyle]:
    """read_document, and the style the file is written in (for write_document)."""
    try:
        raw = read_regular(path)  # a FIFO there must not hang the host
    except FileNotFoundError:
        return empty_document(), DEFAULT_STYLE
    except OSError as exc:
        raise CatalogCorruptError(
            f"cannot read {path.name}: {exc.strerror}; it was left untouched", file=str(path)
        ) from exc
    try:
        data = json.loads(raw)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise CatalogCorruptError(
            f"{path.name} is not valid JSON ({exc}); it was left untouched", file=str(path)
        ) from exc
    problem = shape_problem(data)
    if problem:
        raise CatalogCorruptError(
            f"{path.name} is not a catalog ({problem}); it was left untouched", file=str(path)
        )
    assert isinstance(data, dict)
    return data, FileStyle.of(raw)


def serialize(doc: Document, style: FileStyle = DEFAULT_STYLE) -> bytes:
    """UTF-8, 2-space indent, non-ASCII kept as is; line ends, a final one and a BOM as the
    file had them (a new file: LF, a final newline, no BOM). JSON strings never hold a raw
    line end (it is escaped), so every "\n" in pretty_json's text is a line end.

    A lone surrogate (JSON's "\\ud800", which Python's json.dump writes for such a string and
    CivitAI may send) cannot be UTF-8: it is written back as that same escape, which only
    occurs inside a JSON string, so the file stays valid and the value survives. Strict
    encoding failed every later write to the catalog as an internal error.
    """
    text = pretty_json(doc) + ("\n" if style.final_newline else "")
    if style.newline != "\n":
        text = text.replace("\n", style.newline)
    data = text.encode("utf-8", "backslashreplace")
    return _BOM + data if style.bom else data


def _keep_backup(path: Path, backup: Path) -> None:
    """Make `backup` the current version of `path`, atomically.

    A hard link to the current file costs nothing however big the catalog (the save that
    follows replaces `path` with a new file, so the linked one is never written again); where
    links are not supported (FAT, some network shares), a copy."""
    import tempfile

    with suppress(OSError):
        if os.path.samefile(path, backup):  # a write killed before replacing `path`
            return
    link_name = tempfile.mktemp(prefix=f".{backup.name}.", suffix=".tmp", dir=backup.parent)
    try:
        os.link(path, link_name)
    except OSError:
        write_atomically(backup, path.read_bytes())
        return
    try:
        os.replace(link_name, backup)
    finally:
        # rename() between two links of one file succeeds and does nothing (POSIX), which
        # would leave the temp name behind
        with suppress(FileNotFoundError):
            os.unlink(link_name)


def write_document(path: Path, doc: Document, style: FileStyle = DEFAULT_STYLE) -> None:
    """Save `doc` atomically, keeping the current file as `<name>.bak`.

    The backup is made only once the new version is written and synced: a write that fails
    (disk full) leaves the previous `.bak` in place. A catalog that is a symlink (to ComfyUI
    Studio's own file, say) is written through the link: replacing the link itself would
    silently fork the shared catalog."""
    path = Path(os.path.realpath(path))

    def backup() -> None:
        if path.exists():
            _keep_backup(path, path.with_name(path.name + ".bak"))

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # keeps the mode of the file it replaces; the backup only once the new data is on disk
        write_atomically(path, serialize(doc, style), before_rename=backup)
    except OSError as exc:
        raise CatalogWriteError(
            f"could not write {path.name}: {exc.strerror or exc}; the previous file is intact",
            file=str(path),
        ) from exc


@contextmanager
def catalog_lock(catalog_dir: str | Path, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the catalog folder's lock (one for both files)."""
    import filelock  # deferred: only writes need it

    catalog_dir = Path(catalog_dir)
    try:
        catalog_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CatalogWriteError(f"cannot create the catalog folder {catalog_dir}: {exc}") from exc
    lock = filelock.FileLock(str(catalog_dir / LOCK_NAME), timeout=timeout)
    try:
        lock.acquire()
    except filelock.Timeout as exc:
        raise CatalogBusyError(
            f"another catalog-host process kept the catalog locked for over {timeout:.0f} s"
        ) from exc
    except OSError as exc:  # a read-only folder, or a lock path that is not a file
        raise CatalogWriteError(
            f"cannot lock the catalog folder {catalog_dir}: {exc.strerror or exc}",
            file=str(catalog_dir / LOCK_NAME),
        ) from exc
    try:
        yield
    finally:
        lock.release()


def remove_leftovers(catalog_dir: Path) -> None:
    """Delete the temp files of writes that were killed mid-way.

    A process killed inside write_atomically leaves its `.models.json.XXXXXXXX.tmp` (or
    `.models.json.bak.XXXXXXXX.tmp`), as big as the catalog, in the user's folder for good;
    one killed while writing the read index leaves `.catalog-host-index.XXXXXXXX.tmp` (Chrome
    kills a host 2 s after closing its stdin). Catalog temps are only made under the lock we
    hold, so every one that exists is a dead process's. An index or summary temp may be a live
    reader's (readers build outside the lock): deleting it only makes that reader's rename
    fail, and it then answers from the index in memory, as it does for any unwritable index.
    Other files in the folder (the job file, written under its own lock) are not touched: their
    temps may be a live writer's, whose rename would fail (host.jobs.state sweeps the job
    file's under the job lock).
    """
    names = [f"{catalog}.json{bak}" for catalog in CATALOG_NAMES for bak in ("", ".bak")]
    remove_dead_temps(catalog_dir, [*names, INDEX_NAME, SUMMARY_NAME])
