"""`catalog-host install | uninstall | doctor`: parse the command line, run the plan, report.

`main(argv)` takes the subcommand first (`["install", "--browser", "chromium"]`) and returns
the exit status. Everything machine-specific comes in through `Machine` and `Interpreter`, which
tests replace; output goes to `out` (people read it: this never runs as the native host).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from host import HOST_NAME, __version__
from host.installer.actions import Action
from host.installer.browsers import BY_KEY
from host.installer.errors import InstallerError
from host.installer.launcher import Interpreter, command_line
from host.installer.machine import Machine
from host.installer.plan import InstallPlan, Options, install_plan, uninstall_plan
from host.installer.probe import caller_args, describe_caller, ping
from host.installer.registration import resolve
from host.installer.registry import RegistryError
from host.installer.targets import Target
from host.settings import (
    ENV_CATALOG_DIR,
    ENV_COMFYUI_DIR,
    ENV_MODELS_DIR,
    default_catalog_dir,
    default_log_dir,
)

FAMILY_LABEL = {"chromium": "Chromium family", "gecko": "Firefox"}
BROWSER_HELP = ("browser to register with: " + ", ".join(BY_KEY) + ", or all (default: every "
                "browser found on this machine; on Windows, every browser family)")


def _selectors(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--browser", dest="browsers", action="extend", nargs="+", default=[],
                        metavar="NAME", help=BROWSER_HELP)
    parser.add_argument("--system", action="store_true",
                        help="the system-wide folders / HKLM instead of your user's (needs admin)")
    parser.add_argument("--user-data-dir", type=Path, metavar="DIR",
                        help="only DIR/NativeMessagingHosts: for a browser started with "
                        "--user-data-dir=DIR (Linux, macOS; Brave and Opera ignore it)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="catalog-host",
                                     description="Register catalog-host with your browsers.")
    commands = parser.add_subparsers(dest="command", required=True)

    install = commands.add_parser("install", help="register the host (idempotent)")
    install.add_argument("--extension-id", dest="extension_ids", action="extend", nargs="+",
                         default=[], metavar="ID",
                         help="extension allowed to use the host: a Chrome extension id or a "
                         "Firefox add-on id (repeatable; default, per browser family: the ids "
                         "in the config file, else the extension-stub's)")
    _selectors(install)
    install.add_argument("--models-dir", type=Path, metavar="DIR",
                         help="your ComfyUI models folder (saved in the config file)")
    install.add_argument("--catalog-dir", type=Path, metavar="DIR",
                         help="folder of models.json and loras.json (saved in the config file)")
    install.add_argument("--comfyui-dir", type=Path, metavar="DIR",
                         help="the folder ComfyUI runs from: its models folder (unless "
                         "--models-dir) and its extra_model_paths.yaml are used (saved in the "
                         "config file; it must exist)")
    install.add_argument("--extra-model-paths", dest="extra_model_paths", action="append",
                         default=[], metavar="FILE",
                         help="another extra_model_paths.yaml to read, e.g. ComfyUI Desktop's "
                         f"(repeatable, or several joined with {os.pathsep!r}; replaces the list "
                         "in the config file)")
    install.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    install.add_argument("--no-check", dest="check", action="store_false",
                         help="skip the final ping through the registered launcher")

    uninstall = commands.add_parser("uninstall", help="remove manifests, keys and the launcher")
    _selectors(uninstall)
    uninstall.add_argument("--remove-venv", action="store_true",
                           help="also delete the virtual environment install.sh/.ps1 created")
    uninstall.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")

    doctor = commands.add_parser("doctor", help="check every browser's registration")
    _selectors(doctor)
    return parser


def _options(ns: argparse.Namespace) -> Options:
    return Options(
        extension_ids=list(getattr(ns, "extension_ids", [])),
        browsers=list(ns.browsers),
        system=ns.system,
        user_data_dir=ns.user_data_dir,
        models_dir=getattr(ns, "models_dir", None),
        catalog_dir=getattr(ns, "catalog_dir", None),
        comfyui_dir=getattr(ns, "comfyui_dir", None),
        extra_model_paths=list(getattr(ns, "extra_model_paths", [])),
        dry_run=getattr(ns, "dry_run", False),
        remove_venv=getattr(ns, "remove_venv", False),
        check=getattr(ns, "check", True),
    )


def _apply(actions: Sequence[Action], out: TextIO) -> None:
    for action in actions:
        outcome = action.apply()
        print(f"  {outcome:<10} {action.subject}", file=out)


def _print_plan(actions: Sequence[Action], out: TextIO) -> None:
    print("Dry run: nothing is written. The plan:", file=out)
    for action in actions:
        print(f"  would {action.describe()}", file=out)


def _folder_report(machine: Machine, plan: InstallPlan) -> list[str]:
    def configured(key: str) -> str | None:
        value = plan.config.get(key)
        return value if isinstance(value, str) and value else None

    env = machine.env
    catalog = env.get(ENV_CATALOG_DIR) or configured("catalog_dir") or str(default_catalog_dir())
    comfyui = env.get(ENV_COMFYUI_DIR) or configured("comfyui_dir")
    models = (env.get(ENV_MODELS_DIR) or configured("models_dir")
              or (str(Path(comfyui) / "models") if comfyui else None))
    lines = [
        f"Config:     {plan.config_path}",
        f"Catalog:    {catalog}",
        "Models:     " + (models or "not set: every entry shows as missing "
                          "(re-run install with --comfyui-dir DIR or --models-dir DIR)"),
    ]
    # The extra_model_paths files the host reads: ComfyUI's own when there, then the listed ones.
    yamls = [str(Path(comfyui) / "extra_model_paths.yaml")] if comfyui else []
    yamls = [p for p in yamls if Path(p).is_file()]
    extra = plan.config.get("extra_model_paths")
    if isinstance(extra, list):
        yamls += [str(p) for p in extra]
    if comfyui:
        lines.append(f"ComfyUI:    {comfyui}")
    if yamls:
        lines.append(f"YAML:       {', '.join(yamls)}")
    return [*lines, f"Logs:       {default_log_dir()}"]


def run_install(machine: Machine, interp: Interpreter, options: Options, out: TextIO) -> int:
    plan = install_plan(machine, options, interp)
    level = "system" if options.system else "profile folder" if options.user_data_dir else "user"
    print(f"catalog-host {__version__}: installing {HOST_NAME} ({machine.os}, {level} level)",
          file=out)
    if options.dry_run:
        _print_plan(plan.actions, out)
        for family, manifest in plan.manifests.items():
            print(f"Manifest that would be written ({FAMILY_LABEL[family]}):", file=out)
            print(json.dumps(manifest, indent=2), file=out)
    else:
        _apply(plan.actions, out)
    for note in plan.selection.notes + plan.notes:
        print(f"Note: {note}", file=out)

    status = 0
    if not options.dry_run and options.check:
        for family in plan.manifests:
            target = next(t for t in plan.selection.targets if t.family == family)
            if not _self_check(machine, interp, target, plan.ids[family][0], out):
                status = 1

    print("", file=out)
    print("Registered" if not options.dry_run else "Would register", f"{HOST_NAME} for:",
          file=out)
    for target in plan.selection.targets:
        labels = (", ".join(BY_KEY[k].label for k in target.browsers)
                  or f"a browser started with --user-data-dir={options.user_data_dir}")
        print(f"  {labels}\n      {target.where}", file=out)
    if "chromium" in plan.manifests:
        print(f"Extensions: {', '.join(plan.ids['chromium'])}", file=out)
    if "gecko" in plan.manifests:
        print(f"Add-ons:    {', '.join(plan.ids['gecko'])} (Firefox)", file=out)
    print(f"Launcher:   {plan.launcher.path}", file=out)
    if options.system:
        print(f"Config:     each user's own ({machine.config_path} for you); a system-wide "
              "install writes nothing in a home", file=out)
    else:
        for line in _folder_report(machine, plan):
            print(line, file=out)
    selectors = _selector_args(options)
    print(f"Check:      {command_line(machine, interp, 'doctor', *selectors)}", file=out)
    print(f"Uninstall:  {command_line(machine, interp, 'uninstall', *selectors)}"
          "   (add --remove-venv to delete the venv too)", file=out)
    return status


def _self_check(machine: Machine, interp: Interpreter, target: Target, extension_id: str,
                out: TextIO) -> bool:
    """Follow what was just registered (key -> manifest -> launcher, as doctor does) and ping
    the launcher as the browser of `target` starts it (Firefox passes the manifest it read)."""
    registered = resolve(machine, target)
    result = None
    if registered.launcher is not None and registered.manifest_path is not None:
        args = caller_args(target.family, extension_id, registered.manifest_path)
        result = ping(registered.launcher, args)
        print(f"Self-check: ping through the launcher as {describe_caller(args)}: "
              f"{'OK' if result.ok else 'FAILED'}: {result.detail} ({result.elapsed_ms:.0f} ms)",
              file=out)
    else:
        print(f"Self-check: {target.where}: FAILED: "
              f"{'; '.join(registered.problems) or 'no launcher registered there'}", file=out)
    if result is not None and result.ok:
        return True
    print(f"  fix: run `{command_line(machine, interp, 'doctor')}` for details", file=out)
    return False


def _selector_args(options: Options) -> list[str]:
    args: list[str] = []
    if options.user_data_dir is not None:
        args += ["--user-data-dir", shlex.quote(str(options.user_data_dir))]
    if options.system:
        args.append("--system")
    return args


def run_uninstall(machine: Machine, options: Options, out: TextIO) -> int:
    plan = uninstall_plan(machine, options)
    print(f"catalog-host {__version__}: uninstalling {HOST_NAME} ({machine.os})", file=out)
    if options.dry_run:
        _print_plan(plan.actions, out)
    else:
        _apply(plan.actions, out)
    for line in plan.kept:
        print(f"Kept: {line}", file=out)
    print(f"Kept: config file {machine.config_path} and the catalog (never removed; delete "
          "them yourself if you want them gone)", file=out)
    return 0


def main(argv: Sequence[str] | None = None, machine: Machine | None = None,
         interp: Interpreter | None = None, out: TextIO | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    ns = build_parser().parse_args(args)
    out = out or sys.stdout
    machine = machine or Machine.current()
    interp = interp or Interpreter.current()
    options = _options(ns)
    try:
        if ns.command == "install":
            return run_install(machine, interp, options, out)
        if ns.command == "uninstall":
            return run_uninstall(machine, options, out)
        from host.installer.doctor import run_doctor

        return run_doctor(machine, interp, options, out)
    except InstallerError as exc:
        print(f"catalog-host {ns.command}: error: {exc}", file=sys.stderr)
        return 1
    except PermissionError as exc:
        fix = ("system folders need administrator rights: run it with sudo (or as admin)"
               if options.system else "check the folder's owner and permissions")
        print(f"catalog-host {ns.command}: error: permission denied: {exc.filename or exc}\n"
              f"  fix: {fix}", file=sys.stderr)
        return 1
    except (OSError, RegistryError) as exc:
        print(f"catalog-host {ns.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover - `python -m host.installer.cli install ...`
    sys.exit(main())
