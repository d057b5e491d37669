"""The job runner on its own (host.jobs), in-process, with a job kind made for the test."""

from __future__ import annotations

import threading
import time

import pytest

from host.jobs import kinds
from host.jobs.state import locked_jobs, new_job
from host.jobs.worker import run_jobs
from host.settings import load_settings
from tests.downloads import kind_for_tests
from tests.downloads.conftest import wait_until


@pytest.fixture
def runner_env(host_env, monkeypatch):
    monkeypatch.setitem(kinds.KINDS, "test", "tests.downloads.kind_for_tests")
    monkeypatch.setattr(kind_for_tests, "most_at_once", 0)
    return host_env


def queue(catalog_dir: str, *jobs: dict) -> None:
    with locked_jobs(catalog_dir) as state:
        for job in jobs:
            state.put(job)


def test_runs_every_job_two_at_a_time_and_records_outcomes(runner_env):
    catalog_dir = str(runner_env.catalog_dir)
    queue(catalog_dir, *[new_job("test", f"j{n}", {"label": n}, {"steps": 10, "fail": n == 2}) for n in range(5)],
          new_job("nonesuch", "x", {}, {}))
    assert runner_env.catalog_dir.joinpath(".catalog-host-jobs-active").exists()
    run_jobs(catalog_dir, load_settings())  # returns once nothing is left
    with locked_jobs(catalog_dir) as state:
        jobs = {j["key"]: j for j in state.jobs}
    assert kind_for_tests.most_at_once == 2
    assert [jobs[f"j{n}"]["state"] for n in range(5)] == ["done", "done", "failed", "done", "done"]
    assert jobs["j2"]["error"] == {"code": "test_failure", "message": "failed as asked"}
    assert jobs["j0"]["found"] == 18 and jobs["j0"]["label"] == 0  # the kind's own fields
    assert jobs["x"]["error"]["code"] == "unknown_kind"
    assert not runner_env.catalog_dir.joinpath(".catalog-host-jobs-active").exists()


def test_cancel_reaches_the_running_thread(runner_env):
    catalog_dir = str(runner_env.catalog_dir)
    queue(catalog_dir, new_job("test", "long", {}, {"steps": 100_000}))
    worker = threading.Thread(target=run_jobs, args=(catalog_dir, load_settings()), daemon=True)
    worker.start()

    def progressed() -> bool:
        with locked_jobs(catalog_dir) as state:
            return state.find("test", "long").get("bytes", 0) > 3

    wait_until(progressed, 30, "the job to run")
    with locked_jobs(catalog_dir) as state:
        state.find("test", "long")["state"] = "canceled"
        state.changed = True
    worker.join(10)
    assert not worker.is_alive()
    with locked_jobs(catalog_dir) as state:
        assert state.find("test", "long")["state"] == "canceled"
    assert kind_for_tests.running == 0


def test_a_job_queued_again_while_its_canceled_run_ends_runs_afresh(runner_env, monkeypatch):
    """Cancel, then queue the same kind and key at once (Scan again, Retry): the canceled run's
    thread may still be ending (a scan saving its cache). The worker took that thread for the
    new job's: the new job ended `canceled` with the old run's outcome, never run."""
    monkeypatch.setattr(kind_for_tests, "saw_cancel", threading.Event())
    monkeypatch.setattr(kind_for_tests, "release", threading.Event())
    catalog_dir = str(runner_env.catalog_dir)
    queue(catalog_dir, new_job("test", "again", {"label": "first"}, {"steps": 100_000, "linger": True}))
    worker = threading.Thread(target=run_jobs, args=(catalog_dir, load_settings()), daemon=True)
    worker.start()
    try:
        wait_until(lambda: find("again", catalog_dir).get("bytes", 0) > 3, 30, "the first run")
        with locked_jobs(catalog_dir) as state:
            state.find("test", "again")["state"] = "canceled"
            state.changed = True
        assert kind_for_tests.saw_cancel.wait(30)  # the worker told the thread; it is still ending
        with locked_jobs(catalog_dir) as state:
            created = state.find("test", "again")["created"]
        # job times have millisecond resolution: the new job is another one
        wait_until(lambda: round(time.time(), 3) > created, 5, "the clock to move on")
        queue(catalog_dir, new_job("test", "again", {"label": "second"}, {"steps": 5}))
        assert find("again", catalog_dir)["created"] != created
    finally:
        kind_for_tests.release.set()
    worker.join(30)
    assert not worker.is_alive()
    job = find("again", catalog_dir)
    assert (job["label"], job["state"], job["bytes"]) == ("second", "done", 4)
    assert kind_for_tests.running == 0


def find(key: str, catalog_dir: str) -> dict:
    with locked_jobs(catalog_dir) as state:
        return dict(state.find("test", key) or {})


