"""`catalog-host doctor`: per browser, where it looks, what is there, and whether it works.

Read-only, except that it starts each registered launcher once for a real framed `ping`. Both
levels are checked because a user-level manifest shadows the system one even when it is broken
(Chrome takes the first manifest it finds and never falls back). Firefox manifests are checked
for the configured add-on ids, and pinged with Firefox's arguments: a wrong or missing id looks,
from the extension, exactly like a missing host. The exit status is 1 when
something is broken; each problem comes with its fix in words. Sandboxed (snap / flatpak)
browsers and browsers found but not registered are warnings: they may be deliberate. A snap
that starts hosts through the WebExtensions portal (Firefox) is checked like the browser itself,
with a note on the portal's one-time question.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from host import __version__
from host.errors import ConfigError
from host.installer.browsers import Browser, Family
from host.installer.launcher import Interpreter, command_line
from host.installer.machine import Machine
from host.installer.manifest import manifest_problems
from host.installer.plan import Options, named_browsers, sandbox_note
from host.installer.probe import PingResult, caller_args, ping
from host.installer.registration import resolve
from host.installer.targets import Detection, OsTargets, Target, targets_for
from host.settings import (
    STUB_EXTENSION_ID,
    STUB_GECKO_ID,
    Settings,
    default_log_dir,
    load_settings,
)


@dataclass
class Finding:
    """What one target holds."""

    target: Target
    present: bool = False
    state: str = "nothing there"
    problems: list[str] = field(default_factory=list)
    ping: PingResult | None = None

    @property
    def ok(self) -> bool:
        return self.present and not self.problems


@dataclass
class Report:
    problems: list[tuple[str, str]] = field(default_factory=list)  # (what, fix)
    warnings: list[str] = field(default_factory=list)


class Doctor:
    """Reads what each target holds; starts each distinct launcher once for a ping."""

    def __init__(self, machine: Machine, interp: Interpreter,
                 ids: dict[Family, tuple[str, ...]]) -> None:
        self.machine = machine
        self.interp = interp
        self.ids = ids
        self.windows = machine.os == "windows"
        # (launcher, family) -> the ping as that family's browser would start it
        self.pings: dict[tuple[str, Family], PingResult] = {}

    def _ping(self, launcher: Path, family: Family, manifest: Path) -> PingResult:
        key = (str(launcher), family)
        if key not in self.pings:
            ids = self.ids[family]
            self.pings[key] = (ping(launcher, caller_args(family, ids[0], manifest)) if ids else
                               PingResult(False, "no extension id is configured to call it as", 0.0))
        return self.pings[key]

    def inspect(self, target: Target) -> Finding:
        registration = resolve(self.machine, target)
        finding = Finding(target, present=registration.present,
                          problems=list(registration.problems))
        path = registration.manifest_path
        if path is None or registration.problems:
            return finding
        finding.state = f"manifest {path}" if target.registry_key else "manifest"
        finding.problems += [f"the manifest {p}" for p in manifest_problems(
            registration.data, self.ids[target.family], self.windows, target.family)]
        launcher = registration.launcher
        if launcher is None:
            return finding
        finding.state += f" -> launcher {launcher}"
        if target.level == "system":
            finding.problems += self._system_problems(target, path, launcher)
        if not launcher.is_file():
            finding.problems.append(f"the launcher {launcher} does not exist")
        elif not self.windows and not os.access(launcher, os.X_OK):
            finding.problems.append(f"the launcher {launcher} is not executable")
        else:
            finding.ping = self._ping(launcher, target.family, path)
            if not finding.ping.ok:
                finding.problems.append(f"the launcher does not answer ping: {finding.ping.detail}")
        return finding

    def _system_problems(self, target: Target, manifest: Path, launcher: Path) -> list[str]:
        """A system-wide registration must name only files no user can change: whoever can
        write them chooses what every account's browser runs."""
        system = self.machine.system_dir
        fix = (r"reinstall with install\install.ps1 --system" if self.windows
               else "reinstall with `sudo sh install/install.sh --system`")
        problems = []
        if target.registry_key and system not in manifest.absolute().parents:
            problems.append(f"the HKLM key names a manifest outside {system} ({manifest}); {fix}")
        if system not in launcher.absolute().parents:
            problems.append(f"the system-wide manifest names a launcher outside {system}: "
                            f"whoever can write {launcher} chooses what every account's browser "
                            f"runs; {fix}")
        return problems

    def install_command(self, browser: Browser | None, level: str) -> str:
        args = ["install"]
        if browser is not None:
            args += ["--browser", browser.key]
        if level == "system":
            args.append("--system")
        return command_line(self.machine, self.interp, *args)


