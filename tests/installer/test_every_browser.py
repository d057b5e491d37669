"""Every browser x Linux / macOS / Windows x user / system level, on Linux with fake folders.

The expected locations are written out here from the browsers' documentation (not computed
from the installer's table), so a wrong row in host/installer/browsers.py fails. Each case:
the manifest lands where the browser looks with the right content, re-install changes
nothing, uninstall leaves nothing, and a dry run writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from host.installer.browsers import BROWSERS
from tests.installer.world import FakeWorld

NAME = "com.civitai_catalog.host"
STUB = "jpiddlinckgdlidmojineffgcdpfoacg"
DESCRIPTION = (
    "catalog-host: tells the CivitAI catalog extension which models are in your ComfyUI catalog"
)

# Linux: folders under ~/.config (each gets NativeMessagingHosts/<name>.json).
LINUX_USER = {
    "chrome": ["google-chrome"],
    "chrome-beta": ["google-chrome-beta"],
    "chrome-dev": ["google-chrome-unstable"],
    "chrome-canary": ["google-chrome-canary"],
    "chromium": ["chromium"],
    "edge": ["microsoft-edge"],
    "edge-beta": ["microsoft-edge-beta"],
    "edge-dev": ["microsoft-edge-dev"],
    "brave": ["BraveSoftware/Brave-Browser"],
    "vivaldi": ["vivaldi"],
    "opera": ["opera", "google-chrome"],  # Opera reads Chrome's folder
}
CHROME_ETC = "etc/opt/chrome/native-messaging-hosts"
LINUX_SYSTEM = {
    "chrome": CHROME_ETC, "chrome-beta": CHROME_ETC, "chrome-dev": CHROME_ETC,
    "chrome-canary": CHROME_ETC,
    "chromium": "etc/chromium/native-messaging-hosts",
    "edge": "etc/opt/edge/native-messaging-hosts",
    "edge-beta": "etc/opt/edge/native-messaging-hosts",
    "edge-dev": "etc/opt/edge/native-messaging-hosts",
    "brave": CHROME_ETC, "vivaldi": CHROME_ETC, "opera": CHROME_ETC,
    "firefox": "usr/lib/mozilla/native-messaging-hosts",  # MDN "Native manifests"
}
# macOS: folders under ~/Library/Application Support.
MAC_USER = {
    "chrome": ["Google/Chrome"],
    "chrome-beta": ["Google/Chrome Beta"],
    "chrome-dev": ["Google/Chrome Dev"],
    "chrome-canary": ["Google/Chrome Canary"],
    "chromium": ["Chromium"],
    "edge": ["Microsoft Edge"],
    "edge-beta": ["Microsoft Edge Beta"],
    "edge-dev": ["Microsoft Edge Dev"],
    "brave": ["BraveSoftware/Brave-Browser"],
    "vivaldi": ["Vivaldi"],
    "opera": ["com.operasoftware.Opera", "Google/Chrome"],
}
CHROME_LIB = "Library/Google/Chrome/NativeMessagingHosts"
MAC_SYSTEM = {
    "chrome": CHROME_LIB, "chrome-beta": CHROME_LIB, "chrome-dev": CHROME_LIB,
    "chrome-canary": CHROME_LIB,
    "chromium": "Library/Application Support/Chromium/NativeMessagingHosts",
    "edge": "Library/Microsoft/Edge/NativeMessagingHosts",
    "edge-beta": "Library/Microsoft/Edge/NativeMessagingHosts",
    "edge-dev": "Library/Microsoft/Edge/NativeMessagingHosts",
    "brave": CHROME_LIB, "vivaldi": CHROME_LIB, "opera": CHROME_LIB,
    "firefox": "Library/Application Support/Mozilla/NativeMessagingHosts",
}
# Windows: the registry key (HKCU, or HKLM with --system). Brave, Vivaldi, Opera read Chrome's.
CHROME_KEY = rf"Software\Google\Chrome\NativeMessagingHosts\{NAME}"
WINDOWS_KEY = {
    "chrome": CHROME_KEY, "chrome-beta": CHROME_KEY, "chrome-dev": CHROME_KEY,
    "chrome-canary": CHROME_KEY,
    "chromium": rf"Software\Chromium\NativeMessagingHosts\{NAME}",
    "edge": rf"Software\Microsoft\Edge\NativeMessagingHosts\{NAME}",
    "edge-beta": rf"Software\Microsoft\Edge\NativeMessagingHosts\{NAME}",
    "edge-dev": rf"Software\Microsoft\Edge\NativeMessagingHosts\{NAME}",
    "brave": CHROME_KEY, "vivaldi": CHROME_KEY, "opera": CHROME_KEY,
    "firefox": rf"Software\Mozilla\NativeMessagingHosts\{NAME}",
}
# Firefox's user-level folders (MDN "Native manifests"): not under ~/.config on Linux.
FIREFOX_USER = {"linux": "home/.mozilla/native-messaging-hosts",
                "macos": "home/Library/Application Support/Mozilla/NativeMessagingHosts"}
GECKO_STUB = "catalog-host-stub@catalog-host.local"

KEYS = sorted([*LINUX_USER, "firefox"])
CASES = [(os_name, key, level) for os_name in ("linux", "macos", "windows") for key in KEYS
         for level in ("user", "system")]


def test_the_oracle_covers_every_browser_of_the_table() -> None:
    assert sorted(b.key for b in BROWSERS) == KEYS


def expected_manifest(launcher: str, key: str) -> dict[str, object]:
    allowed = ({"allowed_extensions": [GECKO_STUB]} if key == "firefox"
               else {"allowed_origins": [f"chrome-extension://{STUB}/"]})
    return {"name": NAME, "description": DESCRIPTION, "path": launcher, "type": "stdio", **allowed}


def expected_files(world: FakeWorld, os_name: str, key: str, level: str) -> list[str]:
    """Where the manifest must land, relative to the test's temporary folder."""
    if key == "firefox" and level == "user" and os_name != "windows":
        return [f"{FIREFOX_USER[os_name]}/{NAME}.json"]
    if os_name == "linux":
        if level == "system":
            return [f"root/{LINUX_SYSTEM[key]}/{NAME}.json"]
        return [f"home/.config/{f}/NativeMessagingHosts/{NAME}.json" for f in LINUX_USER[key]]
    if os_name == "macos":
        if level == "system":
            return [f"root/{MAC_SYSTEM[key]}/{NAME}.json"]
        return [f"home/Library/Application Support/{f}/NativeMessagingHosts/{NAME}.json"
                for f in MAC_USER[key]]
    # Windows: the file the registry value names, wherever the installer put it.
    hive = "HKLM" if level == "system" else "HKCU"
    value = world.registry.get_default(hive, WINDOWS_KEY[key])  # type: ignore[arg-type]
    assert value, f"no {hive}\\{WINDOWS_KEY[key]}"
    return [Path(value).relative_to(world.tmp).as_posix()]


