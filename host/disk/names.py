"""ComfyUI's folder names as data: legacy aliases, second folders, model file extensions.

Stdlib only, no imports: read on the cold path.
"""

from __future__ import annotations

# folder_paths.map_legacy: old folder names that mean another folder
LEGACY_NAMES = {"unet": "diffusion_models", "clip": "text_encoders"}

# The main models folder's subfolders each name searches, in ComfyUI's order. Any other name
# searches its own subfolder only.
DEFAULT_SUBFOLDERS = {
    "diffusion_models": ("unet", "diffusion_models"),
    "text_encoders": ("text_encoders", "clip"),
    "controlnet": ("controlnet", "t2i_adapter"),
}

# A models-folder subfolder that belongs to another name's search (for naming a found file's dest)
SUBFOLDER_OWNER = {"unet": "diffusion_models", "clip": "text_encoders", "t2i_adapter": "controlnet"}

# The folder names ComfyUI itself registers; ping and doctor list their folders.
KNOWN_FOLDERS = (
    "checkpoints", "loras", "vae", "text_encoders", "diffusion_models", "clip_vision",
    "style_models", "embeddings", "diffusers", "vae_approx", "controlnet", "gligen",
    "upscale_models", "hypernetworks", "photomaker", "classifiers", "model_patches",
    "audio_encoders",
)

# Folder names that hold no models: never scanned.
NOT_MODEL_FOLDERS = frozenset({"custom_nodes", "configs", "download_model_base"})

# Files a scan hashes (ComfyUI's supported_pt_extensions plus GGUF), compared lower-cased.
MODEL_EXTENSIONS = (".safetensors", ".ckpt", ".pt", ".pt2", ".bin", ".pth", ".pkl", ".sft", ".gguf")


def canonical_folder(name: str) -> str:
    return LEGACY_NAMES.get(name, name)
