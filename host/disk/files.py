"""Change detection for the files the model-folder code keeps or reads (stdlib only). They are
written with host.atomicfile.write_atomically: a reader never sees half of one."""

from __future__ import annotations

import os


def stat_signature(path: str) -> str:
    """Changes whenever the file is replaced or edited; "absent" when it is not there."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return "absent"
    return f"{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_size}:{st.st_ino}"
