"""The scan end to end, in-process against a fake CivitAI on 127.0.0.1: walk, hash, cache,
identify by hash, and what lookup / map / adopt then say."""

from __future__ import annotations

import json
import os

import pytest

from host.disk import scan as scan_module
from host.disk.hash_cache import HASHES_NAME
from host.disk.scan import run_scan
from host.settings import load_settings
from tests.disk.scan_support import write_model
from tests.support.catalogs import civitai_entry
from tests.support.fake_civitai import BY_HASH_PATH, FakeCivitai, load_fixture


@pytest.fixture
def civitai(host_env, monkeypatch):
    with FakeCivitai() as fake:
        monkeypatch.setenv("CATALOG_HOST_CIVITAI_URL", fake.url)
        yield fake
        assert not fake.errors, fake.errors


@pytest.fixture
def world(host_env, civitai, tmp_path, monkeypatch):
    """Main models folder + a second disk from an extra_model_paths.yaml; files of every kind."""
    disk2 = tmp_path / "disk2"
    yaml_file = tmp_path / "extra.yaml"
    yaml_file.write_text(f"disk2:\n  base_path: {disk2}\n  loras: loras\n", "utf-8")
    monkeypatch.setenv("CATALOG_HOST_EXTRA_MODEL_PATHS", str(yaml_file))
    models = host_env.models_dir
    files = {
        "untracked": write_model(models / "loras" / "found_on_disk.safetensors", "u"),
        "tracked": write_model(models / "checkpoints" / "tracked.safetensors", "t"),
        "moved": write_model(disk2 / "loras" / "sub" / "browser name (1).safetensors", "m"),
        "unknown": write_model(models / "vae" / "homemade.safetensors", "x"),
    }
    (models / "loras" / "notes.txt").write_text("not a model")
    (models / "loras" / "loop").symlink_to(models / "loras")          # a symlink loop
    (models / "loras" / "self.safetensors").symlink_to(models / "loras" / "self.safetensors")  # ELOOP
    (models / "loras" / "dangling.safetensors").symlink_to(tmp_path / "nowhere")
    civitai.add_hash(files["untracked"][1], 9001, 901)
    civitai.add_hash(files["tracked"][1], 9002, 902)
    civitai.add_hash(files["moved"][1], 9003, 903)
    host_env.write_catalogs({"version": 1, "date": "2026-11-30 12:00", "categories": [
        {"id": "loras", "name": "LoRAs", "models": [
            civitai_entry(9003, 903, "original_name.safetensors", "loras", hash=files["moved"][1].upper()),
        ]},
        {"id": "checkpoints", "name": "Checkpoints", "models": [
            civitai_entry(9002, 902, "tracked.safetensors", "checkpoints"),
        ]},
    ]})
    return files


def by_hash_requests(civitai):
    return [r for r in civitai.requests if r.path == BY_HASH_PATH]


def test_scan_then_lookup_map_and_adopt(world, host_env, civitai):
    progress = []
    result = run_scan(load_settings(), progress.append)
    assert result["state"] == "done"
    assert (result["files"], result["hashed"], result["from_cache"]) == (4, 4, 0)
    assert result["versions_identified"] == 3
    assert any("self.safetensors" in p for p in result["problems"]), result["problems"]
    assert result["problem_count"] == 1
    assert progress[-1]["phase"] == "saving" and progress[-1]["files"] == 4
    asked = by_hash_requests(civitai)
    assert len(asked) == 1 and asked[0].method == "POST"
    assert sorted(json.loads(asked[0].body)) == sorted(f[1].upper() for f in world.values())

    result = host_env.ok("lookup", version_ids=[9001, 9002, 9003, 9999])["by_version"]
    assert result["9001"] == {
        "file": "found_on_disk.safetensors", "dest": "loras", "name": None, "base_model": None,
        "status": "untracked", "catalog": None, "civitai_model_id": "901", "path": str(world["untracked"][0]),
    }
    assert result["9002"]["status"] == "present"
    assert result["9003"]["status"] == "elsewhere"
    assert result["9003"]["path"] == str(world["moved"][0])
    assert "hash" not in result["9003"]
    assert result["9999"] is None

    mapped = host_env.ok("map")
    assert mapped["by_version"]["9001"]["status"] == "untracked"
    assert {v: r["status"] for v, r in mapped["by_version"].items()} == {
        "9001": "untracked", "9002": "present", "9003": "elsewhere"}
    assert host_env.ok("map", etag=mapped["etag"]) == {"unchanged": True, "etag": mapped["etag"]}

    payload = load_fixture("sdxl_lora")
    payload.update(id=9001, modelId=901)
    payload["files"][0]["hashes"]["SHA256"] = world["untracked"][1].upper()
    civitai.add_version(payload)
    adopted = host_env.ok("adopt", version_id=9001)
    assert adopted == {"status": "adopted", "file": "found_on_disk.safetensors", "dest": "loras",
                       "name": "Watercolor Dreams XL v1.0 [SDXL 1.0 FP16]", "category": "loras"}
    entry = next(e for c in host_env.read("models")["categories"] for e in c["models"]
                 if e["civitai_version_id"] == 9001)
    assert entry["file"] == "found_on_disk.safetensors" and entry["dest"] == "loras"
    assert entry["hash"] == world["untracked"][1].upper()
    assert entry["civitai_file_id"] == payload["files"][0]["id"]
    after = host_env.ok("lookup", version_ids=[9001])["by_version"]["9001"]
    assert after["status"] == "present" and after["catalog"] == "models"
    assert after["path"] == str(world["untracked"][0])
    assert host_env.ok("adopt", version_id=9001)["status"] == "already_exists"
    # the etag moved: a scan changed what map says
    assert host_env.ok("map", etag=mapped["etag"]).get("unchanged") is None


