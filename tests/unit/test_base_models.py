"""host.base_models.family_of and the promote table built on it (SPEC §5, civitai-api.md).

Every spelling civitai-api.md lists is pinned to its family, so a pattern change that drops
one (or pulls an unrelated model into a family) fails here.
"""

from __future__ import annotations

import pytest

from host.base_models import DIFFUSION_MODEL_FAMILIES, family_of
from host.catalog.views import base_model_of
from host.civitai.routing import OTHER_LORAS, lora_category

FLUX = [
    "Flux.1 S",
    "Flux.1 D",
    "Flux.1 Krea",
    "Flux.1 Kontext",
    "Flux.2 D",
    "Flux.2 Klein 9B",
    "Flux.2 Klein 4B",
    "Flux.2 Klein 9B-base",
    "Flux.2 Klein 4B-base",
]
WAN = [
    "Wan Video",
    "Wan Video 1.3B t2v",
    "Wan Video 14B t2v",
    "Wan Video 14B i2v 480p",
    "Wan Video 14B i2v 720p",
    "Wan Video 2.2 TI2V-5B",
    "Wan Video 2.2 I2V-A14B",
    "Wan Video 2.2 T2V-A14B",
    "Wan Video 2.5 T2V",
    "Wan Video 2.5 I2V",
    "Wan Video 2.7",
    "Wan Image 2.7",
]
LTXV = ["LTXV", "LTXV2", "LTXV 2.3"]
SD1 = ["SD 1.4", "SD 1.5", "SD 1.5 LCM", "SD 1.5 Hyper"]
SDXL = [
    "SDXL 0.9",
    "SDXL 1.0",
    "SDXL 1.0 LCM",
    "SDXL Turbo",
    "SDXL Lightning",
    "SDXL Hyper",
    "SDXL Distilled",
    "Pony",
    "Illustrious",
    "NoobAI",
]
# Real spellings that belong to none of the families the host routes or sorts by.
NO_FAMILY = [
    "SD 2.0",
    "SD 2.1",
    "SD 3",
    "SD 3.5",
    "SD 3.5 Large",
    "SD 3.5 Medium",
    "Pony V7",  # an AuraFlow model, not SDXL
    "Hunyuan 1",  # an image model, not Hunyuan Video
    "Mochi",  # a video model, but not one of the five diffusion families SPEC §5 names
    "HiDream",
    "Qwen",
    "Chroma",
    "AuraFlow",
    "Kolors",
    "Lumina",
    "PixArt a",
    "PixArt E",
    "ZImageTurbo",
    "ZImageBase",
    "Stable Cascade",
    "SVD",
    "Other",
]
# Made-up or future strings that merely start like a family name.
LOOKALIKES = ["Fluxion", "Fluxx 1", "Wanda", "Wan2", "SD 10", "SD 12", "Hunyuan", "CogView 4", ""]


@pytest.mark.parametrize("spelling", FLUX)
def test_flux_spellings(spelling: str) -> None:
    assert family_of(spelling) == "flux"


@pytest.mark.parametrize("spelling", WAN)
def test_wan_spellings(spelling: str) -> None:
    assert family_of(spelling) == "wan"


def test_hunyuan_video_is_a_video_family_but_hunyuan_1_is_not() -> None:
    assert family_of("Hunyuan Video") == "hunyuan_video"
    assert family_of("Hunyuan 1") is None


@pytest.mark.parametrize("spelling", LTXV)
def test_ltxv_spellings(spelling: str) -> None:
    assert family_of(spelling) == "ltxv"


def test_cogvideox() -> None:
    assert family_of("CogVideoX") == "cogvideox"


@pytest.mark.parametrize("spelling", SD1)
def test_sd1_spellings(spelling: str) -> None:
    assert family_of(spelling) == "sd1"


@pytest.mark.parametrize("spelling", SDXL)
def test_sdxl_spellings_including_pony_illustrious_noobai(spelling: str) -> None:
    assert family_of(spelling) == "sdxl"


