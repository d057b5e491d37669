"""A full disk: checked before starting, and ENOSPC while writing (SPEC §9 Files)."""

from __future__ import annotations

import os
import subprocess
import threading

import pytest

from tests.downloads.conftest import wait_until
from tests.support.fake_storage import Fault

MIB = 1024 * 1024


def test_a_file_bigger_than_the_free_space_is_refused_before_writing(bench):
    huge = bench.tmp / "storage" / "huge.safetensors"
    huge.parent.mkdir(parents=True, exist_ok=True)
    with open(huge, "wb") as handle:  # sparse: 8 TiB declared, nothing stored
        handle.truncate(2**43)
    bench.storage.put("huge.safetensors", huge)
    bench.write_models(bench.catalog_entry(820, "huge.safetensors", "A" * 64))
    bench.offer(820, "huge.safetensors")
    bench.env.ok("download", version_id=820)
    job = bench.wait_state(820, "done", "failed")
    assert job["error"]["code"] == "disk_full", job
    assert "Free some space" in job["error"]["message"] and "needed" in job["error"]["message"]
    assert not (bench.env.models_dir / "loras").exists() or os.listdir(bench.env.models_dir / "loras") == []


@pytest.fixture
def small_disk(bench):
    """The `loras` folder on its own 48 MiB tmpfs (needs root: mount)."""
    folder = bench.env.models_dir / "loras"
    folder.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(folder)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_disk_filling_up_mid_download_is_disk_full_and_leaves_nothing(bench, small_disk):
    gate = threading.Event()
    bench.setup_download(821, "big.safetensors", 24 * MIB)
    bench.storage.script("big.safetensors", [Fault(stall_at=4 * MIB, stall=gate)])
    bench.env.ok("download", version_id=821)
    wait_until(lambda: (bench.job(821) or {}).get("bytes", 0) >= 4 * MIB, what="4 MiB fetched")
    filler = small_disk / "someone-else.bin"
    with open(filler, "wb") as handle:  # another program takes most of the disk meanwhile
        try:
            handle.write(b"\0" * (40 * MIB))
        except OSError:
            pass
    gate.set()
    job = bench.wait_state(821, "done", "failed")
    assert job["error"]["code"] == "disk_full", job
    assert sorted(os.listdir(small_disk)) == ["someone-else.bin"]  # no partial, no final file
