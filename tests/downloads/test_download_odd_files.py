"""Something other than a regular file at `<file>.part` or at the target: never written
through, never waited on, never hashed; the job fails with a message naming the path."""

from __future__ import annotations

import os
import threading

import pytest

from tests.support.fake_storage import Fault

MIB = 1024 * 1024
# A FIFO that blocked the worker would hold the job far longer than this.
ODD_WAIT_S = 30.0


def _part(bench, name: str):
    folder = bench.env.models_dir / "loras"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.part"


def test_a_symlink_named_part_is_never_written_through(bench):
    victim = bench.tmp / "elsewhere" / "precious.txt"
    victim.parent.mkdir()
    victim.write_bytes(b"keep me")
    bench.setup_download(900, "s.safetensors", 2 * MIB)
    part = _part(bench, "s.safetensors")
    part.symlink_to(victim)
    bench.env.ok("download", version_id=900)
    job = bench.wait_state(900, "done", "failed", timeout=ODD_WAIT_S)
    assert job["state"] == "failed" and job["error"]["code"] == "write_failed", job
    assert str(part) in job["error"]["message"] and "remove" in job["error"]["message"].lower()
    assert victim.read_bytes() == b"keep me"
    assert part.is_symlink()  # not ours: left for the person to remove
    assert not bench.final("s.safetensors").exists()


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_a_fifo_or_folder_named_part_fails_the_job_without_blocking(bench, kind):
    bench.setup_download(901, "f.safetensors", 2 * MIB)
    part = _part(bench, "f.safetensors")
    if kind == "fifo":
        os.mkfifo(part)
    else:
        part.mkdir()
    bench.env.ok("download", version_id=901)
    job = bench.wait_state(901, "done", "failed", timeout=ODD_WAIT_S)
    assert job["state"] == "failed" and job["error"]["code"] == "write_failed", job
    assert str(part) in job["error"]["message"]
    assert part.is_fifo() if kind == "fifo" else part.is_dir()
    assert not bench.final("f.safetensors").exists()


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_a_fifo_or_folder_appearing_at_the_target_is_file_exists(bench, kind):
    gate = threading.Event()
    bench.setup_download(902, "t.safetensors", 2 * MIB)
    bench.storage.script("t.safetensors", [Fault(stall_at=MIB, stall=gate)])
    bench.env.ok("download", version_id=902)
    bench.wait_state(902, "downloading", timeout=ODD_WAIT_S)
    final = bench.final("t.safetensors")
    if kind == "fifo":
        os.mkfifo(final)
    else:
        final.mkdir()
    gate.set()
    job = bench.wait_state(902, "done", "failed", timeout=ODD_WAIT_S)
    assert job["state"] == "failed" and job["error"]["code"] == "file_exists", job
    assert final.is_fifo() if kind == "fifo" else final.is_dir()
    assert not final.with_name("t.safetensors.part").exists()


def test_a_fetch_closes_its_session_when_it_ends(bench):
    from host.download.fetch import Fetch
    from host.jobs.control import JobControl

    path, sha = bench.make_model("closed.safetensors", MIB)
    part = bench.tmp / "closed.safetensors.part"
    fetch = Fetch(JobControl({}, None), bench.storage.url_for("closed.safetensors"), str(part), None)  # type: ignore[arg-type]
    closed: list[bool] = []
    real_close = fetch.session.close
    fetch.session.close = lambda: (closed.append(True), real_close())[1]  # type: ignore[method-assign]
    assert fetch.run() == (MIB, sha.lower())
    assert closed == [True]


def test_open_regular_for_writing_refuses_links_fifos_and_folders_at_once(tmp_path):
    from host.regularfile import NOFOLLOW, NotRegularFileError, open_regular

    victim = tmp_path / "victim"
    victim.write_bytes(b"keep")
    (tmp_path / "link").symlink_to(victim)
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "folder").mkdir()
    for name in ("link", "fifo", "folder"):
        with pytest.raises(NotRegularFileError):
            os.close(open_regular(tmp_path / name, os.O_WRONLY | os.O_CREAT | NOFOLLOW))
    assert victim.read_bytes() == b"keep"
    fd = open_regular(tmp_path / "new", os.O_WRONLY | os.O_CREAT | NOFOLLOW)
    os.write(fd, b"ok")
    os.close(fd)
    assert (tmp_path / "new").read_bytes() == b"ok"
