"""The machine being installed into: its OS, folders, environment and registry.

This is the installer's one seam. `Machine.current()` describes the running computer (the OS is
chosen here and nowhere else); tests build a `Machine` for any OS around a temporary HOME, a
fake file-system root for the system folders and a `DictRegistry`, so Linux, macOS and Windows
targets are all exercised on Linux. `CATALOG_HOST_INSTALL_ROOT` moves the system folders under
another root (a test seam for `--system`; never set it for a real install).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from host.installer.registry import DictRegistry, Registry, WindowsRegistry
from host.settings import APP_NAME, ENV_CONFIG, default_config_path

OsName = Literal["linux", "macos", "windows"]
ENV_INSTALL_ROOT = "CATALOG_HOST_INSTALL_ROOT"


def current_os() -> OsName:
    if sys.platform == "win32":
        return "windows"
    elif sys.platform == "darwin":
        return "macos"
    else:  # other Unixes too: Chromium there follows the Linux (XDG) layout
        return "linux"


def _user_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def _config_path(env: Mapping[str, str]) -> Path:
    explicit = env.get(ENV_CONFIG)
    return Path(os.path.expanduser(explicit)) if explicit else default_config_path()


def system_dir(os_name: OsName, root: Path, program_files: Path) -> Path:
    """Where --system installs put the venv and the launcher (root- or admin-owned)."""
    if os_name == "windows":
        return program_files / APP_NAME
    if os_name == "macos":
        return root / "Library" / "Application Support" / APP_NAME
    return root / "opt" / APP_NAME


@dataclass
class Machine:
    os: OsName
    home: Path
    env: Mapping[str, str]
    # Prefix of the system folders (/etc/..., /Library/...): "/" except in tests.
    root: Path
    # Our own folders: launchers (bin/), Windows manifests; the product venv lives here too.
    data_dir: Path
    # The product's root-owned home for --system installs: its venv, the launcher (bin/) and,
    # on Windows, the HKLM manifests. Only administrators can write there, so no user can swap
    # the program another account's browser (or root) runs.
    system_dir: Path
    config_path: Path
    registry: Registry = field(default_factory=DictRegistry)
    # Finds a command on PATH (browser detection); replaced in tests.
    which: Callable[[str], str | None] = lambda _name: None

    @classmethod
    def current(cls) -> Machine:
        env = dict(os.environ)
        os_name = current_os()
        registry: Registry = WindowsRegistry() if os_name == "windows" else DictRegistry()
        root = Path(env.get("SystemDrive", "C:") + "\\") if os_name == "windows" else Path("/")
        program_files = Path(env.get("ProgramFiles") or root / "Program Files")
        if env.get(ENV_INSTALL_ROOT):
            root = Path(env[ENV_INSTALL_ROOT])
            program_files = root / "Program Files"
        return cls(
            os=os_name,
            home=Path.home(),
            env=env,
            root=root,
            data_dir=_user_data_dir(),
            system_dir=system_dir(os_name, root, program_files),
            config_path=_config_path(env),
            registry=registry,
            which=lambda name: shutil.which(name, path=env.get("PATH")),
        )
