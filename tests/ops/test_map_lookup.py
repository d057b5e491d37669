"""map and lookup: shapes, id equivalence, status, paging under 1 MiB, etag behaviour."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from host.catalog.layout import index_path
from tests.support.catalogs import civitai_entry, one_category_catalog, studio_catalogs


def test_lookup_answers_asked_ids_only(host_env):
    models, loras = studio_catalogs()
    host_env.write_catalogs(models, loras)
    host_env.put_file("checkpoints", "dreamshaper_8.safetensors")
    result = host_env.ok("lookup", version_ids=[128713, "9208", "00100001", 5], model_ids=[8281, 77])
    assert result["by_version"]["128713"] == {
        "file": "dreamshaper_8.safetensors", "dest": "checkpoints", "name": "DreamShaper 8 [SD 1.5]",
        "base_model": "SD 1.5", "status": "present", "catalog": "models", "civitai_model_id": "4384",
        "path": str(host_env.models_dir / "checkpoints" / "dreamshaper_8.safetensors"),
    }
    assert result["by_version"]["9208"]["status"] == "missing"
    assert result["by_version"]["100001"]["catalog"] == "loras"
    assert result["by_version"]["5"] is None
    assert set(result["by_version"]) == {"128713", "9208", "100001", "5"}
    assert result["by_model"] == {"8281": ["9208"], "77": []}


def test_base_model_falls_back_to_civitai_base_model(host_env):
    models, _ = studio_catalogs()
    host_env.write_catalogs(models)
    assert host_env.ok("lookup", version_ids=[1501125])["by_version"]["1501125"]["base_model"] == "Flux.1 D"


def test_map_lists_both_catalogs_with_no_duplicate_model_versions(host_env):
    models, loras = studio_catalogs()
    # the same version twice (string and int) and a promote cut in half (in both files)
    models["categories"][1]["models"].append(civitai_entry(128713, 4384, "dup.safetensors", "checkpoints"))
    loras["categories"][0]["models"].append(
        civitai_entry("200001", 300001, "pixel_style_xl.safetensors", "loras"))
    host_env.write_catalogs(models, loras)
    result = host_env.ok("map")
    assert result["next"] is None
    assert result["by_version"]["128713"]["file"] == "dreamshaper_8.safetensors"  # first wins
    assert result["by_version"]["200001"]["catalog"] == "models"
    assert result["by_model"]["300001"] == ["200001"]
    assert "handmade.safetensors" not in json.dumps(result)  # no CivitAI id, not in the map
    assert len(result["by_version"]) == 9


def test_map_etag_unchanged_then_changed_by_a_download_and_by_an_edit(host_env):
    models, loras = studio_catalogs()
    host_env.write_catalogs(models, loras)
    first = host_env.ok("map")
    assert host_env.ok("map", etag=first["etag"]) == {"unchanged": True, "etag": first["etag"]}
    time.sleep(0.01)
    host_env.put_file("loras", "pixel_style_xl.safetensors")  # a download finished
    second = host_env.ok("map", etag=first["etag"])
    assert "unchanged" not in second and second["etag"] != first["etag"]
    assert second["by_version"]["200001"]["status"] == "present"
    models["categories"][3]["models"].append(civitai_entry(5, 6, "new.safetensors", "vae"))
    host_env.write_catalogs(models)
    third = host_env.ok("map", etag=second["etag"])
    assert third["etag"] != second["etag"] and "5" in third["by_version"]


def _big_catalog(count: int) -> dict:
    entries = [
        civitai_entry(10_000 + i, 500 + i // 3, f"lora_{i:06d}_{'x' * 60}.safetensors", "loras",
                      name=f"Some LoRA with a long descriptive name number {i} ✨ [SDXL 1.0]")
        for i in range(count)
    ]
    return {"version": 1, "date": "2026-01-01 00:00",
            "categories": [{"id": "loras", "name": "LoRAs", "models": entries}]}


def test_map_pages_stay_under_one_mib_and_cover_everything(host_env):
    count = 12_000
    host_env.write_catalogs(_big_catalog(count))
    seen: dict[str, dict] = {}
    by_model: dict[str, set] = {}
    cursor = None
    pages = 0
    while True:
        params = {"cursor": cursor} if cursor else {}
        reply = host_env.call("map", **params)
        size = len(json.dumps(reply, ensure_ascii=False, separators=(",", ":")).encode())
        assert size <= 1024 * 1024
        result = reply["result"]
        assert not set(result["by_version"]) & set(seen)
        seen.update(result["by_version"])
        for mid, vids in result["by_model"].items():
            by_model.setdefault(mid, set()).update(vids)
        pages += 1
        cursor = result["next"]
        if cursor is None:
            break
    assert pages >= 2
    assert len(seen) == count
    assert by_model["500"] == {"10000", "10001", "10002"}


def test_map_cursor_expires_when_the_catalog_changes(host_env):
    host_env.write_catalogs(_big_catalog(8_000))
    first = host_env.ok("map")
    assert first["next"]
    doc = host_env.read("models")
    doc["version"] += 1
    host_env.write_catalogs(doc)
    os.utime(host_env.models_json, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    error = host_env.error("map", cursor=first["next"])
    assert error["code"] == "cursor_expired"
    assert host_env.error("map", cursor="garbage")["code"] == "invalid_request"


def test_lookup_and_map_name_a_corrupt_catalog(host_env):
    host_env.models_json.parent.mkdir(parents=True, exist_ok=True)
    host_env.models_json.write_bytes(b'{"categories": "no"}')
    for op, params in (("lookup", {"version_ids": [1]}), ("map", {})):
        result = host_env.ok(op, **params)  # answered from loras.json (issue 11 M)
        assert "models.json" in result["catalog_errors"]["models"]
    ping = host_env.ok("ping")
    assert "error" in ping["catalogs"]["models"]
    assert host_env.models_json.read_bytes() == b'{"categories": "no"}'


def test_index_follows_external_edits(host_env):
    models, _ = studio_catalogs()
    host_env.write_catalogs(models)
    assert host_env.ok("lookup", version_ids=[77])["by_version"]["77"] is None
    models["categories"][1]["models"].append(civitai_entry(77, 78, "edited.safetensors", "checkpoints"))
    host_env.write_catalogs(models)  # e.g. ComfyUI Studio saved the file
    assert host_env.ok("lookup", version_ids=[77])["by_version"]["77"]["file"] == "edited.safetensors"


def test_ping_reports_folders_and_versions(host_env):
    models, loras = studio_catalogs()
    host_env.write_catalogs(models, loras)
    ping = host_env.ok("ping")
    assert ping["host"] == "catalog-host" and ping["protocol"] == 1
    assert ping["catalog_dir"] == str(host_env.catalog_dir)
    assert ping["models_dir"] == str(host_env.models_dir) and ping["models_dir_exists"] is True
    assert ping["catalogs"]["models"]["version"] == 41
    assert ping["catalogs"]["loras"]["version"] == 7
    host_env.models_dir.rmdir()
    ping = host_env.ok("ping")
    assert ping["models_dir_exists"] is False and "does not exist" in ping["models_dir_problem"]


def test_nan_and_surrogates_in_a_catalog_do_not_break_reads(host_env):
    host_env.catalog_dir.mkdir()
    host_env.models_json.write_text(
        '{"version": 1, "date": "x", "categories": [{"id": "loras", "models": [{"name": "a\\ud800",'
        ' "file": "a.safetensors", "dest": "loras", "base_model": NaN, "civitai_version_id": 5}]}]}')
    record = host_env.ok("lookup", version_ids=[5])["by_version"]["5"]
    assert record["base_model"] is None and record["name"] == "a?"
    assert host_env.ok("map")["by_version"]["5"]["file"] == "a.safetensors"
    assert host_env.ok("ping")["catalogs"]["models"]["entries"] == 1


def test_a_huge_name_never_makes_a_reply_too_large(host_env):
    big = civitai_entry(5, 6, "big.safetensors", "loras", name="n" * 2_000_000)
    host_env.write_catalogs(one_category_catalog(big, civitai_entry(7, 8, "small.safetensors", "loras")))
    result = host_env.ok("map")
    assert set(result["by_version"]) == {"5", "7"} and len(result["by_version"]["5"]["name"]) == 1024
    assert host_env.ok("lookup", version_ids=[5])["by_version"]["5"]["file"] == "big.safetensors"


def test_in_place_same_size_edit_with_restored_mtime_is_seen(host_env):
    host_env.write_catalogs(one_category_catalog(civitai_entry(111111, 1, "a.safetensors", "loras")))
    assert host_env.ok("lookup", version_ids=[111111])["by_version"]["111111"]
    before = os.stat(host_env.models_json)
    text = host_env.models_json.read_text().replace("111111", "222222")
    with open(host_env.models_json, "r+") as handle:  # same inode, same size
        handle.write(text)
    os.utime(host_env.models_json, ns=(before.st_atime_ns, before.st_mtime_ns))  # like cp -p
    found = host_env.ok("lookup", version_ids=[111111, 222222])["by_version"]
    assert found["111111"] is None and found["222222"]["file"] == "a.safetensors"


def test_a_damaged_index_is_rebuilt(host_env):
    host_env.write_catalogs(one_category_catalog(civitai_entry(5, 6, "a.safetensors", "loras")))
    host_env.ok("lookup", version_ids=[5])
    path = Path(index_path(host_env.catalog_dir))
    data = path.read_bytes()
    path.write_bytes(data[:-30])  # truncated
    assert host_env.ok("lookup", version_ids=[5])["by_version"]["5"]["file"] == "a.safetensors"
    path.write_bytes(data[:-30] + b"#" * 30)  # same length, garbage records
    error = host_env.error("lookup", version_ids=[5])
    assert error["code"] == "index_damaged" and not os.path.exists(path)
    assert host_env.ok("lookup", version_ids=[5])["by_version"]["5"]["file"] == "a.safetensors"


def test_lookup_needs_at_least_one_version_id(host_env):
    assert host_env.error("lookup", version_ids=[])["code"] == "invalid_request"


def test_a_lookup_of_200_hostile_entries_fits_one_frame(host_env):
    """Issue 11 G: control characters are 6 bytes each in JSON; every text field of every one
    of the 200 records is full of them, and the reply still fits Chrome's 1 MiB limit."""
    from host.framing import MAX_REPLY_BYTES, encode_message

    hostile = "\x01" * 5000
    entries = [civitai_entry(1000 + n, 77, "f" + hostile, "loras/" + hostile, name=hostile, base_model=hostile)
               for n in range(200)]
    host_env.write_catalogs(one_category_catalog(*entries))
    reply = host_env.call("lookup", version_ids=[1000 + n for n in range(200)], model_ids=[77])
    assert reply["ok"], reply["error"]
    assert len(encode_message(reply)) <= MAX_REPLY_BYTES
    record = reply["result"]["by_version"]["1000"]
    assert record["name"].startswith("\x01\x01") and record["file"].startswith("f\x01")
    assert reply["result"]["by_model"]["77"][:2] == ["1000", "1001"]
    page = host_env.call("map")
    assert page["ok"] and len(encode_message(page)) <= MAX_REPLY_BYTES


