"""Firefox: registered like the Chromium family but with add-on ids (`allowed_extensions`),
found automatically, checked by doctor (a wrong or missing add-on id looks, from the
extension, exactly like a missing host), pinged with Firefox's own arguments."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from host.installer.launcher import Interpreter
from tests.installer.world import FakeWorld

NAME = "com.civitai_catalog.host"
STUB = "jpiddlinckgdlidmojineffgcdpfoacg"
GECKO = "catalog-host-stub@catalog-host.local"
OTHER_GECKO = "{0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0}"
World = Callable[..., FakeWorld]


def firefox_manifest(world: FakeWorld) -> Path:
    return world.home / ".mozilla" / "native-messaging-hosts" / f"{NAME}.json"


@pytest.fixture
def firefox(world_factory: World, real_interp: Interpreter) -> FakeWorld:
    world = world_factory("linux", interp=real_interp)
    status, out = world.run("install", "--browser", "firefox")
    assert status == 0, out
    assert f"Self-check: ping through the launcher as Firefox add-on {GECKO}: OK" in out
    assert f"Add-ons:    {GECKO} (Firefox)" in out
    return world


def test_install_writes_a_firefox_manifest_and_the_add_on_ids_to_the_config(
    firefox: FakeWorld,
) -> None:
    manifest = json.loads(firefox_manifest(firefox).read_text())
    assert manifest["allowed_extensions"] == [GECKO] and "allowed_origins" not in manifest
    assert Path(manifest["path"]).is_file()
    config = json.loads(firefox.machine.config_path.read_text())
    assert config["firefox_extension_ids"] == [GECKO] and config["extension_ids"] == [STUB]


def test_doctor_passes_with_a_real_ping_as_firefox(firefox: FakeWorld) -> None:
    status, out = firefox.run("doctor", "--browser", "firefox")
    assert status == 0, out
    assert "Firefox [firefox]" in out and str(firefox_manifest(firefox)) in out
    assert "/usr/lib/mozilla/native-messaging-hosts" in out
    assert "answers ping: catalog-host" in out
    assert f"firefox add-ons  {GECKO}" in out


@pytest.mark.parametrize(("allowed", "expected"), [
    ({"allowed_extensions": ["someone-else@example.com"]},
     f"does not allow the configured Firefox add-on id(s) ['{GECKO}']"),
    ({"allowed_extensions": []}, f"does not allow the configured Firefox add-on id(s) ['{GECKO}']"),
    ({}, "has no allowed_extensions"),
    ({"allowed_origins": [f"chrome-extension://{STUB}/"]},
     "has no allowed_extensions (it has allowed_origins: a Chrome manifest)"),
    ({"allowed_extensions": "catalog-host-stub@catalog-host.local"},
     "allowed_extensions is not a list of add-on ids"),
])
def test_doctor_tells_a_wrong_or_missing_add_on_id_from_a_missing_host(
    firefox: FakeWorld, allowed: dict[str, object], expected: str
) -> None:
    path = firefox_manifest(firefox)
    data = json.loads(path.read_text())
    del data["allowed_extensions"]
    path.write_text(json.dumps({**data, **allowed}))
    status, out = firefox.run("doctor", "--browser", "firefox")
    assert status == 1, out
    assert expected in out
    if "not a list" not in expected:
        assert "No such native application" in out
    assert "install --browser firefox" in out  # the fix


def test_another_add_on_id_is_configured_for_both_manifest_and_host(firefox: FakeWorld) -> None:
    status, out = firefox.run("install", "--browser", "firefox", "--extension-id", OTHER_GECKO)
    assert status == 0, out  # the self-check ping passes: the host allows the new id too
    assert json.loads(firefox_manifest(firefox).read_text())["allowed_extensions"] == [OTHER_GECKO]
    config = json.loads(firefox.machine.config_path.read_text())
    assert config["firefox_extension_ids"] == [OTHER_GECKO] and config["extension_ids"] == [STUB]
    status, out = firefox.run("doctor", "--browser", "firefox")
    assert status == 0, out

    # The config now names another add-on than the manifest allows: doctor says so.
    config["firefox_extension_ids"] = [GECKO]
    firefox.machine.config_path.write_text(json.dumps(config))
    status, out = firefox.run("doctor", "--browser", "firefox")
    assert status == 1 and f"add-on id(s) ['{GECKO}']" in out


def test_firefox_and_chromium_ids_mix_on_one_command_line(world_factory: World) -> None:
    world = world_factory("linux")
    status, out = world.run("install", "--browser", "firefox", "chromium", "--no-check",
                            "--extension-id", OTHER_GECKO, STUB)
    assert status == 0, out
    assert json.loads(firefox_manifest(world).read_text())["allowed_extensions"] == [OTHER_GECKO]
    chromium = world.home / ".config" / "chromium" / "NativeMessagingHosts" / f"{NAME}.json"
    assert json.loads(chromium.read_text())["allowed_origins"] == [f"chrome-extension://{STUB}/"]


@pytest.mark.parametrize("evidence", ["profile", "command"])
def test_firefox_is_found_automatically(world_factory: World, evidence: str) -> None:
    world = world_factory("linux")
    if evidence == "profile":
        (world.home / ".mozilla" / "firefox").mkdir(parents=True)
    else:
        world.machine.which = lambda name: "/usr/bin/firefox-esr" if name == "firefox-esr" else None
    status, out = world.run("install", "--no-check")
    assert status == 0, out
    assert firefox_manifest(world).is_file()
    assert list((world.home / ".config").rglob(f"{NAME}.json")) == []  # no Chromium found


def test_macos_firefox_is_found_by_its_app_and_uses_mozilla_s_folder(world_factory: World) -> None:
    world = world_factory("macos")
    (world.tmp / "root" / "Applications" / "Firefox.app").mkdir(parents=True)
    status, out = world.run("install", "--no-check")
    assert status == 0, out
    support = world.home / "Library" / "Application Support"
    assert [p.relative_to(support).as_posix() for p in support.rglob(f"{NAME}.json")] == [
        f"Mozilla/NativeMessagingHosts/{NAME}.json"]


def test_windows_firefox_is_found_by_its_registry_key(world_factory: World) -> None:
    world = world_factory("windows")
    world.registry.add_key("HKLM", r"Software\Mozilla\Mozilla Firefox")
    status, out = world.run("doctor", "--browser", "firefox")
    assert "Firefox [firefox]: registry key HKLM\\Software\\Mozilla\\Mozilla Firefox exists" in out
    assert "Firefox is installed but the host is not registered" in out


# --- the Firefox snap: hosts started by the desktop's WebExtensions portal ----------------------

def snap_firefox_only(world: FakeWorld) -> None:
    """Ubuntu 22.04 and later: Firefox is the snap (its profile under ~/snap), nothing else."""
    (world.tmp / "root" / "snap" / "firefox").mkdir(parents=True)
    (world.home / "snap" / "firefox" / "common" / ".mozilla" / "firefox").mkdir(parents=True)


def test_a_snap_firefox_is_found_and_registered_in_the_usual_folder_with_the_portal_note(
    world_factory: World, real_interp: Interpreter
) -> None:
    world = world_factory("linux", interp=real_interp)
    snap_firefox_only(world)
    status, out = world.run("install")  # no --browser: the snap alone counts as found
    assert status == 0, out
    # the portal reads ~/.mozilla/native-messaging-hosts (not the snap's own ~/snap/... copy)
    manifest = json.loads(firefox_manifest(world).read_text())
    assert manifest["allowed_extensions"] == [GECKO]
    assert not list((world.home / "snap").rglob(f"{NAME}.json"))
    assert ("Note: Firefox is installed as a snap: it has the desktop's WebExtensions portal "
            "start catalog-host") in out
    assert "asks you once whether Firefox may start it" in out
    assert "cannot start host programs" not in out
    # the portal starts the launcher with Firefox's arguments, as the self-check does
    assert f"Self-check: ping through the launcher as Firefox add-on {GECKO}: OK" in out

    status, out = world.run("doctor", "--browser", "firefox")
    assert status == 0, out
    assert f"Firefox [firefox]: snap firefox ({world.tmp / 'root' / 'snap' / 'firefox'})" in out
    assert "answers ping: catalog-host" in out
    assert "  note    Firefox is installed as a snap: it has the desktop's WebExtensions portal" in out
    assert "cannot start host programs" not in out and "Warning: Firefox" not in out
    assert "Result: OK" in out


def test_an_unregistered_snap_firefox_is_a_warning_with_the_command(world_factory: World) -> None:
    world = world_factory("linux")
    snap_firefox_only(world)
    status, out = world.run("doctor", "--browser", "firefox")
    assert status == 1
    assert "Firefox is installed but the host is not registered with it" in out
    assert "install --browser firefox" in out


def test_a_flatpak_firefox_still_cannot_start_hosts(world_factory: World) -> None:
    world = world_factory("linux")
    (world.home / ".var" / "app" / "org.mozilla.firefox").mkdir(parents=True)
    status, out = world.run("install", "--browser", "firefox", "--no-check")
    assert status == 0, out
    assert "Firefox is installed as a flatpak: sandboxed browsers cannot start host programs" in out
    status, _ = world.run("install", "--no-check")
    assert status == 1  # not counted as found: nothing else is on this machine


def test_user_data_dir_is_refused_for_firefox(
    world_factory: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world = world_factory("linux")
    before = world.snapshot()
    status, _ = world.run("install", "--browser", "firefox", "--user-data-dir", "x", "--no-check")
    assert status == 1
    assert "--user-data-dir is a Chromium flag" in capsys.readouterr().err
    assert world.snapshot() == before


@pytest.mark.parametrize("bad", ["no-at-sign", "a@b c", "{not-a-uuid}", "@"])
def test_a_malformed_add_on_id_is_refused_before_writing(
    world_factory: World, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    world = world_factory("linux")
    before = world.snapshot()
    status, _ = world.run("install", "--browser", "firefox", "--no-check", "--extension-id", bad)
    assert status == 1
    assert "nor a Firefox add-on id" in capsys.readouterr().err
    assert world.snapshot() == before


def test_uninstall_removes_the_firefox_registration(firefox: FakeWorld) -> None:
    status, out = firefox.run("uninstall", "--browser", "firefox")
    assert status == 0, out
    assert not firefox_manifest(firefox).exists()
    assert not (firefox.machine.data_dir / "bin" / "catalog-host").exists()
    status, out = firefox.run("doctor", "--browser", "firefox")
    assert status == 1 and "not registered" in out