def test_damaged_jobs_in_the_job_file_are_dropped_not_fatal(runner_env):
    """A job file edited by hand or by a buggy older version: readers, the lock holder and the
    worker skip what is not a job instead of failing (a text time raised ValueError in every
    lookup with a missing record, in `jobs`, and in every write)."""
    import json

    from host.jobs.listing import jobs_reply
    from host.jobs.paths import download_jobs_by_version

    catalog_dir = str(runner_env.catalog_dir)
    good = new_job("test", "ok", {}, {"steps": 2})
    damaged = [
        {"kind": "download", "key": "1", "version_id": "1", "state": "failed", "updated": "soon"},
        {"key": "no-kind", "state": "queued"},
        {"kind": "test", "key": ["not", "a", "string"], "state": "running"},
        {"kind": "test", "key": "r", "state": "queued", "resource": ["a", "list"], "params": {"steps": 1}},
        7,
    ]
    runner_env.catalog_dir.mkdir(parents=True, exist_ok=True)
    (runner_env.catalog_dir / ".catalog-host-jobs").write_text(
        json.dumps({"format": 1, "jobs": [*damaged, good]}), "utf-8"
    )
    assert [j["key"] for j in jobs_reply(catalog_dir)["jobs"]] == ["ok"]  # a failure of unknown age is old
    assert download_jobs_by_version(catalog_dir) == {}
    run_jobs(catalog_dir, load_settings())
    with locked_jobs(catalog_dir) as state:
        assert {j["key"]: j["state"] for j in state.jobs} == {"ok": "done"}


def test_job_times_that_are_no_real_time_are_unknown_not_fatal(runner_env):
    """Times a JSON parser accepts but no clock gives: 1e999 (infinity) and a 400-digit
    integer. `jobs` cut the infinity to null and then could not sort by it (TypeError), and
    float() of the integer raised OverflowError in `jobs` and in every lookup of a missing
    record: both answered internal_error."""
    from tests.support.catalogs import civitai_entry, one_category_catalog

    now = time.time()
    runner_env.write_catalogs(one_category_catalog(civitai_entry(7, 70, "seven.safetensors", "loras")))
    huge = "1" + "0" * 400
    raw = (
        '{"format":1,"jobs":['
        f'{{"kind":"download","key":"7","version_id":"7","state":"failed","created":{now!r},"updated":{huge}}},'
        '{"kind":"download","key":"8","version_id":"8","state":"queued","created":1e999,"updated":-1e999},'
        f'{{"kind":"download","key":"9","version_id":"9","state":"done","created":{now - 10!r},"updated":{now - 5!r}}}]}}'
    )
    (runner_env.catalog_dir / ".catalog-host-jobs").write_text(raw, "utf-8")
    listed = runner_env.ok("jobs")["jobs"]
    assert [j["key"] for j in listed] == ["8", "9"]  # a failure of unknown age is old
    assert listed[0]["created"] == 0
    assert runner_env.ok("lookup", version_ids=["7"])["by_version"]["7"]["status"] == "missing"


def test_a_worker_stopped_by_a_bug_says_so_in_the_log(runner_env, monkeypatch):
    """The detached worker's stderr is /dev/null: an exception that ended it left no trace."""
    from host.jobs import worker
    from host.log import get_logger

    def broken(catalog_dir: str, settings: object) -> None:
        raise RuntimeError("a bug in the worker loop")

    monkeypatch.setattr(worker, "run_jobs", broken)
    runner_env.catalog_dir.mkdir(parents=True, exist_ok=True)
    assert worker.main([str(runner_env.catalog_dir)]) == 1
    log_files = [h.baseFilename for h in get_logger().handlers if hasattr(h, "baseFilename")]
    assert log_files
    with open(log_files[0], encoding="utf-8") as handle:
        text = handle.read()
    assert "stopped by an error" in text and "RuntimeError: a bug in the worker loop" in text


def test_a_worker_that_gives_up_exits_instead_of_running_its_jobs_twice(runner_env, monkeypatch):
    """After MAX_TICK_FAILURES failed ticks the loop gave up with its job threads still running,
    and main() saw unfinished jobs and started the loop again: every running download got a
    second thread writing the same partial file."""
    from host.jobs import worker

    catalog_dir = str(runner_env.catalog_dir)
    queue(catalog_dir, new_job("test", "stays", {}, {"steps": 1}))
    ticks = []

    def failing_tick(*args: object) -> bool:
        ticks.append(1)
        if len(ticks) > 20:  # the bug: the job ends, so that main() stops looping
            with locked_jobs(catalog_dir) as state:
                state.find("test", "stays")["state"] = "done"
                state.changed = True
            return False
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(worker, "_tick", failing_tick)
    monkeypatch.setattr(worker, "MAX_TICK_FAILURES", 3)
    monkeypatch.setattr(worker, "TICK_S", 0.001)
    assert worker.main([catalog_dir]) == 1
    assert len(ticks) == 3
