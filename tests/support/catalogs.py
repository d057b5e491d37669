"""Catalog documents for tests, shaped like real ComfyUI Studio catalogs."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any


def write_json(path: Path, data: Any) -> bytes:
    raw = (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    return raw


def catalog_document(categories: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "version": 1,
        "date": "2026-01-01 12:00",
        "categories": [
            {"id": cid, "name": cid.replace("_", " ").title(), "models": models}
            for cid, models in categories.items()
        ],
    }


def one_category_catalog(*entries: dict[str, Any]) -> dict[str, Any]:
    """A catalog document (version 1) holding `entries` in one category, `loras`."""
    return {"version": 1, "date": "2026-01-01 00:00",
            "categories": [{"id": "loras", "name": "LoRAs", "models": list(entries)}]}


def civitai_entry(version_id: Any, model_id: Any, file: str, dest: str, **extra: Any) -> dict[str, Any]:
    entry = {
        "name": extra.pop("name", f"Model {model_id} v{version_id}"),
        "file": file,
        "dest": dest,
        "source": "civitai",
        "civitai_version_id": version_id,
        "civitai_model_id": model_id,
        "civitai_file_id": extra.pop("file_id", 1000 + int(str(version_id))),
        "size_gb": 0.144,
        "base_model": extra.pop("base_model", "SDXL 1.0"),
        "tags": [],
    }
    entry.update(extra)
    return entry


STUDIO_MODELS: dict[str, Any] = {
    "version": 41,
    "date": "2026-10-02 18:45",
    "x_studio_schema": {"generator": "ComfyUI Studio", "note": "unknown top-level key"},
    "categories": [
        {
            "id": "diffusion_models",
            "name": "Diffusion Models",
            "description": "UNet-only weights",
            "models": [
                {
                    "name": "Wan 2.2 I2V A14B high noise (fp8)",
                    "file": "wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors",
                    "dest": "diffusion_models/WanVideo/2_2",
                    "source": "huggingface",
                    "hf_repo": "Comfy-Org/Wan_2.2_ComfyUI_Repackaged",
                    "pair_id": "wan22_i2v",
                    "name_locked": True,
                    "size_gb": 14.3,
                },
                {
                    "name": "Wan 2.2 I2V A14B low noise (fp8)",
                    "file": "wan2.2_i2v_low_noise_14B_fp8_scaled.safetensors",
                    "dest": "diffusion_models/WanVideo/2_2",
                    "source": "huggingface",
                    "hf_repo": "Comfy-Org/Wan_2.2_ComfyUI_Repackaged",
                    "pair_id": "wan22_i2v",
                    "name_locked": True,
                    "size_gb": 14.3,
                    "x_custom": {"nested": [1, 2.5, None, "ü"]},
                },
                civitai_entry("1501125", "1329096", "flux1DevHyperNF4_v10.safetensors",
                              "diffusion_models", base_model=None, civitai_base_model="Flux.1 D"),
            ],
        },
        {
            "id": "checkpoints",
            "name": "Checkpoints",
            "models": [
                civitai_entry(128713, 4384, "dreamshaper_8.safetensors", "checkpoints",
                              name="DreamShaper 8 [SD 1.5]", base_model="SD 1.5",
                              trigger_words=["dreamshaper"], downloads=1234567,
                              hash="879DB523C30D3B9017143D56705015E15A2CB5628762C11D086FED9538ABD7FD"),
                civitai_entry("9208", 8281, "ぼかし_v2.safetensors", "checkpoints",
                              name="日本語モデル ✨ v2 [SDXL 1.0 FP16]"),
            ],
        },
        {
            "id": "loras",
            "name": "LoRAs",
            "models": [
                civitai_entry(200001, 300001, "pixel_style_xl.safetensors", "loras",
                              base_model="Illustrious", trigger_words=["pixel art, \\(style\\)"]),
                civitai_entry(200002, 300002, "flux_detailer.safetensors", "loras/flux",
                              base_model="Flux.1 D"),
                civitai_entry(200003, 300003, "wan_motion.safetensors", "loras",
                              base_model="Wan Video 14B t2v"),
                civitai_entry(200004, 300004, "old_sd15.safetensors", "loras", base_model="SD 1.5"),
                civitai_entry(200005, 300005, "auraflow_thing.safetensors", "loras",
                              base_model="Pony V7"),
                {"name": "Hand-made LoRA", "file": "handmade.safetensors", "dest": "loras",
                 "notes": "no source at all"},
            ],
        },
        {"id": "empty_cat", "name": "Nothing yet", "models": []},
    ],
}

STUDIO_LORAS: dict[str, Any] = {
    "version": 7,
    "date": "2026-09-30 09:12",
    "categories": [
        {
            "id": "sdxl_loras",
            "name": "SDXL / Pony / Illustrious LoRAs",
            "models": [
                civitai_entry(100001, 900001, "curated_style.safetensors", "loras",
                              base_model="Pony", strength=0.8),
            ],
        }
    ],
}


def studio_catalogs() -> tuple[dict[str, Any], dict[str, Any]]:
    return copy.deepcopy(STUDIO_MODELS), copy.deepcopy(STUDIO_LORAS)


# The entry `add` must write for the sdxl_lora fixture (tests/fixtures/civitai/sdxl_lora.json).
SDXL_LORA_ENTRY = {
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
    "trigger_words": ["1girl, \\(smile\\)", "watercolor \\(medium\\), soft lighting", "wtrclr"],
    "downloads": 23817,
    "hash": "517EC7A2D9567BECB7372F28869D04FB4395F700919947EE9581303DB1290BCF",
}
