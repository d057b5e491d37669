"""Downloads end to end through the real dispatcher and a real detached worker process,
with CivitAI and its storage faked on 127.0.0.1 (SPEC §9)."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor

from tests.downloads.conftest import API_KEY, wait_until
from tests.support.fake_civitai import load_fixture

MIB = 1024 * 1024


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest().upper()


def test_queued_then_present_verified_with_the_key_only_on_civitai(bench):
    _, sha = bench.setup_download(700, "style.safetensors", 3 * MIB + 17)
    before = bench.env.snapshot()
    result = bench.env.ok("download", version_id=700)
    assert result["status"] == "queued"
    assert (result["file"], result["dest"]) == ("style.safetensors", "loras")
    assert result["job"]["state"] == "queued" and result["job"]["version_id"] == "700"
    assert "params" not in result["job"]
    job = bench.wait_state(700, "done", "failed")
    assert job["state"] == "done", job
    assert job["bytes"] == job["total"] == 3 * MIB + 17 and job["verify"] == "sha256"
    final = bench.final("style.safetensors")
    assert sha256(final) == sha
    assert not final.with_name("style.safetensors.part").exists()
    assert bench.env.snapshot() == before  # a download never edits the catalogs
    record = bench.env.ok("lookup", version_ids=[700])["by_version"]["700"]
    assert record["status"] == "present" and "job" not in record
    (asked,) = bench.civitai.requests
    assert asked.path == "/api/download/models/700?fileId=555"
    assert asked.header("authorization") == f"Bearer {API_KEY}"
    assert "Mozilla" not in (asked.header("user-agent") or "")
    (fetched,) = bench.storage.requests
    assert fetched.header("authorization") is None  # never to the redirect target
    assert fetched.header("range") is None


def test_already_present_and_already_queued(bench):
    bench.setup_download(701, "a.safetensors", MIB)
    bench.env.put_file("loras", "a.safetensors", b"mine")
    assert bench.env.ok("download", version_id=701) == {
        "status": "already_present", "file": "a.safetensors", "dest": "loras"}
    assert bench.storage.requests == []


def test_four_concurrent_downloads_make_one_job(bench):
    import threading

    gate = threading.Event()
    from tests.support.fake_storage import Fault

    bench.setup_download(702, "b.safetensors", 2 * MIB)
    bench.storage.script("b.safetensors", [Fault(stall_at=MIB, stall=gate)])
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: bench.env.ok("download", version_id="702"), range(4)))
    statuses = sorted(r["status"] for r in results)
    assert statuses == ["already_queued", "already_queued", "already_queued", "queued"], results
    assert len(bench.env.ok("jobs")["jobs"]) == 1
    gate.set()
    assert bench.wait_state(702, "done", "failed")["state"] == "done"
    assert len(bench.civitai.requests) == 1


def test_record_shows_the_job_while_downloading_and_cancel_deletes_the_partial(bench):
    import threading

    from tests.support.fake_storage import Fault

    gate = threading.Event()
    bench.setup_download(703, "c.safetensors", 4 * MIB)
    bench.storage.script("c.safetensors", [Fault(stall_at=2 * MIB, stall=gate)])
    bench.env.ok("download", version_id=703)
    part = bench.final("c.safetensors").with_name("c.safetensors.part")
    wait_until(lambda: (bench.job(703) or {}).get("bytes", 0) >= 2 * MIB, what="2 MiB fetched")
    record = bench.env.ok("lookup", version_ids=[703])["by_version"]["703"]
    assert record["status"] == "downloading" and record["job"]["bytes"] >= 2 * MIB
    assert record["job"]["total"] == 4 * MIB
    page = bench.env.ok("map")
    assert page["by_version"]["703"]["status"] == "downloading"
    assert part.exists()
    assert bench.env.ok("cancel", version_id=703) == {"status": "canceled"}
    assert not part.exists()  # deleted by the op itself, not later by the worker
    assert bench.state(703) == "canceled"
    gate.set()
    record = bench.env.ok("lookup", version_ids=[703])["by_version"]["703"]
    assert record["status"] == "missing" and "job" not in record
    assert not bench.final("c.safetensors").exists()
    assert bench.env.error("cancel", version_id=703)["code"] == "not_found"


def test_download_adds_the_version_first_with_the_chosen_file(bench):
    payload = load_fixture("sdxl_lora")
    path, sha = bench.make_model("second.safetensors", MIB + 5)
    extra = dict(payload["files"][0], id=98765, name="second.safetensors", primary=False,
                 hashes={"SHA256": sha})
    payload["files"].append(extra)
    bench.civitai.add_version(payload)
    vid = payload["id"]
    bench.offer(vid, "second.safetensors")
    result = bench.env.ok("download", version_id=vid, file_id=98765)
    assert result["status"] == "queued" and result["file"] == "second.safetensors"
    entry = next(e for c in bench.env.read("models")["categories"] for e in c["models"])
    assert entry["file"] == "second.safetensors" and entry["civitai_file_id"] == 98765
    assert bench.wait_state(vid, "done", "failed")["state"] == "done"
    assert sha256(bench.final("second.safetensors", result["dest"])) == sha
    assert any(r.path.endswith("?fileId=98765") for r in bench.civitai.requests)


def test_restricted_version_queues_nothing(bench):
    bench.civitai.add_fixture("usage_generation")
    vid = load_fixture("usage_generation")["id"]
    result = bench.env.ok("download", version_id=vid)
    assert result["status"] == "restricted"
    assert bench.env.ok("jobs") == {"jobs": []}


def test_bad_params_are_refused(bench):
    assert bench.env.error("download", version_id="x")["code"] == "invalid_request"
    assert bench.env.error("download", version_id=1, file_id=True)["param"] == "file_id"
    assert bench.env.error("jobs", version_id=1)["code"] == "invalid_request"
    assert bench.env.error("cancel")["param"] == "version_id"
    assert bench.env.error("cancel", version_id=5)["code"] == "not_found"
    assert json.dumps(bench.env.ok("jobs")) == '{"jobs": []}'
