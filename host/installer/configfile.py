"""The config file as the installer writes it: merged into what is there, never clobbered.

Keys the person set (the API key, civitai_url, anything unknown) are kept; install sets
`extension_ids` (always, so the file says which ids the manifests allow),
`firefox_extension_ids` (when it registers Firefox or is given add-on ids), `models_dir` when
given, `comfyui_dir` and `extra_model_paths` when given (host.installer.comfyui checks them),
and `catalog_dir` when given or not yet set (then the default, named explicitly so that a
browser-started host never has to work it out through platformdirs). The file is written back in
its own style: indentation (or one line), CRLF or LF, a final line end or none, a UTF-8 BOM. A
config file that is not a JSON object stops the install before anything is written: the person's
file is never overwritten.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from host.catalog.store import DEFAULT_STYLE, FileStyle
from host.errors import ConfigError
from host.installer.browsers import Family
from host.installer.errors import InstallerError
from host.installer.manifest import classify_extension_id
from host.regularfile import read_regular
from host.settings import (
    ENV_EXTENSION_IDS,
    ENV_FIREFOX_EXTENSION_IDS,
    STUB_EXTENSION_ID,
    STUB_GECKO_ID,
    read_config_file,
)

# Per family: the config key, its environment variable and the default (the stub's id).
ID_SOURCES: dict[Family, tuple[str, str, str]] = {
    "chromium": ("extension_ids", ENV_EXTENSION_IDS, STUB_EXTENSION_ID),
    "gecko": ("firefox_extension_ids", ENV_FIREFOX_EXTENSION_IDS, STUB_GECKO_ID),
}


class ConfigStyle:
    """How the config file is laid out, so that a re-install changes only the lines it must."""

    __slots__ = ("indent", "layout")

    def __init__(self, indent: str | None = "  ", layout: FileStyle = DEFAULT_STYLE) -> None:
        self.indent = indent  # None: the whole object on one line
        self.layout = layout

    @classmethod
    def of(cls, raw: bytes) -> ConfigStyle:
        """The style of a config file's bytes: the indentation of its first indented key."""
        text = raw.decode("utf-8-sig", "replace").strip()
        lines = text.splitlines()
        if not text:
            return cls()
        if len(lines) <= 1:  # one line; `{}` says nothing about indentation
            return cls(None if '"' in text else "  ", FileStyle.of(raw))
        for line in lines[1:]:
            body = line.lstrip(" \t")
            if body.startswith('"') and body != line:
                return cls(line[: len(line) - len(body)], FileStyle.of(raw))
        return cls("  ", FileStyle.of(raw))


def read_style(path: Path) -> ConfigStyle:
    """The existing file's style; the default one (2 spaces, LF) for a new or unreadable file."""
    try:
        return ConfigStyle.of(read_regular(path))
    except OSError:
        return ConfigStyle()


def read_existing(path: Path) -> dict[str, Any]:
    try:
        return read_config_file(path)
    except ConfigError as exc:
        raise InstallerError(
            exc.message, fix=f"correct {path} (it must hold one JSON object) or move it away"
        ) from exc


def _of_family(family: Family, ids: Sequence[str], where: str) -> list[str]:
    chosen = []
    for value in ids:
        kind, text = classify_extension_id(value)
        if kind != family:
            raise InstallerError(f"{value!r} in {where} is not a "
                                 f"{'Chrome extension' if family == 'chromium' else 'Firefox add-on'} id")
        chosen.append(text)
    return list(dict.fromkeys(chosen))


def effective_ids(
    family: Family, given: Sequence[str], existing: Mapping[str, Any], env: Mapping[str, str]
) -> list[str]:
    """This family's ids among --extension-id, else the ids in force (environment > config
    file > the stub's id)."""
    mine = [text for kind, text in map(classify_extension_id, given) if kind == family]
    if mine:
        return list(dict.fromkeys(mine))
    key, env_name, default = ID_SOURCES[family]
    if env.get(env_name):
        return _of_family(family, [p for p in env[env_name].split(",") if p.strip()], env_name)
    configured = existing.get(key)
    if isinstance(configured, str):
        configured = [p for p in configured.split(",") if p.strip()]
    if isinstance(configured, list) and configured and all(isinstance(i, str) for i in configured):
        return _of_family(family, configured, f"the config key {key!r}")
    return [default]


def _absolute(path: Path) -> str:
    return os.path.abspath(os.path.expanduser(str(path)))


def merged_config(
    existing: Mapping[str, Any],
    extension_ids: Sequence[str],
    models_dir: Path | None,
    catalog_dir: Path | None,
    default_catalog_dir: Path,
    firefox_ids: Sequence[str] | None = None,
    comfyui_dir: str | None = None,
    extra_model_paths: Sequence[str] | None = None,
) -> dict[str, Any]:
    """`firefox_ids`: written when Firefox is registered (or add-on ids were given).
    `comfyui_dir`, `extra_model_paths`: absolute, already checked; the given list replaces the
    configured one (as --extension-id replaces the ids)."""
    config = dict(existing)  # key order and unknown keys survive
    config["extension_ids"] = list(extension_ids)
    if firefox_ids is not None:
        config["firefox_extension_ids"] = list(firefox_ids)
    if models_dir is not None:
        config["models_dir"] = _absolute(models_dir)
    if comfyui_dir is not None:
        config["comfyui_dir"] = comfyui_dir
    if extra_model_paths is not None:
        config["extra_model_paths"] = list(extra_model_paths)
    if catalog_dir is not None:
        config["catalog_dir"] = _absolute(catalog_dir)
    elif not config.get("catalog_dir"):
        config["catalog_dir"] = str(default_catalog_dir)
    return config


def config_bytes(config: Mapping[str, Any], style: ConfigStyle | None = None) -> bytes:
    style = style or ConfigStyle()
    layout = style.layout
    text = json.dumps(config, indent=style.indent, ensure_ascii=False)
    text += "\n" if layout.final_newline else ""
    if layout.newline != "\n":
        text = text.replace("\n", layout.newline)  # JSON strings hold no raw line end
    # A lone surrogate (a "\\ud800" escape read from the file) goes back as that same escape.
    data = text.encode("utf-8", "backslashreplace")
    return b"\xef\xbb\xbf" + data if layout.bom else data
