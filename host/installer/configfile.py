"""The config file as the installer writes it: merged into what is there, never clobbered.

Keys the person set (the API key, civitai_url, anything unknown) are kept; install sets
`extension_ids` (always, so the file says which ids the manifests allow), `models_dir` when
given, and `catalog_dir` when given or not yet set (then the default, named explicitly so that a
browser-started host never has to work it out through platformdirs). A config file that is not
a JSON object stops the install before anything is written: the person's file is never
overwritten.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from host.errors import ConfigError
from host.installer.errors import InstallerError
from host.installer.manifest import normalize_extension_id
from host.settings import ENV_EXTENSION_IDS, STUB_EXTENSION_ID, read_config_file


def read_existing(path: Path) -> dict[str, Any]:
    try:
        return read_config_file(path)
    except ConfigError as exc:
        raise InstallerError(
            exc.message, fix=f"correct {path} (it must hold one JSON object) or move it away"
        ) from exc


def _dedupe(ids: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(normalize_extension_id(i) for i in ids))


def effective_extension_ids(
    given: Sequence[str], existing: Mapping[str, Any], env: Mapping[str, str]
) -> list[str]:
    """--extension-id, else the ids in force (environment > config file > the stub's id)."""
    if given:
        return _dedupe(given)
    if env.get(ENV_EXTENSION_IDS):
        return _dedupe([p for p in env[ENV_EXTENSION_IDS].split(",") if p.strip()])
    configured = existing.get("extension_ids")
    if isinstance(configured, str):
        configured = [p for p in configured.split(",") if p.strip()]
    if isinstance(configured, list) and configured and all(isinstance(i, str) for i in configured):
        return _dedupe(configured)
    return [STUB_EXTENSION_ID]


def _absolute(path: Path) -> str:
    return os.path.abspath(os.path.expanduser(str(path)))


def merged_config(
    existing: Mapping[str, Any],
    extension_ids: Sequence[str],
    models_dir: Path | None,
    catalog_dir: Path | None,
    default_catalog_dir: Path,
) -> dict[str, Any]:
    config = dict(existing)  # key order and unknown keys survive
    config["extension_ids"] = list(extension_ids)
    if models_dir is not None:
        config["models_dir"] = _absolute(models_dir)
    if catalog_dir is not None:
        config["catalog_dir"] = _absolute(catalog_dir)
    elif not config.get("catalog_dir"):
        config["catalog_dir"] = str(default_catalog_dir)
    return config


def config_bytes(config: Mapping[str, Any]) -> bytes:
    return (json.dumps(config, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
