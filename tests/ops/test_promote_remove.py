"""promote and remove on a Studio-shaped catalog."""

from __future__ import annotations

import copy

import pytest

from tests.support.catalogs import civitai_entry, one_category_catalog, studio_catalogs


@pytest.fixture
def studio(host_env):
    models, loras = studio_catalogs()
    host_env.write_catalogs(models, loras)
    return host_env


@pytest.mark.parametrize(
    ("version_id", "category"),
    [
        (200001, "sdxl_loras"),   # Illustrious
        (200002, "flux_loras"),   # Flux.1 D, dest loras/flux
        (200003, "wan_loras"),    # Wan Video 14B t2v
        (200004, "sd15_loras"),   # SD 1.5
        (200005, "other_loras"),  # Pony V7 is AuraFlow, not SDXL
    ],
)
def test_promote_moves_the_entry_to_its_family_category(studio, version_id, category):
    models_before, loras_before = studio.read("models"), studio.read("loras")
    entry = next(e for c in models_before["categories"] for e in c["models"]
                 if str(e.get("civitai_version_id")) == str(version_id))
    result = studio.ok("promote", version_id=str(version_id))
    assert result == {"status": "promoted", "file": entry["file"], "category": category}
    models, loras = studio.read("models"), studio.read("loras")
    assert models["version"] == models_before["version"] + 1
    assert loras["version"] == loras_before["version"] + 1
    target = next(c for c in loras["categories"] if c["id"] == category)
    assert target["models"][-1] == entry  # moved unchanged, every key in order
    assert list(target["models"][-1]) == list(entry)
    # models.json lost exactly that entry and nothing else
    expected = copy.deepcopy(models_before)
    for cat in expected["categories"]:
        cat["models"] = [e for e in cat["models"] if e is not None and e != entry]
    expected["version"], expected["date"] = models["version"], models["date"]
    assert models == expected
    again = studio.ok("promote", version_id=version_id)
    assert again["status"] == "already_exists"


def test_promote_creates_category_names(studio):
    studio.ok("promote", version_id=200002)
    cat = next(c for c in studio.read("loras")["categories"] if c["id"] == "flux_loras")
    assert cat["name"] == "Flux LoRAs"


def test_promote_refuses_non_lora_and_unknown(studio):
    before = studio.snapshot()
    assert studio.error("promote", version_id=128713)["code"] == "not_a_lora"
    assert studio.error("promote", version_id=424242)["code"] == "not_found"
    assert studio.ok("promote", version_id=100001)["status"] == "already_exists"
    assert studio.snapshot() == before


def test_promote_finishes_a_promote_cut_in_half(studio):
    models, loras = studio.read("models"), studio.read("loras")
    entry = copy.deepcopy(models["categories"][2]["models"][0])  # 200001
    loras["categories"][0]["models"].append(entry)
    studio.write_catalogs(loras=loras)  # loras.json written, models.json not yet: the crash
    result = studio.ok("promote", version_id=200001)
    assert result["status"] == "promoted"
    models_after = studio.read("models")
    assert all(str(e.get("civitai_version_id")) != "200001"
               for c in models_after["categories"] for e in c["models"])
    loras_after = studio.read("loras")
    copies = [e for c in loras_after["categories"] for e in c["models"]
              if str(e.get("civitai_version_id")) == "200001"]
    assert len(copies) == 1


def test_remove_drops_an_entry_not_on_disk(studio):
    before = studio.read("models")
    result = studio.ok("remove", file="old_sd15.safetensors")
    assert result == {"status": "removed", "file": "old_sd15.safetensors", "dest": "loras",
                      "catalog": "models"}
    after = studio.read("models")
    assert after["version"] == before["version"] + 1
    assert [e["file"] for e in after["categories"][2]["models"]] == [
        e["file"] for e in before["categories"][2]["models"] if e["file"] != "old_sd15.safetensors"]
    assert studio.error("remove", file="old_sd15.safetensors")["code"] == "not_found"


def test_remove_from_loras_and_of_non_civitai_entries(studio):
    assert studio.ok("remove", file="curated_style.safetensors")["catalog"] == "loras"
    assert studio.read("loras")["categories"][0]["models"] == []
    assert studio.ok("remove", file="handmade.safetensors", dest="loras")["status"] == "removed"


def test_remove_refuses_when_the_file_is_on_disk(studio):
    studio.put_file("diffusion_models/WanVideo/2_2", "wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors")
    before = studio.snapshot()
    error = studio.error("remove", file="wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors")
    assert error["code"] == "file_on_disk" and "delete the file first" in error["message"]
    assert studio.snapshot() == before
    assert (studio.models_dir / "diffusion_models/WanVideo/2_2"
            / "wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors").exists()


