"""Where a CivitAI model version goes in the catalog and in ComfyUI's models folder (data).

CivitAI `model.type` -> (category id, dest folder under ComfyUI's `models/`). Only types
ComfyUI loads from a known folder are here; anything else (workflows, wildcards, LLMs, new
types) is refused with `unsupported_type` rather than guessed. A promoted LoRA's category in
loras.json follows its base-model family. Stdlib only (promote imports it).
"""

from __future__ import annotations

from host.base_models import family_of

# type -> (category id, dest). Folder names are ComfyUI's folder_paths names.
TYPE_ROUTES: dict[str, tuple[str, str]] = {
    "Checkpoint": ("checkpoints", "checkpoints"),
    "LORA": ("loras", "loras"),
    "LoCon": ("loras", "loras"),  # LyCORIS variants load as LoRAs in ComfyUI
    "DoRA": ("loras", "loras"),
    "VAE": ("vae", "vae"),
    "TextualInversion": ("embeddings", "embeddings"),
    "AestheticGradient": ("embeddings", "embeddings"),  # kept from the original tool
    "Controlnet": ("controlnet", "controlnet"),
    "Poses": ("controlnet", "controlnet"),  # kept from the original tool
    "Upscaler": ("upscalers", "upscale_models"),
    "Hypernetwork": ("hypernetworks", "hypernetworks"),
    "TextEncoder": ("text_encoders", "text_encoders"),
    "CLIP": ("text_encoders", "text_encoders"),
    "CLIPVision": ("clip_vision", "clip_vision"),
    "UNet": ("diffusion_models", "diffusion_models"),
    # AnimateDiff motion modules: the folder of ComfyUI-AnimateDiff-Evolved, the loader
    # everyone uses (ComfyUI core has no motion-module loader).
    "MotionModule": ("animatediff_models", "animatediff_models"),
}

DIFFUSION_ROUTE = ("diffusion_models", "diffusion_models")
# Primary-file types that are a bare diffusion model, whatever the base model.
DIFFUSION_FILE_TYPES = frozenset({"Diffusion Model", "UNet"})
# Preferred file types when no file is flagged primary, in CivitAI's own sense of "model".
MODEL_FILE_TYPES = ("Model", "Pruned Model", "Diffusion Model", "UNet")

CATEGORY_NAMES: dict[str, str] = {
    "checkpoints": "Checkpoints",
    "loras": "LoRAs",
    "vae": "VAE",
    "embeddings": "Embeddings",
    "controlnet": "ControlNet",
    "upscalers": "Upscalers",
    "diffusion_models": "Diffusion Models",
    "hypernetworks": "Hypernetworks",
    "text_encoders": "Text Encoders",
    "clip_vision": "CLIP Vision",
    "animatediff_models": "Motion Modules",
}

# base-model family -> (category id, category name) in loras.json; anything else -> OTHER_LORAS.
LORA_CATEGORIES: dict[str, tuple[str, str]] = {
    "wan": ("wan_loras", "WAN LoRAs"),
    "flux": ("flux_loras", "Flux LoRAs"),
    "sdxl": ("sdxl_loras", "SDXL / Pony / Illustrious LoRAs"),
    "sd1": ("sd15_loras", "SD 1.5 LoRAs"),
}
OTHER_LORAS = ("other_loras", "Other LoRAs")


def lora_category(base_model: object) -> tuple[str, str]:
    """(category id, category name) in loras.json for a LoRA of this base model."""
    return LORA_CATEGORIES.get(family_of(base_model) or "", OTHER_LORAS)
