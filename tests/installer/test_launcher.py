"""The launcher: started the way a browser starts it (argv[1] = origin, minimal environment,
any working folder), with spaces and quotes in every path, it runs the right Python."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from host.installer.launcher import ENTRY_POINT, Interpreter
from tests.installer.world import FakeWorld, write_script
from tests.support.frames import frame, unframe_all

ORIGIN = "chrome-extension://jpiddlinckgdlidmojineffgcdpfoacg/"
World = Callable[..., FakeWorld]
# What a browser started from a desktop session passes down: next to nothing.
DESKTOP_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}


def test_launcher_passes_arguments_to_an_absolute_python_with_spaces_and_quotes(
    world_factory: World, tmp_path: Path
) -> None:
    # A stand-in interpreter that reports how it was called.
    fake_python = write_script(
        tmp_path / "it's a \"venv\" dir" / "bin" / "python3",
        f"#!{sys.executable}\nimport json, os, sys\n"
        "print(json.dumps({'argv': sys.argv[1:], 'config': os.environ.get('CATALOG_HOST_CONFIG'),"
        " 'pythonpath': os.environ.get('PYTHONPATH')}))\n",
    )
    interp = Interpreter(python=str(fake_python), scripts_dir=tmp_path, package_parent=None)
    world = world_factory("linux", interp=interp)
    status, out = world.run("install", "--browser", "chromium", "--no-check")
    assert status == 0, out
    launcher = world.machine.data_dir / "bin" / "catalog-host"
    assert os.access(launcher, os.X_OK)

    done = subprocess.run([str(launcher), ORIGIN, "--parent-window=0"], env=DESKTOP_ENV,
                          cwd="/", capture_output=True, timeout=30, check=True)
    seen = json.loads(done.stdout)
    assert seen["argv"] == ["-I", "-c", ENTRY_POINT, ORIGIN, "--parent-window=0"]
    assert seen["config"] == str(world.machine.config_path)  # pinned: the file install wrote
    assert seen["pythonpath"] is None

    # An explicit CATALOG_HOST_CONFIG in the environment still wins.
    done = subprocess.run([str(launcher), ORIGIN], env={**DESKTOP_ENV,
                          "CATALOG_HOST_CONFIG": "/elsewhere.json"}, capture_output=True,
                          timeout=30, check=True)
    assert json.loads(done.stdout)["config"] == "/elsewhere.json"


def test_a_checkout_launcher_finds_the_package_through_pythonpath(
    world_factory: World, real_interp: Interpreter
) -> None:
    world = world_factory("linux", interp=real_interp)
    world.run("install", "--browser", "chromium", "--no-check")
    script = (world.machine.data_dir / "bin" / "catalog-host").read_text()
    assert f"PYTHONPATH={real_interp.package_parent}" in script
    assert script.rstrip().endswith(f"exec {real_interp.python} -s -c '{ENTRY_POINT}' \"$@\"")


def test_real_ping_through_the_registered_launcher_from_a_home_with_spaces(
    tmp_path: Path, real_interp: Interpreter
) -> None:
    from tests.installer.world import make_world

    world = make_world(tmp_path / "my home dir", "macos", interp=real_interp)
    status, out = world.run("install", "--browser", "chromium")  # with the self-check
    assert status == 0, out
    assert "Self-check: ping through the launcher" in out and ": OK: catalog-host" in out

    manifest_path = (world.home / "Library" / "Application Support" / "Chromium"
                     / "NativeMessagingHosts" / "com.civitai_catalog.host.json")
    launcher = json.loads(manifest_path.read_text())["path"]
    assert " " in launcher
    done = subprocess.run([launcher, ORIGIN], input=frame({"op": "ping", "id": 7}),
                          env={**DESKTOP_ENV, "HOME": str(world.home)}, cwd="/",
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    (reply,) = unframe_all(done.stdout)
    assert reply["id"] == 7 and reply["ok"] is True
    result = reply["result"]
    assert isinstance(result, dict) and result["host"] == "catalog-host"


def test_the_windows_launcher_is_pips_console_exe(world_factory: World) -> None:
    world = world_factory("windows")
    status, out = world.run("install", "--browser", "edge", "--no-check")
    assert status == 0, out
    value = world.registry.get_default(
        "HKCU", r"Software\Microsoft\Edge\NativeMessagingHosts\com.civitai_catalog.host")
    assert value is not None
    assert json.loads(Path(value).read_text())["path"] == str(
        world.interp.scripts_dir / "catalog-host.exe")
    assert not (world.machine.data_dir / "bin").exists()  # no .bat, no copy


def test_windows_without_the_console_exe_is_refused(
    world_factory: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    interp = Interpreter(python="C:/py/python.exe", scripts_dir=tmp_path / "nothing here",
                         package_parent=None)
    world = world_factory("windows", interp=interp)
    status, _ = world.run("install", "--no-check")
    assert status == 1
    assert "catalog-host.exe does not exist" in capsys.readouterr().err
    assert world.registry.values == {}


def test_a_system_install_leaves_each_user_their_own_config(world_factory: World) -> None:
    world = world_factory("linux", system_venv=True)
    status, out = world.run("install", "--browser", "chromium", "--system", "--no-check")
    assert status == 0, out
    script = (world.machine.system_dir / "bin" / "catalog-host").read_text()
    assert "CATALOG_HOST_CONFIG" not in script
    status, out = world.run("install", "--browser", "chromium", "--no-check")
    script = (world.machine.data_dir / "bin" / "catalog-host").read_text()
    assert f"CATALOG_HOST_CONFIG={world.machine.config_path}" in script
