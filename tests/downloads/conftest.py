"""A download test bench: the isolated host environment, a fake CivitAI whose download
endpoint redirects to a fake storage (both on 127.0.0.1), and cleanup of every worker."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import HostEnv
from tests.support.catalogs import civitai_entry, write_json
from tests.support.fake_civitai import FakeCivitai
from tests.support.fake_storage import FakeStorage, make_file
from tests.support.processes import pid_alive

API_KEY = "test-key-0123456789abcdef"
WAIT_S = 60.0


def wait_until(condition: Callable[[], Any], timeout: float = WAIT_S, what: str = "condition") -> Any:
    """Poll `condition` until it is truthy (returned) or `timeout` passes (AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.02)


@dataclass
class Bench:
    env: HostEnv
    civitai: FakeCivitai
    storage: FakeStorage
    tmp: Path

    def jobs_file(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads((self.env.catalog_dir / ".catalog-host-jobs").read_text("utf-8"))
        except (OSError, ValueError):
            return {"jobs": []}
        return data

    def job(self, version_id: int | str) -> dict[str, Any] | None:
        for job in self.jobs_file()["jobs"]:
            if job.get("kind") == "download" and job.get("key") == str(version_id):
                return dict(job)
        return None

    def state(self, version_id: int | str) -> str | None:
        job = self.job(version_id)
        return None if job is None else str(job["state"])

    def wait_state(self, version_id: int | str, *states: str, timeout: float = WAIT_S) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            job = self.job(version_id)
            return job if job is not None and job["state"] in states else None

        job: dict[str, Any] = wait_until(reached, timeout, f"version {version_id} to reach {states}; last {self.job(version_id)}")
        return job

    def worker_pid(self) -> int | None:
        worker = self.jobs_file().get("worker") or {}
        pid = worker.get("pid")
        return int(pid) if pid else None

    def make_model(self, name: str, size: int, seed: int = 1) -> tuple[Path, str]:
        path = self.tmp / "storage" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        sha = make_file(path, size, seed)
        self.storage.put(name, path)
        return path, sha

    def catalog_entry(self, version_id: int, file: str, sha: str | None, dest: str = "loras",
                      file_id: int | None = 555, **extra: Any) -> dict[str, Any]:
        entry = civitai_entry(version_id, 4242, file, dest, **extra)
        if file_id is None:
            entry.pop("civitai_file_id")
        else:
            entry["civitai_file_id"] = file_id
        if sha:
            entry["hash"] = sha
        return entry

    def write_models(self, *entries: dict[str, Any]) -> None:
        write_json(self.env.models_json, {
            "version": 1, "date": "2026-11-01 10:00",
            "categories": [{"id": "loras", "name": "LoRAs", "models": list(entries)}],
        })

    def offer(self, version_id: int, name: str) -> None:
        """CivitAI's download endpoint for the version redirects to the stored file."""
        self.civitai.serve_download(version_id, self.storage.url_for(name))

    def setup_download(self, version_id: int, name: str, size: int, *, seed: int = 1,
                       hashed: bool = True, dest: str = "loras") -> tuple[Path, str]:
        """A catalog entry for a stored file, offered by the fake CivitAI; (stored path, sha)."""
        path, sha = self.make_model(name, size, seed)
        self.write_models(self.catalog_entry(version_id, name, sha if hashed else None, dest))
        self.offer(version_id, name)
        return path, sha

    def final(self, name: str, dest: str = "loras") -> Path:
        return self.env.models_dir / dest / name

    def kill_worker(self) -> None:
        pid = self.worker_pid()
        if pid and pid_alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                return
            wait_until(lambda: not pid_alive(pid), 10, f"worker {pid} to die")


def _stop_workers(bench: Bench) -> None:
    """Cancel what is left and make sure no worker outlives its test."""
    for job in bench.jobs_file()["jobs"]:
        if job.get("state") in ("queued", "downloading", "verifying"):
            bench.env.call("cancel", version_id=job["key"])
    pid = bench.worker_pid()
    if pid and pid_alive(pid):
        try:
            wait_until(lambda: not pid_alive(pid), 10, "the worker to exit")
        except AssertionError:
            bench.kill_worker()


@pytest.fixture
def bench(host_env: HostEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bench]:
    with FakeCivitai() as civitai, FakeStorage() as storage:
        monkeypatch.setenv("CATALOG_HOST_CIVITAI_URL", civitai.url)
        monkeypatch.setenv("CIVITAI_API_KEY", API_KEY)
        host_env.env["CATALOG_HOST_CIVITAI_URL"] = civitai.url
        host_env.env["CIVITAI_API_KEY"] = API_KEY
        created = Bench(host_env, civitai, storage, tmp_path)
        try:
            yield created
        finally:
            _stop_workers(created)