@pytest.mark.parametrize("spelling", ["Pony V7", "Pony v7", "pony V 7"])
def test_pony_v7_is_not_sdxl(spelling: str) -> None:
    assert family_of(spelling) is None


@pytest.mark.parametrize("spelling", NO_FAMILY)
def test_real_spellings_outside_every_family(spelling: str) -> None:
    assert family_of(spelling) is None


@pytest.mark.parametrize("spelling", LOOKALIKES)
def test_lookalike_and_unknown_strings_have_no_family(spelling: str) -> None:
    assert family_of(spelling) is None


@pytest.mark.parametrize("value", [None, 1, 1.5, b"Flux.1 D", ["Flux.1 D"], {"name": "Flux.1 D"}, True])
def test_non_strings_have_no_family(value: object) -> None:
    assert family_of(value) is None


@pytest.mark.parametrize(
    ("spelling", "family"),
    [("FLUX.1 D", "flux"), ("  Wan Video 2.2 I2V-A14B ", "wan"), ("sdxl 1.0", "sdxl"), ("ltxv2", "ltxv")],
)
def test_matching_ignores_case_and_surrounding_blanks(spelling: str, family: str) -> None:
    assert family_of(spelling) == family


def test_diffusion_model_families_are_exactly_the_five_spec_families() -> None:
    assert {"flux", "wan", "hunyuan_video", "ltxv", "cogvideox"} == DIFFUSION_MODEL_FAMILIES
    for spelling in SD1 + SDXL + NO_FAMILY:
        assert family_of(spelling) not in DIFFUSION_MODEL_FAMILIES, spelling


# --- promote's category table (SPEC §5 promote, step 3) ----------------------------------------


@pytest.mark.parametrize(
    ("base_model", "category"),
    [
        *[(s, ("wan_loras", "WAN LoRAs")) for s in WAN],
        *[(s, ("flux_loras", "Flux LoRAs")) for s in FLUX],
        *[(s, ("sdxl_loras", "SDXL / Pony / Illustrious LoRAs")) for s in SDXL],
        *[(s, ("sd15_loras", "SD 1.5 LoRAs")) for s in SD1],
        ("Pony V7", ("other_loras", "Other LoRAs")),
        ("Hunyuan Video", ("other_loras", "Other LoRAs")),
        ("SD 3.5", ("other_loras", "Other LoRAs")),
        ("Something New 2027", ("other_loras", "Other LoRAs")),
        (None, ("other_loras", "Other LoRAs")),
    ],
)
def test_lora_category_by_base_model(base_model: str | None, category: tuple[str, str]) -> None:
    assert lora_category(base_model) == category


def test_lora_category_falls_back_to_civitai_base_model() -> None:
    def category(entry: dict[str, str]) -> tuple[str, str]:
        return lora_category(base_model_of(entry))

    assert category({"civitai_base_model": "Illustrious"}) == ("sdxl_loras", "SDXL / Pony / Illustrious LoRAs")
    assert category({"base_model": "Flux.1 D", "civitai_base_model": "SD 1.5"}) == ("flux_loras", "Flux LoRAs")
    assert category({}) == OTHER_LORAS


# ComfyUI Studio's own catalogs spell base models their way (issue 11 L); they route like CivitAI's.
STUDIO_SPELLINGS = {
    "WAN": "wan",
    "wan-i2v-14b": "wan",
    "wan_t2v_1.3b": "wan",
    "HunyuanVideo": "hunyuan_video",
    "hunyuan_video": "hunyuan_video",
    "FLUX.1": "flux",
    "flux-dev": "flux",
    "LTX-Video": "ltxv",
    "SDXL 1.0": "sdxl",
    "SD 1.5": "sd1",
    "sd-1.5": "sd1",
    "CogVideoX": "cogvideox",
}


@pytest.mark.parametrize(("spelling", "family"), sorted(STUDIO_SPELLINGS.items()))
def test_comfyui_studio_spellings(spelling: str, family: str) -> None:
    assert family_of(spelling) == family


def test_a_studio_wan_lora_is_promoted_to_wan_loras() -> None:
    assert lora_category("wan-i2v-14b") == ("wan_loras", "WAN LoRAs")