def test_remove_ambiguous_file_name_needs_dest(studio):
    models = studio.read("models")
    models["categories"][2]["models"].append(civitai_entry(7, 8, "old_sd15.safetensors", "loras/sd15"))
    studio.write_catalogs(models)
    before = studio.snapshot()
    error = studio.error("remove", file="old_sd15.safetensors")
    assert error["code"] == "ambiguous" and error["dests"] == ["loras", "loras/sd15"]
    assert studio.snapshot() == before
    assert studio.ok("remove", file="old_sd15.safetensors", dest="loras/sd15")["dest"] == "loras/sd15"
    assert studio.ok("remove", file="old_sd15.safetensors")["dest"] == "loras"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"file": "../models.json"}, "unsafe_filename"),
        ({"file": "/etc/passwd"}, "unsafe_filename"),
        ({"file": "C:\\x.safetensors"}, "unsafe_filename"),
        ({"file": "a\u0000b"}, "unsafe_filename"),
        ({"file": ""}, "unsafe_filename"),
        ({"file": "x.safetensors", "dest": "../.."}, "unsafe_path"),
        ({"file": "x.safetensors", "dest": "/etc"}, "unsafe_path"),
        ({"file": 5}, "invalid_request"),
        ({}, "invalid_request"),
    ],
)
def test_remove_refuses_hostile_names(studio, params, code):
    before = studio.snapshot()
    assert studio.error("remove", **params)["code"] == code
    assert studio.snapshot() == before


def test_remove_copes_with_non_string_dests_and_removes_both_promote_copies(host_env):
    weird = civitai_entry(1, 2, "a.safetensors", "loras")
    weird["dest"] = 5
    listed = civitai_entry(3, 4, "a.safetensors", "loras")
    host_env.write_catalogs(one_category_catalog(weird, listed), one_category_catalog(civitai_entry(3, 4, "a.safetensors", "loras")))
    result = host_env.ok("remove", file="a.safetensors")
    assert result["catalog"] == "models"
    assert [e["file"] for e in host_env.read("models")["categories"][0]["models"]] == ["a.safetensors"]
    assert host_env.read("models")["categories"][0]["models"][0]["dest"] == 5  # untouched
    assert host_env.read("loras")["categories"][0]["models"] == []


def test_promote_routes_an_empty_base_model_by_civitai_base_model(host_env):
    """Issue 11 K: base_model "" falls back to civitai_base_model for the LoRA category too."""
    host_env.write_catalogs({"version": 1, "date": "2026-01-01 00:00", "categories": [
        {"id": "loras", "name": "LoRAs", "models": [
            civitai_entry(5, 6, "a.safetensors", "loras", base_model="", civitai_base_model="Flux.1 D")]}]})
    assert host_env.ok("promote", version_id=5)["category"] == "flux_loras"


def test_promote_routes_studio_spellings_like_civitai_ones(host_env):
    """Issue 11 L: ComfyUI Studio writes `wan-i2v-14b` where CivitAI writes `Wan Video 14B i2v`."""
    host_env.write_catalogs({"version": 1, "date": "2026-01-01 00:00", "categories": [
        {"id": "loras", "name": "LoRAs", "models": [
            civitai_entry(5, 6, "w.safetensors", "loras", base_model="wan-i2v-14b"),
            civitai_entry(7, 8, "f.safetensors", "loras", base_model="FLUX.1")]}]})
    assert host_env.ok("promote", version_id=5)["category"] == "wan_loras"
    assert host_env.ok("promote", version_id=7)["category"] == "flux_loras"


def test_replies_about_hostile_entries_fit_one_frame(host_env):
    """A catalog entry may hold text of any length: promote's answer (after it has changed the
    catalogs) and its refusals must still fit one frame, or the person is told reply_too_large
    about a change that was made."""
    from host.framing import MAX_REPLY_BYTES, encode_message

    huge_file = "f" * 2_000_000 + ".safetensors"
    host_env.write_catalogs(one_category_catalog(
        civitai_entry(5, 6, huge_file, "loras"),
        civitai_entry(7, 8, "a.safetensors", "checkpoints/" + "d" * 2_000_000)))
    promoted = host_env.call("promote", version_id=5)
    assert promoted["ok"] and promoted["result"]["status"] == "promoted", promoted.get("error")
    assert promoted["result"]["file"].startswith("fff") and len(encode_message(promoted)) <= MAX_REPLY_BYTES
    assert [e["file"] for e in host_env.read("loras")["categories"][0]["models"]] == [huge_file]
    again = host_env.call("promote", version_id=5)
    assert again["result"]["status"] == "already_exists" and len(encode_message(again)) <= MAX_REPLY_BYTES
    refused = host_env.call("promote", version_id=7)
    assert refused["error"]["code"] == "not_a_lora" and len(encode_message(refused)) <= MAX_REPLY_BYTES
