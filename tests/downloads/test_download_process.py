"""The worker's lifetime against real processes: a detached worker that never holds the
native-messaging pipes, survives the host, is restarted by the next request, and the CLI."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests.downloads.conftest import wait_until
from tests.support.fake_storage import Fault
from tests.support.frames import frame, read_one
from tests.support.processes import pid_alive

MIB = 1024 * 1024
STUB_ORIGIN = "chrome-extension://jpiddlinckgdlidmojineffgcdpfoacg/"
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="reads /proc and POSIX pipes")


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest().upper()


def start_host(bench) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "host", STUB_ORIGIN], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, env=bench.env.env, cwd=bench.env.root,
    )


def fd_targets(pid: int) -> dict[int, str]:
    folder = f"/proc/{pid}/fd"
    targets = {}
    for name in os.listdir(folder):
        try:
            targets[int(name)] = os.readlink(f"{folder}/{name}")
        except OSError:
            pass
    return targets


@posix_only
def test_worker_never_holds_the_native_messaging_pipes(bench):
    gate = threading.Event()
    bench.setup_download(900, "p.safetensors", 2 * MIB)
    bench.storage.script("p.safetensors", [Fault(stall_at=MIB, stall=gate)])
    host = start_host(bench)
    try:
        assert host.stdin and host.stdout
        host_pipes = {t for fd, t in fd_targets(host.pid).items() if fd in (0, 1) and t.startswith("pipe:")}
        assert len(host_pipes) == 2
        host.stdin.write(frame({"op": "download", "id": 1, "version_id": 900}))
        host.stdin.flush()
        assert read_one(host.stdout)["result"]["status"] == "queued"
        worker = wait_until(bench.worker_pid, what="the worker to start")
        wait_until(lambda: bench.state(900) == "downloading", what="downloading")
        targets = fd_targets(worker)
        assert [targets.get(fd) for fd in (0, 1, 2)] == ["/dev/null"] * 3
        assert not host_pipes & set(targets.values())
        assert os.getsid(worker) == worker != os.getsid(host.pid)  # its own session
        host.stdin.close()  # the browser closes the port
        assert host.stdout.read() == b""  # EOF: nobody else holds the write end
        assert host.wait(timeout=10) == 0
        assert pid_alive(worker) and bench.state(900) == "downloading"
    finally:
        gate.set()
        if host.poll() is None:
            host.kill()
            host.wait()
    assert bench.wait_state(900, "done", "failed")["state"] == "done"


@posix_only
def test_host_killed_right_after_queued_the_download_still_finishes(bench):
    _, sha = bench.setup_download(901, "k.safetensors", 3 * MIB)
    host = start_host(bench)
    assert host.stdin and host.stdout
    host.stdin.write(frame({"op": "download", "id": 1, "version_id": 901}))
    host.stdin.flush()
    assert read_one(host.stdout)["result"]["status"] == "queued"
    host.send_signal(signal.SIGKILL)
    host.wait()
    assert bench.wait_state(901, "done", "failed")["state"] == "done"
    assert sha256(bench.final("k.safetensors")) == sha


def test_the_next_request_of_any_kind_restarts_a_dead_worker(bench):
    gate = threading.Event()
    _, sha = bench.setup_download(902, "z.safetensors", 2 * MIB)
    bench.storage.script("z.safetensors", [Fault(stall_at=MIB, stall=gate)])
    bench.env.ok("download", version_id=902)
    wait_until(lambda: (bench.job(902) or {}).get("bytes", 0) >= MIB, what="1 MiB fetched")
    first = bench.worker_pid()
    bench.kill_worker()
    gate.set()
    active = bench.env.catalog_dir / ".catalog-host-jobs-active"
    past = time.time() - 60
    os.utime(active, (past, past))  # as after a reboot: no heartbeat for a minute
    proc = subprocess.run([sys.executable, "-m", "host", STUB_ORIGIN], input=frame({"op": "ping"}),
                          capture_output=True, env=bench.env.env, timeout=30)
    assert proc.returncode == 0
    job = bench.wait_state(902, "done", "failed")
    assert job["state"] == "done" and bench.worker_pid() != first
    assert sha256(bench.final("z.safetensors")) == sha
    assert [r.range_start for r in bench.storage.requests] == [None, MIB]  # resumed
    wait_until(lambda: not active.exists(), 10, "the active marker to go")


def test_cold_path_stays_light_while_a_job_shows_in_lookup(bench):
    """A lookup whose record carries a job imports none of the heavy modules."""
    gate = threading.Event()
    bench.setup_download(903, "l.safetensors", 2 * MIB)
    bench.storage.script("l.safetensors", [Fault(stall_at=MIB, stall=gate)])
    bench.env.ok("download", version_id=903)
    wait_until(lambda: bench.state(903) == "downloading", what="downloading")
    bench.env.ok("lookup", version_ids=[903])  # the read index is built (a write's job)
    script = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "from host.server import serve\nfrom host.context import Context\n"
        "serve(sys.stdin.buffer, sys.stdout.buffer, Context())\n"
        "heavy = sorted(m for m in ('json', 're', 'typing', 'pathlib', 'pydantic', 'requests', "
        "'tqdm', 'subprocess', 'filelock', 'hashlib', 'sqlite3') if m in set(sys.modules) - before)\n"
        "sys.stderr.write(repr(heavy))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], input=frame({"op": "lookup", "version_ids": [903]}),
                          capture_output=True, env=bench.env.env, timeout=30, cwd=bench.env.root)
    gate.set()
    assert proc.returncode == 0, proc.stderr
    from tests.support.frames import unframe_all

    (reply,) = unframe_all(proc.stdout)
    assert reply["result"]["by_version"]["903"]["status"] == "downloading"
    assert proc.stderr.decode() == "[]"


def test_cli_download_wait_jobs_and_cancel(bench):
    _, sha = bench.setup_download(904, "cli.safetensors", 3 * MIB)
    proc = subprocess.run([sys.executable, "-m", "host", "download", "904", "--wait"], capture_output=True,
                          env=bench.env.env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode()
    queued, _, final = out.partition("}\n{")
    assert json.loads(queued + "}")["status"] == "queued"
    assert json.loads("{" + final)["job"]["state"] == "done"
    assert "cli.safetensors" in proc.stderr.decode() and "100%" in proc.stderr.decode()
    assert sha256(bench.final("cli.safetensors")) == sha
    listed = subprocess.run([sys.executable, "-m", "host", "jobs"], capture_output=True, env=bench.env.env,
                            timeout=30)
    assert [j["state"] for j in json.loads(listed.stdout)["jobs"]] == ["done"]
    missing = subprocess.run([sys.executable, "-m", "host", "cancel", "904"], capture_output=True,
                             env=bench.env.env, timeout=30)
    assert missing.returncode == 1 and json.loads(missing.stdout)["error"]["code"] == "not_found"


def test_cli_wait_reports_a_failure_with_its_message(bench):
    from tests.support.fake_civitai import Response, download_path

    bench.setup_download(905, "bad.safetensors", MIB)
    bench.civitai.set_sequence(download_path(905), [Response(401, {"error": "login"})])
    proc = subprocess.run([sys.executable, "-m", "host", "download", "905", "--wait"], capture_output=True,
                          env=bench.env.env, timeout=120)
    assert proc.returncode == 1
    assert "API key" in proc.stderr.decode()


def _awaiting_workers(catalog_dir) -> list[int]:
    """Workers started ahead of a job for this catalog folder (host.jobs.worker --await)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                args = handle.read().split(b"\0")
        except OSError:
            continue
        if b"host.jobs.worker" in args and b"--await" in args and str(catalog_dir).encode() in args:
            found.append(int(name))
    return found


