"""Where each browser looks for our manifest: one POSIX class (Linux and macOS, reading the
browser table's per-OS `places`) and one Windows class (registry), importable everywhere.

A `Target` is one place a browser reads: a manifest file, plus on Windows the registry key whose
default value names that file. `targets_for(machine)` picks the class for the machine's OS.
Detection (is the browser here? is it a snap or flatpak? does that copy reach hosts through the
WebExtensions portal?) only looks at folders and PATH; it never starts a browser.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from host import HOST_NAME
from host.installer.browsers import BROWSERS, CHROMIUM_HOSTS, Browser, Family, Places
from host.installer.errors import InstallerError
from host.installer.machine import Machine, OsName
from host.installer.registry import Hive

Level = Literal["user", "system", "profile"]
MANIFEST_FILE = f"{HOST_NAME}.json"


@dataclass(frozen=True)
class Target:
    """One place a browser reads our manifest from."""

    level: Level
    manifest_path: Path
    # Removing the manifest also removes the folders left empty, up to (not including) this one.
    prune_stop: Path
    hive: Hive | None = None
    registry_key: str | None = None
    browsers: tuple[str, ...] = ()
    # Which manifest the place takes: Chromium's (allowed_origins) or Firefox's.
    family: Family = "chromium"

    @property
    def identity(self) -> tuple[str, str | None, str | None]:
        return (str(self.manifest_path), self.hive, self.registry_key)

    @property
    def where(self) -> str:
        """What a person looks at: the registry key on Windows, else the manifest file."""
        if self.registry_key:
            return f"{self.hive}\\{self.registry_key}"
        return str(self.manifest_path)


SandboxKind = Literal["snap", "flatpak"]


@dataclass(frozen=True)
class Sandbox:
    """A sandboxed copy of a browser, and where it was seen. It cannot start host programs
    itself; with `portal`, it has the desktop's WebExtensions portal start them (reading the
    browser's usual folders), so registering there works."""

    kind: SandboxKind
    package: str
    path: Path
    portal: bool = False

    def __str__(self) -> str:
        return f"{self.kind} {self.package} ({self.path})"


@dataclass
class Detection:
    """Evidence that a browser is installed here (in words), and its sandboxed copies."""

    installed: list[str] = field(default_factory=list)
    sandboxed: list[Sandbox] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.installed or self.sandboxed)

    @property
    def usable(self) -> bool:
        """Installed in a way that can start our host (directly, or through the portal)."""
        return bool(self.installed) or any(s.portal for s in self.sandboxed)


def merge_targets(targets: list[Target]) -> list[Target]:
    """One target per place (browsers sharing a folder or a key), in first-seen order."""
    merged: dict[tuple[str, str | None, str | None], Target] = {}
    for target in targets:
        seen = merged.get(target.identity)
        if seen is None:
            merged[target.identity] = target
        else:
            browsers = seen.browsers + tuple(b for b in target.browsers if b not in seen.browsers)
            merged[target.identity] = replace(seen, browsers=browsers)
    return list(merged.values())


class OsTargets(ABC):
    def __init__(self, machine: Machine) -> None:
        self.machine = machine
        self.os: OsName = machine.os

    def browsers(self) -> list[Browser]:
        """The browsers that exist on this OS, in table order."""
        return [b for b in BROWSERS if self.supports(b)]

    @abstractmethod
    def supports(self, browser: Browser) -> bool: ...

    @abstractmethod
    def user_targets(self, browser: Browser) -> list[Target]: ...

    @abstractmethod
    def system_targets(self, browser: Browser) -> list[Target]: ...

    @abstractmethod
    def detect(self, browser: Browser) -> Detection: ...

    def profile_target(self, user_data_dir: Path) -> Target:
        """A browser started with --user-data-dir=DIR reads user-level hosts only from DIR."""
        folder = Path(user_data_dir).expanduser().absolute()
        return Target("profile", folder / CHROMIUM_HOSTS / MANIFEST_FILE, prune_stop=folder)


