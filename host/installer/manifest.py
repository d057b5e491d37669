"""The host manifest: built in code from the source data, and checked when read back (doctor).

`SOURCE` is `host.json` beside this module, shipped as package data (name, description, type
and the ids allowed by default). Chrome's rules: `path` absolute on
Linux and macOS (Windows also allows a path relative to the manifest), `type` "stdio", and
`allowed_origins` exact `chrome-extension://<id>/` origins with the trailing slash: Chrome
rejects wildcards.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path, PureWindowsPath
from typing import Any

from host import HOST_NAME
from host.installer.errors import InstallerError
from host.settings import origin_of

SOURCE: dict[str, Any] = json.loads(
    resources.files(__package__ or "host.installer").joinpath("host.json").read_bytes())
# An extension id: 32 letters a-p (a SHA-256 prefix written in the alphabet a..p).
_ID = re.compile(r"[a-p]{32}")
_ORIGIN = re.compile(r"chrome-extension://([a-p]{32})/")


def normalize_extension_id(value: str) -> str:
    """An extension id from an id or its origin (`chrome-extension://<id>/`); else an error."""
    text = value.strip()
    origin = _ORIGIN.fullmatch(text if text.endswith("/") else text + "/")
    if origin:
        return origin.group(1)
    if _ID.fullmatch(text):
        return text
    raise InstallerError(
        f"{value!r} is not a Chrome extension id",
        fix="an id is 32 letters a-p, as shown on chrome://extensions with Developer mode on",
    )


def build_manifest(launcher: str, extension_ids: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The manifest for one launcher and the allowed ids (key order as in Chrome's docs)."""
    return {
        "name": SOURCE["name"],
        "description": SOURCE["description"],
        "path": launcher,
        "type": SOURCE["type"],
        "allowed_origins": [origin_of(i) for i in extension_ids],
    }


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def manifest_problems(data: Any, expected_ids: tuple[str, ...], windows: bool) -> list[str]:
    """Everything that stops Chrome (or our extension) from using this manifest; [] if none."""
    if not isinstance(data, dict):
        return ["is not a JSON object"]
    problems = []
    if data.get("name") != HOST_NAME:
        problems.append(f"name is {data.get('name')!r}, not {HOST_NAME!r}")
    if data.get("type") != "stdio":
        problems.append(f"type is {data.get('type')!r}, not 'stdio'")
    path = data.get("path")
    if not isinstance(path, str) or not path:
        problems.append("has no launcher path")
    elif not windows and not path.startswith("/"):
        problems.append(f"launcher path {path!r} is not absolute")
    origins = data.get("allowed_origins")
    if not isinstance(origins, list) or not all(isinstance(o, str) for o in origins):
        problems.append("allowed_origins is not a list of origins")
        return problems
    bad = [o for o in origins if not _ORIGIN.fullmatch(o)]
    if bad:
        problems.append(f"allowed_origins has entries Chrome rejects: {bad}")
    missing = [i for i in expected_ids if origin_of(i) not in origins]
    if missing:
        problems.append(f"does not allow the configured extension id(s) {missing}")
    return problems


def launcher_of(data: dict[str, Any], manifest_path: Path, windows: bool) -> Path | None:
    """The program the browser would start (Windows resolves a relative path against the file)."""
    path = data.get("path")
    if not isinstance(path, str) or not path:
        return None
    if windows and not PureWindowsPath(path).is_absolute():
        return manifest_path.parent / path
    return Path(path)
