"""The program a manifest's `path` names: what the browser starts, once per message.

POSIX: a two-line `/bin/sh` script in `<data dir>/bin/` that execs the installing Python with
its absolute path. A browser started from the desktop has a minimal PATH (so no
`#!/usr/bin/env python3`), and a `#!` line cannot hold a path with spaces (macOS's
"Application Support"), hence sh; `exec` keeps one process, so EOF and signals reach the host and
start-up costs one small exec. Windows: pip's own `Scripts\\catalog-host.exe` console launcher
(it embeds the absolute interpreter path); Chrome's direct launch of hosts breaks `.bat` files.
"""

from __future__ import annotations

import shlex
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import host
from host.installer.errors import InstallerError
from host.installer.machine import Machine
from host.settings import ENV_CONFIG

LAUNCHER_NAME = "catalog-host"
# What the launcher runs: the same as `python -m host`, without runpy.
ENTRY_POINT = "import sys; from host.cli import main; sys.exit(main())"
WINDOWS_EXE = "catalog-host.exe"


@dataclass(frozen=True)
class Interpreter:
    """The Python the launcher runs and how that Python finds the `host` package."""

    # Absolute but not resolved: a venv's python is a symlink, and resolving it leaves the venv.
    python: str
    # Where pip puts console scripts for this Python (Windows: catalog-host.exe).
    scripts_dir: Path
    # The folder holding `host/` when the package is not installed in this Python (running from
    # a checkout); the launcher then puts it on PYTHONPATH.
    package_parent: Path | None

    @classmethod
    def current(cls) -> Interpreter:
        return cls(
            python=str(Path(sys.executable).absolute()),
            scripts_dir=Path(sysconfig.get_path("scripts")),
            package_parent=None if _installed() else Path(host.__file__).resolve().parent.parent,
        )


def _installed() -> bool:
    """Is the package installed into this Python (regular or editable), not just on sys.path?

    Only the interpreter's own site folders count: the current folder (a checkout, perhaps
    with a stale egg-info) is not on the path of a browser-started host.
    """
    from importlib.metadata import distributions

    site_dirs = list(dict.fromkeys(sysconfig.get_path(k) for k in ("purelib", "platlib")))
    names = (str(d.metadata["Name"] or "").lower().replace("_", "-") for d in distributions(path=site_dirs))
    return "catalog-host" in names


@dataclass(frozen=True)
class Launcher:
    path: Path
    # The script to write; None when the launcher is an existing program we only point at.
    content: bytes | None

    @property
    def owned(self) -> bool:
        """Written by install (so removed by uninstall)."""
        return self.content is not None


def posix_script(interp: Interpreter, config_path: Path | None) -> bytes:
    """The launcher; with `config_path`, it pins the config file install wrote (a desktop
    session's XDG variables may differ from the installing shell's), unless the environment
    names another one."""
    q = shlex.quote
    lines = [
        "#!/bin/sh",
        "# catalog-host launcher, written by `catalog-host install`: browsers start this file.",
    ]
    if config_path is not None:
        lines += [
            "# The config file install wrote, unless the environment names another one.",
            f'if [ -z "${{{ENV_CONFIG}:-}}" ]; then',
            f"  {ENV_CONFIG}={q(str(config_path))}",
            f"  export {ENV_CONFIG}",
            "fi",
        ]
    # `-c` rather than `-m host`: runpy costs a cold start several milliseconds, and the
    # browser starts a new process for every message.
    start = q(ENTRY_POINT)
    if interp.package_parent is None:
        # -I: ignore PYTHON* variables and the user site of the desktop session.
        lines.append(f'exec {q(interp.python)} -I -c {start} "$@"')
    else:  # a development checkout: the package is found through PYTHONPATH
        lines += [
            f"PYTHONPATH={q(str(interp.package_parent))}",
            "export PYTHONPATH",
            f'exec {q(interp.python)} -s -c {start} "$@"',
        ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _inside(path: Path, folder: Path) -> bool:
    return folder == path or folder in path.parents


def check_system_interpreter(machine: Machine, interp: Interpreter) -> None:
    """A --system launcher must run only root-owned code: the interpreter (its venv) and the
    package must live in the system folder, never in a user's home or a checkout."""
    where = machine.system_dir
    program = interp.scripts_dir if machine.os == "windows" else Path(interp.python)
    # The venv's own folder, symlinks resolved: a link in the system folder to a venv in a
    # home is refused too (the python inside a venv is itself a link, to a system Python).
    folder = (program if machine.os == "windows" else program.parent).resolve()
    if interp.package_parent is not None or not _inside(folder, where.resolve()):
        shown = interp.package_parent or program
        script = r"install\install.ps1 --system" if machine.os == "windows" else (
            "sudo sh install/install.sh --system")
        raise InstallerError(
            f"a system-wide install must run from a virtual environment in {where}, not from "
            f"{shown}: every account's browser would start it, and whoever can write there could "
            "change what they run",
            fix=f"run `{script}` (it creates {where / 'venv'}), or leave out --system",
        )


def plan_launcher(machine: Machine, interp: Interpreter, system: bool = False) -> Launcher:
    """`system`: the launcher goes into the root-owned system folder and pins no config file
    (every user's host reads that user's own config)."""
    if system:
        check_system_interpreter(machine, interp)
    if machine.os == "windows":
        exe = interp.scripts_dir / WINDOWS_EXE
        if not exe.is_file():
            raise InstallerError(
                f"{exe} does not exist: the browser needs that .exe to start the host",
                fix="install the package into this Python first (install\\install.ps1 does it)",
            )
        return Launcher(exe, None)
    path = launcher_path(machine, system)
    return Launcher(path, posix_script(interp, None if system else machine.config_path))


def launcher_path(machine: Machine, system: bool) -> Path:
    """Where install writes the POSIX launcher script."""
    return (machine.system_dir if system else machine.data_dir) / "bin" / LAUNCHER_NAME


def command_line(machine: Machine, interp: Interpreter, *args: str) -> str:
    """How a person runs `python -m host <args>` with this interpreter, on this OS."""
    if machine.os == "windows":  # PowerShell: '' is a quote inside a single-quoted string
        python = interp.python.replace("'", "''")
        return " ".join([f"& '{python}' -m host", *args])
    line = " ".join([shlex.quote(interp.python), "-m", "host", *args])
    if interp.package_parent is not None:  # a checkout: `host` is found from its folder
        return f"cd {shlex.quote(str(interp.package_parent))} && {line}"
    return line