class PosixTargets(OsTargets):
    """Linux and macOS: the rows' `places` for this OS, under a user base or the root."""

    def _places(self, browser: Browser) -> Places | None:
        return browser.places.get("macos" if self.os == "macos" else "linux")

    def base(self, places: Places) -> Path:
        if places.base == "home":
            return self.machine.home
        if self.os == "macos":
            return self.machine.home / "Library" / "Application Support"
        # Chromium's own rule (chrome_paths_linux.cc): CHROME_CONFIG_HOME, then
        # XDG_CONFIG_HOME, then ~/.config.
        env = self.machine.env
        for name in ("CHROME_CONFIG_HOME", "XDG_CONFIG_HOME"):
            if env.get(name):
                return Path(env[name])
        return self.machine.home / ".config"

    def supports(self, browser: Browser) -> bool:
        return self._places(browser) is not None

    def user_targets(self, browser: Browser) -> list[Target]:
        places = self._places(browser)
        if places is None:
            return []
        base = self.base(places)
        return [Target("user", base / folder / MANIFEST_FILE, prune_stop=base,
                       browsers=(browser.key,), family=browser.family) for folder in places.user]

    def system_targets(self, browser: Browser) -> list[Target]:
        places = self._places(browser)
        if places is None or places.system is None:
            return []
        hosts = self.machine.root / places.system
        # Only our file and, when left empty, the hosts folder itself: never more of /etc.
        return [Target("system", hosts / MANIFEST_FILE, prune_stop=hosts.parent,
                       browsers=(browser.key,), family=browser.family)]

    def detect(self, browser: Browser) -> Detection:
        places = self._places(browser)
        detection = Detection()
        if places is None:
            return detection
        seen = self.base(places) / places.seen
        if seen.is_dir():
            detection.installed.append(f"{seen} exists")
        if self.os == "macos":
            for app in browser.macos_apps:
                for apps in (self.machine.root / "Applications", self.machine.home / "Applications"):
                    if (apps / app).is_dir():
                        detection.installed.append(f"{apps / app} exists")
            return detection
        for command in browser.linux_commands:
            found = self.machine.which(command)
            if found and not found.startswith("/snap/"):
                detection.installed.append(f"command {command} at {found}")
        detection.sandboxed = self._sandboxes(browser)
        return detection

    def _sandboxes(self, browser: Browser) -> list[Sandbox]:
        root, home = self.machine.root, self.machine.home
        places: list[tuple[SandboxKind, str | None, tuple[Path, ...]]] = []
        if browser.snap:
            places.append(("snap", browser.snap, (
                root / "snap" / browser.snap, root / "snap" / "bin" / browser.snap,
                home / "snap" / browser.snap)))
        if browser.flatpak:
            places.append(("flatpak", browser.flatpak, (
                home / ".var" / "app" / browser.flatpak,
                root / "var" / "lib" / "flatpak" / "app" / browser.flatpak,
                home / ".local" / "share" / "flatpak" / "app" / browser.flatpak)))
        found = []
        for kind, package, paths in places:
            seen = [p for p in paths if p.exists()]
            if package and seen:
                found.append(Sandbox(kind, package, seen[0],
                                     portal=kind == "snap" and browser.snap_portal))
        return found


class WindowsTargets(OsTargets):
    """Windows: a registry key per browser family, whose default value names a manifest file.

    Browsers there read no folder, so the manifests live in our own data folder (user level) or
    in %ProgramFiles%\\catalog-host (system level, HKLM: only administrators write there), one
    per family so that uninstalling one family never leaves another's key pointing at a
    deleted file.
    """

    def supports(self, browser: Browser) -> bool:
        return browser.windows is not None

    def _target(self, browser: Browser, level: Level, hive: Hive, base: Path) -> list[Target]:
        family = browser.windows
        if family is None:
            return []
        slug = family.replace("\\", "-").lower()
        return [Target(
            level,
            base / CHROMIUM_HOSTS / slug / MANIFEST_FILE,
            prune_stop=base.parent,  # our folder too, once empty (rmdir: never a catalog)
            hive=hive,
            registry_key=f"Software\\{family}\\NativeMessagingHosts\\{HOST_NAME}",
            browsers=(browser.key,),
            family=browser.family,
        )]

    def user_targets(self, browser: Browser) -> list[Target]:
        return self._target(browser, "user", "HKCU", self.machine.data_dir)

    def system_targets(self, browser: Browser) -> list[Target]:
        return self._target(browser, "system", "HKLM", self.machine.system_dir)

    def profile_target(self, user_data_dir: Path) -> Target:
        raise InstallerError(
            "--user-data-dir does not apply on Windows: browsers there find hosts only through "
            "the registry, whatever profile folder they use",
            fix="leave out --user-data-dir (the registry keys serve every profile)",
        )

    def detect(self, browser: Browser) -> Detection:
        family = browser.windows
        registry = self.machine.registry
        hives: tuple[Hive, ...] = ("HKCU", "HKLM")
        seen = browser.windows_seen or f"Software\\{browser.windows}"
        evidence = [f"registry key {hive}\\{seen} exists"
                    for hive in hives if family and registry.key_exists(hive, seen)]
        return Detection(evidence[:1], [])


def targets_for(machine: Machine) -> OsTargets:
    return WindowsTargets(machine) if machine.os == "windows" else PosixTargets(machine)
