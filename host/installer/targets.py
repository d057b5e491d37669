"""Where each browser looks for our manifest, per OS: one class per OS, all importable everywhere.

A `Target` is one place a browser reads: a manifest file, plus on Windows the registry key whose
default value names that file. `targets_for(machine)` picks the class for the machine's OS (the
only place that branches on it). Detection (is the browser here? is it a snap or flatpak?) only
looks at folders and PATH; it never starts a browser.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from host import HOST_NAME
from host.installer.browsers import BROWSERS, Browser
from host.installer.errors import InstallerError
from host.installer.machine import Machine, OsName
from host.installer.registry import Hive

Level = Literal["user", "system", "profile"]
MANIFEST_FILE = f"{HOST_NAME}.json"
# Chromium's name for the per-profile folder of user-level hosts (Linux and macOS).
USER_HOSTS_FOLDER = "NativeMessagingHosts"


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

    @property
    def identity(self) -> tuple[str, str | None, str | None]:
        return (str(self.manifest_path), self.hive, self.registry_key)

    @property
    def where(self) -> str:
        """What a person looks at: the registry key on Windows, else the manifest file."""
        if self.registry_key:
            return f"{self.hive}\\{self.registry_key}"
        return str(self.manifest_path)


@dataclass
class Detection:
    """Evidence that a browser is installed here, and that it is sandboxed (snap / flatpak)."""

    installed: list[str] = field(default_factory=list)
    sandboxed: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.installed or self.sandboxed)


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
    os: OsName

    def __init__(self, machine: Machine) -> None:
        self.machine = machine

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
        return Target("profile", folder / USER_HOSTS_FOLDER / MANIFEST_FILE, prune_stop=folder)

    def _sandbox_evidence(self, browser: Browser) -> list[str]:
        return []


class _PosixTargets(OsTargets):
    """Linux and macOS: user folders under a config base, system folders under the root."""

    @abstractmethod
    def folders(self, browser: Browser) -> tuple[str, ...]: ...

    @abstractmethod
    def system_folder(self, browser: Browser) -> str | None: ...

    @property
    @abstractmethod
    def config_base(self) -> Path: ...

    def supports(self, browser: Browser) -> bool:
        return bool(self.folders(browser))

    def user_targets(self, browser: Browser) -> list[Target]:
        base = self.config_base
        return [
            Target("user", base / f / USER_HOSTS_FOLDER / MANIFEST_FILE, prune_stop=base,
                   browsers=(browser.key,))
            for f in self.folders(browser)
        ]

    def system_targets(self, browser: Browser) -> list[Target]:
        folder = self.system_folder(browser)
        if folder is None:
            return []
        hosts = self.machine.root / folder
        # Only our file and, when left empty, the hosts folder itself: never more of /etc.
        return [Target("system", hosts / MANIFEST_FILE, prune_stop=hosts.parent,
                       browsers=(browser.key,))]

    def _installed_evidence(self, browser: Browser) -> list[str]:
        folders = self.folders(browser)
        own = self.config_base / folders[0] if folders else None
        return [f"{own} exists"] if own is not None and own.is_dir() else []

    def detect(self, browser: Browser) -> Detection:
        return Detection(self._installed_evidence(browser), self._sandbox_evidence(browser))


class LinuxTargets(_PosixTargets):
    os: OsName = "linux"

    @property
    def config_base(self) -> Path:
        # Chromium's own rule (chrome_paths_linux.cc): CHROME_CONFIG_HOME, then
        # XDG_CONFIG_HOME, then ~/.config.
        env = self.machine.env
        for name in ("CHROME_CONFIG_HOME", "XDG_CONFIG_HOME"):
            if env.get(name):
                return Path(env[name])
        return self.machine.home / ".config"

    def folders(self, browser: Browser) -> tuple[str, ...]:
        return browser.linux or ()

    def system_folder(self, browser: Browser) -> str | None:
        return browser.linux_system

    def _installed_evidence(self, browser: Browser) -> list[str]:
        evidence = super()._installed_evidence(browser)
        for command in browser.linux_commands:
            found = self.machine.which(command)
            if found and not found.startswith("/snap/"):
                evidence.append(f"command {command} at {found}")
        return evidence

    def _sandbox_evidence(self, browser: Browser) -> list[str]:
        root, home = self.machine.root, self.machine.home
        evidence = []
        if browser.snap:
            places = (root / "snap" / browser.snap, root / "snap" / "bin" / browser.snap,
                      home / "snap" / browser.snap)
            evidence += [f"snap {browser.snap} ({p})" for p in places if p.exists()][:1]
        if browser.flatpak:
            places = (home / ".var" / "app" / browser.flatpak,
                      root / "var" / "lib" / "flatpak" / "app" / browser.flatpak,
                      home / ".local" / "share" / "flatpak" / "app" / browser.flatpak)
            evidence += [f"flatpak {browser.flatpak} ({p})" for p in places if p.exists()][:1]
        return evidence


class MacTargets(_PosixTargets):
    os: OsName = "macos"

    @property
    def config_base(self) -> Path:
        return self.machine.home / "Library" / "Application Support"

    def folders(self, browser: Browser) -> tuple[str, ...]:
        return browser.macos or ()

    def system_folder(self, browser: Browser) -> str | None:
        return browser.macos_system

    def _installed_evidence(self, browser: Browser) -> list[str]:
        evidence = super()._installed_evidence(browser)
        for app in browser.macos_apps:
            for apps in (self.machine.root / "Applications", self.machine.home / "Applications"):
                if (apps / app).is_dir():
                    evidence.append(f"{apps / app} exists")
        return evidence


class WindowsTargets(OsTargets):
    """Windows: a registry key per browser family, whose default value names a manifest file.

    Browsers there read no folder, so the manifests live in our own data folder (user level) or
    in %ProgramData%\\catalog-host (system level, HKLM), one per family so that uninstalling one
    family never leaves another's key pointing at a deleted file.
    """

    os: OsName = "windows"

    def supports(self, browser: Browser) -> bool:
        return browser.windows is not None

    def _target(self, browser: Browser, level: Level, hive: Hive, base: Path) -> list[Target]:
        family = browser.windows
        if family is None:
            return []
        slug = family.replace("\\", "-").lower()
        return [Target(
            level,
            base / USER_HOSTS_FOLDER / slug / MANIFEST_FILE,
            prune_stop=base.parent,  # our folder too, once empty (rmdir: never a catalog)
            hive=hive,
            registry_key=f"Software\\{family}\\NativeMessagingHosts\\{HOST_NAME}",
            browsers=(browser.key,),
        )]

    def user_targets(self, browser: Browser) -> list[Target]:
        return self._target(browser, "user", "HKCU", self.machine.data_dir)

    def system_targets(self, browser: Browser) -> list[Target]:
        return self._target(browser, "system", "HKLM", self.machine.system_data_dir)

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
        evidence = [
            f"registry key {hive}\\Software\\{family} exists"
            for hive in hives
            if family and registry.key_exists(hive, f"Software\\{family}")
        ]
        return Detection(evidence[:1], [])


_CLASSES: dict[OsName, type[OsTargets]] = {
    "linux": LinuxTargets,
    "macos": MacTargets,
    "windows": WindowsTargets,
}


def targets_for(machine: Machine) -> OsTargets:
    return _CLASSES[machine.os](machine)
