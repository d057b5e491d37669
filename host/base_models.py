"""Base-model spellings grouped into families: the one table both routing rules use.

Stdlib only. CivitAI stores `baseModel` as free text that grows every month ("Flux.1 D",
"Wan Video 2.2 I2V-A14B", "LTXV 2.3", ...), and ComfyUI Studio's catalogs spell them their own
way ("wan-i2v-14b", "HunyuanVideo", "LTX-Video", "FLUX.1"), so families are matched by pattern
on the lower-cased string, never by a closed list; an unknown spelling belongs to no family.
A family name ends at a blank, "-", "_", "." or the end ("Wan2" and "Fluxion" are not theirs).
"""

from __future__ import annotations

import re

# family -> pattern on the lower-cased, stripped baseModel. Order matters only for
# lookups that take the first match (promote); the patterns do not overlap.
FAMILY_PATTERNS: dict[str, re.Pattern[str]] = {
    "flux": re.compile(r"^flux([.\s_-]|$)"),  # Flux.1 D / S / Krea / Kontext, Flux.2, flux-dev
    "wan": re.compile(r"^wan([\s_-]|$)"),  # Wan Video ..., Wan Image 2.7, WAN, wan-i2v-14b
    "hunyuan_video": re.compile(r"^hunyuan[\s_-]*video"),  # HunyuanVideo; not "Hunyuan 1" (an image model)
    "ltxv": re.compile(r"^ltx"),  # LTXV, LTXV2, LTXV 2.3, LTX-Video
    "cogvideox": re.compile(r"^cogvideo"),  # CogVideoX
    "sdxl": re.compile(r"^(sdxl|illustrious|noobai|pony(?!\s*v\s*7))"),  # Pony V7 is AuraFlow
    "sd1": re.compile(r"^sd[\s_-]*1([.\s_-]|$)"),  # SD 1.4, SD 1.5, SD 1.5 LCM / Hyper, sd-1.5
}

# Checkpoints of these families are diffusion models (UNet only) that ComfyUI loads from
# models/diffusion_models, not full checkpoints.
DIFFUSION_MODEL_FAMILIES = frozenset({"flux", "wan", "hunyuan_video", "ltxv", "cogvideox"})


def family_of(base_model: object) -> str | None:
    """The family of a CivitAI baseModel string, or None (unknown spellings are normal)."""
    if not isinstance(base_model, str):
        return None
    text = base_model.strip().lower()
    for family, pattern in FAMILY_PATTERNS.items():
        if pattern.match(text):
            return family
    return None
