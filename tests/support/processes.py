"""Whether a process the tests started (a host, a download or scan worker) is still running,
by pid. Linux: reads /proc to tell a zombie from a live process."""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    """A running process; a zombie (exited, not yet reaped by its parent) is not alive."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True
