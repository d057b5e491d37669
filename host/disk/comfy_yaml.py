"""Read ComfyUI `extra_model_paths.yaml` files with ComfyUI's own rules. The only YAML reader.

Imports PyYAML, so it is never imported on the cold read path: host.disk.folders caches what
this returns and calls it only when a YAML file has changed.

The rules (ComfyUI's utils/extra_config.py and folder_paths.py):
- top-level keys are groups; a group whose value is null is skipped;
- `base_path` gets `~` and environment variables expanded, and a relative one is taken from
  the YAML file's folder; `is_default: true` puts the group's folders first in the search;
- every other key is a folder name; its value is one or more paths separated by newlines
  (empty lines skipped), each joined to base_path, or without base_path taken from the YAML
  file's folder when relative;
- the folder names `unet` and `clip` are the legacy names of `diffusion_models` and
  `text_encoders`.
"""

from __future__ import annotations

import os
from typing import Any

import yaml

from host.disk.names import canonical_folder


class ModelPathsError(Exception):
    """A YAML file that cannot be used; the message names the file."""


def read_extra_model_paths(yaml_path: str, env_used: set[str] | None = None) -> list[tuple[str, str, bool]]:
    """(folder name, absolute folder, is_default) for every path the file adds, in file order.
    The names of the environment variables its base paths depend on are added to `env_used`."""
    try:
        with open(yaml_path, encoding="utf-8") as handle:
            config = yaml.safe_load(handle)
    except OSError as exc:
        raise ModelPathsError(f"{yaml_path}: cannot read it ({exc.strerror})") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        detail = str(exc).replace("\n", " ")
        raise ModelPathsError(f"{yaml_path} is not valid YAML: {detail}") from exc
    if config is None:
        return []
    if not isinstance(config, dict):
        raise ModelPathsError(f"{yaml_path}: the top level must map group names to folders")
    yaml_dir = os.path.dirname(os.path.abspath(yaml_path))
    found: list[tuple[str, str, bool]] = []
    for group_name, group in config.items():
        if group is None:
            continue
        if not isinstance(group, dict):
            raise ModelPathsError(f"{yaml_path}: group {group_name!r} must map folder names to paths")
        found.extend(_group_paths(yaml_path, yaml_dir, str(group_name), group, env_used))
    return found


def _env_names(text: str) -> set[str]:
    """The variables os.path.expanduser / expandvars read for `text`."""
    import re

    names = set(re.findall(r"\$(\w+)|\$\{([^}]*)\}|%([^%]+)%", text))
    found = {name for group in names for name in group if name}
    if text.startswith("~"):
        found.update(("HOME", "USERPROFILE", "HOMEDRIVE", "HOMEPATH"))
    return found


def _group_paths(
    yaml_path: str, yaml_dir: str, name: str, group: dict[Any, Any], env_used: set[str] | None
) -> list[tuple[str, str, bool]]:
    group = dict(group)
    base_path = group.pop("base_path", None)
    if base_path is not None:
        if not isinstance(base_path, str):
            raise ModelPathsError(f"{yaml_path}: {name}.base_path must be a path")
        if env_used is not None:
            env_used.update(_env_names(base_path))
        base_path = os.path.expandvars(os.path.expanduser(base_path))
        if not os.path.isabs(base_path):
            base_path = os.path.join(yaml_dir, base_path)
    is_default = bool(group.pop("is_default", False))
    paths: list[tuple[str, str, bool]] = []
    for folder, value in group.items():
        if not isinstance(value, str):
            raise ModelPathsError(
                f"{yaml_path}: {name}.{folder} must be a path, or several on separate lines"
            )
        for line in value.split("\n"):
            if not line:
                continue
            if base_path is not None:
                full = os.path.join(base_path, line)
            elif os.path.isabs(line):
                full = line
            else:
                full = os.path.join(yaml_dir, line)
            paths.append((canonical_folder(str(folder)), os.path.abspath(full), is_default))
    return paths
