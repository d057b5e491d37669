"""`jobs` and `ping` stay under Chrome's 1 MiB reply limit whatever the job file and the
extra_model_paths files hold: asked of a real host process over native-messaging frames."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from host.framing import MAX_REPLY_BYTES
from host.jobs.listing import REPLY_BUDGET_BYTES
from tests.conftest import HostEnv
from tests.support.catalogs import write_json
from tests.support.frames import frame, unframe_all

HOSTILE = "\x01" * 100_000  # 6 bytes each in JSON


def ask_host(host_env: HostEnv, op: str) -> tuple[dict[str, Any], int]:
    """(the reply, its frame's size) from a real host process."""
    proc = subprocess.run([sys.executable, "-m", "host"], input=frame({"op": op, "id": 1}), capture_output=True,
                          env=host_env.env, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    (reply,) = unframe_all(proc.stdout)
    return reply, len(proc.stdout) - 4


def download_job(n: int, state: str, created: float, updated: float) -> dict[str, Any]:
    job = {"kind": "download", "key": str(n), "version_id": str(n), "file": f"{'long_name_' * 20}{n}.safetensors",
           "dest": "loras/" + "deep/" * 30, "state": state, "bytes": 0, "total": None, "rate": 0,
           "created": created, "updated": updated, "params": {"file_id": n, "hash": None},
           "resource": f"file:loras/{n}"}
    if state == "failed":
        job["error"] = {"code": "network", "message": "the connection kept dropping " * 20}
    return job


def test_jobs_lists_the_unfinished_then_the_newest_within_the_budget(host_env: HostEnv) -> None:
    """A day of 6,000 downloads (~5 MB of job file), one failure whose message is 600 KB of
    JSON, and a scan whose 50 problems name hostile paths."""
    now = time.time()
    unfinished = [download_job(n, "queued", now - 80_000 + n, now - 80_000 + n) for n in range(1, 4)]
    ended = [download_job(n, ("done", "failed", "canceled")[n % 3], now - 80_000 + n, now - 80_000 + 10 * n)
             for n in range(100, 6100)]
    monster = download_job(99, "failed", now - 70_000, now)  # the newest of all
    monster["error"]["message"] = HOSTILE
    scan = {"kind": "scan", "key": "scan", "state": "done", "phase": "done", "created": now - 60, "updated": now - 1,
            "result": {"state": "done", "problem_count": 50, "problems": [f"cannot read /m/{HOSTILE[:4096]}"] * 50}}
    jobs = [*ended, monster, scan, *unfinished]
    host_env.catalog_dir.mkdir(parents=True)
    (host_env.catalog_dir / ".catalog-host-jobs").write_text(json.dumps({"format": 1, "jobs": jobs}), "utf-8")
    assert (host_env.catalog_dir / ".catalog-host-jobs").stat().st_size > 4 * MAX_REPLY_BYTES

    reply, size = ask_host(host_env, "jobs")
    assert reply["ok"], reply["error"]
    assert size <= REPLY_BUDGET_BYTES + 1024
    listed = reply["result"]["jobs"]
    assert reply["result"]["left_out"] == len(jobs) - len(listed) > 0
    assert [j["created"] for j in listed] == sorted(j["created"] for j in listed)  # oldest first
    keys = {j["key"] for j in listed}
    assert {"1", "2", "3", "99", "scan"} <= keys  # every unfinished one, and the newest ended ones
    shown_ended = [j for j in ended if j["key"] in keys]
    left_ended = [j for j in ended if j["key"] not in keys]
    assert len(shown_ended) > 400 and left_ended
    assert min(j["updated"] for j in shown_ended) > max(j["updated"] for j in left_ended)
    by_key = {j["key"]: j for j in listed}
    assert all("params" not in j and "resource" not in j for j in listed)
    assert set(by_key["99"]["error"]["message"]) == {"\x01"}
    assert len(json.dumps(by_key["99"]["error"]["message"])) <= 1024 + 2
    (problem,) = set(by_key["scan"]["result"]["problems"])
    assert problem.startswith("cannot read /m/\x01") and len(json.dumps(problem)) <= 1024 + 2
    assert by_key["2"]["file"] == unfinished[1]["file"]  # ordinary text is untouched


def test_jobs_with_few_jobs_lists_them_all_and_says_nothing_left_out(host_env: HostEnv) -> None:
    now = time.time()
    jobs = [download_job(1, "done", now - 10, now - 5), download_job(2, "queued", now - 20, now - 20)]
    host_env.catalog_dir.mkdir(parents=True)
    (host_env.catalog_dir / ".catalog-host-jobs").write_text(json.dumps({"format": 1, "jobs": jobs}), "utf-8")
    result = host_env.ok("jobs")
    assert [j["key"] for j in result["jobs"]] == ["2", "1"] and "left_out" not in result


def test_ping_lists_the_first_model_folders_within_the_budget(host_env: HostEnv) -> None:
    """extra_model_paths files adding 3,000 folder names and 6,000 folders of ~280-byte paths
    (~2.5 MB of JSON), and 50 configured YAML files that do not exist, with long names."""
    from host.disk.names import DEFAULT_SUBFOLDERS, KNOWN_FOLDERS

    disk = host_env.root / ("d" * 200)
    groups = ["big:", f"  base_path: {disk}"]
    groups += [f"  custom_{n}: {'x' * 40}_{n}" for n in range(3000)]
    groups += ["  loras: |"] + [f"    loras_{n}" for n in range(6000)]
    big = host_env.root / "big_model_paths.yaml"
    big.write_text("\n".join(groups) + "\n", "utf-8")
    missing = [str(host_env.root / f"{'m' * 3000}_{n}.yaml") for n in range(50)]
    write_json(host_env.config_path, {"extra_model_paths": [str(big), *missing]})

    reply, size = ask_host(host_env, "ping")
    assert reply["ok"], reply["error"]
    result = reply["result"]
    assert size < MAX_REPLY_BYTES // 4
    folders = result["model_folders"]
    # ComfyUI's own names first, each with its main models folder; then the YAML's, in file order
    assert list(folders)[:2] == ["checkpoints", "loras"]
    assert folders["checkpoints"] == [str(host_env.models_dir / "checkpoints")]
    assert folders["loras"][0] == str(host_env.models_dir / "loras")
    assert folders["loras"][1:] == [str(disk / f"loras_{n}") for n in range(len(folders["loras"]) - 1)]
    assert len(folders["loras"]) > 100
    main_folders = sum(len(DEFAULT_SUBFOLDERS.get(name, (name,))) for name in KNOWN_FOLDERS)
    total = main_folders + 6000 + 3000 * 2  # a custom name: its main models subfolder and the YAML's
    shown = sum(len(paths) for paths in folders.values())
    assert result["model_folders_left_out"] == total - shown > 0
    problems = result["model_paths_problems"]
    assert len(problems) == 20 and result["model_paths_problems_left_out"] == 30
    assert all(p.startswith(str(host_env.root)) and len(json.dumps(p)) <= 1024 + 2 for p in problems)


def write_jobs(host_env: HostEnv, jobs: list[dict[str, Any]]) -> None:
    host_env.catalog_dir.mkdir(parents=True, exist_ok=True)
    (host_env.catalog_dir / ".catalog-host-jobs").write_text(json.dumps({"format": 1, "jobs": jobs}), "utf-8")


def hostile_failed_job(vid: int, now: float) -> dict[str, Any]:
    """A failed download as a damaged or hand-edited job file could hold it."""
    job = download_job(vid, "failed", now - 100, now - 50)
    job.update(file=HOSTILE, dest=HOSTILE, kind="download", verify=HOSTILE[:5000], bytes=10**400 if vid % 2 else 7,
               extra_field=HOSTILE)
    job["error"] = {"code": HOSTILE[:5000], "message": HOSTILE, "more": HOSTILE}
    return job


def test_a_lookup_of_200_records_with_hostile_jobs_fits_one_frame(host_env: HostEnv) -> None:
    """Every record at its own size bound (text full of 6-byte control characters), missing, and
    each with a failed download whose every field is hostile: the reply still fits, each record
    shows its job (the minimal one where the whole would not fit)."""
    from host.framing import encode_message
    from tests.support.catalogs import civitai_entry, one_category_catalog

    now = time.time()
    text = "\x01" * 5000
    entries = [civitai_entry(1000 + n, 77, "f" + text, "loras/" + text, name=text, base_model=text) for n in range(100)]
    entries += [civitai_entry(2000 + n, 78, f"plain_{n}.safetensors", "loras") for n in range(100)]
    host_env.write_catalogs(one_category_catalog(*entries))
    write_jobs(host_env, [hostile_failed_job(1000 + n, now) for n in range(100)]
               + [hostile_failed_job(2000 + n, now) for n in range(100)])
    asked = [1000 + n for n in range(100)] + [2000 + n for n in range(100)]
    reply = host_env.call("lookup", version_ids=asked, model_ids=[77, 78])
    assert reply["ok"], reply["error"]
    assert len(encode_message(reply)) <= MAX_REPLY_BYTES
    records = reply["result"]["by_version"]
    assert all(record["status"] == "failed" for record in records.values())
    assert records["1000"]["job"] == {"state": "failed", "bytes": 7, "total": None}  # at its bound: minimal
    plain = records["2001"]["job"]
    assert plain["state"] == "failed" and plain["bytes"] is None  # 10**400 is no byte count
    assert plain["error"]["message"].startswith("\x01") and len(json.dumps(plain)) < 1500
    assert "extra_field" not in plain and "more" not in plain["error"]


def test_map_pages_count_the_jobs_they_show(host_env: HostEnv) -> None:
    """Thousands of small missing entries, each with a failed download: every map page still
    fits (a page's budget counts the jobs its records carry), and the pages cover them all."""
    from host.framing import encode_message
    from tests.support.catalogs import one_category_catalog

    now = time.time()
    count = 3000
    entries = [{"civitai_version_id": 10_000 + n, "civitai_model_id": 5, "file": f"m{n}.safetensors",
                "dest": "loras"} for n in range(count)]
    host_env.write_catalogs(one_category_catalog(*entries))
    jobs = []
    for n in range(count):
        job = download_job(10_000 + n, "failed", now - 100, now - 50)
        job["error"]["message"] = "x" * 2000
        jobs.append(job)
    write_jobs(host_env, jobs)
    seen: set[str] = set()
    cursor = None
    pages = 0
    while True:
        reply = host_env.call("map", **({"cursor": cursor} if cursor else {}))
        assert reply["ok"], reply["error"]
        assert len(encode_message(reply)) <= MAX_REPLY_BYTES
        page = reply["result"]
        assert all(record["status"] == "failed" and record["job"]["error"]["code"] == "network"
                   for record in page["by_version"].values())
        seen.update(page["by_version"])
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break
    assert len(seen) == count and pages >= 2
