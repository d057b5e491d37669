"""The scan as a job on the real job runner: `catalog-host scan --wait` queues it, a detached
worker runs it, `jobs` shows it, and lookups see its results."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.disk.scan_support import write_model
from tests.downloads.conftest import wait_until
from tests.support.fake_civitai import FakeCivitai
from tests.support.processes import pid_alive


@pytest.fixture
def civitai(host_env, monkeypatch):
    with FakeCivitai() as fake:
        monkeypatch.setenv("CATALOG_HOST_CIVITAI_URL", fake.url)
        host_env.env["CATALOG_HOST_CIVITAI_URL"] = fake.url
        yield fake
        assert not fake.errors, fake.errors


def worker_gone(host_env):
    try:
        data = json.loads((host_env.catalog_dir / ".catalog-host-jobs").read_text("utf-8"))
    except (OSError, ValueError):
        return True
    pid = (data.get("worker") or {}).get("pid")
    return not (pid and pid_alive(int(pid)))


def test_cli_scan_wait_runs_the_job_and_jobs_lists_it(host_env, civitai):
    path, sha, _ = write_model(host_env.models_dir / "loras" / "mine.safetensors", "job")
    for n in range(5):
        write_model(host_env.models_dir / "checkpoints" / f"c{n}.safetensors", f"c{n}", 256 * 1024)
    civitai.add_hash(sha, 7001, 701)
    proc = subprocess.run([sys.executable, "-m", "host", "scan", "--wait"], capture_output=True,
                          env=host_env.env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    queued, _, final = proc.stdout.decode().partition("}\n{")
    assert json.loads(queued + "}")["status"] == "queued"
    job = json.loads("{" + final)["job"]
    assert job["kind"] == "scan" and job["state"] == "done"
    assert (job["files"], job["files_total"]) == (6, 6)
    assert job["bytes"] == job["total"] == sum(p.stat().st_size for p in host_env.models_dir.rglob("*.safetensors"))
    assert job["result"]["versions_identified"] == 1 and job["result"]["hashed"] == 6
    assert "files 6/6" in proc.stderr.decode()  # the tqdm bar

    listed = host_env.ok("jobs")["jobs"]
    assert [(j["kind"], j["state"]) for j in listed] == [("scan", "done")]
    record = host_env.ok("lookup", version_ids=[7001])["by_version"]["7001"]
    assert record["status"] == "untracked" and record["path"] == str(path)
    wait_until(lambda: worker_gone(host_env), 30, "the worker to exit")


def test_scan_op_queues_one_job(host_env, civitai):
    write_model(host_env.models_dir / "loras" / "a.safetensors", "a")
    first = host_env.ok("scan")
    assert first["status"] == "queued" and first["job"]["kind"] == "scan"
    assert "params" not in first["job"]
    wait_until(lambda: any(j["kind"] == "scan" and j["state"] == "done" for j in host_env.ok("jobs")["jobs"]),
               60, "the scan job to finish")
    again = host_env.ok("scan")  # a finished scan does not block the next one
    assert again["status"] == "queued"
    wait_until(lambda: all(j["state"] == "done" for j in host_env.ok("jobs")["jobs"]), 60, "the second scan")
    wait_until(lambda: worker_gone(host_env), 30, "the worker to exit")


def test_a_second_scan_while_one_is_queued_is_already_queued(host_env, civitai):
    """Held here, the worker lock keeps any started worker from running the job, so the first
    scan is still queued when the second is asked, whatever the machine's speed."""
    import filelock

    from host.jobs.spawn import start_worker

    write_model(host_env.models_dir / "loras" / "a.safetensors", "a")
    host_env.catalog_dir.mkdir(parents=True, exist_ok=True)
    held = filelock.FileLock(str(host_env.catalog_dir / ".catalog-host-worker.lock"))
    with held.acquire(timeout=10):
        first = host_env.ok("scan")
        second = host_env.ok("scan")
        assert first["status"] == "queued" and second["status"] == "already_queued"
        assert second["job"]["created"] == first["job"]["created"]
        assert [(j["kind"], j["state"]) for j in host_env.ok("jobs")["jobs"]] == [("scan", "queued")]
    start_worker(str(host_env.catalog_dir))
    wait_until(lambda: [j["state"] for j in host_env.ok("jobs")["jobs"]] == ["done"], 60, "the scan")
    wait_until(lambda: worker_gone(host_env), 30, "the worker to exit")
