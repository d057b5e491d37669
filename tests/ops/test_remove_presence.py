"""Issue 11 J: `remove` drops an entry only when its file is known to be absent; a catalog
written on Windows (`"dest": "loras\\\\sub"`) is looked up where ComfyUI finds that folder,
models/loras/sub, on every OS."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.support.catalogs import civitai_entry, one_category_catalog, studio_catalogs

WINDOWS_DEST = "loras\\sub"


@pytest.fixture
def studio(host_env: Any) -> Any:
    models, loras = studio_catalogs()
    models["categories"].append({"id": "win", "name": "Written on Windows", "models": [
        civitai_entry(9_100_001, 9_200_001, "windows_style.safetensors", WINDOWS_DEST, base_model="SDXL 1.0"),
    ]})
    host_env.write_catalogs(models, loras)
    return host_env


def test_status_finds_a_windows_style_dest_where_comfyui_would(studio: Any) -> None:
    studio.put_file("loras/sub", "windows_style.safetensors")
    record = studio.ok("lookup", version_ids=[9_100_001])["by_version"]["9100001"]
    assert record["status"] == "present" and record["dest"] == WINDOWS_DEST


def test_remove_refuses_a_windows_style_dest_whose_file_is_on_disk(studio: Any) -> None:
    studio.put_file("loras/sub", "windows_style.safetensors")
    before = studio.snapshot()
    error = studio.error("remove", file="windows_style.safetensors")
    assert error["code"] == "file_on_disk" and error["dest"] == WINDOWS_DEST
    assert studio.snapshot() == before


def test_a_windows_style_dest_can_be_named_either_way(studio: Any) -> None:
    assert studio.ok("remove", file="windows_style.safetensors", dest="loras/sub")["dest"] == WINDOWS_DEST


def test_a_windows_style_lora_dest_can_be_promoted(studio: Any) -> None:
    assert studio.ok("promote", version_id=9_100_001) == {
        "status": "promoted", "file": "windows_style.safetensors", "category": "sdxl_loras"}


def test_the_map_etag_follows_a_windows_style_folder(studio: Any) -> None:
    studio.put_file("loras/sub", "other.safetensors")
    etag = studio.ok("map")["etag"]
    studio.put_file("loras/sub", "windows_style.safetensors")  # the folder's mtime changes
    assert studio.ok("map", etag=etag).get("unchanged") is not True


def add_entry(host_env: Any, file: str, dest: str) -> None:
    models = host_env.read("models")
    models["categories"].append({"id": "odd", "name": "Odd", "models": [civitai_entry(9_100_002, 1, file, dest)]})
    host_env.write_catalogs(models)


def test_remove_refuses_when_the_dest_cannot_be_resolved(studio: Any) -> None:
    add_entry(studio, "odd.safetensors", "loras/../../elsewhere")
    before = studio.snapshot()
    error = studio.error("remove", file="odd.safetensors")
    assert error["code"] == "presence_unknown", error
    assert error["file"] == "odd.safetensors" and error["dest"] == "loras/../../elsewhere"
    assert studio.snapshot() == before


def test_remove_refuses_when_the_folder_cannot_be_looked_into(studio: Any) -> None:
    loop = studio.models_dir / "loras" / "loop"
    loop.parent.mkdir(parents=True)
    os.symlink(loop, loop)  # stat() of anything below it fails with ELOOP, not ENOENT
    add_entry(studio, "odd.safetensors", "loras/loop")
    before = studio.snapshot()
    error = studio.error("remove", file="odd.safetensors")
    assert error["code"] == "presence_unknown" and "odd.safetensors" in error["message"], error
    assert studio.snapshot() == before


@pytest.mark.parametrize("models_dir", ["unset", "absent"])
def test_remove_refuses_without_a_models_folder_to_look_in(studio: Any, monkeypatch: pytest.MonkeyPatch,
                                                           models_dir: str) -> None:
    if models_dir == "unset":
        monkeypatch.delenv("CATALOG_HOST_MODELS_DIR")
    else:  # an unmounted drive looks the same
        monkeypatch.setenv("CATALOG_HOST_MODELS_DIR", str(studio.root / "unmounted" / "models"))
    before = studio.snapshot()
    error = studio.error("remove", file="old_sd15.safetensors")
    assert error["code"] == "presence_unknown" and "models" in error["message"], error
    assert studio.snapshot() == before


def test_a_hostile_catalog_still_gets_the_real_refusal_not_a_reply_too_large(host_env: Any) -> None:
    """A catalog may hold a dest of megabytes, or one file name in thousands of folders: the
    refusal (presence_unknown, ambiguous) must still fit one frame, or the person is told
    `reply_too_large` instead of why the entry was kept."""
    from host.catalog.views import MAX_TEXT_JSON_BYTES
    from host.framing import MAX_REPLY_BYTES, encode_message

    host_env.write_catalogs(one_category_catalog(
        civitai_entry(1, 2, "a.safetensors", "x" * 2_000_000),
        *[civitai_entry(10 + n, 3, "b.safetensors", f"loras/{'y' * 200}{n}") for n in range(6000)]))
    before = host_env.snapshot()
    unsafe = host_env.call("remove", file="a.safetensors")
    assert unsafe["error"]["code"] == "presence_unknown"
    assert len(encode_message(unsafe)) <= MAX_REPLY_BYTES
    assert unsafe["error"]["dest"].startswith("xxx") and len(unsafe["error"]["dest"]) <= MAX_TEXT_JSON_BYTES
    many = host_env.call("remove", file="b.safetensors")
    assert many["error"]["code"] == "ambiguous" and "6000 folders" in many["error"]["message"]
    assert len(encode_message(many)) <= MAX_REPLY_BYTES
    assert many["error"]["dests"][0] == f"loras/{'y' * 200}0" and len(many["error"]["dests"]) < 6000
    assert host_env.snapshot() == before