def test_adopt_needs_a_scanned_file(world, host_env, civitai):
    before = host_env.snapshot()
    error = host_env.error("adopt", version_id=9001)  # no scan yet
    assert error["code"] == "not_found" and "scan" in error["message"]
    run_scan(load_settings())
    world["untracked"][0].unlink()  # gone since the scan
    assert host_env.error("adopt", version_id=9001)["code"] == "not_found"
    assert host_env.ok("lookup", version_ids=[9001])["by_version"]["9001"] is None
    assert host_env.snapshot() == before
    assert not [r for r in civitai.requests if r.version_id == "9001"]  # CivitAI never asked


def test_rescan_uses_the_cache_and_rehashes_only_changed_files(world, host_env, civitai):
    run_scan(load_settings())
    civitai.clear_requests()
    again = run_scan(load_settings())
    assert (again["hashed"], again["from_cache"]) == (0, 4)
    assert by_hash_requests(civitai) == []  # every hash already answered (unknown ones: within a day)
    path, _, _ = write_model(world["tracked"][0], "changed")
    third = run_scan(load_settings())
    assert (third["hashed"], third["from_cache"]) == (1, 3)
    assert len(by_hash_requests(civitai)) == 1
    assert host_env.ok("lookup", version_ids=[9002])["by_version"]["9002"]["status"] == "present"


def test_identification_goes_in_batches(world, host_env, civitai, monkeypatch):
    from host.civitai import client

    monkeypatch.setattr(client, "BY_HASH_BATCH", 3)
    for n in range(4):
        write_model(host_env.models_dir / "embeddings" / f"e{n}.safetensors", f"e{n}")
    run_scan(load_settings())
    sizes = [len(json.loads(r.body)) for r in by_hash_requests(civitai)]
    assert sizes == [3, 3, 2]


def test_civitai_down_is_a_problem_not_a_failure_and_the_next_scan_asks_again(world, host_env, civitai):
    civitai.set_response(BY_HASH_PATH, 503, "<html>down</html>")
    result = run_scan(load_settings())
    assert result["state"] == "done"
    assert any("could not ask CivitAI" in p for p in result["problems"])
    assert host_env.ok("lookup", version_ids=[9001])["by_version"]["9001"] is None
    civitai.reset()
    civitai.add_hash(world["untracked"][1], 9001, 901)
    again = run_scan(load_settings())
    assert again["hashed"] == 0 and again["versions_identified"] == 1
    assert host_env.ok("lookup", version_ids=[9001])["by_version"]["9001"]["status"] == "untracked"


def test_a_damaged_hash_cache_is_set_aside(world, host_env, civitai):
    run_scan(load_settings())
    cache = host_env.catalog_dir / HASHES_NAME
    cache.write_bytes(b'{"format": 1, "files": {"/x": [1, 2')
    result = run_scan(load_settings())
    assert result["state"] == "done" and result["hashed"] == 4
    assert any("damaged" in p for p in result["problems"])
    assert json.loads(cache.read_text())["format"] == 1


def test_a_second_scan_at_once_is_refused(world, host_env):
    import filelock

    lock = filelock.FileLock(os.path.join(host_env.catalog_dir, scan_module.SCAN_LOCK_NAME))
    os.makedirs(host_env.catalog_dir, exist_ok=True)
    with lock, pytest.raises(scan_module.ScanBusyError):
        run_scan(load_settings())


def test_stop_keeps_what_was_hashed(world, host_env, civitai, monkeypatch):
    from host.disk.hash_cache import HashCache

    stored = []
    store = HashCache.store

    def counting_store(self, *args, **kwargs):
        stored.append(args[0])
        return store(self, *args, **kwargs)

    monkeypatch.setattr(HashCache, "store", counting_store)

    def stop_after_two_files():  # asked before each file (and each read of a big one)
        return len(stored) >= 2

    result = run_scan(load_settings(), should_stop=stop_after_two_files)
    assert result["state"] == "canceled" and result["hashed"] == 2
    assert by_hash_requests(civitai) == []
    cached = json.loads((host_env.catalog_dir / HASHES_NAME).read_text())["files"]
    assert len(cached) == 2
    done = run_scan(load_settings())
    assert done["state"] == "done" and (done["hashed"], done["from_cache"]) == (2, 2)


def test_no_model_folder_configured_is_said(host_env, monkeypatch):
    monkeypatch.delenv("CATALOG_HOST_MODELS_DIR")
    result = run_scan(load_settings())
    assert result["state"] == "done" and result["files"] == 0
    assert any("no model folder is configured" in p for p in result["problems"])
