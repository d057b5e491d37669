"""uninstall: removes what install made (manifests, keys, launcher, the venv when asked) and
never the catalog, the config file, or a registration it was not asked to remove."""

from __future__ import annotations

import json
from collections.abc import Callable

from host.installer.plan import VENV_MARKER
from tests.installer.world import FakeWorld

NAME = "com.civitai_catalog.host"
World = Callable[..., FakeWorld]


def test_the_launcher_stays_while_another_browser_still_uses_it(world_factory: World) -> None:
    world = world_factory("linux")
    launcher = world.machine.data_dir / "bin" / "catalog-host"
    world.run("install", "--browser", "chromium", "vivaldi", "--no-check")

    status, out = world.run("uninstall", "--browser", "chromium")
    assert status == 0, out
    assert not (world.home / ".config" / "chromium").exists()
    assert launcher.is_file()
    assert "still registered" in out and "vivaldi" in out

    status, out = world.run("uninstall", "--browser", "vivaldi")
    assert status == 0, out
    assert not launcher.exists()


def test_uninstall_keeps_the_catalog_and_config_and_removes_only_a_marked_venv(
    world_factory: World,
) -> None:
    world = world_factory("linux")
    world.run("install", "--browser", "chromium", "--no-check")
    data = world.machine.data_dir
    catalog = data / "catalogs" / "models.json"
    catalog.parent.mkdir(parents=True)
    catalog.write_text('{"version": 3}')
    venv = data / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (venv / VENV_MARKER).write_text("created by install/install.sh\n")

    status, out = world.run("uninstall", "--dry-run", "--remove-venv")
    assert status == 0 and venv.is_dir() and "would remove virtual environment" in out

    status, out = world.run("uninstall", "--remove-venv")
    assert status == 0, out
    assert not venv.exists()
    assert not (data / "bin").exists()
    assert catalog.read_text() == '{"version": 3}'
    assert world.machine.config_path.is_file()
    assert "Kept: config file" in out


def test_a_venv_without_the_marker_is_never_removed(world_factory: World) -> None:
    world = world_factory("linux")
    venv = world.machine.data_dir / "venv"
    venv.mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    status, out = world.run("uninstall", "--remove-venv")
    assert status == 0
    assert venv.is_dir()
    assert "no venv removed" in out


def test_uninstall_removes_a_manifest_left_by_an_older_install(world_factory: World) -> None:
    world = world_factory("linux")
    stale = world.home / ".config" / "google-chrome" / "NativeMessagingHosts" / f"{NAME}.json"
    stale.parent.mkdir(parents=True)
    stale.write_text(json.dumps({"name": NAME, "path": "/old/launcher"}))
    (world.home / ".config" / "google-chrome" / "Preferences").write_text("{}")
    status, out = world.run("uninstall")
    assert status == 0, out
    assert not stale.exists() and not stale.parent.exists()
    assert (world.home / ".config" / "google-chrome" / "Preferences").is_file()  # theirs: kept


def test_windows_uninstall_deletes_the_keys_and_their_manifests(world_factory: World) -> None:
    world = world_factory("windows", system_venv=True)
    world.run("install", "--no-check")
    world.run("install", "--system", "--no-check")
    assert len(world.registry.values) == 8  # 4 families x HKCU, HKLM
    status, out = world.run("uninstall")
    assert status == 0, out
    assert {hive for hive, _ in world.registry.values} == {"HKLM"}
    status, out = world.run("uninstall", "--system")
    assert status == 0, out
    assert world.registry.values == {}
    assert list(world.tmp.rglob(f"{NAME}.json")) == []
