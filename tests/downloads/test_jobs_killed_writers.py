"""Processes killed in the middle of changing the job file: a host between saving a job and
the ACTIVE marker, a worker inside an atomic write. Each is really killed (SIGKILL, from a
child process whose own script decides when), then a real host request must recover."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from host.jobs.wake import STALE_S
from tests.conftest import ROOT, HostEnv
from tests.downloads.conftest import wait_until
from tests.support.processes import pid_alive

ACTIVE = ".catalog-host-jobs-active"
JOBS = ".catalog-host-jobs"

# Run in a child process: replace one function of the real code by one that SIGKILLs the
# process at the chosen moment, then do the real work. Only the child is changed, never the host.
_PRELUDE = """
import os, signal, sys
sys.path.insert(0, {root!r})
def die():
    os.kill(os.getpid(), signal.SIGKILL)
"""


def run_killed_child(host_env: HostEnv, body: str) -> None:
    script = _PRELUDE.format(root=str(ROOT)) + textwrap.dedent(body)
    proc = subprocess.run([sys.executable, "-c", script], env=host_env.env, capture_output=True, timeout=60)
    assert proc.returncode == -9, (proc.returncode, proc.stderr.decode())


def jobs_file(host_env: HostEnv) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((host_env.catalog_dir / JOBS).read_text("utf-8"))
    return data


def age_marker(host_env: HostEnv) -> None:
    """As if STALE_S had passed with no worker touching the marker (its heartbeat)."""
    marker = host_env.catalog_dir / ACTIVE
    old = time.time() - STALE_S - 60
    os.utime(marker, (old, old))


def host_request(host_env: HostEnv, op: str = "ping") -> None:
    """One request from a fresh host process (the CLI runs the same after-reply check)."""
    proc = subprocess.run([sys.executable, "-m", "host", op], env=host_env.env, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()


def scan_state(host_env: HostEnv) -> str | None:
    try:
        jobs = jobs_file(host_env)["jobs"]
    except (OSError, ValueError):
        return None
    return next((str(j["state"]) for j in jobs if j["kind"] == "scan"), None)


def wait_worker_gone(host_env: HostEnv) -> None:
    def gone() -> bool:
        pid = (jobs_file(host_env).get("worker") or {}).get("pid")
        return not (pid and pid_alive(int(pid)))

    wait_until(gone, 30, "the worker to exit")


def job_temps(catalog_dir: Path) -> list[str]:
    return sorted(p.name for p in catalog_dir.iterdir() if p.name.startswith(JOBS + ".") and p.name.endswith(".tmp"))


def test_a_host_killed_right_after_saving_a_job_leaves_the_marker_so_a_request_restarts_the_worker(
    host_env: HostEnv,
) -> None:
    """The host dies just after the job file holding the new queued job is in place, before it
    could do anything else (start the worker). The marker must already exist: it is what the
    next request's one stat looks for."""
    run_killed_child(host_env, f"""
        from host.jobs import state
        real_save = state.save_jobs_file
        def save_then_die(path, data, durable):
            real_save(path, data, durable)
            die()
        state.save_jobs_file = save_then_die
        from host.disk.scan_job import start_scan
        start_scan({str(host_env.catalog_dir)!r})
    """)
    assert scan_state(host_env) == "queued"
    assert (host_env.catalog_dir / ACTIVE).exists(), "a queued job with no marker: no request would ever start a worker"
    age_marker(host_env)
    host_request(host_env)
    wait_until(lambda: scan_state(host_env) == "done", 60, "the scan to run")
    wait_worker_gone(host_env)
    assert not (host_env.catalog_dir / ACTIVE).exists()


def test_a_host_killed_right_before_saving_a_job_leaves_nothing_that_lasts(host_env: HostEnv) -> None:
    """The other side of the ordering: the marker exists, the job was never saved. The next
    request starts a worker that finds nothing to do and removes the marker."""
    run_killed_child(host_env, f"""
        from host.jobs import state
        def die_instead(path, data, durable):
            die()
        state.save_jobs_file = die_instead
        from host.disk.scan_job import start_scan
        start_scan({str(host_env.catalog_dir)!r})
    """)
    assert scan_state(host_env) is None
    assert (host_env.catalog_dir / ACTIVE).exists()
    age_marker(host_env)
    host_request(host_env)
    wait_until(lambda: not (host_env.catalog_dir / ACTIVE).exists(), 60, "the worker to remove the marker")
    wait_worker_gone(host_env)


def test_a_worker_killed_mid_write_leaves_a_temp_that_the_next_worker_deletes(host_env: HostEnv) -> None:
    from host.jobs.state import locked_jobs, new_job

    catalog_dir = str(host_env.catalog_dir)
    with locked_jobs(catalog_dir) as jobs:  # queued without starting a worker
        jobs.put(new_job("scan", "scan", {"phase": "queued"}, {}))
    # A real worker, killed inside write_atomically: the temp is written, the rename never happens.
    run_killed_child(host_env, f"""
        real_replace = os.replace
        def die_before_replace(src, dst, *args, **kwargs):
            if os.path.basename(str(src)).startswith({JOBS + "."!r}):
                die()
            real_replace(src, dst, *args, **kwargs)
        os.replace = die_before_replace
        from host.jobs.worker import main
        main([{catalog_dir!r}])
    """)
    left = job_temps(host_env.catalog_dir)
    assert len(left) == 1, left
    assert scan_state(host_env) == "queued"  # the killed tick's changes never landed
    age_marker(host_env)
    host_request(host_env)  # restarts a worker: it sweeps the dead writer's temp and runs the scan
    wait_until(lambda: scan_state(host_env) == "done", 60, "the scan to run")
    wait_worker_gone(host_env)
    assert job_temps(host_env.catalog_dir) == []