def test_by_model_lists_are_bounded(host_env):
    """Issue 11 G: a catalog may hold any number of versions of one model; by_model lists the
    first ones in catalog order, so 50 asked models cannot burst the reply."""
    from host.catalog.views import MAX_VERSIONS_PER_MODEL

    count = MAX_VERSIONS_PER_MODEL + 50
    host_env.write_catalogs(one_category_catalog(*[{"civitai_version_id": 5000 + v, "civitai_model_id": 9,
                                       "file": "f.safetensors", "dest": "loras"} for v in range(count)]))
    listed = host_env.ok("lookup", version_ids=[5000], model_ids=[9])["by_model"]["9"]
    assert listed == [str(5000 + v) for v in range(MAX_VERSIONS_PER_MODEL)]


def test_the_largest_possible_lookup_reply_fits_one_frame():
    """The bound by construction: 200 records of the largest size, 50 models with the longest
    lists of the longest ids, and the envelope. (An echoed request id too large to fit is the
    server's case: it answers reply_too_large with a null id.)"""
    from host.catalog.ids import MAX_ID_DIGITS
    from host.catalog.views import MAX_RECORD_JSON_BYTES, MAX_TEXT_JSON_BYTES, MAX_VERSIONS_PER_MODEL
    from host.framing import MAX_REPLY_BYTES
    from host.protocol import MAX_LOOKUP_MODEL_IDS, MAX_LOOKUP_VERSION_IDS

    quoted_id = MAX_ID_DIGITS + 3  # "...", with its comma
    records = MAX_LOOKUP_VERSION_IDS * (quoted_id + 1 + MAX_RECORD_JSON_BYTES)
    by_model = MAX_LOOKUP_MODEL_IDS * (quoted_id + 3 + MAX_VERSIONS_PER_MODEL * quoted_id)
    envelope = 1024  # {"id": ..., "ok": true, "result": {"by_version": {...}, "by_model": {...}}}
    # issue 11 M: one message per unreadable catalog, bounded like a record's text field
    catalog_errors = len(',"catalog_errors":{}') + 2 * (len('"models":,') + MAX_TEXT_JSON_BYTES + 2)
    assert records + by_model + envelope + catalog_errors <= MAX_REPLY_BYTES


def test_an_empty_base_model_falls_back_to_civitai_base_model(host_env):
    """Issue 11 K: Studio's catalogs write base_model "" next to civitai_base_model; a record
    reports the latter, as when base_model is absent."""
    host_env.write_catalogs(one_category_catalog(
        civitai_entry(5, 6, "a.safetensors", "loras", base_model="", civitai_base_model="Flux.1 D"),
        civitai_entry(7, 8, "b.safetensors", "loras", base_model="")))
    found = host_env.ok("lookup", version_ids=[5, 7])["by_version"]
    assert found["5"]["base_model"] == "Flux.1 D"
    assert found["7"]["base_model"] == ""  # nothing to fall back to
    assert host_env.ok("map")["by_version"]["5"]["base_model"] == "Flux.1 D"
