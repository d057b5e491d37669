"""What is registered at one target: registry key -> manifest file -> its JSON -> launcher.

The one resolver shared by install (its self-check pings what was registered), uninstall (is
our launcher still named somewhere?) and doctor (what is there and what is wrong with it).
Read-only; every way the chain can break becomes a problem in words, never an exception.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from host.installer.machine import Machine
from host.installer.manifest import launcher_of
from host.installer.targets import Target


@dataclass
class Registration:
    """One target as found: `present` when a key or a manifest file is there."""

    target: Target
    present: bool = False
    manifest_path: Path | None = None
    data: Any = None  # the manifest's parsed JSON (any JSON value), None when not read
    launcher: Path | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def manifest(self) -> dict[str, Any] | None:
        return self.data if isinstance(self.data, dict) else None


def _manifest_path(machine: Machine, target: Target, found: Registration) -> Path | None:
    if not (target.registry_key and target.hive):
        return target.manifest_path
    registry = machine.registry
    if not registry.key_exists(target.hive, target.registry_key):
        return None
    found.present = True
    value = registry.get_default(target.hive, target.registry_key)
    if not value:
        found.problems.append("the registry key has no default value (the manifest path)")
        return None
    return Path(value)


def resolve(machine: Machine, target: Target) -> Registration:
    found = Registration(target)
    path = _manifest_path(machine, target, found)
    if path is None:
        return found
    if not (path.exists() or path.is_symlink()):
        if found.present:
            found.problems.append(f"the key names {path}, which does not exist")
        return found
    found.present = True
    found.manifest_path = path
    try:
        found.data = json.loads(path.read_bytes())
    except OSError as exc:
        found.problems.append(f"the manifest cannot be read: {exc.strerror or exc}")
        return found
    except ValueError as exc:
        found.problems.append(f"the manifest is not valid JSON: {exc}")
        return found
    if found.manifest is not None:
        found.launcher = launcher_of(found.manifest, path, machine.os == "windows")
    return found
