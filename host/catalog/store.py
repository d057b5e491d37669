"""Catalog files on disk: read, one cross-process lock, atomic write with a backup.

The only module that writes a catalog file. Crash safety: a change is written to a temp file
in the same folder, fsynced, then atomically renamed over the old file, so at every instant
the file is either the old or the new version. The previous version is kept as
`<name>.bak`. Concurrency: one lock file per catalog folder (filelock: an OS lock the kernel
drops when a process dies, so a crash never leaves a stale lock); a read-modify-write
happens entirely inside it. Network calls never happen while holding it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from host.catalog.document import Document, bump, empty_document, shape_problem
from host.catalog.layout import CATALOG_NAMES, catalog_file, catalog_signature, index_path
from host.catalog.pretty import pretty_json
from host.errors import CatalogBusyError, CatalogCorruptError, CatalogWriteError

LOCK_NAME = ".catalog-host.lock"
# How long an operation waits for another host process to finish its write.
LOCK_TIMEOUT_S = 15.0


def read_document(path: Path) -> Document:
    """The parsed catalog; an empty one when the file does not exist.

    Raises CatalogCorruptError when the file does not parse or is not of the catalog shape.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return empty_document()
    except OSError as exc:
        raise CatalogCorruptError(f"cannot read {path.name}: {exc.strerror}", file=str(path)) from exc
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
    return data


def serialize(doc: Document) -> bytes:
    """UTF-8, 2-space indent, non-ASCII kept as is, trailing newline.

    A lone surrogate (JSON's "\\ud800", which Python's json.dump writes for such a string and
    CivitAI may send) cannot be UTF-8: it is written back as that same escape, which only
    occurs inside a JSON string, so the file stays valid and the value survives. Strict
    encoding failed every later write to the catalog as an internal error.
    """
    return (pretty_json(doc) + "\n").encode("utf-8", "backslashreplace")


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable; best effort, like SQLite. It runs after the rename, when the
    new file is already in place: failing the op here (some network and FUSE file systems
    refuse a directory fsync) reported `catalog_write_failed, the previous file is intact`
    for a change that had been made."""
    if os.name != "posix":  # directories cannot be opened for fsync on Windows
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def replace_atomically(path: Path, data: bytes, before_rename: Callable[[], None] | None = None) -> None:
    """Write `data` to a temp file beside `path`, fsync it, rename it over `path`. The new
    file keeps the old one's permission bits (mkstemp makes 0600 files, which would lock
    other accounts or a group out of a shared catalog). `before_rename` runs once the data
    is safely on disk: if writing it fails, nothing else has been touched."""
    import tempfile  # deferred: reads never need it

    try:
        mode: int | None = os.stat(path).st_mode & 0o7777
    except OSError:  # a new file: what open() would have made, 0666 less the umask
        umask = os.umask(0o022)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if mode is not None and hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if before_rename is not None:
            before_rename()
        os.replace(temp_name, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temp_name)
        raise
    _fsync_dir(path.parent)


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
        replace_atomically(backup, path.read_bytes())
        return
    try:
        os.replace(link_name, backup)
    finally:
        # rename() between two links of one file succeeds and does nothing (POSIX), which
        # would leave the temp name behind
        with suppress(FileNotFoundError):
            os.unlink(link_name)


def write_document(path: Path, doc: Document) -> None:
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
        replace_atomically(path, serialize(doc), before_rename=backup)
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


@dataclass
class Transaction:
    """Both catalogs, read inside the lock; `changed` names those to save, in that order."""

    catalog_dir: Path
    docs: dict[str, Document]
    changed: list[str] = field(default_factory=list)

    def path(self, name: str) -> Path:
        return Path(catalog_file(self.catalog_dir, name))

    def mark_changed(self, name: str) -> None:
        """Bump `name` (version + 1, date now) and queue it for saving."""
        bump(self.docs[name])
        if name not in self.changed:
            self.changed.append(name)


@contextmanager
def transaction(catalog_dir: str | Path) -> Iterator[Transaction]:
    """Lock, read both catalogs, let the caller edit, save what it marked changed.

    Files are saved in the order they were marked, so a caller that must never lose an
    entry (promote) marks the destination first. Nothing is saved if the body raises.
    """
    catalog_dir = Path(catalog_dir)
    with catalog_lock(catalog_dir):
        txn = Transaction(catalog_dir, {})
        txn.docs = {name: read_document(txn.path(name)) for name in CATALOG_NAMES}
        yield txn
        if txn.changed:
            _remove_leftovers(catalog_dir)
        for name in txn.changed:
            write_document(txn.path(name), txn.docs[name])
        if txn.changed:
            # The read index is rebuilt from these documents after the reply is sent
            # (run_after_reply): a person waits on the reply, not on the cache.
            _PENDING_INDEX[:] = [(catalog_dir, catalog_signature(catalog_dir), txn.docs)]


_TEMP_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")  # tempfile.mkstemp's names


def _remove_leftovers(catalog_dir: Path) -> None:
    """Delete the temp files of writes that were killed mid-way.

    A process killed inside replace_atomically leaves its `.models.json.XXXXXXXX.tmp` (or
    `.models.json.bak.XXXXXXXX.tmp`), as big as the catalog, in the user's folder for good;
    one killed while writing the read index leaves `.catalog-host-index.XXXXXXXX.tmp` (Chrome
    kills a host 2 s after closing its stdin). Catalog temps are only made under the lock we
    hold, so every one that exists is a dead process's. An index temp may be a live reader's
    (readers build outside the lock): deleting it only makes that reader's rename fail, and
    it then answers from the index in memory, as it does for any unwritable index.
    """
    try:
        names = os.listdir(catalog_dir)
    except OSError:
        return
    ours = {f".{catalog}.json{bak}" for catalog in CATALOG_NAMES for bak in ("", ".bak")}
    for name in names:
        stem, dot, random_part = name[: -len(".tmp")].rpartition(".")
        if not (name.endswith(".tmp") and dot and len(random_part) == 8
                and _TEMP_CHARS.issuperset(random_part)):
            continue
        if stem in ours or stem.startswith(".catalog-host-"):
            with suppress(OSError):
                os.unlink(catalog_dir / name)


# The latest write's (catalog folder, signature of the files it wrote, documents), waiting
# for run_after_reply. One slot: an older pending refresh is superseded by a newer one.
_PENDING_INDEX: list[tuple[Path, str, dict[str, Any]]] = []


def run_after_reply() -> None:
    """Rebuild the read index after a write, from the documents already in memory, so the
    next cold lookup does not parse the catalog again. The server calls this once the reply
    is on its way. Without it (a crash, a kill) readers rebuild from the files: slower, same
    answers. The change is saved already, so a failure here is logged, never reported: the
    index is deleted and the next read rebuilds it from the files."""
    while _PENDING_INDEX:
        catalog_dir, signature, docs = _PENDING_INDEX.pop()
        _refresh_index(catalog_dir, signature, docs)


def _refresh_index(catalog_dir: Path, signature: str, docs: dict[str, Any]) -> None:
    from host.catalog import index

    try:
        index.rebuild_from_documents(catalog_dir, docs, signature)
    except Exception:
        from host.log import get_logger

        get_logger().exception("could not refresh the read index after a write")
        with suppress(OSError):
            os.unlink(index_path(catalog_dir))
