"""The host manifest: built in code from the source data, and checked when read back (doctor).

`SOURCE` is `host.json` beside this module, shipped as package data (name, description, type
and the ids allowed by default for each browser family). Both families: `path` absolute on
Linux and macOS (Windows also allows a path relative to the manifest), `type` "stdio".
Chromium: `allowed_origins`, exact `chrome-extension://<id>/` origins with the trailing slash
(Chrome rejects wildcards). Firefox: `allowed_extensions`, add-on ids (`name@domain` or
`{uuid}`); a manifest that does not list the calling add-on gets the same "No such native
application" as no manifest at all, so doctor checks the ids itself.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path, PureWindowsPath
from typing import Any

from host import HOST_NAME
from host.installer.browsers import Family
from host.installer.errors import InstallerError
from host.settings import origin_of

SOURCE: dict[str, Any] = json.loads(
    resources.files(__package__ or "host.installer").joinpath("host.json").read_bytes())
# An extension id: 32 letters a-p (a SHA-256 prefix written in the alphabet a..p).
_ID = re.compile(r"[a-p]{32}")
_ORIGIN = re.compile(r"chrome-extension://([a-p]{32})/")
# A Firefox add-on id, as addons.mozilla.org accepts them: an email-like id or a braced GUID.
_GECKO_ID = re.compile(
    r"[A-Za-z0-9._-]*@[A-Za-z0-9._-]+|\{[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\}")
# The manifest key that lists the allowed callers, per family.
ALLOWED_KEY: dict[Family, str] = {"chromium": "allowed_origins", "gecko": "allowed_extensions"}


def classify_extension_id(value: str) -> tuple[Family, str]:
    """(family, id) for a Chrome id or origin, or a Firefox add-on id; else an error."""
    text = value.strip()
    origin = _ORIGIN.fullmatch(text if text.endswith("/") else text + "/")
    if origin:
        return "chromium", origin.group(1)
    if _ID.fullmatch(text):
        return "chromium", text
    if _GECKO_ID.fullmatch(text):
        return "gecko", text
    raise InstallerError(
        f"{value!r} is not a Chrome extension id nor a Firefox add-on id",
        fix="a Chrome id is 32 letters a-p, as shown on chrome://extensions with Developer mode "
        "on; a Firefox add-on id is name@domain or {uuid}, as shown on about:debugging",
    )


def normalize_extension_id(value: str) -> str:
    """A Chrome extension id from an id or its origin (`chrome-extension://<id>/`)."""
    family, text = classify_extension_id(value)
    if family != "chromium":
        raise InstallerError(f"{value!r} is not a Chrome extension id")
    return text


def allowed_values(family: Family, ids: list[str] | tuple[str, ...]) -> list[str]:
    return [origin_of(i) for i in ids] if family == "chromium" else list(ids)


def build_manifest(launcher: str, extension_ids: list[str] | tuple[str, ...],
                   family: Family = "chromium") -> dict[str, Any]:
    """The manifest for one launcher and the allowed ids (key order as in the browsers' docs)."""
    return {
        "name": SOURCE["name"],
        "description": SOURCE["description"],
        "path": launcher,
        "type": SOURCE["type"],
        ALLOWED_KEY[family]: allowed_values(family, extension_ids),
    }


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def manifest_problems(data: Any, expected_ids: tuple[str, ...], windows: bool,
                      family: Family = "chromium") -> list[str]:
    """Everything that stops the browser (or our extension) from using this manifest; [] if
    none."""
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
    return problems + (_origin_problems(data, expected_ids) if family == "chromium"
                       else _gecko_problems(data, expected_ids))


def _origin_problems(data: dict[str, Any], expected_ids: tuple[str, ...]) -> list[str]:
    origins = data.get("allowed_origins")
    if not isinstance(origins, list) or not all(isinstance(o, str) for o in origins):
        return ["allowed_origins is not a list of origins"]
    problems = []
    bad = [o for o in origins if not _ORIGIN.fullmatch(o)]
    if bad:
        problems.append(f"allowed_origins has entries Chrome rejects: {bad}")
    missing = [i for i in expected_ids if origin_of(i) not in origins]
    if missing:
        problems.append(f"does not allow the configured extension id(s) {missing}")
    return problems


def _gecko_problems(data: dict[str, Any], expected_ids: tuple[str, ...]) -> list[str]:
    # Firefox answers "No such native application" for each of these, exactly as when no host
    # is installed: the extension cannot tell them apart, so doctor says which it is.
    ids = data.get("allowed_extensions")
    if ids is None:
        extra = " (it has allowed_origins: a Chrome manifest)" if "allowed_origins" in data else ""
        return [f"has no allowed_extensions{extra}; Firefox then reports \"No such native "
                "application\", as if no host were installed"]
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        return ["allowed_extensions is not a list of add-on ids"]
    missing = [i for i in expected_ids if i not in ids]
    if missing:
        return [f"does not allow the configured Firefox add-on id(s) {missing} (it allows "
                f"{ids}); Firefox then reports \"No such native application\", as if no host "
                "were installed"]
    return []


def launcher_of(data: dict[str, Any], manifest_path: Path, windows: bool) -> Path | None:
    """The program the browser would start (Windows resolves a relative path against the file)."""
    path = data.get("path")
    if not isinstance(path, str) or not path:
        return None
    if windows and not PureWindowsPath(path).is_absolute():
        return manifest_path.parent / path
    return Path(path)
