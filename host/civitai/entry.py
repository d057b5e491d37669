"""Turn a CivitAI model version into a catalog entry (SPEC §5 add, step 4). No I/O.

Decides the primary file, the category and dest (type table + diffusion-model routing),
validates the file name, and composes the display name and the entry's fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from host.base_models import DIFFUSION_MODEL_FAMILIES, family_of
from host.catalog.paths import name_problem
from host.civitai.models import ModelVersion, VersionFile
from host.civitai.routing import (
    CATEGORY_NAMES,
    DIFFUSION_FILE_TYPES,
    DIFFUSION_ROUTE,
    MODEL_FILE_TYPES,
    TYPE_ROUTES,
)
from host.errors import NoFilesError, UnsafeFilenameError, UnsupportedTypeError


@dataclass(frozen=True)
class NewEntry:
    category_id: str
    category_name: str
    entry: dict[str, Any]

    @property
    def file(self) -> str:
        return str(self.entry["file"])

    @property
    def dest(self) -> str:
        return str(self.entry["dest"])


def restriction(version: ModelVersion) -> str | None:
    """Why the creator does not allow downloading, or None when downloads are allowed."""
    usage = version.usage_control
    if usage is None or usage == "Download":
        return None
    return f"This model is '{usage}' only — download not allowed by the creator"


def primary_file(files: list[VersionFile]) -> VersionFile:
    """`primary: true`; else the first model-type file; else the first (files are in DB order)."""
    for file in files:
        if file.primary:
            return file
    for file in files:
        if file.type in MODEL_FILE_TYPES:
            return file
    return files[0]


def require_supported(model_type: str | None) -> tuple[str, str]:
    """The type's (category id, dest) from the table, or UnsupportedTypeError."""
    if model_type not in TYPE_ROUTES:
        raise UnsupportedTypeError(
            f"CivitAI type {str(model_type)[:64]!r} is not a model file ComfyUI loads from a known folder",
            type=_text(str(model_type)[:64]) if model_type is not None else None,
        )
    return TYPE_ROUTES[model_type]


def route(model_type: str | None, base_model: str | None, file_type: str | None) -> tuple[str, str]:
    """(category id, dest) for a version, or UnsupportedTypeError."""
    category_dest = require_supported(model_type)
    if model_type == "Checkpoint" and (
        family_of(base_model) in DIFFUSION_MODEL_FAMILIES or file_type in DIFFUSION_FILE_TYPES
    ):
        return DIFFUSION_ROUTE
    return category_dest


def display_name(model_name: str, version_name: str, base_model: str, fp: str) -> str:
    """ "ModelName VersionName [BaseModel FP]", leaving out empty or redundant parts."""
    words = [model_name.strip()]
    version_name = version_name.strip()
    if version_name and version_name.casefold() != words[0].casefold():
        words.append(version_name)
    bracket = " ".join(part for part in (base_model.strip(), fp.strip().upper()) if part)
    if bracket:
        words.append(f"[{bracket}]")
    return " ".join(word for word in words if word)


# What one entry may hold from CivitAI: its values are free text there, and an entry is
# read back by every lookup, map and ComfyUI Studio. Real values are far shorter (base
# models ~25 characters, trigger words a phrase or a short prompt each).
MAX_NAME_CHARS = 300
MAX_BASE_MODEL_CHARS = 100
MAX_TRIGGER_WORDS = 64
MAX_TRIGGER_WORD_CHARS = 500
MAX_HASH_CHARS = 128


def _text(value: str) -> str:
    """Text as a catalog can hold it: JSON allows lone surrogates, UTF-8 files do not."""
    return value.encode("utf-8", "replace").decode("utf-8")


def _size_gb(size_kb: float | None) -> float:
    """CivitAI's sizeKB is KiB; GB with 3 decimals. 0 when absent or absurd (inf, negative):
    ComfyUI Studio computes with it, and null makes it crash."""
    if size_kb is None:
        return 0
    size = round(size_kb * 1024 / 1e9, 3)
    return size if size - size == 0 and size >= 0 else 0


def chosen_file(files: list[VersionFile], file_id: int | None) -> VersionFile:
    """The file with CivitAI id `file_id`; the primary file when `file_id` is None."""
    if file_id is None:
        return primary_file(files)
    for file in files:
        if file.id == file_id:
            return file
    from host.errors import FileNotOnCivitaiError

    raise FileNotOnCivitaiError(
        f"file {file_id} is not one of this version's files (ids: "
        + ", ".join(str(f.id) for f in files[:20]) + ")",
        file_id=file_id,
    )


def build_entry(version: ModelVersion, file_id: int | None = None) -> NewEntry:
    model = version.model
    # SPEC §5 step 4 order: the type first, then the primary file, then its name
    require_supported(model.type if model else None)
    files = version.files or []
    if not files:
        archived = model is not None and model.mode == "Archived"
        why = "it is archived" if archived else "it lists no files"
        raise NoFilesError(f"version {version.id} cannot be added: {why}", version_id=str(version.id))
    file = chosen_file(files, file_id)
    problem = name_problem(file.name)
    if problem:
        shown = file.name if file.name is None or len(file.name) <= 300 else file.name[:300] + "..."
        raise UnsafeFilenameError(f"refusing the file name {shown!r}: {problem}")
    assert file.name is not None
    category_id, dest = route(model.type if model else None, version.base_model, file.type)
    base_model = version.base_model or ""
    fp = (file.metadata.fp if file.metadata else None) or ""
    name = display_name((model.name if model else None) or "", version.name or "", base_model, fp)
    if len(name) > MAX_NAME_CHARS:
        name = name[: MAX_NAME_CHARS - 1] + "…"
    entry: dict[str, Any] = {
        "name": _text(name) or file.name,
        "file": file.name,
        "dest": dest,
        "source": "civitai",
        "civitai_version_id": version.id,
        "civitai_model_id": version.model_id,
        "civitai_file_id": file.id,
        "size_gb": _size_gb(file.size_kb),
        "base_model": _text(base_model[:MAX_BASE_MODEL_CHARS]),  # "" when absent: never null
        "tags": [],
    }
    if version.trained_words:
        words = version.trained_words[:MAX_TRIGGER_WORDS]
        entry["trigger_words"] = [_text(word[:MAX_TRIGGER_WORD_CHARS]) for word in words]
    if version.stats and version.stats.download_count:
        entry["downloads"] = version.stats.download_count
    sha256 = (file.hashes or {}).get("SHA256")
    if sha256:
        entry["hash"] = _text(sha256[:MAX_HASH_CHARS])
    return NewEntry(category_id, CATEGORY_NAMES[category_id], entry)
