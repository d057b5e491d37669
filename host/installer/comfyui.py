"""install's ComfyUI options (`--comfyui-dir`, `--extra-model-paths`), checked before anything
is written.

What they become is exactly what the host reads back (host.settings): `comfyui_dir`, an
absolute folder, and `extra_model_paths`, a list of absolute YAML file paths. On the command
line a value of `--extra-model-paths` may join several files with the OS path separator, as the
`CATALOG_HOST_EXTRA_MODEL_PATHS` variable does (not with commas: a path may hold one). A folder
that is not there, or a YAML file that is missing or that ComfyUI could not read either, stops
the install with the reason and nothing written. No guessing: the ComfyUI folder is used only
when named.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from host.installer.errors import InstallerError


def _absolute(path: Path | str) -> str:
    return os.path.abspath(os.path.expanduser(str(path)))


def checked_comfyui_dir(path: Path) -> str:
    folder = _absolute(path)
    if not os.path.isdir(folder):
        what = "is not a folder" if os.path.exists(folder) else "does not exist"
        raise InstallerError(f"--comfyui-dir {folder} {what}",
                             fix="name the folder ComfyUI runs from (the one holding its models "
                             "folder and extra_model_paths.yaml)")
    return folder


def split_paths(values: Sequence[str], pathsep: str) -> list[str]:
    """Every file named by repeated options, each possibly a `pathsep`-joined list."""
    return [part for value in values for part in value.split(pathsep) if part]


def checked_extra_model_paths(values: Sequence[str], pathsep: str) -> list[str]:
    from host.disk.comfy_yaml import ModelPathsError, read_extra_model_paths

    files = list(dict.fromkeys(_absolute(p) for p in split_paths(values, pathsep)))
    if not files:
        raise InstallerError("--extra-model-paths names no file",
                             fix="give the path of an extra_model_paths.yaml file")
    for path in files:
        if not os.path.isfile(path):
            raise InstallerError(f"--extra-model-paths: {path} is not a file",
                                 fix="give the path of an extra_model_paths.yaml file that exists")
        try:
            read_extra_model_paths(path)
        except ModelPathsError as exc:
            raise InstallerError(f"--extra-model-paths: {exc}",
                                 fix="correct the file (ComfyUI cannot read it either)") from exc
    return files


def comfyui_notes(existing: Mapping[str, Any], comfyui_dir: str | None,
                  models_dir_given: bool) -> list[str]:
    """What a person pointing the host at ComfyUI should know about the result."""
    if comfyui_dir is None or models_dir_given:
        return []
    configured = existing.get("models_dir")
    if isinstance(configured, str) and configured:
        return [f"models_dir {configured} in the config file is kept and wins over "
                f"{os.path.join(comfyui_dir, 'models')}; re-run install with --models-dir to "
                "change it"]
    if not os.path.isdir(os.path.join(comfyui_dir, "models")):
        return [f"{comfyui_dir} has no models folder: is it the folder ComfyUI runs from? "
                "(otherwise give --models-dir too)"]
    return []
