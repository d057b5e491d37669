"""`add` end to end in-process: host.dispatch.handle_message with a temp catalog folder and
CivitAI faked by requests-mock (SPEC §5 add, §4 catalog rules, §3 ids)."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
import requests

from tests.support.catalogs import SDXL_LORA_ENTRY, civitai_entry, studio_catalogs
from tests.support.fake_civitai import load_error, load_fixture

DATE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")
KEY = "sk-SECRET-add-handler-key-42424242"


def all_entries(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry for category in doc["categories"] for entry in category.get("models", [])]


def category(doc: dict[str, Any], category_id: str) -> dict[str, Any]:
    return next(c for c in doc["categories"] if c["id"] == category_id)


@pytest.fixture
def studio(host_env: Any) -> Any:
    models, loras = studio_catalogs()
    host_env.write_catalogs(models, loras)
    return host_env


# --- added ------------------------------------------------------------------------------------


def test_add_into_an_empty_catalog(host_env: Any, civitai: Any) -> None:
    civitai.serve("sdxl_lora")
    result = host_env.ok("add", version_id=148210)
    assert result == {
        "status": "added",
        "file": "watercolor_dreams_xl_v1.safetensors",
        "name": "Watercolor Dreams XL v1.0 [SDXL 1.0 FP16]",
        "category": "loras",
        "dest": "loras",
    }
    assert civitai.urls == [civitai.url(148210)]
    doc = host_env.read("models")
    assert doc["version"] == 1  # a missing file is an empty catalog (version 0), bumped once
    assert DATE.match(doc["date"])
    assert doc["categories"] == [{"id": "loras", "name": "LoRAs", "models": [SDXL_LORA_ENTRY]}]
    assert list(doc["categories"][0]["models"][0]) == list(SDXL_LORA_ENTRY)
    assert not host_env.loras_json.exists()  # only the changed catalog is written
    assert not (host_env.catalog_dir / "models.json.bak").exists()  # nothing to back up yet


def test_add_into_a_studio_catalog_keeps_everything_else(studio: Any, civitai: Any) -> None:
    before_raw = studio.models_json.read_bytes()
    before = studio.read("models")
    loras_before = studio.loras_json.read_bytes()
    civitai.serve("sdxl_lora")
    assert studio.ok("add", version_id="148210")["status"] == "added"

    after = studio.read("models")
    assert after["version"] == before["version"] + 1
    assert DATE.match(after["date"])
    assert (studio.catalog_dir / "models.json.bak").read_bytes() == before_raw
    assert studio.loras_json.read_bytes() == loras_before
    # the new entry went to the end of the existing "loras" category ...
    loras = category(after, "loras")
    assert loras["models"][-1] == SDXL_LORA_ENTRY
    # ... and nothing else changed: same keys, same order, same values
    del loras["models"][-1]
    for doc in (before, after):
        doc.pop("version"), doc.pop("date")
    assert after == before
    assert json.dumps(after) == json.dumps(before)


def test_add_creates_the_category_with_its_readable_name_at_the_end(studio: Any, civitai: Any) -> None:
    civitai.serve("vae")
    result = studio.ok("add", version_id=144318)
    assert (result["category"], result["dest"]) == ("vae", "vae")
    doc = studio.read("models")
    assert doc["categories"][-1] == {
        "id": "vae",
        "name": "VAE",
        "models": [all_entries(doc)[-1]],
    }
    assert doc["categories"][-1]["models"][0]["file"] == "clearXLVae_v10.safetensors"


ADDED = [
    ("aesthetic_gradient", "embeddings", "Embeddings", "embeddings"),
    ("embedding", "embeddings", "Embeddings", "embeddings"),
    ("controlnet", "controlnet", "ControlNet", "controlnet"),
    ("poses", "controlnet", "ControlNet", "controlnet"),
    ("upscaler", "upscalers", "Upscalers", "upscale_models"),
    ("vae", "vae", "VAE", "vae"),
    ("sdxl_lora", "loras", "LoRAs", "loras"),
    ("locon", "loras", "LoRAs", "loras"),
    ("dora", "loras", "LoRAs", "loras"),
    ("sd15_checkpoint_2022", "checkpoints", "Checkpoints", "checkpoints"),
    ("hunyuan1_checkpoint", "checkpoints", "Checkpoints", "checkpoints"),
    ("pony_v7_checkpoint", "checkpoints", "Checkpoints", "checkpoints"),
    ("flux1_dev_checkpoint", "diffusion_models", "Diffusion Models", "diffusion_models"),
    ("flux2_checkpoint", "diffusion_models", "Diffusion Models", "diffusion_models"),
    ("wan22_checkpoint", "diffusion_models", "Diffusion Models", "diffusion_models"),
    ("hunyuan_video_checkpoint", "diffusion_models", "Diffusion Models", "diffusion_models"),
    ("ltxv23_checkpoint", "diffusion_models", "Diffusion Models", "diffusion_models"),
    ("cogvideox_checkpoint", "diffusion_models", "Diffusion Models", "diffusion_models"),
    ("diffusion_model_filetype", "diffusion_models", "Diffusion Models", "diffusion_models"),
    ("unet_filetype", "diffusion_models", "Diffusion Models", "diffusion_models"),
    ("unet_type", "diffusion_models", "Diffusion Models", "diffusion_models"),
    ("text_encoder", "text_encoders", "Text Encoders", "text_encoders"),
    ("clip_vision", "clip_vision", "CLIP Vision", "clip_vision"),
    ("hypernetwork", "hypernetworks", "Hypernetworks", "hypernetworks"),
    ("motion_module", "animatediff_models", "Motion Modules", "animatediff_models"),
    ("paid_access", "loras", "LoRAs", "loras"),
    ("taken_down", "loras", "LoRAs", "loras"),
    ("usage_download", "checkpoints", "Checkpoints", "checkpoints"),
]


@pytest.mark.parametrize(("fixture", "category_id", "category_name", "dest"), ADDED)
def test_add_routes_each_fixture(
    host_env: Any, civitai: Any, fixture: str, category_id: str, category_name: str, dest: str
) -> None:
    payload = civitai.serve(fixture)
    result = host_env.ok("add", version_id=payload["id"])
    assert result["status"] == "added"
    assert (result["category"], result["dest"]) == (category_id, dest)
    doc = host_env.read("models")
    [cat] = doc["categories"]
    assert (cat["id"], cat["name"]) == (category_id, category_name)
    [entry] = cat["models"]
    assert entry["dest"] == dest
    assert entry["file"] == result["file"]
    assert entry["name"] == result["name"]
    assert entry["civitai_version_id"] == payload["id"]
    assert entry["civitai_model_id"] == payload["modelId"]
    assert entry["base_model"] == payload["baseModel"]
    assert entry["source"] == "civitai"


def test_non_ascii_is_written_as_is_with_two_space_indent(host_env: Any, civitai: Any) -> None:
    civitai.serve("non_ascii")
    host_env.ok("add", version_id=1833561)
    raw = host_env.models_json.read_bytes()
    assert "Sakura_Miku_Stïl_桜.safetensors".encode() in raw
    assert "桜色ミク 🌸 スタイル v1.0 ✨ [Illustrious FP16]".encode() in raw
    assert b"\\u" not in raw
    assert raw.startswith(b'{\n  "version": 1,\n')


def test_successive_adds_bump_the_version_each_time(studio: Any, civitai: Any) -> None:
    start = studio.read("models")["version"]
    for number, fixture in enumerate(["sdxl_lora", "vae", "flux1_dev_checkpoint"], start=1):
        payload = civitai.serve(fixture)
        studio.ok("add", version_id=payload["id"])
        assert studio.read("models")["version"] == start + number


# --- already there ----------------------------------------------------------------------------


def test_second_add_is_already_exists_without_any_http_call(host_env: Any, civitai: Any) -> None:
    civitai.serve("sdxl_lora")
    host_env.ok("add", version_id=148210)
    snapshot = host_env.snapshot()
    calls = civitai.calls
    result = host_env.ok("add", version_id=148210)
    assert result["status"] == "already_exists"
    assert result["file"] == "watercolor_dreams_xl_v1.safetensors"
    assert civitai.calls == calls
    assert host_env.snapshot() == snapshot


@pytest.mark.parametrize(("first", "second"), [("148210", 148210), (148210, "148210"), ("0148210", 148210)])
def test_string_and_int_ids_are_the_same_version(host_env: Any, civitai: Any, first: Any, second: Any) -> None:
    civitai.serve("sdxl_lora")
    assert host_env.ok("add", version_id=first)["status"] == "added"
    assert civitai.urls == [civitai.url(148210)]  # canonical id in the URL
    assert host_env.ok("add", version_id=second)["status"] == "already_exists"
    assert civitai.calls == 1
    assert len(all_entries(host_env.read("models"))) == 1


def test_catalog_holding_the_id_as_a_string(studio: Any, civitai: Any) -> None:
    snapshot = studio.snapshot()
    result = studio.ok("add", version_id=9208)  # models.json holds "civitai_version_id": "9208"
    assert result["status"] == "already_exists"
    assert result["file"] == "ぼかし_v2.safetensors"
    assert civitai.calls == 0
    assert studio.snapshot() == snapshot


def test_catalog_holding_the_id_with_leading_zeros(host_env: Any, civitai: Any) -> None:
    entry = civitai_entry("0148210", 131507, "some_other_name.safetensors", "loras")
    host_env.write_catalogs({"version": 3, "date": "2026-01-01 00:00",
                             "categories": [{"id": "loras", "name": "LoRAs", "models": [entry]}]})
    result = host_env.ok("add", version_id=148210)
    assert result["status"] == "already_exists"
    assert result["file"] == "some_other_name.safetensors"
    assert civitai.calls == 0


def test_version_in_the_style_lora_catalog_is_already_there(studio: Any, civitai: Any) -> None:
    snapshot = studio.snapshot()
    result = studio.ok("add", version_id=100001)
    assert result["status"] == "already_exists"
    assert result["file"] == "curated_style.safetensors"
    assert civitai.calls == 0
    assert studio.snapshot() == snapshot


@pytest.mark.parametrize("catalog", ["models", "loras"])
def test_same_dest_and_file_under_another_version_id(host_env: Any, civitai: Any, catalog: str) -> None:
    other = civitai_entry(999999, 131507, "watercolor_dreams_xl_v1.safetensors", "loras")
    doc = {"version": 5, "date": "2026-01-01 00:00", "categories": [{"id": "x", "name": "X", "models": [other]}]}
    host_env.write_catalogs(**{catalog: doc})
    snapshot = host_env.snapshot()
    civitai.serve("sdxl_lora")
    result = host_env.ok("add", version_id=148210)
    assert result["status"] == "already_exists"
    assert result["file"] == "watercolor_dreams_xl_v1.safetensors"
    assert host_env.snapshot() == snapshot


def test_same_file_name_in_another_dest_is_added(host_env: Any, civitai: Any) -> None:
    other = civitai_entry(999999, 1, "watercolor_dreams_xl_v1.safetensors", "loras/old")
    host_env.write_catalogs({"version": 5, "date": "2026-01-01 00:00",
                             "categories": [{"id": "loras", "name": "LoRAs", "models": [other]}]})
    civitai.serve("sdxl_lora")
    assert host_env.ok("add", version_id=148210)["status"] == "added"
    assert [e["dest"] for e in all_entries(host_env.read("models"))] == ["loras/old", "loras"]


def test_version_added_by_another_process_during_the_download(host_env: Any, civitai: Any) -> None:
    # The network call runs outside the lock; the duplicate check must run again inside it.
    payload = load_fixture("sdxl_lora")
    racer = civitai_entry(148210, 131507, "added_by_the_other_process.safetensors", "loras")

    def answer(request: Any, context: Any) -> dict[str, Any]:
        host_env.write_catalogs({"version": 9, "date": "2026-01-01 00:00",
                                 "categories": [{"id": "loras", "name": "LoRAs", "models": [racer]}]})
        return payload

    civitai.respond(148210, json=answer)
    result = host_env.ok("add", version_id=148210)
    assert result["status"] == "already_exists"
    assert result["file"] == "added_by_the_other_process.safetensors"
    doc = host_env.read("models")
    assert doc["version"] == 9
    assert all_entries(doc) == [racer]


# --- refused, nothing written -----------------------------------------------------------------


def test_restricted_names_the_value_and_writes_nothing(studio: Any, civitai: Any) -> None:
    snapshot = studio.snapshot()
    civitai.serve("usage_generation")
    result = studio.ok("add", version_id=1655432)
    assert result["status"] == "restricted"
    assert "'Generation'" in result["reason"]
    assert set(result) == {"status", "reason"}
    assert studio.snapshot() == snapshot


@pytest.mark.parametrize("usage", ["InternalGeneration", "ExternalGeneration"])
def test_other_restrictions(host_env: Any, civitai: Any, usage: str) -> None:
    civitai.serve("sdxl_lora", usageControl=usage)
    result = host_env.ok("add", version_id=148210)
    assert result["status"] == "restricted"
    assert f"'{usage}'" in result["reason"]
    assert not host_env.models_json.exists()


def test_archived_version_is_no_files(studio: Any, civitai: Any) -> None:
    snapshot = studio.snapshot()
    civitai.serve("archived")
    error = studio.error("add", version_id=64518)
    assert error["code"] == "no_files"
    assert "archived" in error["message"]
    assert studio.snapshot() == snapshot


@pytest.mark.parametrize("fixture", ["workflow", "wildcards", "other_type", "future_type"])
def test_unsupported_type(studio: Any, civitai: Any, fixture: str) -> None:
    snapshot = studio.snapshot()
    payload = civitai.serve(fixture)
    error = studio.error("add", version_id=payload["id"])
    assert error["code"] == "unsupported_type"
    assert payload["model"]["type"] in error["message"]
    assert studio.snapshot() == snapshot


HOSTILE = [
    "hostile_300_bytes",
    "hostile_absolute",
    "hostile_control_char",
    "hostile_dotdot",
    "hostile_dotdot_slash",
    "hostile_empty",
    "hostile_long_utf8",
    "hostile_nul",
    "hostile_reserved_con",
    "hostile_slash",
    "hostile_windows_drive",
]


@pytest.mark.parametrize("fixture", HOSTILE)
def test_hostile_file_names_are_refused(studio: Any, civitai: Any, fixture: str) -> None:
    snapshot = studio.snapshot()
    catalog_files = sorted(p.name for p in studio.catalog_dir.iterdir() if not p.name.startswith("."))
    payload = civitai.serve(fixture)
    error = studio.error("add", version_id=payload["id"])
    assert error["code"] == "unsafe_filename"
    assert studio.snapshot() == snapshot
    assert sorted(p.name for p in studio.catalog_dir.iterdir() if not p.name.startswith(".")) == catalog_files
    assert list(studio.models_dir.rglob("*")) == []  # add never creates files there
    assert not (studio.root / "x.safetensors").exists()


@pytest.mark.parametrize(
    "name",
    ["../x.safetensors", "..", ".", "/etc/x", "C:\\x", "a/b", "x\x00y", "x\x1by", "CON.safetensors", "nul",
     "", "x.safetensors.", "x.safetensors ", "a" * 256, "é" * 128],
)
def test_hostile_names_inline(host_env: Any, civitai: Any, name: str) -> None:
    payload = load_fixture("sdxl_lora")
    payload["files"][0]["name"] = name
    civitai.serve(payload)
    error = host_env.error("add", version_id=148210)
    assert error["code"] == "unsafe_filename"
    assert not host_env.models_json.exists()


# --- CivitAI failures -------------------------------------------------------------------------

CIVITAI_FAILURES: list[tuple[str, dict[str, Any], str, int | None]] = [
    ("404", {"status_code": 404, "content": load_error("404_model_not_found.json")}, "civitai_not_found", 404),
    ("404-missing-file", {"status_code": 404, "content": load_error("404_missing_file.json")},
     "civitai_not_found", 404),
    ("400", {"status_code": 400, "content": load_error("400_bad_id.json")}, "civitai_http_error", 400),
    ("403", {"status_code": 403, "text": "Forbidden"}, "civitai_http_error", 403),
    ("500", {"status_code": 500, "content": load_error("500.json")}, "civitai_http_error", 500),
    ("502-html", {"status_code": 502, "content": load_error("502.html")}, "civitai_http_error", 502),
    ("503", {"status_code": 503, "text": "<html>maintenance</html>"}, "civitai_http_error", 503),
    ("429-long-retry-after", {"status_code": 429, "content": load_error("429.html"),
                              "headers": {"Retry-After": "3600"}}, "civitai_http_error", 429),
    ("connect-timeout", {"exc": requests.exceptions.ConnectTimeout}, "civitai_unreachable", None),
    ("read-timeout", {"exc": requests.exceptions.ReadTimeout}, "civitai_unreachable", None),
    ("connection-error", {"exc": requests.exceptions.ConnectionError}, "civitai_unreachable", None),
    ("html-200", {"status_code": 200, "text": "<html>Just a moment...</html>"}, "civitai_bad_response", None),
    ("empty-200", {"status_code": 200, "content": b""}, "civitai_bad_response", None),
    ("list-200", {"status_code": 200, "json": [load_fixture("sdxl_lora")]}, "civitai_bad_response", None),
    ("no-id", {"status_code": 200, "json": {k: v for k, v in load_fixture("sdxl_lora").items() if k != "id"}},
     "civitai_bad_response", None),
    ("files-not-list", {"status_code": 200, "json": {**load_fixture("sdxl_lora"), "files": "x"}},
     "civitai_bad_response", None),
    ("id-mismatch", {"status_code": 200, "json": {**load_fixture("sdxl_lora"), "id": 148211}},
     "civitai_bad_response", None),
    ("nan-size", {"status_code": 200, "content": json.dumps(load_fixture("sdxl_lora")).encode().replace(
        b'"sizeKB": 223110.4609375', b'"sizeKB": NaN')}, "civitai_bad_response", None),
    ("deep-nesting", {"status_code": 200, "content": b"[" * 50_000}, "civitai_bad_response", None),
]


@pytest.mark.parametrize(
    ("case", "response", "code", "status"), CIVITAI_FAILURES, ids=[c[0] for c in CIVITAI_FAILURES]
)
def test_civitai_failures_give_their_code_and_change_nothing(
    studio: Any, civitai: Any, monkeypatch: pytest.MonkeyPatch,
    case: str, response: dict[str, Any], code: str, status: int | None,
) -> None:
    monkeypatch.setenv("CIVITAI_API_KEY", KEY)
    snapshot = studio.snapshot()
    civitai.respond(148210, **response)
    reply = studio.call("add", version_id=148210)
    assert reply["ok"] is False
    assert reply["id"] == 1
    error = reply["error"]
    assert error["code"] == code, error
    if status is not None:
        assert error["status"] == status
        if code == "civitai_http_error":
            assert str(status) in error["message"]
    assert studio.snapshot() == snapshot
    assert KEY not in json.dumps(reply)
    assert civitai.calls >= 1


def test_404_message_says_it_may_be_transient(host_env: Any, civitai: Any) -> None:
    civitai.respond(148210, status_code=404, content=load_error("404_model_not_found.json"))
    error = host_env.error("add", version_id=148210)
    assert error["code"] == "civitai_not_found"
    assert "Model not found" in error["message"]
    assert "try again" in error["message"].lower()
    assert civitai.calls == 1


def test_5xx_is_retried_a_few_times(host_env: Any, civitai: Any, sleeps: list[float]) -> None:
    civitai.respond(148210, status_code=502, content=load_error("502.html"))
    assert host_env.error("add", version_id=148210)["code"] == "civitai_http_error"
    assert 2 <= civitai.calls <= 6
    assert len(sleeps) == civitai.calls - 1


def test_429_then_200_is_added_after_waiting_retry_after(host_env: Any, civitai: Any, sleeps: list[float]) -> None:
    civitai.respond(148210, responses=[
        {"status_code": 429, "content": load_error("429.html"), "headers": {"Retry-After": "2"}},
        {"status_code": 200, "json": load_fixture("sdxl_lora")},
    ])
    assert host_env.ok("add", version_id=148210)["status"] == "added"
    assert sleeps == [2.0]
    assert civitai.calls == 2


def test_api_key_goes_only_in_the_authorization_header(
    host_env: Any, civitai: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIVITAI_API_KEY", KEY)
    civitai.serve("sdxl_lora")
    reply = host_env.call("add", version_id=148210)
    assert reply["ok"]
    request = civitai.mock.last_request
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert KEY not in request.url
    assert KEY not in json.dumps(reply)
    assert KEY.encode() not in host_env.models_json.read_bytes()


def test_no_authorization_header_without_a_key(host_env: Any, civitai: Any) -> None:
    civitai.serve("sdxl_lora")
    host_env.ok("add", version_id=148210)
    assert "Authorization" not in civitai.mock.last_request.headers


# --- bad input and a corrupt catalog ----------------------------------------------------------


@pytest.mark.parametrize(
    "version_id",
    [0, -1, True, False, 1.5, 148210.0, "12a", " 12", "１２", "1" * 19, "", None, [], [148210], {"id": 1}],
)
def test_invalid_ids_are_invalid_request_without_http(host_env: Any, civitai: Any, version_id: Any) -> None:
    error = host_env.error("add", version_id=version_id)
    assert error["code"] == "invalid_request"
    assert civitai.calls == 0
    assert not host_env.models_json.exists()


def test_missing_version_id(host_env: Any, civitai: Any) -> None:
    assert host_env.error("add")["code"] == "invalid_request"
    assert civitai.calls == 0


@pytest.mark.parametrize(
    "raw",
    [
        b"{ this is not json",
        b"",
        b"[]",
        b'{"version": 3, "date": "2026-01-01 00:00"}',
        b'{"version": "3", "categories": []}',
        b'{"version": 3, "categories": [{"id": "x", "models": {"a": 1}}]}',
        b'{"version": 3, "categories": [{"id": "x", "models": [1, 2]}]}',
        b"\xff\xfe not utf-8",
    ],
)
@pytest.mark.parametrize("which", ["models", "loras"])
def test_corrupt_catalog_is_refused_and_left_untouched(
    host_env: Any, civitai: Any, raw: bytes, which: str
) -> None:
    models, loras = studio_catalogs()
    host_env.write_catalogs(models, loras)
    path = host_env.catalog_dir / f"{which}.json"
    path.write_bytes(raw)
    snapshot = host_env.snapshot()
    civitai.serve("sdxl_lora")
    error = host_env.error("add", version_id=148210)
    assert error["code"] == "catalog_corrupt"
    assert host_env.snapshot() == snapshot
    assert not (host_env.catalog_dir / f"{which}.json.bak").exists()
    assert civitai.calls == 0  # refused before going to the network


def test_catalog_corrupted_during_the_download_is_left_untouched(host_env: Any, civitai: Any) -> None:
    models, _ = studio_catalogs()
    host_env.write_catalogs(copy.deepcopy(models))
    payload = load_fixture("sdxl_lora")

    def answer(request: Any, context: Any) -> dict[str, Any]:
        host_env.models_json.write_bytes(b'{"version": 1, "categories": [tru')
        return payload

    civitai.respond(148210, json=answer)
    error = host_env.error("add", version_id=148210)
    assert error["code"] == "catalog_corrupt"
    assert host_env.models_json.read_bytes() == b'{"version": 1, "categories": [tru'


def test_lone_surrogate_and_huge_size_from_civitai_are_stored_as_valid_json(host_env: Any, civitai: Any) -> None:
    payload = load_fixture("sdxl_lora")
    payload["model"]["name"] = "Bad \ud800 name"
    payload["trainedWords"] = ["x\udfff"]
    payload["files"][0]["sizeKB"] = 1e306
    civitai.respond(payload["id"], content=json.dumps(payload).encode())  # \ud800 escapes
    added = host_env.ok("add", version_id=payload["id"])
    assert added["status"] == "added" and "\ud800" not in added["name"]
    raw = host_env.models_json.read_text("utf-8")  # valid UTF-8
    entry = json.loads(raw)["categories"][0]["models"][0]
    assert entry["size_gb"] == 0 and "Infinity" not in raw  # unknown size: a number, never null
    assert host_env.ok("lookup", version_ids=[payload["id"]])["by_version"][str(payload["id"])]


def test_no_size_and_no_base_model_are_written_as_a_number_and_a_string(host_env: Any, civitai: Any) -> None:
    """Issue 11 K: ComfyUI Studio computes size_gb * 1e9 and base_model.lower(): null crashes it."""
    payload = load_fixture("sdxl_lora")
    del payload["baseModel"]
    del payload["files"][0]["sizeKB"]
    civitai.serve(payload)
    assert host_env.ok("add", version_id=payload["id"])["status"] == "added"
    entry = host_env.read("models")["categories"][0]["models"][0]
    assert entry["size_gb"] == 0 and entry["base_model"] == ""
    assert None not in entry.values()
