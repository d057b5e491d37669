"""Reading a file that must be a regular file, without ever blocking on one that is not.

Why: `open()` of a FIFO for reading waits until some process opens it for writing, which may
be never; a host stuck there hangs every ping and lookup. Every file the host reads that a
person or another program could replace (the config, the catalogs, the read index and its
summary) is opened non-blocking and checked with fstat() before a byte is read; anything but
a regular file is refused with NotRegularFileError (an OSError, so callers that already
treat an unreadable file as unreadable need nothing more). Stdlib only: on the cold path.
"""

from __future__ import annotations

import errno
import os
import stat

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds in every cold start
    from os import PathLike

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class NotRegularFileError(OSError):
    """The path names something other than a regular file (symlinks are followed)."""


def open_regular(path: str | PathLike[str]) -> int:
    """A read-only descriptor of the regular file at `path` (the caller closes it)."""
    fd = os.open(path, _FLAGS)
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
