"""The scan as a job on the real job runner: `catalog-host scan --wait` queues it, a detached
worker runs it, `jobs` shows it, and lookups see its results."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

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


@pytest.fixture(autouse=True)
def no_worker_outlives_its_test(host_env):
    """A failed test may leave the worker hashing (the 64 GiB sparse file takes tens of seconds)."""
    yield
    try:
        data = json.loads((host_env.catalog_dir / ".catalog-host-jobs").read_text("utf-8"))
    except (OSError, ValueError):
        return
    pid = int((data.get("worker") or {}).get("pid") or 0)
    if pid and pid_alive(pid):
        try:
            wait_until(lambda: not pid_alive(pid), 10, "the worker to exit")
        except AssertionError:
            os.kill(pid, signal.SIGKILL)


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


def scan_job(host_env):
    return next((j for j in host_env.ok("jobs")["jobs"] if j["kind"] == "scan"), None)


def cached_paths(host_env):
    data = json.loads((host_env.catalog_dir / ".catalog-host-hashes").read_text("utf-8"))
    return set(data["files"])


def test_cancel_stops_a_running_scan_which_keeps_what_it_hashed(host_env, civitai):
    """Small files in `checkpoints` are hashed first (roots are walked in name order), then a
    64 GiB sparse file in `loras`, which takes tens of seconds to hash however fast the
    machine is: the scan is canceled while on it. The next scan takes the small files from the
    hash cache."""
    small = [write_model(host_env.models_dir / "checkpoints" / f"c{n}.safetensors", f"c{n}")[0]
             for n in range(4)]
    huge = host_env.models_dir / "loras" / "huge.ckpt"
    huge.parent.mkdir(parents=True)
    with open(huge, "wb") as handle:
        handle.truncate(64 * 1024**3)  # sparse: no disk space, read as zeros
    assert host_env.ok("scan")["status"] == "queued"

    def on_the_huge_file():
        job = scan_job(host_env)
        return job and job["phase"] == "hashing" and job["files"] == len(small) and job["bytes"] > 0

    wait_until(on_the_huge_file, 60, f"the scan to reach the huge file; last {scan_job(host_env)}")
    assert host_env.ok("cancel", kind="scan") == {"status": "canceled"}
    wait_until(lambda: worker_gone(host_env), 30, "the worker to stop the scan and exit")
    job = scan_job(host_env)
    assert job["state"] == "canceled" and job["bytes"] < job["total"]
    assert cached_paths(host_env) == {str(p) for p in small}  # saved when it stopped
    assert not (host_env.catalog_dir / ".catalog-host-jobs-active").exists()
    assert host_env.error("cancel", kind="scan")["code"] == "not_found"  # nothing left to cancel

    huge.unlink()
    newer = write_model(host_env.models_dir / "loras" / "new.safetensors", "new")[0]
    assert host_env.ok("scan")["status"] == "queued"  # a canceled scan does not block the next
    wait_until(lambda: scan_job(host_env)["state"] == "done", 60, "the next scan")
    result = scan_job(host_env)["result"]
    assert (result["from_cache"], result["hashed"], result["files"]) == (len(small), 1, len(small) + 1)
    assert cached_paths(host_env) == {str(p) for p in [*small, newer]}
    wait_until(lambda: worker_gone(host_env), 30, "the worker to exit")


def test_cancel_a_queued_scan_from_the_command_line(host_env, civitai):
    """`catalog-host cancel --scan`; the worker lock held here keeps the scan queued."""
    import filelock

    from host.jobs.spawn import start_worker

    write_model(host_env.models_dir / "loras" / "a.safetensors", "a")
    host_env.catalog_dir.mkdir(parents=True, exist_ok=True)

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "host", *args], capture_output=True, env=host_env.env,
                              timeout=60)

    held = filelock.FileLock(str(host_env.catalog_dir / ".catalog-host-worker.lock"))
    with held.acquire(timeout=10):
        assert host_env.ok("scan")["status"] == "queued"
        canceled = cli("cancel", "--scan")
        assert canceled.returncode == 0, canceled.stderr
        assert json.loads(canceled.stdout) == {"status": "canceled"}
        again = cli("cancel", "--scan")
        assert again.returncode == 1 and json.loads(again.stdout)["error"]["code"] == "not_found"
        assert not (host_env.catalog_dir / ".catalog-host-jobs-active").exists()  # nothing unfinished
    start_worker(str(host_env.catalog_dir))  # finds nothing to run

    def worker_came_and_went():
        data = json.loads((host_env.catalog_dir / ".catalog-host-jobs").read_text("utf-8"))
        return "worker" in data and worker_gone(host_env)

    wait_until(worker_came_and_went, 30, "the worker to find nothing to do and exit")
    assert scan_job(host_env)["state"] == "canceled" and scan_job(host_env)["phase"] == "queued"
    assert not (host_env.catalog_dir / ".catalog-host-hashes").exists()  # it never ran

    both = cli("cancel", "--scan", "5")
    neither = cli("cancel")
    assert both.returncode == neither.returncode == 2
    assert b"not both" in both.stderr and b"--scan" in neither.stderr


@pytest.mark.parametrize("params, param", [
    ({}, "version_id"),
    ({"kind": "scan", "version_id": 5}, "kind"),
    ({"kind": "download"}, "kind"),
    ({"kind": ["scan"]}, "kind"),
])
def test_cancel_takes_a_version_id_or_the_scan_kind(host_env, params, param):
    error = host_env.error("cancel", **params)
    assert (error["code"], error["param"]) == ("invalid_request", param)


def test_cancel_while_asking_civitai_keeps_the_answer_and_stores_no_results(host_env, civitai):
    """Canceled while CivitAI's by-hash answer is on its way (held by the fake until the test
    lets go): the scan stops before storing results, but the hashes and the answer are cached,
    so the next scan neither hashes nor asks again."""
    import threading

    from tests.support.fake_civitai import BY_HASH_PATH

    path, sha, _ = write_model(host_env.models_dir / "loras" / "mine.safetensors", "held")
    gate = threading.Event()
    civitai.set_response(BY_HASH_PATH, 200, [{"modelVersionId": 7001, "modelId": 701, "hash": sha.upper()}],
                         headers={"X-Test-Gate": lambda: str(gate.wait(60))})
    try:
        host_env.ok("scan")
        wait_until(lambda: (scan_job(host_env) or {}).get("phase") == "identifying", 60, "the scan to ask CivitAI")
        wait_until(lambda: civitai.requests_for(BY_HASH_PATH), 30, "the by-hash request")
        assert host_env.ok("cancel", kind="scan") == {"status": "canceled"}
        canceled_at = time.time()

        def worker_saw_the_cancel():  # a tick stamped later read the job file after the cancel
            data = json.loads((host_env.catalog_dir / ".catalog-host-jobs").read_text("utf-8"))
            return float(data["worker"]["tick"]) >= canceled_at + 0.001

        # the worker passes the cancel to the scan's thread at that tick; the thread sees it
        # once CivitAI answers
        wait_until(worker_saw_the_cancel, 30, "the worker's next tick")
    finally:
        gate.set()
    wait_until(lambda: worker_gone(host_env), 30, "the worker to exit")
    assert scan_job(host_env)["state"] == "canceled"
    assert not (host_env.catalog_dir / ".catalog-host-scan").exists()  # no results stored
    assert cached_paths(host_env) == {str(path)}
    assert host_env.ok("lookup", version_ids=[7001])["by_version"]["7001"] is None

    host_env.ok("scan")
    wait_until(lambda: scan_job(host_env)["state"] == "done", 60, "the next scan")
    result = scan_job(host_env)["result"]
    assert (result["hashed"], result["from_cache"], result["versions_identified"]) == (0, 1, 1)
    assert len(civitai.requests_for(BY_HASH_PATH)) == 1  # the answer came from the cache
    assert host_env.ok("lookup", version_ids=[7001])["by_version"]["7001"]["status"] == "untracked"
    wait_until(lambda: worker_gone(host_env), 30, "the worker to exit")


@pytest.mark.parametrize("params", [{"kind": "scan"}, {"version_id": 9208}], ids=["scan", "download"])
def test_cancel_with_nothing_to_cancel_creates_nothing(host_env, params):
    """A catalog folder that does not exist yet (a new install) stays absent: `cancel` only reads."""
    assert not host_env.catalog_dir.exists()
    assert host_env.error("cancel", **params)["code"] == "not_found"
    assert not host_env.catalog_dir.exists()
