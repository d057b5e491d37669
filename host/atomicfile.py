"""Replace a file atomically: how this project writes every file a reader must never see half-written
(catalogs and their backups, the read index and summary, installer files; job state, caches).

`write_atomically(path, data)` guarantees:
- Readers see the old complete file or the new complete one, never a mix: the data goes to a
  temp file in the same folder (`.<name>.XXXXXXXX.tmp`, same file system) that is then renamed
  over `path`. A process killed mid-way leaves `path` as it was, plus at most that temp file.
- With `durable=True` (the default) the data is fsynced before the rename and the folder after
  it (best effort: some file systems refuse a folder fsync, and the rename has happened by
  then), so after a power cut `path` is the old file or the new one, never empty. Caches that
  are rebuilt anyway pass `durable=False` and skip the cost.
- Permissions: `mode` when given; else those of the file being replaced; else what `open()`
  would make (0o666 less the umask), never mkstemp's 0600.
- A symlink at `path` is replaced by the file, not followed: to write through a link, pass
  its `os.path.realpath`.
- On failure `path` is untouched, the temp file is removed and the OSError propagates.
- `before_rename`, when given, runs once the data is written (and synced) and before the
  rename: a step that must happen only if the new data could be written (a catalog's backup,
  which a failed write must leave alone). If it raises, `path` is untouched.

`remove_dead_temps(folder, names)` deletes the temp files such killed writes left for those
files. Call it holding the lock under which *every* write of those files happens: that lock is
what makes each temp found a dead process's (a live writer would be holding it). Without it,
a live writer's temp may go too, and its rename then fails (acceptable only for a cache).

Stdlib only (tempfile is imported on first use), so the cold read path may import it.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds in every cold start
    from collections.abc import Callable, Iterable
    from os import PathLike


def write_atomically(
    path: str | PathLike[str],
    data: bytes,
    mode: int | None = None,
    *,
    durable: bool = True,
    before_rename: Callable[[], None] | None = None,
) -> None:
    """Replace `path` with `data` as described in the module docstring."""
    import tempfile

    path = os.fspath(path)
    folder, name = os.path.split(path)
    if mode is None:
        mode = _mode_of(path)
    fd, temp_name = tempfile.mkstemp(prefix=_temp_stem(name) + ".", suffix=".tmp", dir=folder or ".")
    try:
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        if not hasattr(os, "fchmod"):  # Windows: only the read-only bit means anything
            os.chmod(temp_name, mode)
        if before_rename is not None:
            before_rename()
        os.replace(temp_name, path)
    except BaseException:
        try:
            os.unlink(temp_name)
        except OSError:
            pass
        raise
    if durable:
        fsync_folder(folder or ".")


def _temp_stem(name: str) -> str:
    """What the temp files of `name` start with (before `.XXXXXXXX.tmp`): always hidden."""
    return name if name.startswith(".") else f".{name}"


_TEMP_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")  # tempfile's random names
_TEMP_RANDOM_CHARS = 8


def temp_stem_of(name: str) -> str | None:
    """The stem of a temp file name `<stem>.XXXXXXXX.tmp` as tempfile makes it, else None."""
    if not name.endswith(".tmp"):
        return None
    stem, dot, random_part = name[: -len(".tmp")].rpartition(".")
    if dot and len(random_part) == _TEMP_RANDOM_CHARS and _TEMP_CHARS.issuperset(random_part):
        return stem
    return None


def remove_dead_temps(folder: str | PathLike[str], names: Iterable[str]) -> list[str]:
    """Delete the temp files that writes of the files `names` (in `folder`) left when killed
    (see the module docstring for who may call it); the names of those deleted."""
    stems = {_temp_stem(name) for name in names}
    try:
        found = os.listdir(folder)
    except OSError:
        return []
    removed = []
    for entry in found:
        if temp_stem_of(entry) in stems:
            try:
                os.unlink(os.path.join(folder, entry))
            except OSError:
                continue
            removed.append(entry)
    return removed


def _mode_of(path: str) -> int:
    """The permission bits of the file at `path`, else those open() would give a new file."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0o022)  # the only way to read it; set straight back
        os.umask(umask)
        return 0o666 & ~umask


def fsync_folder(folder: str) -> None:
    """Make a rename in `folder` durable; best effort. It runs after the rename, when the new
    file is already in place: failing the caller here (some network and FUSE file systems
    refuse a folder fsync) would report a change as failed that had been made."""
    if os.name != "posix":  # folders cannot be opened for fsync on Windows
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
