"""Install and uninstall as plans: which targets, and the list of actions that gets them there.

Nothing here touches the machine except to read (detection, the existing config file, which
manifests are left); `host.installer.cli` prints a plan (dry run) or applies it. Install writes
the config, then the launcher, then the manifests and keys, so that a manifest never names a
launcher that is not there yet; uninstall removes in the reverse order.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from host.installer.actions import (
    Action,
    DeleteRegistryKey,
    RemoveFile,
    RemoveTree,
    SetRegistryDefault,
    WriteFile,
)
from host.installer.browsers import BY_KEY, Browser, Family
from host.installer.comfyui import (
    checked_comfyui_dir,
    checked_extra_model_paths,
    comfyui_notes,
)
from host.installer.configfile import (
    config_bytes,
    effective_ids,
    merged_config,
    read_existing,
    read_style,
)
from host.installer.errors import InstallerError
from host.installer.launcher import Interpreter, Launcher, launcher_path, plan_launcher
from host.installer.machine import Machine
from host.installer.manifest import build_manifest, classify_extension_id, manifest_bytes
from host.installer.registration import resolve
from host.installer.targets import OsTargets, Sandbox, Target, merge_targets, targets_for

# install.sh / install.ps1 drop this file into the venv they create: `uninstall --remove-venv`
# deletes only a venv carrying it (never a development venv that merely runs the installer).
VENV_MARKER = ".catalog-host-venv"
ENV_VENV = "CATALOG_HOST_VENV"
SANDBOX_NOTE = (
    "{label} is installed as a {kind}: sandboxed browsers cannot start host programs such as "
    "catalog-host, so the extension will not reach it there. Use a {label} installed from "
    "the vendor's .deb/.rpm package (or another browser)."
)
PORTAL_NOTE = (
    "{label} is installed as a {kind}: it has the desktop's WebExtensions portal start "
    "catalog-host (Ubuntu 22.04 and later), and the portal reads the manifest registered in "
    "{label}'s usual folder. The first time the extension calls the host, the desktop asks you "
    "once whether {label} may start it (\"Allow ... to start WebExtension backend?\"): choose "
    "Allow; the answer is remembered."
)


def sandbox_note(label: str, sandbox: Sandbox) -> str:
    return (PORTAL_NOTE if sandbox.portal else SANDBOX_NOTE).format(label=label, kind=sandbox.kind)


@dataclass
class Options:
    extension_ids: list[str] = field(default_factory=list)
    browsers: list[str] = field(default_factory=list)  # names, or ["all"]; [] = the default
    system: bool = False
    user_data_dir: Path | None = None
    models_dir: Path | None = None
    catalog_dir: Path | None = None
    comfyui_dir: Path | None = None
    extra_model_paths: list[str] = field(default_factory=list)  # as given: may join with pathsep
    dry_run: bool = False
    remove_venv: bool = False
    check: bool = True


@dataclass
class Selection:
    targets: list[Target]
    notes: list[str]


def named_browsers(os_targets: OsTargets, names: list[str]) -> list[Browser]:
    available = os_targets.browsers()
    if "all" in names:
        return available
    chosen: list[Browser] = []
    for name in names:
        browser = BY_KEY.get(name.lower())
        if browser is None or browser not in available:
            choices = ", ".join(b.key for b in available)
            raise InstallerError(f"unknown browser {name!r}", fix=f"use one of: {choices}, all")
        if browser not in chosen:
            chosen.append(browser)
    return chosen


def _sandbox_notes(os_targets: OsTargets, browsers: list[Browser]) -> list[str]:
    notes = []
    for browser in browsers:
        for sandbox in os_targets.detect(browser).sandboxed:
            notes.append(f"{sandbox_note(browser.label, sandbox)} [{sandbox}]")
    return notes


def select_targets(os_targets: OsTargets, options: Options, uninstall: bool) -> Selection:
    """The places to write (or clear), and plain-words notes about what cannot work."""
    if options.user_data_dir is not None:
        if options.system:
            raise InstallerError("--system and --user-data-dir cannot be combined")
        named = named_browsers(os_targets, options.browsers)
        if any(b.family == "gecko" for b in named):
            raise InstallerError(
                "--user-data-dir is a Chromium flag: Firefox reads native-messaging hosts only "
                "from its own folders, whatever profile it runs",
                fix="install for Firefox without --user-data-dir")
        target = os_targets.profile_target(options.user_data_dir)
        ignoring = [b.label for b in named if not b.follows_user_data_dir]
        notes = [f"{label} ignores --user-data-dir for native messaging: it reads only its "
                 "default folder" for label in ignoring]
        return Selection([target], notes)
    if options.browsers:
        browsers = named_browsers(os_targets, options.browsers)
        notes = _sandbox_notes(os_targets, browsers)
    elif uninstall or os_targets.os == "windows":
        # Uninstall clears every place; on Windows the keys are per family and cost nothing.
        browsers = os_targets.browsers()
        notes = _sandbox_notes(os_targets, browsers) if not uninstall else []
    else:
        detections = {b.key: os_targets.detect(b) for b in os_targets.browsers()}
        browsers = [b for b in os_targets.browsers() if detections[b.key].usable]
        notes = _sandbox_notes(os_targets, [b for b in os_targets.browsers()
                                            if detections[b.key].sandboxed])
        if not browsers:
            raise InstallerError(
                "found no browser on this machine, Chromium family or Firefox (no profile folder, "
                "no command)",
                fix="name the browser(s): --browser chrome|chromium|edge|brave|vivaldi|opera|"
                "firefox|...|all",
            )
    targets: list[Target] = []
    for browser in browsers:
        targets += (os_targets.system_targets(browser) if options.system
                    else os_targets.user_targets(browser))
    if not targets:
        names = ", ".join(b.label for b in browsers)
        raise InstallerError(f"no {'system' if options.system else 'user'}-level location is "
                             f"known for {names}", fix="leave out --system")
    return Selection(merge_targets(targets), notes)


@dataclass
class InstallPlan:
    actions: list[Action]
    selection: Selection
    launcher: Launcher
    # One manifest per browser family being registered (they differ in the allowed-callers key).
    manifests: dict[Family, dict[str, Any]]
    # The allowed ids per family (Chrome extension ids, Firefox add-on ids).
    ids: dict[Family, list[str]]
    config_path: Path
    config: dict[str, Any]
    # About the config being written (the selection's notes are about browsers).
    notes: list[str] = field(default_factory=list)


def install_plan(machine: Machine, options: Options, interp: Interpreter) -> InstallPlan:
    os_targets = targets_for(machine)
    selection = select_targets(os_targets, options, uninstall=False)
    if options.system and (options.models_dir or options.catalog_dir or options.comfyui_dir
                           or options.extra_model_paths):
        raise InstallerError(
            "--models-dir, --catalog-dir, --comfyui-dir and --extra-model-paths are each user's "
            "own settings; a system-wide install writes nothing in any user's home",
            fix="run `install --comfyui-dir DIR` as each user (without --system), or write them in "
            "that user's config file",
        )
    existing = read_existing(machine.config_path)
    comfyui_dir = checked_comfyui_dir(options.comfyui_dir) if options.comfyui_dir else None
    extra_paths = (checked_extra_model_paths(options.extra_model_paths,
                                             ";" if machine.os == "windows" else ":")
                   if options.extra_model_paths else None)
    ids: dict[Family, list[str]] = {
        family: effective_ids(family, options.extension_ids, existing, machine.env)
        for family in ("chromium", "gecko")
    }
    families = list(dict.fromkeys(t.family for t in selection.targets))
    given_gecko = any(classify_extension_id(i)[0] == "gecko" for i in options.extension_ids)
    # The same folder as host.settings.default_catalog_dir(), for the machine being installed.
    config = merged_config(existing, ids["chromium"], options.models_dir, options.catalog_dir,
                           machine.data_dir / "catalogs",
                           ids["gecko"] if "gecko" in families or given_gecko else None,
                           comfyui_dir, extra_paths)
    launcher = plan_launcher(machine, interp, system=options.system)
    manifests = {f: build_manifest(str(launcher.path), ids[f], f) for f in families}

    # A system-wide install (run as root) never writes into a home: no root-owned config file
    # where the user lives. Each user's host reads that user's own config.
    actions: list[Action] = [] if options.system else [
        WriteFile("config", machine.config_path,
                  config_bytes(config, read_style(machine.config_path)), private=True)
    ]
    if launcher.content is not None:
        actions.append(WriteFile("launcher", launcher.path, launcher.content, executable=True))
    for target in selection.targets:
        actions.append(WriteFile("manifest", target.manifest_path,
                                 manifest_bytes(manifests[target.family])))
        if target.registry_key and target.hive:
            actions.append(SetRegistryDefault(machine.registry, target.hive, target.registry_key,
                                              str(target.manifest_path)))
    notes = comfyui_notes(existing, comfyui_dir, options.models_dir is not None)
    return InstallPlan(actions, selection, launcher, manifests, ids, machine.config_path, config,
                       notes)


def _all_known_targets(os_targets: OsTargets) -> list[Target]:
    found: list[Target] = []
    for browser in os_targets.browsers():
        found += os_targets.user_targets(browser) + os_targets.system_targets(browser)
    return merge_targets(found)


def _venv_candidates(machine: Machine, system: bool) -> list[Path]:
    candidates = [(machine.system_dir if system else machine.data_dir) / "venv"]
    if machine.env.get(ENV_VENV):
        candidates.insert(0, Path(machine.env[ENV_VENV]))
    if sys.prefix != sys.base_prefix:
        candidates.insert(0, Path(sys.prefix))
    unique: dict[str, Path] = {}
    for path in candidates:
        unique.setdefault(str(path.absolute()), path.absolute())
    return list(unique.values())


@dataclass
class UninstallPlan:
    actions: list[Action]
    selection: Selection
    kept: list[str]


def uninstall_plan(machine: Machine, options: Options) -> UninstallPlan:
    os_targets = targets_for(machine)
    selection = select_targets(os_targets, options, uninstall=True)
    actions: list[Action] = []
    for target in selection.targets:
        if target.registry_key and target.hive:
            actions.append(DeleteRegistryKey(machine.registry, target.hive, target.registry_key))
        actions.append(RemoveFile("manifest", target.manifest_path, target.prune_stop))

    kept: list[str] = []
    if machine.os != "windows":  # on Windows the launcher is the venv's own .exe
        launcher = launcher_path(machine, options.system)
        leaving = {t.identity for t in selection.targets}
        still_used = [t.where for t in _all_known_targets(os_targets)
                      if t.identity not in leaving
                      and resolve(machine, t).launcher == launcher]
        if still_used:
            kept.append(f"launcher {launcher} (still registered at {', '.join(still_used)})")
        else:
            # Our folder goes too if that leaves it empty (rmdir: never the catalog in it).
            actions.append(RemoveFile("launcher", launcher, launcher.parent.parent.parent))
    if options.remove_venv:
        candidates = _venv_candidates(machine, options.system)
        marked = [p for p in candidates if (p / VENV_MARKER).is_file()]
        running = Path(sys.prefix).absolute()
        for venv in marked:
            if machine.os == "windows" and venv == running:
                # Windows cannot delete the python.exe that runs this very command.
                kept.append(f"venv {venv} is in use by this command; once it has finished, "
                            f"run: Remove-Item -Recurse -Force '{venv}'")
            else:
                actions.append(RemoveTree("virtual environment", venv))
        if not marked:
            kept.append("no venv removed: none of "
                        + ", ".join(str(p) for p in _venv_candidates(machine, options.system))
                        + " was created by install.sh / install.ps1")
    return UninstallPlan(actions, selection, kept)