def _describe(finding: Finding) -> str:
    if not finding.present:
        return finding.state
    text = finding.state
    if finding.ping is not None and finding.ping.ok:
        text += f"; answers ping: {finding.ping.detail} ({finding.ping.elapsed_ms:.0f} ms)"
    if finding.problems:
        return text + "\n            BROKEN: " + "\n            BROKEN: ".join(finding.problems)
    return text + "; valid, allows the configured extension ids"


def _settings_section(settings: Settings | None, error: str | None, out: TextIO) -> None:
    print("Config in force", file=out)
    if settings is None:
        print(f"  config file      BROKEN: {error}", file=out)
        return
    desc = settings.describe()
    config = Path(settings.config_path)
    catalog = Path(settings.catalog_dir)
    models = Path(settings.models_dir) if settings.models_dir else None
    rows = [
        ("config file", f"{config} ({'exists' if config.is_file() else 'absent: defaults'})"),
        ("catalog dir", f"{catalog} (" + (", ".join(
            f"{n} {'present' if (catalog / n).is_file() else 'absent'}"
            for n in ("models.json", "loras.json")) if catalog.is_dir()
            else "absent: created on the first add") + ")"),
        ("comfyui dir", (f"{settings.comfyui_dir} ("
                         f"{'exists' if Path(settings.comfyui_dir).is_dir() else 'MISSING'})"
                         if settings.comfyui_dir else "not set")),
        ("models dir", (f"{models} ({'exists' if models.is_dir() else 'MISSING'})"
                        if models else "not set")),
        ("civitai url", desc["civitai_url"]),
        ("civitai api key", desc["civitai_api_key"] or "not set"),
        ("extension ids", ", ".join(desc["extension_ids"])),
        ("firefox add-ons", ", ".join(desc["firefox_extension_ids"])),
        ("logs", str(default_log_dir())),
    ]
    for name, value in rows:
        print(f"  {name:<16} {value}", file=out)


def _model_folders_section(settings: Settings, report: Report, out: TextIO) -> None:
    """The folders ComfyUI searches per folder name (models dir + extra_model_paths)."""
    from host.disk.folders import load_folders, yaml_candidates

    folders = load_folders(settings)
    yamls = [path for path, required in yaml_candidates(settings) if required or Path(path).is_file()]
    print(f"  {'model paths':<16} {', '.join(yamls) if yamls else 'no extra_model_paths.yaml'}", file=out)
    print("Model folders (where ComfyUI looks, first match wins)", file=out)
    for name, paths in folders.describe().items():
        shown = [f"{p}{'' if Path(p).is_dir() else ' (absent)'}" for p in paths]
        print(f"  {name:<16} {'; '.join(shown) if shown else 'none'}", file=out)
    for problem in folders.problems:
        report.problems.append((f"extra model paths: {problem}",
                                "correct the file (ComfyUI cannot read it either) or remove it from "
                                "extra_model_paths; the main models folder keeps working"))


@dataclass
class BrowserCheck:
    """One browser's findings at both levels, and whether it is on this machine."""

    browser: Browser
    user: list[Finding]
    system: list[Finding]
    detection: Detection

    @property
    def found(self) -> str:
        """The evidence that the browser is on this machine, in words ("" when none)."""
        return "; ".join(self.detection.installed + [str(s) for s in self.detection.sandboxed])

    @property
    def registered(self) -> bool:
        return any(f.present for f in self.user + self.system)


def _check_browser(doctor: Doctor, os_targets: OsTargets, browser: Browser) -> BrowserCheck:
    return BrowserCheck(
        browser,
        [doctor.inspect(t) for t in os_targets.user_targets(browser)],
        [doctor.inspect(t) for t in os_targets.system_targets(browser)],
        os_targets.detect(browser),
    )


def _report_browser(doctor: Doctor, check: BrowserCheck, system: bool, report: Report,
                    out: TextIO) -> bool:
    """Print one browser's block; return whether it has a working registration."""
    browser, user, system_findings = check.browser, check.user, check.system
    detection = check.detection
    print(f"{browser.label} [{browser.key}]: {check.found or 'not found on this machine'}",
          file=out)
    for level, findings in (("user", user), ("system", system_findings)):
        for f in findings:
            if f.present:
                print(f"  {level:<7} {f.target.where}\n            {_describe(f)}", file=out)
            else:
                print(f"  {level:<7} {f.target.where}: {_describe(f)}", file=out)
    if any(f.present for f in user) and any(f.present for f in system_findings):
        print("  in force: the user-level manifest (it shadows the system one)", file=out)
    for f in user + system_findings:
        if f.present and f.problems:
            report.problems.append((
                f"{browser.label}: {f.target.level}-level registration at {f.target.where} is "
                f"broken: {'; '.join(f.problems)}",
                f"re-run `{doctor.install_command(browser, f.target.level)}`",
            ))
    broken_user = [f for f in user if f.present and f.problems]
    if broken_user and any(f.ok for f in system_findings):
        report.problems.append((
            f"{browser.label}: the broken user-level manifest shadows the working system-wide one "
            "(the browser never falls back)",
            f"delete {broken_user[0].target.where} or re-run "
            f"`{doctor.install_command(browser, 'user')}`",
        ))
    registered = any(f.present for f in user + system_findings)
    for sandbox in detection.sandboxed:
        if sandbox.portal:
            print(f"  note    {sandbox_note(browser.label, sandbox)}", file=out)
        else:
            report.warnings.append(sandbox_note(browser.label, sandbox))
    if detection.usable and not registered:
        report.warnings.append(
            f"{browser.label} is installed but the host is not registered with it; fix: "
            f"`{doctor.install_command(browser, 'system' if system else 'user')}`")
    return any(f.ok for f in user + system_findings)


