"""Start the catalog folder's worker as a process detached from whoever starts it.

The worker must outlive the host (Chrome closing the port, the host exiting or being
killed) and must never hold the native-messaging pipes: a child holding the host's stdout
would keep Chrome's end of the pipe open, and a child writing to it would corrupt the
stream. So the worker gets /dev/null for stdin, stdout and stderr (it logs to the log
file), no other inherited descriptor (close_fds), and its own session (POSIX) or a detached
process group outside the browser's job object (Windows, when the job allows breakaway).
Its working folder is the one holding the `host` package: `python -m` puts the working
folder first on sys.path, so the catalog folder (or the browser's) there would let any
`json.py` or `filelock.py` lying in it be imported instead of the real module.
"""

from __future__ import annotations

import os
import subprocess
import sys

import host
from host.jobs.paths import active_path

# Windows creation flags (named here: subprocess only defines them on Windows).
DETACHED_PROCESS = 0x00000008
CREATE_NEW_PROCESS_GROUP = 0x00000200
CREATE_BREAKAWAY_FROM_JOB = 0x01000000
CREATE_NO_WINDOW = 0x08000000


def worker_command(catalog_dir: str) -> list[str]:
    """The worker runs under the isolation the host itself was started with (the launcher's
    -I or -s), so PYTHON* variables or a user site the host ignored cannot change its imports."""
    isolation = ["-I"] if sys.flags.isolated else ["-s"] if sys.flags.no_user_site else []
    return [sys.executable, *isolation, "-m", "host.jobs.worker", os.path.abspath(catalog_dir)]


def start_worker(catalog_dir: str) -> bool:
    """Start a worker for `catalog_dir` (it exits at once if one already runs); True when a
    process was started. Never raises: a job left queued is picked up by the next request."""
    command = worker_command(catalog_dir)
    cwd = os.path.dirname(os.path.dirname(os.path.abspath(host.__file__)))

    def popen(creationflags: int = 0, new_session: bool = False) -> None:
        subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=True,
            cwd=cwd,
            creationflags=creationflags,
            start_new_session=new_session,
        )

    try:
        if sys.platform == "win32":
            flags = DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW
            try:  # outside the browser's job object, so closing the browser spares it
                popen(flags | CREATE_BREAKAWAY_FROM_JOB)
            except OSError:  # the job object forbids breakaway: detached, but inside it
                popen(flags)
        else:
            popen(new_session=True)
    except OSError as exc:
        from host.log import get_logger

        get_logger().warning("could not start the job worker: %s", exc)
        return False
    try:  # a fresh heartbeat, so the next requests do not start more while it starts up
        os.utime(active_path(catalog_dir))
    except OSError:
        pass
    return True