def launcher_path(world: FakeWorld, os_name: str, level: str) -> str:
    """The venv's exe on Windows; else the script install writes, in the root-owned system
    folder for a system-level install (/opt/catalog-host, /Library/Application Support/...)."""
    if os_name == "windows":
        return str(world.interp.scripts_dir / "catalog-host.exe")
    system = {"linux": "root/opt/catalog-host",
              "macos": "root/Library/Application Support/catalog-host"}[os_name]
    folder = world.tmp / system if level == "system" else world.machine.data_dir
    return str(folder / "bin" / "catalog-host")


@pytest.mark.parametrize(("os_name", "key", "level"), CASES)
def test_install_reinstall_uninstall_dry_run(
    world_factory: Callable[..., FakeWorld], os_name: str, key: str, level: str
) -> None:
    world = world_factory(os_name, system_venv=level == "system")
    selectors = ["--browser", key] + (["--system"] if level == "system" else [])
    if level == "system":  # the vendor's folders exist where its browser is installed
        vendor = {"linux": LINUX_SYSTEM, "macos": MAC_SYSTEM}.get(os_name, {}).get(key)
        world.tmp.joinpath("root", vendor or "Program Files/x").parent.mkdir(parents=True,
                                                                             exist_ok=True)
    before = world.snapshot()

    # A dry run writes nothing (files, folders, registry) but names every place it would write.
    status, out = world.run("install", *selectors, "--dry-run", "--no-check")
    assert status == 0, out
    assert world.snapshot() == before
    assert world.registry.values == {}
    if os_name == "windows":
        hive = "HKLM" if level == "system" else "HKCU"
        assert f"{hive}\\{WINDOWS_KEY[key]}" in out
    else:
        for rel in expected_files(world, os_name, key, level):
            assert str(world.tmp / rel) in out

    # Install: the manifest lands where the browser looks, with the right content.
    status, out = world.run("install", *selectors, "--no-check")
    assert status == 0, out
    files = expected_files(world, os_name, key, level)
    for rel in files:
        manifest = json.loads((world.tmp / rel).read_text("utf-8"))
        assert manifest == expected_manifest(launcher_path(world, os_name, level), key)
    if os_name == "windows":
        hive = "HKLM" if level == "system" else "HKCU"
        assert set(world.registry.values) == {(hive, WINDOWS_KEY[key].lower())}
    else:
        launcher = world.tmp / launcher_path(world, os_name, level)
        assert launcher.read_bytes().startswith(b"#!/bin/sh\n")
    after_install = world.snapshot()
    written = {p for p, data in after_install.items() if data is not None} - set(before)
    config = world.machine.config_path.relative_to(world.tmp).as_posix()
    launcher_rel = Path(launcher_path(world, os_name, level)).relative_to(world.tmp).as_posix()
    # Only the manifests, the config (user level) and (POSIX) our launcher: nothing else; a
    # system-level install writes nothing in the home.
    user_config = [config] if level == "user" else []
    assert written == {*files, *user_config, *([launcher_rel] if os_name != "windows" else [])}
    if level == "system":
        assert not any(p.startswith("home/") for p in written)

    # Re-install: idempotent, byte for byte, and says so.
    registry_before = dict(world.registry.values)
    status, out = world.run("install", *selectors, "--no-check")
    assert status == 0, out
    assert world.snapshot() == after_install
    assert world.registry.values == registry_before
    assert "written" not in out and "unchanged" in out

    # Uninstall leaves nothing but the config file (kept on purpose: it may hold the API key).
    status, out = world.run("uninstall", *selectors)
    assert status == 0, out
    assert world.registry.values == {}
    left = world.snapshot()
    config_dirs = {"home/config-dir", config} if level == "user" else set()
    assert {p for p in left if p not in before} == config_dirs