def run_doctor(machine: Machine, interp: Interpreter, options: Options, out: TextIO) -> int:
    report = Report()
    settings: Settings | None
    try:
        settings = load_settings(dict(machine.env))
        error = None
    except ConfigError as exc:
        settings, error = None, exc.message
        report.problems.append((f"the config file is unusable: {exc.message}",
                                "correct it (one JSON object) or move it away"))
    ids: dict[Family, tuple[str, ...]] = {
        "chromium": settings.extension_ids if settings else (STUB_EXTENSION_ID,),
        "gecko": settings.firefox_extension_ids if settings else (STUB_GECKO_ID,),
    }
    print(f"catalog-host doctor ({__version__}, {machine.os})\n", file=out)
    _settings_section(settings, error, out)
    if settings and settings.models_dir is None:
        report.warnings.append("no models folder is configured: every entry shows as missing; "
                               f"fix: `{command_line(machine, interp, 'install', '--comfyui-dir', 'DIR')}` "
                               "(the folder ComfyUI runs from) or `... install --models-dir DIR`")
    elif settings and settings.comfyui_dir and not Path(settings.comfyui_dir).is_dir():
        report.warnings.append(f"the ComfyUI folder {settings.comfyui_dir} does not exist")
    elif settings and settings.models_dir and not Path(settings.models_dir).is_dir():
        report.warnings.append(f"the models folder {settings.models_dir} does not exist")
    if settings:
        _model_folders_section(settings, report, out)
    print("", file=out)

    doctor = Doctor(machine, interp, ids)
    os_targets = targets_for(machine)
    working = False
    if options.user_data_dir is not None:
        finding = doctor.inspect(os_targets.profile_target(options.user_data_dir))
        print(f"Profile folder {options.user_data_dir}\n  profile {finding.target.where}\n"
              f"            {_describe(finding)}", file=out)
        working = finding.ok
        if finding.present and finding.problems:
            report.problems.append((f"the registration at {finding.target.where} is broken: "
                                    + "; ".join(finding.problems),
                                    "re-run install with the same --user-data-dir"))
    else:
        browsers = named_browsers(os_targets, options.browsers or ["all"])
        checks = [_check_browser(doctor, os_targets, browser) for browser in browsers]
        absent = [c.browser.label for c in checks if not (c.found or c.registered)]
        for check in checks:
            if check.found or check.registered:
                working |= _report_browser(doctor, check, options.system, report, out)
        if absent:
            print(f"Not found on this machine (nothing registered): {', '.join(absent)}",
                  file=out)
    _host_view_warnings(doctor, settings, report)
    if not working:
        report.problems.append(("the host is not registered (and working) with any browser "
                                "checked", f"run `{command_line(machine, interp, 'install')}`"))
    return _summary(report, out)


def _host_view_warnings(doctor: Doctor, settings: Settings | None, report: Report) -> None:
    """The host the browser starts may see other folders than this shell (other environment)."""
    if settings is None:
        return
    for (launcher, _family), result in doctor.pings.items():
        seen = (result.result or {}).get("catalog_dir")
        if result.ok and isinstance(seen, str) and Path(seen) != Path(settings.catalog_dir):
            report.warnings.append(
                f"the host started through {launcher} uses the catalog {seen}, but this shell's "
                f"settings say {settings.catalog_dir} (a different environment or config file)")


def _summary(report: Report, out: TextIO) -> int:
    print("", file=out)
    for warning in report.warnings:
        print(f"Warning: {warning}", file=out)
    if not report.problems:
        print("Result: OK", file=out)
        return 0
    print(f"Result: {len(report.problems)} problem(s)", file=out)
    for number, (what, fix) in enumerate(report.problems, 1):
        print(f"  {number}. {what}\n     fix: {fix}", file=out)
    return 1
