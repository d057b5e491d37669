"""The scan under SIGKILL and under audit (SPEC §10): a scan killed at random moments never
leaves a damaged hash cache and keeps what it saved; the next scan finishes; and a scan opens
nothing in the model folders for writing (PEP 578 audit log of a real scan process)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from host.disk.hash_cache import HASHES_NAME
from tests.disk.scan_support import write_model
from tests.stress.helpers import HOSTWRAP, figure, scaled
from tests.stress.test_stress_paths import WRITE_FLAGS, audit_events, inside

pytestmark = pytest.mark.stress
MIB = 1024 * 1024


def sparse_model(path: Path, seed: str, size: int) -> None:
    """A safetensors file of `size` bytes that costs no disk space (a hole after the header)."""
    write_model(path, seed, 64)
    with open(path, "r+b") as handle:
        handle.truncate(size)


@pytest.fixture
def big_world(host_env, tmp_path, monkeypatch):
    """~1.5 GiB of sparse model files over the main models folder and an extra disk."""
    disk2 = tmp_path / "disk2"
    extra = tmp_path / "extra.yaml"
    extra.write_text(f"d2:\n  base_path: {disk2}\n  loras: |\n    loras\n    more\n", "utf-8")
    monkeypatch.setenv("CATALOG_HOST_EXTRA_MODEL_PATHS", str(extra))
    host_env.env["CATALOG_HOST_EXTRA_MODEL_PATHS"] = str(extra)
    host_env.env["CATALOG_HOST_CIVITAI_URL"] = "http://127.0.0.1:9"  # refused at once: identify fails, scan goes on
    for n in range(6):
        sparse_model(host_env.models_dir / "checkpoints" / f"c{n}.safetensors", f"c{n}", 128 * MIB)
        sparse_model(disk2 / ("loras" if n % 2 else "more") / f"l{n}.safetensors", f"l{n}", 96 * MIB)
    return [host_env.models_dir, disk2]


def scan_process(host_env, extra_env=None) -> subprocess.Popen[bytes]:
    env = dict(host_env.env, **(extra_env or {}))
    return subprocess.Popen([sys.executable, str(HOSTWRAP), "scan", "--here", "--quiet"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def cache_state(host_env) -> int | None:
    """Files in the hash cache (None when there is none); fails on a damaged cache."""
    path = host_env.catalog_dir / HASHES_NAME
    if not path.exists():
        return None
    data = json.loads(path.read_text("utf-8"))
    assert data["format"] == 1 and isinstance(data["files"], dict) and isinstance(data["ids"], dict)
    return len(data["files"])


def test_sigkill_during_scans_never_damages_the_cache(big_world, host_env):
    rng = random.Random(1234)
    start = time.monotonic()
    full = scan_process(host_env)
    out, err = full.communicate(timeout=300)
    full_s = time.monotonic() - start
    assert full.returncode == 0, err
    assert json.loads(out)["files"] == 12
    (host_env.catalog_dir / HASHES_NAME).unlink()
    (host_env.catalog_dir / ".catalog-host-scan").unlink()

    kills = scaled(10)
    kept = []
    models = sorted(p for root in big_world for p in root.rglob("*.safetensors"))
    for round_ in range(kills):
        for path in rng.sample(models, len(models) // 2):  # half the files changed: hashed again
            os.utime(path, ns=(time.time_ns(), time.time_ns() + round_ + 1))
        proc = scan_process(host_env, {"STRESS_SLOW_DISK_S": "0.02"})  # widen the save window
        time.sleep(rng.uniform(0.1, max(0.3, full_s * 0.6)))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        kept.append(cache_state(host_env))  # decodes, or is absent: never half-written
    leftovers = [p.name for p in host_env.catalog_dir.iterdir() if p.name.endswith(".tmp")]
    final = scan_process(host_env)
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    result = json.loads(out)
    assert result["state"] == "done" and result["files"] == 12
    assert result["hashed"] + result["from_cache"] == 12
    assert not [p for p in host_env.catalog_dir.iterdir() if p.name.endswith(".tmp")]
    assert cache_state(host_env) == 12
    figure(f"scan SIGKILL: {kills} kills at random points of scans rehashing 6 of 12 files (a full scan of "
           f"1.3 GiB: {full_s:.1f} s); cache entries after each kill: {kept} (the cache always decoded); "
           f"{len(leftovers)} temp files left by kills, "
           f"removed by the next scan, which finished with {result['from_cache']} of 12 from the cache")


def test_a_killed_scan_keeps_what_it_saved(big_world, host_env):
    proc = scan_process(host_env)
    deadline = time.monotonic() + 120
    while cache_state(host_env) is None and proc.poll() is None:  # the first periodic save
        assert time.monotonic() < deadline, "no cache save within 120 s"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    saved = cache_state(host_env)
    final = scan_process(host_env)
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    result = json.loads(out)
    assert saved is not None and result["from_cache"] >= saved >= 1


def test_a_scan_opens_nothing_in_the_model_folders_for_writing(big_world, host_env, tmp_path):
    audit = tmp_path / "audit.jsonl"
    proc = scan_process(host_env, {"STRESS_AUDIT_LOG": str(audit)})
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert json.loads(out)["files"] == 12
    roots = [r.resolve() for r in big_world]
    problems, reads = [], 0
    for event, args in audit_events(audit):
        paths = [a for a in args[:2] if isinstance(a, str) and (a.startswith("/") or os.sep in a)]
        if not any(inside(p, *roots) for p in paths):
            continue
        if event == "open":
            path, mode, flags = [*args, None, None][:3]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                (isinstance(flags, int) and flags & WRITE_FLAGS)
            if writing:
                problems.append(f"opened for writing: {args}")
            else:
                reads += 1
        elif event not in ("os.scandir", "os.listdir"):
            problems.append(f"{event} in a model folder: {args}")
    assert not problems, "\n".join(problems[:20])
    assert reads == 12  # each model file opened once, read-only
    figure(f"scan audit: 12 model files in 3 folders on 2 disks: {reads} read-only opens, "
           "0 opened for writing, 0 renames/removes/mkdirs/chmods in the model folders")


def rchar(pid: int) -> int:
    """Bytes the process has read so far (from the page cache or the disk)."""
    try:
        with open(f"/proc/{pid}/io") as handle:
            return int(next(line.split()[1] for line in handle if line.startswith("rchar:")))
    except (OSError, StopIteration):
        return 0


def test_ctrl_c_stops_a_scan_here_and_keeps_what_it_hashed(big_world, host_env):
    proc = scan_process(host_env)
    deadline = time.monotonic() + 120
    while rchar(proc.pid) < 300 * MIB:  # well into the hashing of the first files
        assert proc.poll() is None and time.monotonic() < deadline, "the scan ended or stalled"
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    result = json.loads(out)
    assert result["state"] == "canceled" and 1 <= result["hashed"] < 12
    assert b"Traceback" not in err and b"interrupted" in err
    assert cache_state(host_env) == result["hashed"]  # saved at the stop, not only every second
