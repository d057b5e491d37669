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
import time

import host
from host.jobs.paths import active_path
from host.jobs.wake import STALE_S

# Windows creation flags (named here: subprocess only defines them on Windows).
DETACHED_PROCESS = 0x00000008
CREATE_NEW_PROCESS_GROUP = 0x00000200
CREATE_BREAKAWAY_FROM_JOB = 0x01000000
CREATE_NO_WINDOW = 0x08000000


def worker_command(catalog_dir: str, await_kind: str | None = None) -> list[str]:
    """The worker runs under the isolation the host itself was started with (the launcher's
    -I or -s), so PYTHON* variables or a user site the host ignored cannot change its imports.
    With `await_kind`, it is started ahead of its job (see prestart_worker)."""
    isolation = ["-I"] if sys.flags.isolated else ["-s"] if sys.flags.no_user_site else []
    command = [sys.executable, *isolation, "-m", "host.jobs.worker", os.path.abspath(catalog_dir)]
    return [*command, "--await", await_kind, str(os.getpid())] if await_kind else command


def prestart_worker(catalog_dir: str, kind: str) -> None:
    """Start the worker before the job it will run is queued, when none runs: its start-up
    (an interpreter, the kind's imports: ~0.15 s) then overlaps the op's own work (reading
    the catalog). It waits for a job while this process lives (host.jobs.worker --await);
    if none comes, it exits. submit() still starts a worker once the job is queued: that one
    exits at once while this one holds the worker lock, and runs the job if this one gave up
    just before (the lock and the exiting worker's last look order the two)."""
    try:
        if time.time() - os.stat(active_path(catalog_dir)).st_mtime < STALE_S:
            return  # a worker runs (its heartbeat is fresh): it will see the job
    except OSError:
        pass
    _spawn(worker_command(catalog_dir, kind), catalog_dir)


def start_worker(catalog_dir: str) -> bool:
    """Start a worker for `catalog_dir` (it exits at once if one already runs); True when a
    process was started. Never raises: a job left queued is picked up by the next request."""
    return _spawn(worker_command(catalog_dir), catalog_dir) is not None


def _spawn(command: list[str], catalog_dir: str) -> subprocess.Popen[bytes] | None:
    cwd = os.path.dirname(os.path.dirname(os.path.abspath(host.__file__)))

    def popen(creationflags: int = 0, new_session: bool = False) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
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
                process = popen(flags | CREATE_BREAKAWAY_FROM_JOB)
            except OSError:  # the job object forbids breakaway: detached, but inside it
                process = popen(flags)
        else:
            process = popen(new_session=True)
    except OSError as exc:
        from host.log import get_logger

        get_logger().warning("could not start the job worker: %s", exc)
        return None
    try:  # a fresh heartbeat, so the next requests do not start more while it starts up
        os.utime(active_path(catalog_dir))
    except OSError:
        pass
    return process
