"""Installer fixtures: fake machines (tests/installer/world.py) and the process environment
pointed into tmp_path, a second guard for code that asks platformdirs directly."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from host.installer.launcher import Interpreter
from host.installer.machine import OsName
from tests.installer.world import FakeWorld, make_world
from tests.support.environment import ENV_KEYS

# the host's own variables, and those the installer and Chrome read
INSTALLER_ENV_KEYS = (*ENV_KEYS, "CATALOG_HOST_VENV", "CATALOG_HOST_INSTALL_ROOT", "CHROME_CONFIG_HOME")


@pytest.fixture(autouse=True)
def _isolated_process_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "process-home"
    for key in INSTALLER_ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"),
                     ("XDG_CACHE_HOME", ".cache"), ("XDG_STATE_HOME", ".local/state")):
        monkeypatch.setenv(var, str(home / sub))


@pytest.fixture
def world_factory(tmp_path: Path) -> Callable[..., FakeWorld]:
    def factory(os_name: OsName = "linux", **kwargs: object) -> FakeWorld:
        return make_world(tmp_path, os_name, **kwargs)  # type: ignore[arg-type]

    return factory


@pytest.fixture
def real_interp() -> Interpreter:
    """This test run's Python, finding `host` in the checkout through PYTHONPATH (the
    launcher's checkout mode), so it needs no installed copy."""
    return Interpreter(python=sys.executable, scripts_dir=Path(sys.executable).parent,
                       package_parent=Path(__file__).resolve().parents[2])
