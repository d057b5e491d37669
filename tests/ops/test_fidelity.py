"""A real-shaped ComfyUI Studio catalog survives add, promote and remove: every entry the
operations did not touch keeps its content, its key order and its place."""

from __future__ import annotations

import json

from tests.support.catalogs import studio_catalogs


def entries_in_order(doc):
    return [(cat.get("id"), json.dumps(entry, ensure_ascii=False)) for cat in doc["categories"]
            for entry in cat["models"]]


def test_studio_catalog_round_trip(host_env, civitai):
    models, loras = studio_catalogs()
    host_env.write_catalogs(models, loras)
    new_files = set()
    for fixture in ("pony_lora", "non_ascii"):
        added = host_env.ok("add", version_id=civitai.serve(fixture)["id"])
        assert added["status"] == "added"
        new_files.add(added["file"])
    assert host_env.ok("promote", version_id=200001)["status"] == "promoted"
    assert host_env.ok("remove", file="old_sd15.safetensors")["status"] == "removed"

    after_models, after_loras = host_env.read("models"), host_env.read("loras")
    touched = {"pixel_style_xl.safetensors", "old_sd15.safetensors"}
    kept_before = [e for e in entries_in_order(models) if json.loads(e[1])["file"] not in touched]
    kept_after = [e for e in entries_in_order(after_models) if json.loads(e[1])["file"] not in new_files]
    assert kept_after == kept_before  # same entries, same bytes, same order, same categories
    # top-level unknown key and category extras survive, in place
    assert list(after_models) == list(models)
    assert after_models["x_studio_schema"] == models["x_studio_schema"]
    assert after_models["categories"][0]["description"] == "UNet-only weights"
    assert after_models["categories"][3] == {"id": "empty_cat", "name": "Nothing yet", "models": []}
    # the original loras.json entry is still first and unchanged
    assert after_loras["categories"][0]["models"][0] == loras["categories"][0]["models"][0]
    text = host_env.models_json.read_text("utf-8")
    assert "日本語モデル ✨" in text and "\\u65e5" not in text
