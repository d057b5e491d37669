"""A ComfyUI folder on disk with an extra_model_paths.yaml of two groups, and the catalog
entries whose status shows what ComfyUI would load (shared by the model-folder tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.catalogs import civitai_entry

# Group 1: a base_path relative to the YAML's folder. Group 2: a base_path from an environment
# variable, is_default, the legacy `unet:` name and a multi-line `loras:`.
EXTRA_MODEL_PATHS_YAML = """\
# ComfyUI reads this beside main.py
second_disk:
    base_path: ../disk2/
    checkpoints: checkpoints
    loras: |
        loras
        more_loras
    controlnet: cn
third_disk:
    base_path: $DISK3_ROOT
    is_default: true
    unet: unet_models
    loras: |
        flux_loras

        wan_loras
unused_group:
"""


def make_comfyui(root: Path, monkeypatch: Any) -> dict[str, Path]:
    """ComfyUI at root/ComfyUI (models + YAML), root/disk2, root/disk3 (via $DISK3_ROOT)."""
    comfy = root / "ComfyUI"
    (comfy / "models").mkdir(parents=True)
    (comfy / "extra_model_paths.yaml").write_text(EXTRA_MODEL_PATHS_YAML, "utf-8")
    monkeypatch.setenv("DISK3_ROOT", str(root / "disk3"))
    return {"comfy": comfy, "models": comfy / "models", "disk2": root / "disk2", "disk3": root / "disk3"}


def put(path: Path, data: bytes = b"weights") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# (version id, file, dest, where the file is put relative to the roots or None, expected status,
#  expected path key) — what ComfyUI's loaders would find, one case per rule.
CASES: list[tuple[int, str, str, str | None, str]] = [
    (1, "ckpt_main.safetensors", "checkpoints", "models/checkpoints", "present"),
    (2, "ckpt_disk2.safetensors", "checkpoints", "disk2/checkpoints", "present"),   # relative base_path
    (3, "lora_line2.safetensors", "loras", "disk2/more_loras", "present"),          # second line
    (4, "lora_disk3.safetensors", "loras", "disk3/wan_loras", "present"),           # after an empty line
    (5, "unet_alias.safetensors", "diffusion_models", "disk3/unet_models", "present"),  # unet -> diffusion_models
    (6, "unet_second.safetensors", "diffusion_models", "models/unet", "present"),   # ComfyUI's second folder
    (7, "te_second.safetensors", "text_encoders", "models/clip", "present"),        # text_encoders also clip
    (8, "t2i.safetensors", "controlnet", "models/t2i_adapter", "present"),          # controlnet also t2i_adapter
    (9, "cn_disk2.safetensors", "controlnet", "disk2/cn", "present"),
    (10, "nested.safetensors", "loras/style", "disk2/more_loras/style", "present"),  # nested dest
    (11, "unlisted.safetensors", "loras", "disk2/not_configured", "missing"),      # a folder ComfyUI ignores
    (12, "legacy_dest.safetensors", "unet", "disk3/unet_models", "present"),       # a catalog dest named unet
    (13, "wrong_kind.safetensors", "checkpoints", "disk3/unet_models", "missing"),  # not a checkpoints folder
]


def catalog_for_cases() -> dict[str, Any]:
    return {
        "version": 1,
        "date": "2026-11-30 12:00",
        "categories": [{"id": "all", "name": "All", "models": [
            civitai_entry(vid, 500 + vid, file, dest) for vid, file, dest, _, _ in CASES
        ]}],
    }