@posix_only
def test_a_worker_started_ahead_of_a_job_that_never_comes_exits_and_writes_nothing(bench):
    bench.setup_download(903, "here.safetensors", MIB)
    bench.final("here.safetensors").parent.mkdir(parents=True, exist_ok=True)
    bench.final("here.safetensors").write_bytes(b"already here")
    host = start_host(bench)
    try:
        assert host.stdin and host.stdout
        host.stdin.write(frame({"op": "download", "id": 1, "version_id": 903}))
        host.stdin.flush()
        assert read_one(host.stdout)["result"]["status"] == "already_present"
        (worker,) = wait_until(lambda: _awaiting_workers(bench.env.catalog_dir), what="the early worker")
        host.stdin.close()  # the op's process ends: the worker stops waiting for a job
        assert host.wait(timeout=10) == 0
    finally:
        if host.poll() is None:
            host.kill()
            host.wait()
    wait_until(lambda: not pid_alive(worker), 10, "the early worker to exit")
    names = {p.name for p in bench.env.catalog_dir.iterdir()}
    assert ".catalog-host-jobs" not in names and ".catalog-host-jobs-active" not in names
    assert bench.final("here.safetensors").read_bytes() == b"already here"


def test_worker_imports_nothing_from_the_catalog_folder(bench):
    """`python -m` puts the working folder first on sys.path: with the catalog folder as its
    working folder, the worker imported a `filelock.py` (or `json.py`, `requests/`...) lying
    there instead of the real one."""
    from host.jobs.spawn import start_worker

    catalog_dir = bench.env.catalog_dir
    catalog_dir.mkdir(parents=True, exist_ok=True)
    marker = catalog_dir / "planted-module-ran"
    (catalog_dir / "filelock.py").write_text(
        f"open({str(marker)!r}, 'w').close()\nraise SystemExit(3)\n", "utf-8"
    )
    assert start_worker(str(catalog_dir))

    def finished() -> bool:
        pid = bench.worker_pid()
        return marker.exists() or (pid is not None and not pid_alive(pid))

    wait_until(finished, what="the worker to run and exit")
    assert not marker.exists()
    assert bench.worker_pid() is not None  # the real worker ran its tick


@pytest.mark.parametrize(("isolated", "no_user_site", "expected"),
                         [(1, 1, ["-I"]), (0, 1, ["-s"]), (0, 0, [])])
def test_worker_keeps_the_isolation_the_host_was_started_with(monkeypatch, isolated, no_user_site, expected):
    """The launcher starts the host with -I (or -s for a checkout): a worker started without
    it read the PYTHONPATH and user site of the desktop session the host had ignored."""
    import types

    from host.jobs import spawn

    monkeypatch.setattr(sys, "flags", types.SimpleNamespace(isolated=isolated, no_user_site=no_user_site))
    command = spawn.worker_command("/some/catalogs")
    assert command == [sys.executable, *expected, "-m", "host.jobs.worker", "/some/catalogs"]
