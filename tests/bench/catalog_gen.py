"""Generate real-looking catalogs of any size, with part of the files on disk, for the benchmark."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

BASE_MODELS = ["SD 1.5", "SDXL 1.0", "Pony", "Illustrious", "Flux.1 D", "Wan Video 14B t2v", "NoobAI"]
# (category id, name, dest, share of entries)
LAYOUT = [
    ("checkpoints", "Checkpoints", "checkpoints", 0.25),
    ("loras", "LoRAs", "loras", 0.55),
    ("diffusion_models", "Diffusion Models", "diffusion_models/WanVideo/2_2", 0.10),
    ("vae", "VAE", "vae", 0.05),
    ("embeddings", "Embeddings", "embeddings", 0.05),
]
FIRST_VERSION_ID = 1_000_000


def entry(version_id: int, dest: str, rng: random.Random) -> dict[str, Any]:
    base = rng.choice(BASE_MODELS)
    model_id = 500_000 + version_id // 3  # about three versions per model
    stem = f"model{model_id}_v{version_id % 7}_{rng.randrange(10**6):06d}"
    return {
        "name": f"Some Model {model_id} v{version_id % 7}.0 [{base} FP16]",
        "file": f"{stem}.safetensors",
        "dest": dest,
        "source": "civitai",
        "civitai_version_id": version_id,
        "civitai_model_id": model_id,
        "civitai_file_id": version_id + 7_000_000,
        "size_gb": round(rng.uniform(0.01, 12), 3),
        "base_model": base,
        "tags": [],
        "trigger_words": [f"trigger{version_id}"],
        "downloads": rng.randrange(1, 200_000),
        "hash": f"{rng.getrandbits(256):064X}",
    }


def write_catalogs(catalog_dir: Path, models_dir: Path, size: int, present_share: float = 0.5,
                   seed: int = 7) -> list[int]:
    """Write models.json (90%) and loras.json (10%) with `size` entries in all; put
    `present_share` of the files on disk (empty files). Returns every version id."""
    rng = random.Random(seed)
    catalog_dir.mkdir(parents=True, exist_ok=True)
    models_dir.mkdir(parents=True, exist_ok=True)
    ids = [FIRST_VERSION_ID + i for i in range(size)]
    lora_count = size // 10
    categories = []
    position = lora_count
    for cat_id, name, dest, share in LAYOUT:
        count = round((size - lora_count) * share) if cat_id != LAYOUT[-1][0] else size - position
        entries = [entry(vid, dest, rng) for vid in ids[position : position + count]]
        position += count
        categories.append({"id": cat_id, "name": name, "models": entries})
    loras = {"version": 3, "date": "2026-11-01 10:00", "categories": [
        {"id": "sdxl_loras", "name": "SDXL / Pony / Illustrious LoRAs",
         "models": [entry(vid, "loras", rng) for vid in ids[:lora_count]]}]}
    models = {"version": 120, "date": "2026-11-01 10:00", "categories": categories}
    for doc, file in ((models, "models.json"), (loras, "loras.json")):
        (catalog_dir / file).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", "utf-8")
        for category in doc["categories"]:
            for item in category["models"]:
                if rng.random() < present_share:
                    folder = models_dir.joinpath(*item["dest"].split("/"))
                    folder.mkdir(parents=True, exist_ok=True)
                    (folder / item["file"]).touch()
    return ids
