"""Writing the host's own cache files beside the catalogs: whole, or not at all.

Stdlib only. A file is written to a temp file in the same folder, flushed to disk and renamed
over the old one, so a reader (or a process killed mid-write) never sees half of one.
"""

from __future__ import annotations

import os


def write_atomic(path: str, data: bytes) -> None:
    """Replace `path` with `data` in one rename; OSError when it cannot be written."""
    import tempfile

    folder, name = os.path.split(path)
    fd, temp_name = tempfile.mkstemp(prefix=name + ".", suffix=".tmp", dir=folder or ".")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        try:
            os.unlink(temp_name)
        except OSError:
            pass
        raise


def stat_signature(path: str) -> str:
    """Changes whenever the file is replaced or edited; "absent" when it is not there."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return "absent"
    return f"{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_size}:{st.st_ino}"
