"""doctor: per browser where it looks and what is there, a real ping through each launcher,
the config in force with the key masked, a non-zero exit with the fix when something is wrong."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from host.installer.launcher import Interpreter
from tests.installer.world import FakeWorld, real_system_venv, write_script

NAME = "com.civitai_catalog.host"
STUB = "jpiddlinckgdlidmojineffgcdpfoacg"
OTHER = "abcdefghijklmnopabcdefghijklmnop"
World = Callable[..., FakeWorld]


@pytest.fixture
def healthy(world_factory: World, real_interp: Interpreter) -> FakeWorld:
    world = world_factory("linux", interp=real_interp)
    status, out = world.run("install", "--browser", "chromium", "--models-dir",
                            str(world.tmp / "models"))
    assert status == 0, out
    return world


def chromium_manifest(world: FakeWorld) -> Path:
    return world.home / ".config" / "chromium" / "NativeMessagingHosts" / f"{NAME}.json"


def test_a_healthy_install_passes_with_a_real_ping(healthy: FakeWorld) -> None:
    config = json.loads(healthy.machine.config_path.read_text())
    config["civitai_api_key"] = "sk-very-secret-9876"
    healthy.machine.config_path.write_text(json.dumps(config))
    (healthy.tmp / "models").mkdir()

    status, out = healthy.run("doctor", "--browser", "chromium")
    assert status == 0, out
    assert str(chromium_manifest(healthy)) in out
    assert "/etc/chromium/native-messaging-hosts" in out  # where it looks at system level
    assert "answers ping: catalog-host" in out
    assert "valid, allows the configured extension ids" in out
    assert "****9876" in out and "sk-very-secret" not in out
    assert str(healthy.tmp / "models") + " (exists)" in out
    assert "Result: OK" in out


def test_nothing_registered_fails_and_says_to_install(world_factory: World) -> None:
    world = world_factory("linux")
    status, out = world.run("doctor")
    assert status == 1
    assert "not registered" in out and "-m host install" in out


def test_wrong_extension_id_fails(healthy: FakeWorld) -> None:
    data = json.loads(chromium_manifest(healthy).read_text())
    data["allowed_origins"] = [f"chrome-extension://{OTHER}/"]
    chromium_manifest(healthy).write_text(json.dumps(data))
    status, out = healthy.run("doctor", "--browser", "chromium")
    assert status == 1
    assert f"does not allow the configured extension id(s) ['{STUB}']" in out
    assert "fix: re-run" in out and "install --browser chromium" in out


def test_wildcard_origin_and_relative_path_are_reported(healthy: FakeWorld) -> None:
    data = json.loads(chromium_manifest(healthy).read_text())
    data["allowed_origins"].append("chrome-extension://*/")
    data["path"] = "bin/catalog-host"
    chromium_manifest(healthy).write_text(json.dumps(data))
    status, out = healthy.run("doctor", "--browser", "chromium")
    assert status == 1
    assert "entries Chrome rejects" in out and "is not absolute" in out


def test_missing_launcher_fails(healthy: FakeWorld) -> None:
    (healthy.machine.data_dir / "bin" / "catalog-host").unlink()
    status, out = healthy.run("doctor", "--browser", "chromium")
    assert status == 1
    assert "catalog-host does not exist" in out


def test_a_launcher_that_does_not_answer_ping_fails(healthy: FakeWorld) -> None:
    launcher = healthy.machine.data_dir / "bin" / "catalog-host"
    write_script(launcher, "#!/bin/sh\necho 'Traceback: oops' >&2\nexit 3\n")
    status, out = healthy.run("doctor", "--browser", "chromium")
    assert status == 1
    assert "does not answer ping: exited with status 3 without replying" in out
    assert "Traceback: oops" in out


def test_a_broken_user_manifest_shadowing_a_working_system_one(
    world_factory: World, tmp_path: Path
) -> None:
    world = world_factory("linux", interp=real_system_venv(tmp_path))
    status, out = world.run("install", "--browser", "chromium", "--system")
    assert "Self-check: ping through the launcher" in out and ": OK:" in out
    assert status == 0, out
    chromium_manifest(world).parent.mkdir(parents=True)
    chromium_manifest(world).write_text("{ broken")
    status, out = world.run("doctor", "--browser", "chromium")
    assert status == 1
    assert "not valid JSON" in out
    assert "shadows the working system-wide one" in out
    assert f"delete {chromium_manifest(world)}" in out


def test_profile_folder_is_checked_alone(world_factory: World, real_interp: Interpreter) -> None:
    world = world_factory("linux", interp=real_interp)
    profile = world.tmp / "profile"
    world.run("install", "--user-data-dir", str(profile), "--no-check")
    status, out = world.run("doctor", "--user-data-dir", str(profile))
    assert status == 0, out
    assert "answers ping" in out and "Google Chrome" not in out


def test_snap_browser_is_a_plain_warning(healthy: FakeWorld) -> None:
    (healthy.tmp / "root" / "snap" / "chromium").mkdir(parents=True)
    status, out = healthy.run("doctor", "--browser", "chromium")
    assert status == 0, out
    assert "Chromium is installed as a snap" in out and "cannot start host programs" in out


def test_found_but_unregistered_browser_is_a_warning_with_the_command(healthy: FakeWorld) -> None:
    (healthy.home / ".config" / "vivaldi").mkdir()
    status, out = healthy.run("doctor", "--browser", "chromium", "vivaldi")
    assert status == 0, out
    assert "Vivaldi is installed but the host is not registered" in out
    assert "install --browser vivaldi" in out


def test_unusable_config_file_fails(healthy: FakeWorld) -> None:
    healthy.machine.config_path.write_text("[]")
    status, out = healthy.run("doctor", "--browser", "chromium")
    assert status == 1
    assert "the config file is unusable" in out


def test_windows_registry_is_followed_to_the_manifest_and_launcher(
    world_factory: World, tmp_path: Path
) -> None:
    world = world_factory("windows")
    key = rf"Software\Google\Chrome\NativeMessagingHosts\{NAME}"
    world.registry.set_default("HKCU", key, str(tmp_path / "gone.json"))
    status, out = world.run("doctor", "--browser", "chrome")
    assert status == 1
    assert rf"HKCU\{key}" in out and "gone.json, which does not exist" in out

    # A key naming a manifest whose launcher answers ping (a stand-in host, as .exe cannot run
    # here): the registration is found and works.
    host = write_script(tmp_path / "fake host", f"#!{sys.executable}\n" + FAKE_HOST)
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({
        "name": NAME, "description": "d", "path": str(host), "type": "stdio",
        "allowed_origins": [f"chrome-extension://{STUB}/"]}))
    world.registry.set_default("HKCU", key, str(manifest))
    status, out = world.run("doctor", "--browser", "chrome")
    assert status == 0, out
    assert "answers ping: catalog-host 9.9.9, protocol 1" in out


# A minimal host: one framed ping in, one framed reply out (stdlib only).
FAKE_HOST = """
import json, struct, sys
size, = struct.unpack("=I", sys.stdin.buffer.read(4))
request = json.loads(sys.stdin.buffer.read(size))
reply = json.dumps({"id": request["id"], "ok": True,
                    "result": {"host": "catalog-host", "version": "9.9.9", "protocol": 1}}).encode()
