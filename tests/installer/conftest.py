"""Installer fixtures: a fake machine of any OS around temporary folders, and a tree snapshot.

Nothing here may reach the real HOME, /etc or registry: every path a `Machine` names is under
tmp_path, the registry is a dict, and the process environment's HOME / XDG folders are pointed
into tmp_path too, as a second guard for code that asks platformdirs directly.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from host.installer.cli import main
from host.installer.launcher import Interpreter
from host.installer.machine import Machine, OsName
from host.installer.registry import DictRegistry

ENV_KEYS = (
    "CATALOG_HOST_CONFIG", "CATALOG_HOST_CATALOG_DIR", "CATALOG_HOST_MODELS_DIR",
    "CATALOG_HOST_CIVITAI_URL", "CIVITAI_API_KEY", "CATALOG_HOST_EXTENSION_IDS",
    "CATALOG_HOST_VENV", "CATALOG_HOST_INSTALL_ROOT", "CHROME_CONFIG_HOME",
)


@pytest.fixture(autouse=True)
def _isolated_process_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "process-home"
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"),
                     ("XDG_CACHE_HOME", ".cache"), ("XDG_STATE_HOME", ".local/state")):
        monkeypatch.setenv(var, str(home / sub))


@dataclass
class FakeWorld:
    """A machine of one OS under tmp_path, plus the interpreter the launcher will name."""

    tmp: Path
    machine: Machine
    interp: Interpreter
    registry: DictRegistry

    @property
    def home(self) -> Path:
        return self.machine.home

    def run(self, *argv: str) -> tuple[int, str]:
        out = io.StringIO()
        status = main(list(argv), machine=self.machine, interp=self.interp, out=out)
        return status, out.getvalue()

    def snapshot(self) -> dict[str, bytes | None]:
        """Every file (its bytes) and folder (None) under tmp, except the fake exe's folder."""
        tree: dict[str, bytes | None] = {}
        for path in sorted(self.tmp.rglob("*")):
            rel = path.relative_to(self.tmp).as_posix()
            if rel.startswith(("python", "process-home")):
                continue
            tree[rel] = None if path.is_dir() and not path.is_symlink() else path.read_bytes()
        return tree


def make_world(tmp: Path, os_name: OsName, env: dict[str, str] | None = None,
               interp: Interpreter | None = None) -> FakeWorld:
    home = tmp / "home"
    # Folders every real account has: the installer never removes them.
    for folder in (".config", "Library/Application Support", "data", "AppData/Local"):
        (home / folder).mkdir(parents=True, exist_ok=True)
    config_path = home / "config-dir" / "config.json"
    registry = DictRegistry()
    if interp is None:
        # A stand-in for the product venv: a Windows target needs Scripts\catalog-host.exe.
        scripts = tmp / "python" / "Scripts"
        scripts.mkdir(parents=True, exist_ok=True)
        (scripts / "catalog-host.exe").write_bytes(b"MZ fake console launcher")
        interp = Interpreter(python=str(tmp / "python" / "bin" / "python3"),
                             scripts_dir=scripts, package_parent=None)
    machine = Machine(
        os=os_name,
        home=home,
        env={"HOME": str(home), "CATALOG_HOST_CONFIG": str(config_path), **(env or {})},
        root=tmp / "root",
        data_dir=home / ("AppData/Local" if os_name == "windows" else "data") / "catalog-host",
        system_data_dir=tmp / "root" / "ProgramData" / "catalog-host",
        config_path=config_path,
        registry=registry,
    )
    return FakeWorld(tmp, machine, interp, registry)


@pytest.fixture
def world_factory(tmp_path: Path) -> Callable[..., FakeWorld]:
    def factory(os_name: OsName = "linux", **kwargs: object) -> FakeWorld:
        return make_world(tmp_path, os_name, **kwargs)  # type: ignore[arg-type]

    return factory


@pytest.fixture
def real_interp() -> Interpreter:
    """This test run's Python, finding `host` in the checkout (as the browser tests do)."""
    return Interpreter(python=sys.executable, scripts_dir=Path(sys.executable).parent,
                       package_parent=Path(__file__).resolve().parents[2])


def write_script(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.chmod(path, 0o755)
    return path
