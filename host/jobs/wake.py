"""Restart the worker after a crash or a reboot: one stat per host process when idle.

Called once per host process, after its first reply has been sent. The worker touches the
ACTIVE file every tick while it runs; an ACTIVE file that is older than STALE_S means
unfinished jobs and no live worker, so one is started (a second one started by a racing
host simply finds the worker lock taken and exits).
"""

from __future__ import annotations

import os
import time

from host.jobs.paths import active_path

# Much longer than the worker's tick (0.5 s), so a busy machine never looks like a dead worker.
STALE_S = 10.0


def wake_if_needed(catalog_dir: str) -> bool:
    """Start a worker when unfinished jobs have none; True when one was started."""
    try:
        st = os.stat(active_path(catalog_dir))
    except OSError:
        return False
    if time.time() - st.st_mtime < STALE_S:
        return False
    from host.jobs.spawn import start_worker

    return start_worker(catalog_dir)
