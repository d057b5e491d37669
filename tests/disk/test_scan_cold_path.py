"""The cold read path with extra model paths and scan results: `ping`, `lookup` and `map` still
import nothing heavy (no yaml once the folders are cached, no json, no requests) while they
report present-elsewhere-on-another-disk, elsewhere and untracked records."""

from __future__ import annotations

import pytest

from host.disk.scan import run_scan
from host.settings import load_settings
from tests.disk.scan_support import write_model
from tests.process.test_cold_path_imports import heavy, serve_cold
from tests.support.catalogs import civitai_entry
from tests.support.fake_civitai import FakeCivitai


@pytest.fixture
def scanned(host_env, tmp_path, monkeypatch):
    disk2 = tmp_path / "disk2"
    yaml_file = tmp_path / "extra.yaml"
    yaml_file.write_text(f"d2:\n  base_path: {disk2}\n  loras: |\n    a\n    b\n", "utf-8")
    monkeypatch.setenv("CATALOG_HOST_EXTRA_MODEL_PATHS", str(yaml_file))
    host_env.env["CATALOG_HOST_EXTRA_MODEL_PATHS"] = str(yaml_file)
    _, moved_sha, _ = write_model(disk2 / "b" / "renamed.safetensors", "moved")
    _, found_sha, _ = write_model(disk2 / "a" / "found.safetensors", "found")
    write_model(disk2 / "b" / "on_disk2.safetensors", "present")
    host_env.write_catalogs({"version": 1, "date": "2026-11-30", "categories": [{"id": "loras", "name": "LoRAs",
        "models": [civitai_entry(11, 1, "on_disk2.safetensors", "loras"),
                   civitai_entry(12, 1, "orig.safetensors", "loras", hash=moved_sha.upper())]}]})
    with FakeCivitai() as fake:
        monkeypatch.setenv("CATALOG_HOST_CIVITAI_URL", fake.url)
        fake.add_hash(found_sha, 13, 2)
        assert run_scan(load_settings())["versions_identified"] == 1
    serve_cold(host_env, tmp_path, {"op": "lookup", "version_ids": [11]})  # index + folders cache
    serve_cold(host_env, tmp_path, {"op": "ping"})
    return host_env


@pytest.mark.parametrize("request_", [
    {"op": "ping"},
    {"op": "lookup", "version_ids": [11, 12, 13, 14]},
    {"op": "map"},
], ids=["ping", "lookup", "map"])
def test_cold_reads_with_model_paths_and_scan_results_import_nothing_heavy(scanned, tmp_path, request_):
    result, modules = serve_cold(scanned, tmp_path, request_)
    assert heavy(modules) == []
    if request_["op"] != "ping":
        statuses = {vid: r and r["status"] for vid, r in result["by_version"].items()}
        expected = {"11": "present", "12": "elsewhere", "13": "untracked"}
        if request_["op"] == "lookup":
            expected["14"] = None
        assert statuses == expected
    else:
        assert len(result["model_folders"]["loras"]) == 3