sys.stdout.buffer.write(struct.pack("=I", len(reply)) + reply)
"""


def test_doctor_lists_the_model_folders_and_names_a_broken_yaml(healthy: FakeWorld) -> None:
    good = healthy.tmp / "extra_model_paths.yaml"
    good.write_text(f"disk2:\n  base_path: {healthy.tmp / 'disk2'}\n  unet: |\n    big\n    more\n", "utf-8")
    bad = healthy.tmp / "broken.yaml"
    bad.write_text("loras: [unclosed\n", "utf-8")
    config = json.loads(healthy.machine.config_path.read_text())
    config["extra_model_paths"] = [str(good), str(bad)]
    healthy.machine.config_path.write_text(json.dumps(config))
    (healthy.tmp / "models").mkdir()

    status, out = healthy.run("doctor", "--browser", "chromium")
    assert status == 1, out
    models = healthy.tmp / "models"
    line = next(row for row in out.splitlines() if row.strip().startswith("diffusion_models"))
    assert (f"{models / 'unet'} (absent); {models / 'diffusion_models'} (absent); "
            f"{healthy.tmp / 'disk2' / 'big'} (absent); {healthy.tmp / 'disk2' / 'more'} (absent)") in line
    assert f"{bad} is not valid YAML" in out and "the main models folder keeps working" in out
def test_browsers_not_found_are_listed_on_one_line(healthy: FakeWorld) -> None:
    (healthy.home / ".config" / "vivaldi").mkdir()
    status, out = healthy.run("doctor")
    assert status == 0, out
    lines = [line for line in out.splitlines() if line.startswith("Not found on this machine")]
    assert lines == ["Not found on this machine (nothing registered): Google Chrome, "
                     "Google Chrome Beta, Google Chrome Dev, Google Chrome Canary, Microsoft Edge, "
                     "Microsoft Edge Beta, Microsoft Edge Dev, Brave, Opera, Firefox"]
    # Found or registered browsers keep their own block.
    assert "Chromium [chromium]:" in out and "Vivaldi [vivaldi]:" in out
    assert "Brave [brave]" not in out


def test_a_system_manifest_naming_a_launcher_in_a_home_is_broken(healthy: FakeWorld) -> None:
    """What --system used to write (issue 11 D): /etc naming the user's own launcher."""
    user_manifest = chromium_manifest(healthy)
    system = healthy.tmp / "root" / "etc" / "chromium" / "native-messaging-hosts" / f"{NAME}.json"
    system.parent.mkdir(parents=True)
    system.write_bytes(user_manifest.read_bytes())
    user_manifest.unlink()
    status, out = healthy.run("doctor", "--browser", "chromium")
    assert status == 1
    assert "the system-wide manifest names a launcher outside" in out
    assert str(healthy.tmp / "root" / "opt" / "catalog-host") in out


def test_an_hklm_key_naming_a_manifest_in_a_home_is_broken(world_factory: World) -> None:
    world = world_factory("windows")
    status, out = world.run("install", "--browser", "firefox", "--no-check")
    assert status == 0, out
    key = rf"Software\Mozilla\NativeMessagingHosts\{NAME}"
    user_manifest = world.registry.get_default("HKCU", key)
    assert user_manifest
    world.registry.set_default("HKLM", key, user_manifest)  # what a careless system install did
    status, out = world.run("doctor", "--browser", "firefox")
    assert status == 1
    assert "the HKLM key names a manifest outside" in out
    assert "launcher outside" in out  # the venv's exe is in the user's folders too
