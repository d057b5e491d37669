"""Every fault of the network edge leaves a state and a message a person can act on, and
never a file at the final path that is not the verified one (SPEC §9)."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest

from tests.downloads.conftest import wait_until
from tests.support.fake_civitai import Response, download_path
from tests.support.fake_storage import Fault

MIB = 1024 * 1024
LOGIN_PAGE = b"<!DOCTYPE html><html><head><title>Sign in | Civitai</title></head><body>Log in</body></html>"


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest().upper()


def leftovers(bench, name: str, dest: str = "loras") -> list[str]:
    folder = bench.env.models_dir / dest
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def run_to_end(bench, vid: int) -> dict:
    bench.env.ok("download", version_id=vid)
    return bench.wait_state(vid, "done", "failed")


def test_connection_dropped_resumes_with_range(bench):
    _, sha = bench.setup_download(800, "m.safetensors", 5 * MIB + 3)
    bench.storage.script("m.safetensors", [Fault(drop_at=MIB + 7), Fault(drop_at=3 * MIB + 1)])
    job = run_to_end(bench, 800)
    assert job["state"] == "done", job
    assert sha256(bench.final("m.safetensors")) == sha
    starts = [r.range_start for r in bench.storage.requests]
    assert starts == [None, MIB + 7, 3 * MIB + 1]
    assert len(bench.civitai.requests) == 3  # a fresh redirect for every resume
    assert leftovers(bench, "m.safetensors") == ["m.safetensors"]


def test_200_to_a_range_restarts_from_zero(bench):
    _, sha = bench.setup_download(801, "r.safetensors", 3 * MIB)
    bench.storage.script("r.safetensors", [Fault(drop_at=2 * MIB), Fault(ignore_range=True)])
    assert run_to_end(bench, 801)["state"] == "done"
    assert sha256(bench.final("r.safetensors")) == sha
    assert [r.range_start for r in bench.storage.requests] == [None, 2 * MIB]


def test_206_with_another_start_restarts_from_zero(bench):
    _, sha = bench.setup_download(802, "w.safetensors", 3 * MIB)
    bench.storage.script("w.safetensors", [Fault(drop_at=2 * MIB), Fault(wrong_start=MIB)])
    assert run_to_end(bench, 802)["state"] == "done"
    assert sha256(bench.final("w.safetensors")) == sha
    assert [r.range_start for r in bench.storage.requests] == [None, 2 * MIB, None]


def test_wrong_bytes_fail_the_hash_and_nothing_is_kept(bench):
    bench.setup_download(803, "x.safetensors", 2 * MIB)
    bench.storage.fault_for = lambda name, n, start: Fault(corrupt_at=MIB + 11)
    job = run_to_end(bench, 803)
    assert job["state"] == "failed" and job["error"]["code"] == "hash_mismatch", job
    assert "deleted" in job["error"]["message"]
    assert leftovers(bench, "x.safetensors") == []
    record = bench.env.ok("lookup", version_ids=[803])["by_version"]["803"]
    assert record["status"] == "failed" and record["job"]["error"]["code"] == "hash_mismatch"


def test_no_hash_checks_the_size_and_says_so(bench):
    _, sha = bench.setup_download(804, "n.safetensors", MIB + 1, hashed=False)
    job = run_to_end(bench, 804)
    assert job["state"] == "done" and job["verify"] == "size"
    assert sha256(bench.final("n.safetensors")) == sha


def test_file_id_found_by_name_on_civitai(bench):
    from tests.support.fake_civitai import load_fixture

    path, sha = bench.make_model("byname.safetensors", MIB)
    bench.write_models(bench.catalog_entry(805, "byname.safetensors", None, file_id=None))
    payload = load_fixture("sdxl_lora")
    payload["id"] = 805
    payload["files"][0].update(id=31337, name="byname.safetensors", hashes={"SHA256": sha},
                               sizeKB=MIB / 1024)
    bench.civitai.add_version(payload)
    bench.offer(805, "byname.safetensors")
    job = run_to_end(bench, 805)
    assert job["state"] == "done" and job["verify"] == "sha256", job
    assert any(r.path == "/api/download/models/805?fileId=31337" for r in bench.civitai.requests)


def test_entry_file_not_among_the_versions_files(bench):
    from tests.support.fake_civitai import load_fixture

    bench.write_models(bench.catalog_entry(806, "renamed.safetensors", None, file_id=None))
    payload = load_fixture("sdxl_lora")
    payload["id"] = 806
    bench.civitai.add_version(payload)
    job = run_to_end(bench, 806)
    assert job["error"]["code"] == "file_not_on_civitai" and "renamed.safetensors" in job["error"]["message"]


@pytest.mark.parametrize(
    ("answer", "code", "words"),
    [
        (Response(401, {"error": "This download requires you to be logged in"}), "login_required", "API key"),
        (Response(403, {"error": "Early Access", "deadline": "2026-12-24T00:00:00.000Z"}), "early_access", "2026-12-24"),
        (Response(403, {"error": "You do not have access"}), "no_access", "account"),
        (Response(404, {"error": "Model not found"}), "gone", "removed"),
        (Response(410, {"error": "archived"}), "gone", "archived"),
        (Response(200, LOGIN_PAGE), "not_a_model_file", "nothing was saved"),
        (Response(200, {"error": "Unauthorized"}), "not_a_model_file", "nothing was saved"),
        (Response(429, b"slow down", {"Retry-After": "0"}), "rate_limited", "Wait"),
        (Response(503, b"busy", {"Retry-After": "0"}), "network", "connection"),
    ],
    ids=["401", "403-early", "403", "404", "410", "html-200", "json-200", "429", "503"],
)
def test_civitai_refusals_become_codes_with_plain_words(bench, answer, code, words):
    bench.setup_download(810, "e.safetensors", MIB)
    bench.civitai.set_sequence(download_path(810), [answer])
    job = run_to_end(bench, 810)
    assert job["state"] == "failed" and job["error"]["code"] == code, job
    assert words in job["error"]["message"]
    assert leftovers(bench, "e.safetensors") == []
    assert bench.storage.requests == []


def test_storage_login_page_with_200_is_not_saved_even_over_a_partial(bench):
    bench.setup_download(811, "h.safetensors", 2 * MIB)
    bench.storage.script("h.safetensors", [
        Fault(drop_at=MIB),
        Fault(status=200, body=LOGIN_PAGE, headers={"Content-Type": "text/html"}),
    ])
    job = run_to_end(bench, 811)
    assert job["error"]["code"] == "not_a_model_file", job
    assert leftovers(bench, "h.safetensors") == []


def test_429_honours_retry_after_then_completes(bench):
    _, sha = bench.setup_download(812, "t.safetensors", MIB)
    bench.civitai.set_sequence(download_path(812), [
        Response(429, b"slow down", {"Retry-After": "2"}),
        Response(302, b"", {"Location": bench.storage.url_for("t.safetensors")}),
    ])
    job = run_to_end(bench, 812)
    assert job["state"] == "done"
    first, second = bench.civitai.requests
    assert second.time - first.time >= 1.9
    assert sha256(bench.final("t.safetensors")) == sha


def test_5xx_backs_off_then_completes(bench):
    _, sha = bench.setup_download(813, "s.safetensors", MIB)
    bench.storage.script("s.safetensors", [Fault(status=503, body=b"unavailable")])
    job = run_to_end(bench, 813)
    assert job["state"] == "done"
    first, second = bench.storage.requests
    assert second.time - first.time >= 0.9  # the first backoff step
    assert sha256(bench.final("s.safetensors")) == sha


def test_a_file_that_appears_at_the_target_is_never_overwritten(bench):
    gate = threading.Event()
    bench.setup_download(814, "f.safetensors", 2 * MIB)
    bench.storage.script("f.safetensors", [Fault(stall_at=MIB, stall=gate)])
    bench.env.ok("download", version_id=814)
    wait_until(lambda: (bench.job(814) or {}).get("bytes", 0) >= MIB, what="1 MiB fetched")
    theirs = bench.env.put_file("loras", "f.safetensors", b"a file the person put there")
    gate.set()
    job = bench.wait_state(814, "done", "failed")
    assert job["error"]["code"] == "file_exists" and str(theirs) in job["error"]["message"]
    assert theirs.read_bytes() == b"a file the person put there"
    assert leftovers(bench, "f.safetensors") == ["f.safetensors"]


def test_stall_shorter_than_the_read_timeout_just_waits(bench):
    _, sha = bench.setup_download(815, "slow.safetensors", 2 * MIB)
    bench.storage.script("slow.safetensors", [Fault(stall_at=MIB, stall=1.5)])
    began = time.monotonic()
    assert run_to_end(bench, 815)["state"] == "done"
    assert time.monotonic() - began >= 1.5
    assert len(bench.storage.requests) == 1
    assert sha256(bench.final("slow.safetensors")) == sha


def test_retry_after_a_failure_downloads_again(bench):
    bench.setup_download(816, "again.safetensors", MIB)
    bench.civitai.set_sequence(download_path(816), [Response(401, {"error": "login"})])
    assert run_to_end(bench, 816)["error"]["code"] == "login_required"
    bench.offer(816, "again.safetensors")
    assert bench.env.ok("download", version_id=816)["status"] == "queued"
    job = bench.wait_state(816, "done", "failed")
    assert job["state"] == "done" and "error" not in job


def test_a_complete_partial_file_is_verified_without_refetching(bench):
    """A worker killed after the last byte but before the rename: the next one gets a 416."""
    source, sha = bench.setup_download(817, "done.safetensors", 2 * MIB)
    part = bench.final("done.safetensors").with_name("done.safetensors.part")
    part.parent.mkdir(parents=True)
    part.write_bytes(source.read_bytes())
    job = run_to_end(bench, 817)
    assert job["state"] == "done", job
    assert [r.range_start for r in bench.storage.requests] == [2 * MIB]
    assert sha256(bench.final("done.safetensors")) == sha
    assert leftovers(bench, "done.safetensors") == ["done.safetensors"]


def test_a_damaged_partial_file_is_fetched_again_from_zero(bench):
    source, sha = bench.setup_download(818, "dmg.safetensors", 2 * MIB)
    part = bench.final("dmg.safetensors").with_name("dmg.safetensors.part")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"\0" * MIB)  # e.g. a power cut: the size grew, the bytes never arrived
    job = run_to_end(bench, 818)
    assert job["state"] == "done", job
    assert [r.range_start for r in bench.storage.requests] == [MIB, None]
    assert sha256(bench.final("dmg.safetensors")) == sha


def test_two_entries_naming_one_file_never_download_it_at_once(bench):
    path, sha = bench.make_model("shared.safetensors", 2 * MIB)
    bench.write_models(bench.catalog_entry(819, "shared.safetensors", sha),
                       bench.catalog_entry(820, "shared.safetensors", sha))
    bench.offer(819, "shared.safetensors")
    bench.offer(820, "shared.safetensors")
    gate = threading.Event()
    bench.storage.script("shared.safetensors", [Fault(stall_at=MIB, stall=gate)])
    bench.env.ok("download", version_id=819)
    bench.env.ok("download", version_id=820)
    queued_at = bench.job(820)["created"]
    wait_until(lambda: (bench.job(819) or {}).get("bytes", 0) >= MIB, what="1 MiB fetched")
    # two worker ticks after the second job was queued, it must still be waiting
    wait_until(lambda: bench.jobs_file()["worker"]["tick"] > queued_at + 1.0, what="two worker ticks")
    assert bench.state(820) == "queued"
    gate.set()
    assert bench.wait_state(819, "done", "failed")["state"] == "done"
    assert bench.wait_state(820, "done", "failed")["state"] == "done"  # found verified in place
    assert len(bench.storage.requests) == 1
    assert sha256(bench.final("shared.safetensors")) == sha


def test_a_missing_models_folder_is_never_created(bench, monkeypatch):
    bench.setup_download(821, "nowhere.safetensors", MIB)
    gone = bench.env.models_dir.with_name("unmounted")
    monkeypatch.setenv("CATALOG_HOST_MODELS_DIR", str(gone))
    job = run_to_end(bench, 821)
    assert job["error"]["code"] == "write_failed" and "mounted" in job["error"]["message"]
    assert not gone.exists()


def test_a_refusal_quoting_the_api_key_is_not_repeated(bench):
    from tests.downloads.conftest import API_KEY

    bench.setup_download(822, "k.safetensors", MIB)
    bench.civitai.set_sequence(download_path(822), [Response(403, {"error": f"bad token {API_KEY}"})])
    job = run_to_end(bench, 822)
    assert job["error"]["code"] == "no_access"
    assert API_KEY[:8] not in job["error"]["message"] and "not shown" in job["error"]["message"]
