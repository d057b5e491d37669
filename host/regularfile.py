"""Reading a file that must be a regular file, without ever blocking on one that is not.

Why: `open()` of a FIFO for reading waits until some process opens it for writing, which may
be never; a host stuck there hangs every ping and lookup. Every file the host reads that a
person or another program could replace (the config, the catalogs, the read index and its
summary) is opened non-blocking and checked with fstat() before a byte is read; anything but
a regular file is refused with NotRegularFileError (an OSError, so callers that already
treat an unreadable file as unreadable need nothing more). Stdlib only: on the cold path.

Writers pass extra flags (e.g. O_WRONLY | O_CREAT | NOFOLLOW): a symbolic link is then refused
rather than written through, and a FIFO without a reader fails at once (ENXIO) instead of
waiting; both come back as NotRegularFileError too.
"""

from __future__ import annotations

import errno
import os
import stat

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds in every cold start
    from os import PathLike

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
# Not following a symbolic link at the last path component (0 where the system has no such flag).
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
# What open() says when the flags above meet something that is not a regular file.
_REFUSALS = {
    errno.ELOOP: "a symbolic link",
    errno.ENXIO: "a named pipe (FIFO) or device nobody reads",
    errno.EISDIR: "a folder",
}
_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class NotRegularFileError(OSError):
    """The path names something other than a regular file (symlinks are followed unless
    NOFOLLOW is asked for)."""


def open_regular(path: str | PathLike[str], flags: int = 0, mode: int = 0o644) -> int:
    """A descriptor of the regular file at `path`, read-only unless `flags` add more (such as
    os.O_WRONLY | os.O_CREAT | NOFOLLOW); never blocks. The caller closes it."""
    try:
        fd = os.open(path, _FLAGS | flags, mode)
    except OSError as exc:
        kind = _REFUSALS.get(exc.errno or 0) if flags else None
        if kind is None:
            raise
        raise NotRegularFileError(exc.errno, f"not a regular file but {kind}", os.fspath(path)) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "not a file")
            raise NotRegularFileError(errno.EINVAL, f"not a regular file but {kind}", os.fspath(path))
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path: str | PathLike[str]) -> bytes:
    """The whole content of the regular file at `path`."""
    with open(open_regular(path), "rb") as handle:  # O_NONBLOCK is ignored by regular files
        return handle.read()
