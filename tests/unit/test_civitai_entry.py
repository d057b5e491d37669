"""CivitAI model version -> catalog entry (SPEC §5 add, steps 3-4): routing, primary file,
file-name safety, display name and every field of the built entry. No I/O."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from host.civitai.entry import build_entry, display_name, primary_file, restriction, route
from host.civitai.models import ModelVersion, VersionFile
from host.civitai.routing import CATEGORY_NAMES, TYPE_ROUTES
from host.errors import HostError, NoFilesError, UnsafeFilenameError, UnsupportedTypeError
from tests.support.catalogs import SDXL_LORA_ENTRY
from tests.support.fake_civitai import fixture_names, load_fixture

SHA = "517EC7A2D9567BECB7372F28869D04FB4395F700919947EE9581303DB1290BCF"


def a_file(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": 112409,
        "sizeKB": 223110.4609375,
        "name": "watercolor_dreams_xl_v1.safetensors",
        "type": "Model",
        "primary": True,
        "metadata": {"format": "SafeTensor", "size": None, "fp": "fp16"},
        "hashes": {"AutoV2": "517EC7A2D9", "SHA256": SHA},
    }
    data.update(overrides)
    return data


def a_version(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": 148210,
        "modelId": 131507,
        "name": "v1.0",
        "trainedWords": ["wtrclr"],
        "baseModel": "SDXL 1.0",
        "stats": {"downloadCount": 23817, "thumbsUpCount": 595},
        "model": {"name": "Watercolor Dreams XL", "type": "LORA", "nsfw": False, "poi": False},
        "files": [a_file()],
    }
    data.update(overrides)
    return data


def build(data: dict[str, Any]) -> dict[str, Any]:
    return build_entry(ModelVersion.model_validate(data)).entry


def files_of(*specs: dict[str, Any]) -> list[VersionFile]:
    return [VersionFile.model_validate(spec) for spec in specs]


# --- routing: model.type -> (category, dest) ----------------------------------------------------

EXPECTED_TYPE_ROUTES = {
    "Checkpoint": ("checkpoints", "checkpoints"),
    "LORA": ("loras", "loras"),
    "LoCon": ("loras", "loras"),
    "DoRA": ("loras", "loras"),
    "VAE": ("vae", "vae"),
    "TextualInversion": ("embeddings", "embeddings"),
    "AestheticGradient": ("embeddings", "embeddings"),
    "Controlnet": ("controlnet", "controlnet"),
    "Poses": ("controlnet", "controlnet"),
    "Upscaler": ("upscalers", "upscale_models"),
    "Hypernetwork": ("hypernetworks", "hypernetworks"),
    "TextEncoder": ("text_encoders", "text_encoders"),
    "CLIP": ("text_encoders", "text_encoders"),
    "CLIPVision": ("clip_vision", "clip_vision"),
    "UNet": ("diffusion_models", "diffusion_models"),
    "MotionModule": ("animatediff_models", "animatediff_models"),
}

SPEC_CATEGORY_NAMES = {
    "checkpoints": "Checkpoints",
    "loras": "LoRAs",
    "vae": "VAE",
    "embeddings": "Embeddings",
    "controlnet": "ControlNet",
    "upscalers": "Upscalers",
    "diffusion_models": "Diffusion Models",
}


def test_type_table_is_exactly_the_documented_one() -> None:
    assert TYPE_ROUTES == EXPECTED_TYPE_ROUTES


@pytest.mark.parametrize(("model_type", "expected"), sorted(EXPECTED_TYPE_ROUTES.items()))
def test_each_type_routes_for_an_sdxl_base(model_type: str, expected: tuple[str, str]) -> None:
    assert route(model_type, "SDXL 1.0", "Model") == expected


@pytest.mark.parametrize("model_type", ["LoCon", "DoRA"])
def test_locon_and_dora_are_loras_not_checkpoints(model_type: str) -> None:
    assert route(model_type, "SD 1.5", "Model") == ("loras", "loras")
    entry = build(a_version(model={"name": "X", "type": model_type}))
    assert entry["dest"] == "loras"


@pytest.mark.parametrize(
    "model_type",
    ["Workflows", "ComfyWorkflows", "Wildcards", "Other", "LLM", "VisionLanguage", "Detection",
     "Audio", "SomeTypeFrom2027", "", None],
)
def test_unsupported_types_are_refused_not_guessed(model_type: str | None) -> None:
    with pytest.raises(UnsupportedTypeError) as info:
        route(model_type, "SDXL 1.0", "Model")
    assert info.value.code == "unsupported_type"
    with pytest.raises(UnsupportedTypeError):
        build(a_version(model={"name": "X", "type": model_type}))


def test_a_version_without_model_object_is_unsupported() -> None:
    with pytest.raises(UnsupportedTypeError):
        build(a_version(model=None))


@pytest.mark.parametrize(
    "base_model",
    ["Flux.1 D", "Flux.1 S", "Flux.1 Krea", "Flux.1 Kontext", "Flux.2 D", "Flux.2 Klein 9B",
     "Flux.2 Klein 4B-base", "Wan Video", "Wan Video 14B t2v", "Wan Video 2.2 I2V-A14B",
     "Wan Video 2.5 T2V", "Wan Image 2.7", "Hunyuan Video", "LTXV", "LTXV2", "LTXV 2.3", "CogVideoX"],
)
def test_checkpoints_of_diffusion_families_go_to_diffusion_models(base_model: str) -> None:
    assert route("Checkpoint", base_model, "Model") == ("diffusion_models", "diffusion_models")


@pytest.mark.parametrize(
    "base_model",
    ["SD 1.5", "SD 2.1", "SD 3.5 Large", "SDXL 1.0", "Pony", "Illustrious", "NoobAI",
     "Pony V7", "Hunyuan 1", "Qwen", "HiDream", "Zeta Diffusion 3 Turbo", "", None],
)
def test_other_checkpoints_stay_in_checkpoints(base_model: str | None) -> None:
    assert route("Checkpoint", base_model, "Model") == ("checkpoints", "checkpoints")
    assert route("Checkpoint", base_model, "Pruned Model") == ("checkpoints", "checkpoints")


@pytest.mark.parametrize("file_type", ["Diffusion Model", "UNet"])
@pytest.mark.parametrize("base_model", ["Qwen", "HiDream", "SDXL 1.0", "Pony V7", None])
def test_checkpoint_whose_primary_file_is_a_bare_diffusion_model(file_type: str, base_model: str | None) -> None:
    assert route("Checkpoint", base_model, file_type) == ("diffusion_models", "diffusion_models")


@pytest.mark.parametrize("model_type", ["LORA", "VAE", "TextEncoder", "Controlnet"])
def test_diffusion_routing_applies_to_checkpoints_only(model_type: str) -> None:
    assert route(model_type, "Flux.1 D", "Diffusion Model") == EXPECTED_TYPE_ROUTES[model_type]


def test_flux_lora_stays_a_lora() -> None:
    new = build_entry(ModelVersion.model_validate(a_version(baseModel="Flux.1 D")))
    assert (new.category_id, new.dest) == ("loras", "loras")


@pytest.mark.parametrize(("category", "name"), sorted(SPEC_CATEGORY_NAMES.items()))
def test_readable_category_names_from_the_spec(category: str, name: str) -> None:
    assert CATEGORY_NAMES[category] == name


def test_every_routed_category_has_a_readable_name() -> None:
    for category, _ in TYPE_ROUTES.values():
        assert CATEGORY_NAMES.get(category), category


# --- the realistic fixtures -------------------------------------------------------------------

FIXTURE_ROUTES: dict[str, tuple[str, str] | type[HostError]] = {
    "aesthetic_gradient": ("embeddings", "embeddings"),
    "archived": NoFilesError,
    "clip_vision": ("clip_vision", "clip_vision"),
    "cogvideox_checkpoint": ("diffusion_models", "diffusion_models"),
    "controlnet": ("controlnet", "controlnet"),
    "diffusion_model_filetype": ("diffusion_models", "diffusion_models"),
    "dora": ("loras", "loras"),
    "embedding": ("embeddings", "embeddings"),
    "empty_version_name": ("loras", "loras"),
    "flux1_dev_checkpoint": ("diffusion_models", "diffusion_models"),
    "flux2_checkpoint": ("diffusion_models", "diffusion_models"),
    "flux_kontext_checkpoint": ("diffusion_models", "diffusion_models"),
    "flux_lora": ("loras", "loras"),
    "future_type": UnsupportedTypeError,
    "hashes_empty": ("loras", "loras"),
    "hostile_300_bytes": UnsafeFilenameError,
    "hostile_absolute": UnsafeFilenameError,
    "hostile_control_char": UnsafeFilenameError,
    "hostile_dotdot": UnsafeFilenameError,
    "hostile_dotdot_slash": UnsafeFilenameError,
    "hostile_empty": UnsafeFilenameError,
    "hostile_long_utf8": UnsafeFilenameError,
    "hostile_nul": UnsafeFilenameError,
    "hostile_reserved_con": UnsafeFilenameError,
    "hostile_slash": UnsafeFilenameError,
    "hostile_windows_drive": UnsafeFilenameError,
    "hunyuan1_checkpoint": ("checkpoints", "checkpoints"),
    "hunyuan_video_checkpoint": ("diffusion_models", "diffusion_models"),
    "hypernetwork": ("hypernetworks", "hypernetworks"),
    "illustrious_lora": ("loras", "loras"),
    "locon": ("loras", "loras"),
    "ltxv23_checkpoint": ("diffusion_models", "diffusion_models"),
    "ltxv_checkpoint": ("diffusion_models", "diffusion_models"),
    "metadata_null": ("checkpoints", "checkpoints"),
    "motion_module": ("animatediff_models", "animatediff_models"),
    "no_metadata_fp": ("checkpoints", "checkpoints"),
    "no_primary_flag": ("checkpoints", "checkpoints"),
    "non_ascii": ("loras", "loras"),
    "noobai_lora": ("loras", "loras"),
    "other_type": UnsupportedTypeError,
    "paid_access": ("loras", "loras"),
    "pony_lora": ("loras", "loras"),
    "pony_v7_checkpoint": ("checkpoints", "checkpoints"),
    "pony_v7_lora": ("loras", "loras"),
    "poses": ("controlnet", "controlnet"),
    "primary_not_first": ("checkpoints", "checkpoints"),
    "same_name": ("checkpoints", "checkpoints"),
    "sd15_checkpoint_2022": ("checkpoints", "checkpoints"),
    "sd15_lora": ("loras", "loras"),
    "sdxl_lora": ("loras", "loras"),
    "stats_null": ("checkpoints", "checkpoints"),
    "taken_down": ("loras", "loras"),
    "text_encoder": ("text_encoders", "text_encoders"),
    "unet_filetype": ("diffusion_models", "diffusion_models"),
    "unet_type": ("diffusion_models", "diffusion_models"),
    "unknown_base_model": ("checkpoints", "checkpoints"),
    "upscaler": ("upscalers", "upscale_models"),
    "usage_download": ("checkpoints", "checkpoints"),
    "usage_generation": ("checkpoints", "checkpoints"),
    "vae": ("vae", "vae"),
    "wan22_checkpoint": ("diffusion_models", "diffusion_models"),
    "wan_lora": ("loras", "loras"),
    "wan_t2v_checkpoint": ("diffusion_models", "diffusion_models"),
    "wildcards": UnsupportedTypeError,
    "workflow": UnsupportedTypeError,
}


@pytest.mark.parametrize(("name", "expected"), sorted(FIXTURE_ROUTES.items()))
def test_fixture_routing(name: str, expected: tuple[str, str] | type[HostError]) -> None:
    version = ModelVersion.model_validate(load_fixture(name))
    if isinstance(expected, tuple):
        new = build_entry(version)
        assert (new.category_id, new.dest) == expected
        assert new.category_name == CATEGORY_NAMES[expected[0]]
    else:
        with pytest.raises(expected):
            build_entry(version)


@pytest.mark.parametrize("name", fixture_names())
def test_every_fixture_parses_and_builds_or_fails_with_a_host_error(name: str) -> None:
    version = ModelVersion.model_validate(load_fixture(name))
    try:
        new = build_entry(version)
    except HostError:
        return
    assert new.entry["civitai_version_id"] == version.id


# --- usageControl ------------------------------------------------------------------------------


@pytest.mark.parametrize("usage", ["Generation", "InternalGeneration", "ExternalGeneration", "SomethingNew"])
def test_restricted_usage_names_the_value(usage: str) -> None:
    reason = restriction(ModelVersion.model_validate(a_version(usageControl=usage)))
    assert reason is not None
    assert f"'{usage}'" in reason
    assert "download" in reason.lower()


@pytest.mark.parametrize("extra", [{"usageControl": "Download"}, {"usageControl": None}, {}])
def test_download_or_absent_usage_is_not_restricted(extra: dict[str, Any]) -> None:
    assert restriction(ModelVersion.model_validate(a_version(**extra))) is None


def test_usage_generation_fixture_is_restricted() -> None:
    reason = restriction(ModelVersion.model_validate(load_fixture("usage_generation")))
    assert reason == "This model is 'Generation' only — download not allowed by the creator"


# --- the primary file -------------------------------------------------------------------------


def test_primary_flag_wins_even_when_last() -> None:
    files = files_of(
        a_file(id=1, name="a.safetensors", type="Model", primary=False),
        a_file(id=2, name="b.safetensors", type="Pruned Model", primary=None),
        a_file(id=3, name="c.zip", type="Training Data", primary=True),
    )
    assert primary_file(files).id == 3


@pytest.mark.parametrize("model_type", ["Model", "Pruned Model", "Diffusion Model", "UNet"])
def test_without_flag_the_first_model_type_file(model_type: str) -> None:
    files = files_of(
        a_file(id=1, name="t5.safetensors", type="Text Encoder", primary=False),
        a_file(id=2, name="data.zip", type="Training Data", primary=None),
        a_file(id=3, name="m.safetensors", type=model_type, primary=False),
        a_file(id=4, name="m2.safetensors", type="Model", primary=False),
    )
    assert primary_file(files).id == 3


def test_without_flag_the_first_of_any_model_type_in_file_order() -> None:
    files = files_of(
        a_file(id=1, name="v.safetensors", type="VAE", primary=False),
        a_file(id=2, name="u.gguf", type="UNet"),
        a_file(id=3, name="m.safetensors", type="Model"),
    )
    assert primary_file(files).id == 2


def test_without_flag_or_model_type_the_first_file() -> None:
    files = files_of(
        a_file(id=7, name="cfg.yaml", type="Config", primary=False),
        a_file(id=8, name="neg.pt", type="Negative", primary=False),
    )
    assert primary_file(files).id == 7


def test_primary_key_absent_like_in_models_endpoint() -> None:
    specs = [a_file(id=1, name="cfg.yaml", type="Config"), a_file(id=2, name="m.safetensors", type="Model")]
    for spec in specs:
        del spec["primary"]
    assert primary_file(files_of(*specs)).id == 2


def test_fixture_primary_not_first_picks_the_flagged_model() -> None:
    entry = build(load_fixture("primary_not_first"))
    assert entry["file"] == "largeLandscapeMix_v20.safetensors"
    assert entry["hash"] == "C7111C870BD43B0F2E54C790038D7805E9A544F11EA17E5E7E5D5995C8CB4405"
    assert entry["name"] == "Large Landscape Mix v2.0 [SD 3.5 Large FP16]"


def test_fixture_no_primary_flag_skips_the_config_file() -> None:
    entry = build(load_fixture("no_primary_flag"))
    assert entry["file"] == "coastline768_v21768-pruned.safetensors"


def test_fixture_two_model_files_uses_the_flagged_one_not_the_first() -> None:
    entry = build(load_fixture("wan22_checkpoint"))
    assert entry["file"].startswith("wan22SmoothMix_i2vA14bHighNoise")
    entry = build(load_fixture("sd15_checkpoint_2022"))
    assert entry["file"] == "dreamlensRealistic_v10.safetensors"


def test_entry_fields_come_from_the_primary_file_not_the_first() -> None:
    data = a_version(files=[
        a_file(id=1, name="first.safetensors", sizeKB=1000.0, primary=False,
               metadata={"fp": "fp32"}, hashes={"SHA256": "AAAA"}),
        a_file(id=2, name="chosen.safetensors", sizeKB=2_000_000.0, primary=True,
               metadata={"fp": "bf16"}, hashes={"SHA256": "BBBB"}),
    ])
    entry = build(data)
    assert entry["file"] == "chosen.safetensors"
    assert entry["civitai_file_id"] == 2
    assert entry["hash"] == "BBBB"
    assert entry["size_gb"] == 2.048
    assert entry["name"].endswith("[SDXL 1.0 BF16]")


def test_no_files_is_a_no_files_error() -> None:
    with pytest.raises(NoFilesError) as info:
        build(a_version(files=[]))
    assert info.value.code == "no_files"
    with pytest.raises(NoFilesError):
        build(a_version(files=None))
    with pytest.raises(NoFilesError):
        build({k: v for k, v in a_version().items() if k != "files"})


def test_archived_fixture_says_archived() -> None:
    with pytest.raises(NoFilesError) as info:
        build(load_fixture("archived"))
    assert "archived" in info.value.message


# --- the display name -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "version", "base", "fp", "expected"),
    [
        ("Juggler XL", "v9", "SDXL 1.0", "fp16", "Juggler XL v9 [SDXL 1.0 FP16]"),
        ("Juggler XL", "", "SDXL 1.0", "fp16", "Juggler XL [SDXL 1.0 FP16]"),
        ("Juggler XL", "   ", "SDXL 1.0", "fp16", "Juggler XL [SDXL 1.0 FP16]"),
        ("Juggler XL", "JUGGLER XL", "SDXL 1.0", "fp16", "Juggler XL [SDXL 1.0 FP16]"),
        ("Juggler XL", "juggler xl", "SDXL 1.0", "", "Juggler XL [SDXL 1.0]"),
        ("Juggler XL", "v9", "", "bf16", "Juggler XL v9 [BF16]"),
        ("Juggler XL", "v9", "", "", "Juggler XL v9"),
        ("Juggler XL", "", "", "", "Juggler XL"),
        ("  Juggler XL ", " v9 ", " SDXL 1.0 ", " nf4 ", "Juggler XL v9 [SDXL 1.0 NF4]"),
        ("Flux Dev", "fp8", "Flux.1 D", "fp8", "Flux Dev fp8 [Flux.1 D FP8]"),
        ("", "v1", "SD 1.5", "fp16", "v1 [SD 1.5 FP16]"),
        ("桜色ミク 🌸 スタイル", "v1.0 ✨", "Illustrious", "fp16", "桜色ミク 🌸 スタイル v1.0 ✨ [Illustrious FP16]"),
    ],
)
def test_display_name(model: str, version: str, base: str, fp: str, expected: str) -> None:
    name = display_name(model, version, base, fp)
    assert name == expected
    assert name == name.strip()
    assert "  " not in name
    assert "[ " not in name and " ]" not in name


def test_fixture_names() -> None:
    assert build(load_fixture("same_name"))["name"] == "Juggler XL [SDXL 1.0 FP16]"
    assert build(load_fixture("empty_version_name"))["name"].startswith(
        load_fixture("empty_version_name")["model"]["name"] + " ["
    )
    assert build(load_fixture("metadata_null"))["name"] == "Soft Pastel Mix v3 [SD 1.5]"


def test_name_falls_back_to_file_when_everything_else_is_empty() -> None:
    entry = build(a_version(name=None, baseModel=None, model={"name": None, "type": "LORA"},
                            files=[a_file(metadata=None)]))
    assert entry["name"] == "watercolor_dreams_xl_v1.safetensors"


@pytest.mark.parametrize("metadata", [None, {}, {"fp": None}, {"format": "SafeTensor", "size": None}])
def test_missing_or_null_fp_leaves_only_the_base_model(metadata: dict[str, Any] | None) -> None:
    entry = build(a_version(files=[a_file(metadata=metadata)]))
    assert entry["name"] == "Watercolor Dreams XL v1.0 [SDXL 1.0]"


# --- the entry's fields -----------------------------------------------------------------------


def test_full_entry_fields_and_values_in_order() -> None:
    entry = build(a_version())
    assert entry == {
        "name": "Watercolor Dreams XL v1.0 [SDXL 1.0 FP16]",
        "file": "watercolor_dreams_xl_v1.safetensors",
        "dest": "loras",
        "source": "civitai",
        "civitai_version_id": 148210,
        "civitai_model_id": 131507,
        "civitai_file_id": 112409,
        "size_gb": 0.228,
        "base_model": "SDXL 1.0",
        "tags": [],
        "trigger_words": ["wtrclr"],
        "downloads": 23817,
        "hash": SHA,
    }
    assert list(entry)[:3] == ["name", "file", "dest"]


def test_sdxl_lora_fixture_entry() -> None:
    new = build_entry(ModelVersion.model_validate(load_fixture("sdxl_lora")))
    assert (new.category_id, new.category_name) == ("loras", "LoRAs")
    assert new.entry == SDXL_LORA_ENTRY


@pytest.mark.parametrize(
    ("size_kb", "size_gb"),
    [
        (223110.4609375, 0.228),  # 228.465 MB
        (6775430.705078125, 6.938),  # an SDXL checkpoint: 6.938 GB (not 6.775: KiB, not KB)
        (1.0, 0.0),
        (488281.25, 0.5),
        (0.0, 0.0),
        (16074589.123046875, 16.46),
    ],
)
def test_size_gb_is_kib_times_1024_over_1e9_rounded_to_3(size_kb: float, size_gb: float) -> None:
    assert build(a_version(files=[a_file(sizeKB=size_kb)]))["size_gb"] == size_gb


def test_trigger_words_only_when_non_empty() -> None:
    assert "trigger_words" not in build(a_version(trainedWords=[]))
    assert "trigger_words" not in build(a_version(trainedWords=None))
    assert "trigger_words" not in build({k: v for k, v in a_version().items() if k != "trainedWords"})
    words = ["a, b", "\\(c\\)", "ünï"]
    assert build(a_version(trainedWords=words))["trigger_words"] == words


@pytest.mark.parametrize("stats", [None, {}, {"downloadCount": None}, {"downloadCount": 0}])
def test_downloads_only_when_truthy(stats: dict[str, Any] | None) -> None:
    assert "downloads" not in build(a_version(stats=stats))


def test_downloads_when_positive() -> None:
    assert build(a_version(stats={"downloadCount": 1}))["downloads"] == 1
    assert build(load_fixture("stats_null")).get("downloads") is None


@pytest.mark.parametrize("hashes", [None, {}, {"AutoV2": "517EC7A2D9"}, {"SHA256": None}, {"SHA256": ""}])
def test_hash_absent_without_a_sha256(hashes: dict[str, Any] | None) -> None:
    assert "hash" not in build(a_version(files=[a_file(hashes=hashes)]))


def test_hash_is_the_sha256_not_another_hash() -> None:
    entry = build(a_version(files=[a_file(hashes={"AutoV2": "X", "BLAKE3": "Y", "SHA256": "ZZ", "CRC32": "W"})]))
    assert entry["hash"] == "ZZ"
    assert "hash" not in build(load_fixture("hashes_empty"))


def test_base_model_is_stored_raw() -> None:
    assert build(a_version(baseModel="Zeta Diffusion 3 Turbo"))["base_model"] == "Zeta Diffusion 3 Turbo"
    assert build(load_fixture("wan_lora"))["base_model"] == "Wan Video 14B t2v"


def test_unknown_keys_in_the_payload_are_ignored() -> None:
    data = a_version(air="urn:air:sdxl:lora:civitai:131507@148210", paidAccess={"permanent": False},
                     licensingFee=3, nsfwLevel=1, uploadType="Created")
    data["files"][0]["somethingNew"] = {"x": 1}
    assert build(data) == build(a_version())


def test_build_does_not_mutate_or_share_the_payload_lists() -> None:
    data = a_version(trainedWords=["x"])
    before = copy.deepcopy(data)
    version = ModelVersion.model_validate(data)
    entry = build_entry(version).entry
    entry["trigger_words"].append("y")
    assert data == before
    assert version.trained_words == ["x"]


# --- file-name safety at build time -----------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["../x.safetensors", "/etc/x", "C:\\x", "a/b", "..", ".", "x\x00.safetensors", "x\x07.safetensors",
     "a" * 300, "CON.safetensors", "nul", "", "x.safetensors.", "x.safetensors "],
)
def test_unsafe_primary_file_name_is_refused(name: str) -> None:
    with pytest.raises(UnsafeFilenameError) as info:
        build(a_version(files=[a_file(name=name)]))
    assert info.value.code == "unsafe_filename"


def test_missing_file_name_is_refused() -> None:
    spec = a_file()
    del spec["name"]
    with pytest.raises(UnsafeFilenameError):
        build(a_version(files=[spec]))
    with pytest.raises(UnsafeFilenameError):
        build(a_version(files=[a_file(name=None)]))


def test_unsafe_name_of_a_non_primary_file_does_not_matter() -> None:
    entry = build(a_version(files=[a_file(id=1, name="../evil", primary=False),
                                   a_file(id=2, name="ok.safetensors", primary=True)]))
    assert entry["file"] == "ok.safetensors"


def test_non_ascii_file_name_is_kept() -> None:
    entry = build(load_fixture("non_ascii"))
    assert entry["file"] == "Sakura_Miku_Stïl_桜.safetensors"
    assert entry["trigger_words"] == ["さくらミク", "pink hair, \\(cherry blossoms\\)"]


# The fixture README's "expected add result" column: (file, display name).
FIXTURE_FILE_AND_NAME = {
    "aesthetic_gradient": (
        "moody_aesthetic.pt",
        "Moody Aesthetic v1.0 [SD 1.4]",
    ),
    "clip_vision": (
        "clipVisionH_h.safetensors",
        "CLIP Vision H ViT-H [Wan Video 14B i2v 480p FP16]",
    ),
    "cogvideox_checkpoint": (
        "cogVideoXFun_5bV10.safetensors",
        "CogVideoX Fun 5B v1.0 [CogVideoX BF16]",
    ),
    "controlnet": (
        "lineArtControlnetXL_v10.safetensors",
        "Line Art ControlNet XL v1.0 [SDXL 1.0 FP16]",
    ),
    "diffusion_model_filetype": (
        "qwenImageRealism_v10.safetensors",
        "Qwen Image Realism v1.0 [Qwen FP8]",
    ),
    "dora": (
        "clay_figure_dora_xl.safetensors",
        "Clay Figure DoRA v1.0 [SDXL 1.0 FP16]",
    ),
    "embedding": (
        "cleanneg_v2.safetensors",
        "CleanNeg v2 [SD 1.5 FP16]",
    ),
    "empty_version_name": (
        "moonlit_ink.safetensors",
        "Moonlit Ink [Illustrious FP16]",
    ),
    "flux1_dev_checkpoint": (
        "fluxDevFp8Repack_v10.safetensors",
        "Flux Dev fp8 Repack v1.0 [Flux.1 D FP8]",
    ),
    "flux2_checkpoint": (
        "flux2DevMixed_v10Fp8.safetensors",
        "Flux2 Dev Mixed v1.0 fp8 [Flux.2 D FP8]",
    ),
    "flux_kontext_checkpoint": (
        "kontextEdit_dev.safetensors",
        "Kontext Edit dev [Flux.1 Kontext FP8]",
    ),
    "flux_lora": (
        "film_grain_flux_v1.safetensors",
        "Film Grain Flux v1 [Flux.1 D BF16]",
    ),
    "hashes_empty": (
        "paper_cutout_v1.safetensors",
        "Paper Cutout Style v1.0 [SD 1.5 FP16]",
    ),
    "hunyuan1_checkpoint": (
        "hunyuanDiTAnime_v12.safetensors",
        "Hunyuan DiT Anime v1.2 [Hunyuan 1 FP16]",
    ),
    "hunyuan_video_checkpoint": (
        "hunyuanVideoCommunity_fp8.safetensors",
        "Hunyuan Video Community fp8 [Hunyuan Video FP8]",
    ),
    "hypernetwork": (
        "ghibliSkies_v1.pt",
        "Ghibli Skies Hypernetwork v1 [SD 1.5 FP32]",
    ),
    "illustrious_lora": (
        "ink_wash_illustrious_v15.safetensors",
        "Ink Wash Illustrious v1.5 [Illustrious FP16]",
    ),
    "locon": (
        "stainedGlass_locon_v10.safetensors",
        "Stained Glass LyCORIS v1.0 [SD 1.5 FP16]",
    ),
    "ltxv23_checkpoint": (
        "ltxVideo23_v23Distilled.safetensors",
        "LTX Video 2.3 v2.3 distilled [LTXV 2.3 FP8]",
    ),
    "ltxv_checkpoint": (
        "ltxVideoBase_091.safetensors",
        "LTX Video Base 0.9.1 [LTXV BF16]",
    ),
    "metadata_null": (
        "softPastelMix_v3.safetensors",
        "Soft Pastel Mix v3 [SD 1.5]",
    ),
    "motion_module": (
        "smoothMotion_mmSd15V3.safetensors",
        "Smooth Motion Module v3 [SD 1.5 FP16]",
    ),
    "no_metadata_fp": (
        "retroAnimeXL_v11.safetensors",
        "Retro Anime XL v1.1 [SDXL 1.0]",
    ),
    "no_primary_flag": (
        "coastline768_v21768-pruned.safetensors",
        "Coastline 768 v2.1 768 [SD 2.1 FP16]",
    ),
    "non_ascii": (
        "Sakura_Miku_Stïl_桜.safetensors",
        "桜色ミク 🌸 スタイル v1.0 ✨ [Illustrious FP16]",
    ),
    "noobai_lora": (
        "thick_lineart_noob_eps_v1.safetensors",
        "Thick Lineart Noob eps v1 [NoobAI FP16]",
    ),
    "paid_access": (
        "gilded_armor_il_v1.safetensors",
        "Gilded Armor v1.0 [Illustrious FP16]",
    ),
    "pony_lora": (
        "CelShadePony_v2.safetensors",
        "Cel Shade Pony v2.0 [Pony]",
    ),
    "pony_v7_checkpoint": (
        "ponyDiffusionV7_v70.safetensors",
        "Pony Diffusion V7 v7.0 [Pony V7 BF16]",
    ),
    "pony_v7_lora": (
        "plush_toy_ponyv7.safetensors",
        "Plush Toy V7 v1.0 [Pony V7 BF16]",
    ),
    "poses": (
        "dynamicActionPoses_pack1.zip",
        "Dynamic Action Poses Pack 1 [SD 1.5]",
    ),
    "primary_not_first": (
        "largeLandscapeMix_v20.safetensors",
        "Large Landscape Mix v2.0 [SD 3.5 Large FP16]",
    ),
    "same_name": (
        "jugglerXL_jugglerXL.safetensors",
        "Juggler XL [SDXL 1.0 FP16]",
    ),
    "sd15_checkpoint_2022": (
        "dreamlensRealistic_v10.safetensors",
        "DreamLens Realistic v1.0 [SD 1.5 FP32]",
    ),
    "sd15_lora": (
        "detail_tweaker_mini.safetensors",
        "Detail Tweaker Mini v1.0 [SD 1.5 FP16]",
    ),
    "sdxl_lora": (
        "watercolor_dreams_xl_v1.safetensors",
        "Watercolor Dreams XL v1.0 [SDXL 1.0 FP16]",
    ),
    "stats_null": (
        "urbanNightsXL_v40.safetensors",
        "Urban Nights XL v4.0 [SDXL 1.0 FP16]",
    ),
    "taken_down": (
        "neon_sign_style_xl.safetensors",
        "Neon Sign Style v1.0 [SDXL 1.0 FP16]",
    ),
    "text_encoder": (
        "t5xxlEncoderRepack_fp8E4m3fn.safetensors",
        "T5 XXL Encoder Repack fp8 e4m3fn [Flux.1 D FP8]",
    ),
    "unet_filetype": (
        "hidreamI1GGUF_fullQ8.gguf",
        "HiDream I1 GGUF Full Q8 [HiDream]",
    ),
    "unet_type": (
        "schnellUnetOnly_schnellFp8.safetensors",
        "Schnell UNet Only schnell fp8 [Flux.1 S FP8]",
    ),
    "unknown_base_model": (
        "auroraSketch_v09Preview.safetensors",
        "Aurora Sketch v0.9 preview [Zeta Diffusion 3 Turbo BF16]",
    ),
    "upscaler": (
        "4x_CrispUpscale.pth",
        "Crisp Upscale 4x [Other FP32]",
    ),
    "usage_download": (
        "noobVibrantMix_v30.safetensors",
        "Noob Vibrant Mix v3.0 [NoobAI FP16]",
    ),
    "vae": (
        "clearXLVae_v10.safetensors",
        "Clear XL VAE v1.0 [SDXL 1.0 FP32]",
    ),
    "wan22_checkpoint": (
        "wan22SmoothMix_i2vA14bHighNoise.safetensors",
        "Wan 2.2 Smooth Mix I2V A14B fp8 [Wan Video 2.2 I2V-A14B FP8]",
    ),
    "wan_lora": (
        "orbit_camera_wan14b_t2v.safetensors",
        "Orbit Camera Wan v1.0 [Wan Video 14B t2v BF16]",
    ),
    "wan_t2v_checkpoint": (
        "wanT2VFinetune_v1Fp8.safetensors",
        "Wan T2V Finetune v1 [Wan Video 14B t2v FP8]",
    ),
}


@pytest.mark.parametrize(("fixture", "expected"), sorted(FIXTURE_FILE_AND_NAME.items()))
def test_fixture_file_and_display_name(fixture: str, expected: tuple[str, str]) -> None:
    entry = build(load_fixture(fixture))
    assert (entry["file"], entry["name"]) == expected


# --- which refusal comes first ------------------------------------------------------------------
# SPEC §5 step 4 lists type -> category first, then the primary file, then its name; the fixture
# README pins the same order. An unsupported type is the more useful answer.


@pytest.mark.parametrize("name", ["../x.zip", "", "CON.zip"])
def test_unsupported_type_is_reported_before_an_unsafe_name(name: str) -> None:
    with pytest.raises(UnsupportedTypeError):
        build(a_version(model={"name": "W", "type": "Workflows"}, files=[a_file(name=name, type="Archive")]))


def test_unsupported_type_is_reported_before_no_files() -> None:
    with pytest.raises(UnsupportedTypeError):
        build(a_version(model={"name": "W", "type": "Wildcards", "mode": "Archived"}, files=[]))


def test_unsafe_name_error_message_stays_short() -> None:
    # the message goes into a reply, and Chrome kills the port on a reply over 1 MiB
    with pytest.raises(UnsafeFilenameError) as info:
        build(a_version(files=[a_file(name="a" * 2_000_000 + ".safetensors")]))
    assert len(info.value.message) < 2000
    assert "2000012 bytes" in info.value.message


# --- what add stores is bounded (issue 11 G) ------------------------------------------------------


def test_base_model_trigger_words_and_hash_are_capped() -> None:
    from host.civitai.entry import MAX_BASE_MODEL_CHARS, MAX_TRIGGER_WORD_CHARS, MAX_TRIGGER_WORDS

    entry = build(a_version(baseModel="SDXL " + "x" * 100_000, trainedWords=["w" * 100_000] * 5000,
                            files=[a_file(hashes={"SHA256": "A" * 100_000})]))
    assert entry["base_model"] == ("SDXL " + "x" * 100_000)[:MAX_BASE_MODEL_CHARS]
    assert len(entry["trigger_words"]) == MAX_TRIGGER_WORDS
    assert {len(word) for word in entry["trigger_words"]} == {MAX_TRIGGER_WORD_CHARS}
    assert len(entry["hash"]) <= 128
    assert len(repr(entry)) < 100_000  # one entry stays a small part of a catalog


def test_ordinary_values_are_not_cut() -> None:
    words = ["pixel art, \\(style\\)", "a" * 400]
    entry = build(a_version(baseModel="Wan Video 2.2 I2V-A14B", trainedWords=words))
    assert entry["base_model"] == "Wan Video 2.2 I2V-A14B" and entry["trigger_words"] == words
