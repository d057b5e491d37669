"""The set-up every benchmark shares: a throw-away work folder, an environment that sees none
of the person's own config, the package installed (not editable) in its own venv, the host
registered with the project's installer, and the stdlib-only echo host (the floor) started the
same way. What each benchmark measures stays in its own module.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[2]

ORIGIN = "chrome-extension://jpiddlinckgdlidmojineffgcdpfoacg/"
FLOOR_SOURCE = """\
import sys
stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
size = int.from_bytes(stdin.read(4), sys.byteorder)
body = stdin.read(size)
reply = b'{"id":null,"ok":true,"result":{}}'
stdout.write(len(reply).to_bytes(4, sys.byteorder) + reply)
stdout.flush()
"""


def sh(*args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, env=env).stdout


@contextmanager
def work_folder(prefix: str, keep: bool) -> Iterator[Path]:
    """A new temp folder, removed afterwards unless `keep` (then its path is printed)."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield work
    finally:
        if keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def isolated_env(home: Path) -> dict[str, str]:
    """This process's environment minus any catalog-host / CivitAI settings, with HOME and the
    XDG folders under `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CATALOG_HOST_", "CIVITAI_"))}
    env.update({"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
                "XDG_DATA_HOME": str(home / ".local/share"), "XDG_CACHE_HOME": str(home / ".cache"),
                "XDG_STATE_HOME": str(home / ".local/state")})
    return env


def make_venv(folder: Path) -> Path:
    python = folder / "bin" / "python"
    if not python.exists():
        print(f"building the benchmark venv in {folder} (pip install {ROOT}) ...", flush=True)
        sh(sys.executable, "-m", "venv", str(folder))
    sh(str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(ROOT))
    return python


def install_launcher(python: Path, work: Path, env: dict[str, str]) -> Path:
    """Register the host with the project's installer; the launcher its manifest names."""
    profile = work / "profile"
    sh(str(python), "-m", "host", "install", "--browser", "chromium", "--user-data-dir", str(profile),
       "--no-check", env=env)
    manifest = json.loads((profile / "NativeMessagingHosts" / "com.civitai_catalog.host.json").read_text())
    return Path(manifest["path"])


def floor_launcher(python: Path, work: Path) -> Path:
    script = work / "floor_host.py"
    script.write_text(FLOOR_SOURCE)
    launcher = work / "floor-launcher"
    launcher.write_text(f'#!/bin/sh\nexec "{python}" -I "{script}" "$@"\n')
    launcher.chmod(0o755)
    return launcher


class Installed(NamedTuple):
    """What `install` made: the isolated env, the venv's python, the host's launcher and the
    commands that start the host and the floor as a browser would."""

    env: dict[str, str]
    python: Path
    launcher: Path
    host_cmd: list[str]
    floor_cmd: list[str]


def install(work: Path, venv: str | None) -> Installed:
    """The package installed in `venv` (default: a venv in `work`) and registered for a
    home folder in `work`; the floor launcher written next to it."""
    env = isolated_env(work / "home")
    python = make_venv(Path(venv) if venv else work / "venv")
    launcher = install_launcher(python, work, env)
    floor = floor_launcher(python, work)
    return Installed(env, python, launcher, [str(launcher), ORIGIN], [str(floor), ORIGIN])
