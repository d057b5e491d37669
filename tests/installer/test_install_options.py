"""install's options: which browsers by default, folders from the environment, the profile
folder (--user-data-dir), the extension ids, and the config file it merges into."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.installer.world import FakeWorld

NAME = "com.civitai_catalog.host"
STUB = "jpiddlinckgdlidmojineffgcdpfoacg"
OTHER = "abcdefghijklmnopabcdefghijklmnop"
World = Callable[..., FakeWorld]


def hosts_file(folder: Path) -> Path:
    return folder / "NativeMessagingHosts" / f"{NAME}.json"


def mark_used(folder: Path) -> None:
    """A browser that has run leaves its profile folder (never empty)."""
    folder.mkdir(parents=True)
    (folder / "Local State").write_text("{}")


# --- which browsers --------------------------------------------------------------------------


def test_default_registers_only_the_browsers_found(world_factory: World) -> None:
    world = world_factory("linux")
    mark_used(world.home / ".config" / "vivaldi")
    mark_used(world.home / ".config" / "BraveSoftware" / "Brave-Browser")
    status, out = world.run("install", "--no-check")
    assert status == 0, out
    config = world.home / ".config"
    assert hosts_file(config / "vivaldi").is_file()
    assert hosts_file(config / "BraveSoftware" / "Brave-Browser").is_file()
    written = sorted(p.relative_to(config).as_posix() for p in config.rglob(f"{NAME}.json"))
    assert written == [f"BraveSoftware/Brave-Browser/NativeMessagingHosts/{NAME}.json",
                       f"vivaldi/NativeMessagingHosts/{NAME}.json"]


def test_a_browser_on_path_counts_as_found(world_factory: World) -> None:
    world = world_factory("linux")
    world.machine.which = lambda name: "/usr/bin/chromium" if name == "chromium" else None
    status, out = world.run("install", "--no-check")
    assert status == 0, out
    assert hosts_file(world.home / ".config" / "chromium").is_file()
    assert not (world.home / ".config" / "google-chrome").exists()


def test_a_macos_app_bundle_counts_as_found(world_factory: World) -> None:
    world = world_factory("macos")
    (world.tmp / "root" / "Applications" / "Microsoft Edge.app").mkdir(parents=True)
    status, out = world.run("install", "--no-check")
    assert status == 0, out
    support = world.home / "Library" / "Application Support"
    assert hosts_file(support / "Microsoft Edge").is_file()
    assert len(list(support.rglob(f"{NAME}.json"))) == 1


def test_no_browser_found_is_an_error_that_names_the_fix(
    world_factory: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world = world_factory("linux")
    before = world.snapshot()
    status, _ = world.run("install", "--no-check")
    assert status == 1
    err = capsys.readouterr().err
    assert "found no browser on this machine" in err and "--browser" in err
    assert world.snapshot() == before


def test_windows_default_writes_every_family_key(world_factory: World) -> None:
    world = world_factory("windows")
    status, out = world.run("install", "--no-check")
    assert status == 0, out
    keys = {key for _hive, key in world.registry.values}
    assert keys == {
        rf"software\google\chrome\nativemessaginghosts\{NAME}",
        rf"software\chromium\nativemessaginghosts\{NAME}",
        rf"software\microsoft\edge\nativemessaginghosts\{NAME}",
        rf"software\mozilla\nativemessaginghosts\{NAME}",
    }
    for (_hive, key), value in world.registry.values.items():
        assert value is not None
        manifest = json.loads(Path(value).read_text("utf-8"))
        assert manifest["path"] == str(world.interp.scripts_dir / "catalog-host.exe")
        if "mozilla" in key:
            assert manifest["allowed_extensions"] == ["catalog-host-stub@catalog-host.local"]
        else:
            assert manifest["allowed_origins"] == [f"chrome-extension://{STUB}/"]


def test_all_registers_every_browser_and_unknown_names_are_refused(
    world_factory: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world = world_factory("linux")
    status, _ = world.run("install", "--browser", "netscape", "--no-check")
    assert status == 1
    assert "unknown browser 'netscape'" in capsys.readouterr().err
    status, out = world.run("install", "--browser", "all", "--no-check")
    assert status == 0, out
    assert len(list((world.home / ".config").rglob(f"{NAME}.json"))) == 11  # Opera shares Chrome's


@pytest.mark.parametrize("kind", ["snap", "flatpak"])
def test_sandboxed_browsers_are_named_plainly_and_not_counted_as_found(
    world_factory: World, kind: str
) -> None:
    world = world_factory("linux")
    if kind == "snap":
        (world.tmp / "root" / "snap" / "chromium").mkdir(parents=True)
    else:
        (world.home / ".var" / "app" / "org.chromium.Chromium").mkdir(parents=True)
    mark_used(world.home / ".config" / "google-chrome")
    status, out = world.run("install", "--no-check")
    assert status == 0, out
    assert f"Chromium is installed as a {kind}" in out
    assert "cannot start host programs" in out
    assert not (world.home / ".config" / "chromium").exists()
    assert hosts_file(world.home / ".config" / "google-chrome").is_file()


# --- where: environment and profile folders --------------------------------------------------


def test_xdg_config_home_is_honoured(world_factory: World, tmp_path: Path) -> None:
    xdg = tmp_path / "xdg config"
    world = world_factory("linux", env={"XDG_CONFIG_HOME": str(xdg)})
    status, out = world.run("install", "--browser", "chromium", "--no-check")
    assert status == 0, out
    assert hosts_file(xdg / "chromium").is_file()
    assert not (world.home / ".config" / "chromium").exists()


def test_chrome_config_home_wins_over_xdg(world_factory: World, tmp_path: Path) -> None:
    world = world_factory("linux", env={"XDG_CONFIG_HOME": str(tmp_path / "xdg"),
                                        "CHROME_CONFIG_HOME": str(tmp_path / "cch")})
    status, out = world.run("install", "--browser", "chrome", "--no-check")
    assert status == 0, out
    assert hosts_file(tmp_path / "cch" / "google-chrome").is_file()


@pytest.mark.parametrize("os_name", ["linux", "macos"])
def test_user_data_dir_writes_only_that_profile_folder(
    world_factory: World, tmp_path: Path, os_name: str
) -> None:
    profile = tmp_path / "a profile"
    profile.mkdir()
    world = world_factory(os_name)
    status, out = world.run("install", "--browser", "chromium", "--user-data-dir", str(profile),
                            "--no-check")
    assert status == 0, out
    assert json.loads(hosts_file(profile).read_text())["name"] == NAME
    assert list(tmp_path.rglob(f"{NAME}.json")) == [hosts_file(profile)]
    status, out = world.run("uninstall", "--browser", "chromium", "--user-data-dir", str(profile))
    assert status == 0, out
    assert profile.is_dir() and list(profile.iterdir()) == []


def test_user_data_dir_notes_browsers_that_ignore_it(world_factory: World, tmp_path: Path) -> None:
    world = world_factory("linux")
    status, out = world.run("install", "--browser", "brave", "--user-data-dir",
                            str(tmp_path / "p"), "--no-check")
    assert status == 0
    assert "Brave ignores --user-data-dir" in out


@pytest.mark.parametrize(("os_name", "args", "message"), [
    ("windows", ["--user-data-dir", "x"], "does not apply on Windows"),
    ("linux", ["--user-data-dir", "x", "--system"], "cannot be combined"),
])
def test_impossible_combinations_are_refused(
    world_factory: World, capsys: pytest.CaptureFixture[str], os_name: str, args: list[str],
    message: str,
) -> None:
    world = world_factory(os_name)
    before = world.snapshot()
    status, _ = world.run("install", *args, "--no-check")
    assert status == 1
    assert message in capsys.readouterr().err
    assert world.snapshot() == before and world.registry.values == {}


def test_system_without_rights_says_to_use_sudo(
    world_factory: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests may run as root, which ignores permissions: refuse the write the way /etc would.
    import host.installer.actions as actions

    def refuse(path: Path, content: bytes, mode: int) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(actions, "write_atomically", refuse)
    world = world_factory("linux", system_venv=True)
    status, _ = world.run("install", "--browser", "chromium", "--system", "--no-check")
    assert status == 1
    err = capsys.readouterr().err
    assert "permission denied" in err and "sudo" in err


# --- extension ids and the config file -------------------------------------------------------


def read_manifest(world: FakeWorld, browser_folder: str = "chromium") -> dict[str, object]:
    data: dict[str, object] = json.loads(
        hosts_file(world.home / ".config" / browser_folder).read_text())
    return data


def test_extension_ids_become_exact_origins(world_factory: World) -> None:
    world = world_factory("linux")
    status, out = world.run("install", "--browser", "chromium", "--no-check", "--extension-id",
                            OTHER, f"chrome-extension://{STUB}/", "--extension-id", OTHER)
    assert status == 0, out
    assert read_manifest(world)["allowed_origins"] == [
        f"chrome-extension://{OTHER}/", f"chrome-extension://{STUB}/"]
    config = json.loads(world.machine.config_path.read_text())
    assert config["extension_ids"] == [OTHER, STUB]


def test_re_install_without_ids_keeps_the_configured_ones(world_factory: World) -> None:
    world = world_factory("linux")
    world.run("install", "--browser", "chromium", "--no-check", "--extension-id", OTHER)
    status, out = world.run("install", "--browser", "chromium", "--no-check")
    assert status == 0, out
    assert read_manifest(world)["allowed_origins"] == [f"chrome-extension://{OTHER}/"]


@pytest.mark.parametrize("bad", ["ABCDEFGHIJKLMNOPABCDEFGHIJKLMNOP", "short", "*",
                                 "chrome-extension://*/", "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"])
def test_a_malformed_extension_id_is_refused_before_writing(
    world_factory: World, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    world = world_factory("linux")
    before = world.snapshot()
    status, _ = world.run("install", "--browser", "chromium", "--no-check", "--extension-id", bad)
    assert status == 1
    assert "is not a Chrome extension id" in capsys.readouterr().err
    assert world.snapshot() == before


def test_config_is_merged_not_clobbered(world_factory: World, tmp_path: Path) -> None:
    world = world_factory("linux")
    world.machine.config_path.parent.mkdir(parents=True)
    world.machine.config_path.write_text(json.dumps({
        "civitai_api_key": "secret-key-1234", "my_own_key": [1, 2], "models_dir": "/old",
    }))
    world.machine.config_path.chmod(0o640)
    status, out = world.run("install", "--browser", "chromium", "--no-check",
                            "--models-dir", str(tmp_path / "models dir"),
                            "--catalog-dir", str(tmp_path / "cat"))
    assert status == 0, out
    config = json.loads(world.machine.config_path.read_text())
    assert config == {
        "civitai_api_key": "secret-key-1234",
        "my_own_key": [1, 2],
        "models_dir": str(tmp_path / "models dir"),
        "extension_ids": [STUB],
        "catalog_dir": str(tmp_path / "cat"),
    }
    assert list(config)[:3] == ["civitai_api_key", "my_own_key", "models_dir"]  # order kept
    assert world.machine.config_path.stat().st_mode & 0o777 == 0o640
    assert "secret-key-1234" not in out


def test_a_new_config_file_is_private_and_names_the_default_catalog(world_factory: World) -> None:
    world = world_factory("linux")
    world.run("install", "--browser", "chromium", "--no-check")
    assert world.machine.config_path.stat().st_mode & 0o777 == 0o600
    config = json.loads(world.machine.config_path.read_text())
    assert config == {"extension_ids": [STUB],
                      "catalog_dir": str(world.machine.data_dir / "catalogs")}


def test_a_configured_catalog_dir_is_kept(world_factory: World) -> None:
    world = world_factory("linux")
    world.machine.config_path.parent.mkdir(parents=True)
    world.machine.config_path.write_text('{"catalog_dir": "/srv/ComfyUI Studio/catalogs"}')
    world.run("install", "--browser", "chromium", "--no-check")
    config = json.loads(world.machine.config_path.read_text())
    assert config["catalog_dir"] == "/srv/ComfyUI Studio/catalogs"


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"])
def test_a_broken_config_file_stops_the_install_untouched(
    world_factory: World, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    world = world_factory("linux")
    world.machine.config_path.parent.mkdir(parents=True)
    world.machine.config_path.write_text(content)
    before = world.snapshot()
    status, _ = world.run("install", "--browser", "chromium", "--no-check")
    assert status == 1
    assert str(world.machine.config_path) in capsys.readouterr().err
    assert world.snapshot() == before


def test_install_prints_what_was_registered_and_where_things_are(world_factory: World) -> None:
    world = world_factory("linux")
    status, out = world.run("install", "--browser", "chromium", "edge", "--no-check")
    assert status == 0, out
    for text in ("Registered com.civitai_catalog.host for:", "Chromium", "Microsoft Edge",
                 f"Config:     {world.machine.config_path}", "Logs:", "Catalog:",
                 "-m host uninstall", "-m host doctor", f"Extensions: {STUB}"):
        assert text in out


# --- system-wide installs (issue 11 D) ---------------------------------------------------------

SYSTEM_DIRS = {"linux": "root/opt/catalog-host",
               "macos": "root/Library/Application Support/catalog-host",
               "windows": "root/Program Files/catalog-host"}


@pytest.mark.parametrize("os_name", ["linux", "macos", "windows"])
def test_system_install_runs_root_owned_code_and_writes_nothing_in_the_home(
    world_factory: World, os_name: str
) -> None:
    world = world_factory(os_name, system_venv=True)
    home_before = {p for p in world.snapshot() if p.startswith("home/")}
    status, out = world.run("install", "--browser", "chromium", "--system", "--no-check")
    assert status == 0, out
    system = world.tmp / SYSTEM_DIRS[os_name]
    manifests = ([Path(v) for v in world.registry.values.values() if v] if os_name == "windows"
                 else list((world.tmp / "root").rglob(f"{NAME}.json")))
    assert len(manifests) == 1
    launcher = Path(json.loads(manifests[0].read_text())["path"])
    assert system in launcher.parents  # the launcher, and (checked below) what it runs
    if os_name == "windows":
        assert system in manifests[0].parents  # HKLM names a manifest only admins can change
    else:
        script = launcher.read_text()
        assert f"exec {system}/venv/bin/python3 -I -c" in script.replace("'", "")
        assert "CATALOG_HOST_CONFIG" not in script  # every user reads their own config
    # Not one file or folder written under the home (no root-owned file where the user lives).
    assert {p for p in world.snapshot() if p.startswith("home/")} == home_before

    status, out = world.run("uninstall", "--browser", "chromium", "--system")
    assert status == 0, out
    assert not launcher.exists() or os_name == "windows"
    assert world.registry.values == {}


@pytest.mark.parametrize("os_name", ["linux", "macos", "windows"])
def test_system_install_refuses_an_interpreter_outside_the_system_folder(
    world_factory: World, capsys: pytest.CaptureFixture[str], os_name: str
) -> None:
    world = world_factory(os_name)  # the product venv lives in the user's folders
    before = world.snapshot()
    status, _ = world.run("install", "--browser", "chromium", "--system", "--no-check")
    assert status == 1
    err = capsys.readouterr().err
    assert "a system-wide install must run from a virtual environment in" in err
    assert str(world.tmp / SYSTEM_DIRS[os_name]) in err and "--system" in err
    assert world.snapshot() == before and world.registry.values == {}


def test_system_install_refuses_per_user_folders(
    world_factory: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world = world_factory("linux", system_venv=True)
    before = world.snapshot()
    status, _ = world.run("install", "--browser", "chromium", "--system", "--no-check",
                          "--models-dir", str(world.tmp / "m"))
    assert status == 1
    assert "each user's own settings" in capsys.readouterr().err
    assert world.snapshot() == before


def test_system_install_refuses_a_link_from_the_system_folder_to_a_venv_in_a_home(
    world_factory: World, capsys: pytest.CaptureFixture[str]
) -> None:
    from host.installer.launcher import Interpreter

    world = world_factory("linux", system_venv=True)
    home_venv = world.home / "venv"
    (home_venv / "bin").mkdir(parents=True)
    system = world.tmp / SYSTEM_DIRS["linux"]
    (system / "linked").parent.mkdir(parents=True, exist_ok=True)
    (system / "linked").symlink_to(home_venv)
    world.interp = Interpreter(python=str(system / "linked" / "bin" / "python3"),
                               scripts_dir=system / "linked" / "bin", package_parent=None)
    status, _ = world.run("install", "--browser", "chromium", "--system", "--no-check")
    assert status == 1
    assert "a system-wide install must run from a virtual environment in" in capsys.readouterr().err
