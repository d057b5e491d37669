"""Pydantic models of the parts of `GET /api/v1/model-versions/{id}` the host uses.

Everything but `id` is optional and unknown keys are ignored: CivitAI adds fields every few
months and old versions lack newer ones (civitai-api.md). Any key may be null.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Lenient(BaseModel):
    # NaN / Infinity are not JSON: json.dumps would write them into models.json as-is and
    # every other reader of the catalog would refuse the file.
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


class FileMetadata(_Lenient):
    fp: str | None = None
    size: str | None = None
    format: str | None = None


class VersionFile(_Lenient):
    id: int | None = None
    name: str | None = None
    size_kb: float | None = Field(default=None, alias="sizeKB")
    type: str | None = None
    primary: bool | None = None
    metadata: FileMetadata | None = None
    hashes: dict[str, str | None] | None = None


class ModelInfo(_Lenient):
    name: str | None = None
    type: str | None = None
    mode: str | None = None


class VersionStats(_Lenient):
    download_count: int | None = Field(default=None, alias="downloadCount")


class ModelVersion(_Lenient):
    id: int
    model_id: int | None = Field(default=None, alias="modelId")
    name: str | None = None
    base_model: str | None = Field(default=None, alias="baseModel")
    trained_words: list[str] | None = Field(default=None, alias="trainedWords")
    usage_control: str | None = Field(default=None, alias="usageControl")
    stats: VersionStats | None = None
    model: ModelInfo | None = None
    files: list[VersionFile] | None = None
