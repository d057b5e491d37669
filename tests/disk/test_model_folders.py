"""Where ComfyUI looks: comfyui_dir, extra_model_paths.yaml read with ComfyUI's rules, the
resolved folders cached so PyYAML stays off the cold path, and broken YAML reported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from host.disk.comfy_yaml import ModelPathsError, read_extra_model_paths
from host.disk.folders import FOLDERS_NAME, ModelFolders
from tests.disk.comfy_fixture import CASES, catalog_for_cases, make_comfyui, put
from tests.support.catalogs import civitai_entry

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def comfy(host_env, tmp_path, monkeypatch):
    roots = make_comfyui(tmp_path, monkeypatch)
    monkeypatch.delenv("CATALOG_HOST_MODELS_DIR")  # models_dir defaults to <comfyui_dir>/models
    monkeypatch.setenv("CATALOG_HOST_COMFYUI_DIR", str(roots["comfy"]))
    host_env.write_catalogs(catalog_for_cases())
    return roots


def test_each_entry_has_the_status_comfyui_would_load(comfy, host_env):
    for vid, file, _dest, where, _ in CASES:
        root, _, rest = where.partition("/")
        put(comfy[root].joinpath(*rest.split("/"), file), f"v{vid}".encode())
    result = host_env.ok("lookup", version_ids=[c[0] for c in CASES])["by_version"]
    for vid, file, _dest, where, status in CASES:
        record = result[str(vid)]
        assert record["status"] == status, (vid, where, record)
        if status == "present":
            root, _, rest = where.partition("/")
            assert record["path"] == str(comfy[root].joinpath(*rest.split("/"), file)), vid
        else:
            assert "path" not in record
    # map says the same
    mapped = host_env.ok("map")["by_version"]
    assert {vid: r["status"] for vid, r in mapped.items()} == {str(c[0]): c[4] for c in CASES}


def test_first_match_follows_comfyui_order(comfy, host_env):
    # is_default puts the third disk's unet folder before the main models folder ...
    put(comfy["models"] / "diffusion_models" / "unet_alias.safetensors")
    put(comfy["disk3"] / "unet_models" / "unet_alias.safetensors")
    # ... while a group without is_default comes after it
    put(comfy["models"] / "checkpoints" / "ckpt_disk2.safetensors")
    put(comfy["disk2"] / "checkpoints" / "ckpt_disk2.safetensors")
    result = host_env.ok("lookup", version_ids=[5, 2])["by_version"]
    assert result["5"]["path"] == str(comfy["disk3"] / "unet_models" / "unet_alias.safetensors")
    assert result["2"]["path"] == str(comfy["models"] / "checkpoints" / "ckpt_disk2.safetensors")


def test_yaml_rules(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    yaml_file = tmp_path / "conf" / "extra.yaml"
    yaml_file.parent.mkdir()
    yaml_file.write_text(
        "a:\n  base_path: ~/models\n  clip: |\n    te\n    /abs/te2\n"
        "b:\n  checkpoints: rel/ckpt\n  vae: /abs/vae\n"
        "c: null\n", "utf-8")
    assert read_extra_model_paths(str(yaml_file)) == [
        ("text_encoders", str(tmp_path / "home" / "models" / "te"), False),
        ("text_encoders", "/abs/te2", False),  # an absolute line ignores base_path (os.path.join)
        ("checkpoints", str(tmp_path / "conf" / "rel" / "ckpt"), False),  # no base_path: the YAML's folder
        ("vae", "/abs/vae", False),
    ]


@pytest.mark.parametrize("text, words", [
    ("a: [unclosed\n", "is not valid YAML"),
    ("- just\n- a list\n", "top level"),
    ("a: 3\n", "group 'a'"),
    ("a:\n  loras: 5\n", "a.loras"),
])
def test_yaml_that_cannot_be_used_names_the_file(tmp_path, text, words):
    bad = tmp_path / "extra_model_paths.yaml"
    bad.write_text(text, "utf-8")
    with pytest.raises(ModelPathsError) as caught:
        read_extra_model_paths(str(bad))
    assert str(bad) in str(caught.value) and words in str(caught.value)


def test_broken_yaml_is_reported_and_the_models_dir_keeps_working(comfy, host_env, monkeypatch, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("loras: [not closed\n", "utf-8")
    monkeypatch.setenv("CATALOG_HOST_EXTRA_MODEL_PATHS", os.pathsep.join([str(broken), str(tmp_path / "gone.yaml")]))
    put(comfy["models"] / "checkpoints" / "ckpt_main.safetensors")
    put(comfy["disk2"] / "checkpoints" / "ckpt_disk2.safetensors")
    ping = host_env.ok("ping")
    problems = ping["model_paths_problems"]
    assert any(str(broken) in p and "not valid YAML" in p for p in problems)
    assert any(str(tmp_path / "gone.yaml") in p and "not found" in p for p in problems)
    result = host_env.ok("lookup", version_ids=[1, 2])["by_version"]
    assert result["1"]["status"] == "present"  # main models folder
    assert result["2"]["status"] == "present"  # ComfyUI's own YAML still read


def test_ping_lists_the_resolved_folders(comfy, host_env):
    folders = host_env.ok("ping")["model_folders"]
    models = comfy["models"]
    assert folders["diffusion_models"] == [
        str(comfy["disk3"] / "unet_models"), str(models / "unet"), str(models / "diffusion_models")]
    # ComfyUI inserts each is_default path at the front, so the group's lines end up reversed
    assert folders["loras"] == [
        str(comfy["disk3"] / "wan_loras"), str(comfy["disk3"] / "flux_loras"), str(models / "loras"),
        str(comfy["disk2"] / "loras"), str(comfy["disk2"] / "more_loras")]
    assert folders["text_encoders"] == [str(models / "text_encoders"), str(models / "clip")]
    assert folders["controlnet"] == [str(models / "controlnet"), str(models / "t2i_adapter"), str(comfy["disk2"] / "cn")]
    assert "model_paths_problems" not in host_env.ok("ping")


def test_folders_are_cached_and_reread_when_a_yaml_changes(comfy, host_env):
    put(comfy["disk2"] / "checkpoints" / "ckpt_disk2.safetensors")
    assert host_env.ok("lookup", version_ids=[2])["by_version"]["2"]["status"] == "present"
    cache = host_env.catalog_dir / FOLDERS_NAME
    assert cache.is_file()
    yaml_file = comfy["comfy"] / "extra_model_paths.yaml"
    text = yaml_file.read_text("utf-8").replace("checkpoints: checkpoints", "checkpoints: elsewhere")
    time.sleep(0.01)  # a different mtime_ns even on coarse clocks (size changes anyway)
    yaml_file.write_text(text, "utf-8")
    assert host_env.ok("lookup", version_ids=[2])["by_version"]["2"]["status"] == "missing"
    put(comfy["disk2"] / "elsewhere" / "ckpt_disk2.safetensors")
    assert host_env.ok("lookup", version_ids=[2])["by_version"]["2"]["status"] == "present"


def test_a_cold_lookup_never_imports_yaml_once_cached(comfy, host_env):
    put(comfy["disk2"] / "checkpoints" / "ckpt_disk2.safetensors")
    script = (
        "import sys, json\n"
        "from host.context import Context\nfrom host.dispatch import handle_message\n"
        "reply = handle_message(json.dumps({'op': 'lookup', 'version_ids': [2]}).encode(), Context())\n"
        "print(json.dumps({'status': reply['result']['by_version']['2']['status'], 'yaml': 'yaml' in sys.modules}))\n"
    )
    env = dict(os.environ)
    runs = [json.loads(subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, check=True,
                                      capture_output=True, text=True, timeout=60).stdout) for _ in range(2)]
    assert runs[0] == {"status": "present", "yaml": True}   # first read parses the YAML
    assert runs[1] == {"status": "present", "yaml": False}  # then the cache answers


def test_models_dir_setting_wins_over_comfyui_dir(comfy, host_env, monkeypatch, tmp_path):
    other = tmp_path / "other_models"
    put(other / "checkpoints" / "ckpt_main.safetensors")
    monkeypatch.setenv("CATALOG_HOST_MODELS_DIR", str(other))
    record = host_env.ok("lookup", version_ids=[1])["by_version"]["1"]
    assert record["path"] == str(other / "checkpoints" / "ckpt_main.safetensors")


def test_unsafe_dests_and_names_are_never_looked_up(tmp_path):
    folders = ModelFolders(str(tmp_path))
    put(tmp_path / "secret.safetensors")
    assert folders.locate("..", "secret.safetensors") is None
    assert folders.locate("loras", "../secret.safetensors") is None
    assert folders.locate("", "secret.safetensors") == str(tmp_path / "secret.safetensors")


def test_download_of_a_file_comfyui_already_loads_from_another_disk_does_nothing(comfy, host_env):
    put(comfy["disk3"] / "unet_models" / "unet_alias.safetensors")
    assert host_env.ok("download", version_id=5) == {
        "status": "already_present", "file": "unet_alias.safetensors", "dest": "diffusion_models"}
    assert not (host_env.catalog_dir / ".catalog-host-jobs").exists()


def test_remove_refuses_an_entry_whose_file_is_in_another_model_folder(comfy, host_env):
    put(comfy["disk2"] / "more_loras" / "lora_line2.safetensors")
    before = host_env.snapshot()
    error = host_env.error("remove", file="lora_line2.safetensors")
    assert error["code"] == "file_on_disk" and error["dest"] == "loras"
    assert host_env.snapshot() == before


def test_the_folders_cache_follows_the_environment_a_base_path_uses(comfy, host_env, monkeypatch, tmp_path):
    put(comfy["disk3"] / "unet_models" / "unet_alias.safetensors")
    assert host_env.ok("lookup", version_ids=[5])["by_version"]["5"]["status"] == "present"
    monkeypatch.setenv("DISK3_ROOT", str(tmp_path / "elsewhere"))  # the YAML is unchanged
    assert host_env.ok("lookup", version_ids=[5])["by_version"]["5"]["status"] == "missing"
    put(tmp_path / "elsewhere" / "unet_models" / "unet_alias.safetensors")
    assert host_env.ok("lookup", version_ids=[5])["by_version"]["5"]["path"] == str(
        tmp_path / "elsewhere" / "unet_models" / "unet_alias.safetensors")


def test_path_never_makes_a_record_exceed_its_size_bound(host_env):
    """A record with every text field at its bound gets path null rather than a reply that
    could burst Chrome's 1 MiB frame; an ordinary one gets its path."""
    import json as _json

    from host.catalog.views import MAX_RECORD_JSON_BYTES

    long_dest = "/".join(["d" * 200] * 5)  # 1,004 bytes
    file = "f" * 200 + ".safetensors"
    entry_big = civitai_entry(1, 1, file, long_dest, name="名" * 400, base_model="b" * 1000)
    host_env.write_catalogs({"version": 1, "date": "x", "categories": [{"id": "c", "name": "C", "models": [
        entry_big, civitai_entry(2, 1, "small.safetensors", "loras")]}]})
    host_env.put_file(long_dest, file)
    host_env.put_file("loras", "small.safetensors")
    result = host_env.ok("lookup", version_ids=[1, 2])["by_version"]
    assert result["1"]["status"] == "present" and result["1"]["path"] is None
    assert len(_json.dumps(result["1"], ensure_ascii=False).encode()) <= MAX_RECORD_JSON_BYTES
    assert result["2"]["path"] == str(host_env.models_dir / "loras" / "small.safetensors")


def test_ping_without_comfyui_settings_lists_no_folders(host_env):
    result = host_env.ok("ping")
    assert "model_folders" not in result and "model_paths_problems" not in result
