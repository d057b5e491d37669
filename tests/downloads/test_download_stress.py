"""Resilience under abuse (marker `stress`): a worker SIGKILLed at random moments of one big
download, connections cut at random offsets. Counts scale with CATALOG_HOST_STRESS_SCALE."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
import time

import pytest

from tests.downloads.conftest import wait_until
from tests.stress.helpers import figure, scaled
from tests.support.fake_storage import Fault
from tests.support.frames import frame
from tests.support.processes import pid_alive

pytestmark = pytest.mark.stress
MIB = 1024 * 1024
STUB_ORIGIN = "chrome-extension://jpiddlinckgdlidmojineffgcdpfoacg/"


def sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(8 * MIB):
            digest.update(block)
    return digest.hexdigest().upper()


def ping_as_after_a_reboot(bench) -> None:
    """The next host request after the worker died: its heartbeat is long stale."""
    active = bench.env.catalog_dir / ".catalog-host-jobs-active"
    past = time.time() - 60
    try:
        os.utime(active, (past, past))
    except FileNotFoundError:
        return
    proc = subprocess.run([sys.executable, "-m", "host", STUB_ORIGIN], input=frame({"op": "ping"}),
                          capture_output=True, env=bench.env.env, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_worker_sigkilled_at_random_moments_of_a_256_mib_download(bench):
    size = 256 * MIB
    _, sha = bench.setup_download(950, "big.safetensors", size)
    bench.storage.throttle = 20 * MIB  # bytes per second: the download lasts long enough to be killed often
    before = bench.env.snapshot()
    rng = random.Random(950)
    bench.env.ok("download", version_id=950)
    kills, states_at_kill, previous = 0, [], None
    wanted = scaled(20, minimum=20)
    began = time.monotonic()
    while kills < wanted and bench.state(950) != "done":
        def new_worker(previous: int | None = previous) -> int | None:
            pid = bench.worker_pid()
            return pid if pid and pid != previous and pid_alive(pid) else None

        pid = wait_until(new_worker, 60, "a new worker")
        time.sleep(rng.uniform(0.0, 0.7))  # a random moment of its life
        states_at_kill.append(bench.state(950))
        bench.kill_worker()
        kills += 1
        previous = pid
        ping_as_after_a_reboot(bench)
    assert kills >= wanted, f"the download finished after {kills} kills; slow the storage down"
    job = bench.wait_state(950, "done", "failed", timeout=300)
    elapsed = time.monotonic() - began
    assert job["state"] == "done", job
    final = bench.final("big.safetensors")
    assert sha256(final) == sha and final.stat().st_size == size
    assert sorted(os.listdir(final.parent)) == ["big.safetensors"]  # no partial left
    assert bench.env.snapshot() == before
    resumes = [r.range_start for r in bench.storage.requests if r.range_start]
    assert resumes and resumes == sorted(resumes)  # every resume went on from further along
    figure(f"downloads: {kills} SIGKILLs of the worker during a 256 MiB download "
           f"({len(resumes)} Range resumes, states at kill {sorted(set(map(str, states_at_kill)))}) "
           f"-> verified in {elapsed:.1f} s")


def test_connection_cut_at_random_offsets_resumes_by_range(bench):
    size = 64 * MIB
    _, sha = bench.setup_download(951, "cut.safetensors", size)
    rng = random.Random(951)
    cuts = scaled(12, minimum=10)
    offsets = sorted(rng.sample(range(1, size - 1), cuts))
    plan = iter(offsets)

    def cut(name, number, start):
        offset = next(plan, None)
        return Fault(drop_at=offset) if offset is not None else None

    bench.storage.fault_for = cut
    before = bench.env.snapshot()
    bench.env.ok("download", version_id=951)
    job = bench.wait_state(951, "done", "failed", timeout=300)
    assert job["state"] == "done", job
    assert sha256(bench.final("cut.safetensors")) == sha
    assert [r.range_start for r in bench.storage.requests] == [None, *offsets]
    assert bench.env.snapshot() == before
    figure(f"downloads: 64 MiB cut at {cuts} random offsets -> {cuts} Range resumes, verified")


def test_cuts_then_200_to_the_ranges_restart_and_stay_correct(bench):
    size = 32 * MIB
    _, sha = bench.setup_download(952, "mixed.safetensors", size)
    rng = random.Random(952)
    faults = []
    for _ in range(6):
        faults.append(Fault(drop_at=rng.randrange(1, size)))
        faults.append(Fault(ignore_range=True, drop_at=rng.randrange(1, size)))
    bench.storage.script("mixed.safetensors", faults)
    bench.env.ok("download", version_id=952)
    job = bench.wait_state(952, "done", "failed", timeout=300)
    assert job["state"] == "done", job
    assert sha256(bench.final("mixed.safetensors")) == sha


def test_a_stalled_transfer_is_given_up_and_resumed(bench):
    """The storage stops sending mid-file (no error, no close): after READ_TIMEOUT_S without
    a byte the worker drops the connection and resumes with a Range request."""
    from host.download.fetch import READ_TIMEOUT_S

    _, sha = bench.setup_download(953, "stall.safetensors", 4 * MIB)
    bench.storage.script("stall.safetensors", [Fault(stall_at=2 * MIB, stall=READ_TIMEOUT_S + 30)])
    bench.env.ok("download", version_id=953)
    job = bench.wait_state(953, "done", "failed", timeout=READ_TIMEOUT_S + 60)
    assert job["state"] == "done", job
    assert [r.range_start for r in bench.storage.requests] == [None, 2 * MIB]
    assert sha256(bench.final("stall.safetensors")) == sha
