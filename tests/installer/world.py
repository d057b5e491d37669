"""The fake machine the installer tests run on: any OS, around temporary folders.

Nothing here may reach the real HOME, /etc or registry: every path a `Machine` names is under
the test's temporary folder and the registry is a dict.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

from host.installer.cli import main
from host.installer.launcher import Interpreter
from host.installer.machine import Machine, OsName
from host.installer.machine import system_dir as machine_system_dir
from host.installer.registry import DictRegistry


@dataclass
class FakeWorld:
    """A machine of one OS under tmp_path, plus the interpreter the launcher will name."""

    tmp: Path
    machine: Machine
    interp: Interpreter
    registry: DictRegistry

    @property
    def home(self) -> Path:
        return self.machine.home

    def run(self, *argv: str) -> tuple[int, str]:
        out = io.StringIO()
        status = main(list(argv), machine=self.machine, interp=self.interp, out=out)
        return status, out.getvalue()

    def snapshot(self) -> dict[str, bytes | None]:
        """Every file (its bytes) and folder (None) under tmp, except the fake interpreter's."""
        tree: dict[str, bytes | None] = {}
        venv = Path(self.interp.python).parent.parent
        for path in sorted(self.tmp.rglob("*")):
            rel = path.relative_to(self.tmp).as_posix()
            if rel.startswith(("python", "process-home")) or path == venv or venv in path.parents:
                continue
            tree[rel] = None if path.is_dir() and not path.is_symlink() else path.read_bytes()
        return tree


def fake_interpreter(folder: Path) -> Interpreter:
    """A stand-in for the product venv in `folder`: a Windows target needs
    Scripts\\catalog-host.exe."""
    scripts = folder / "Scripts"
    scripts.mkdir(parents=True, exist_ok=True)
    (scripts / "catalog-host.exe").write_bytes(b"MZ fake console launcher")
    return Interpreter(python=str(folder / "bin" / "python3"), scripts_dir=scripts,
                       package_parent=None)


def make_world(tmp: Path, os_name: OsName, env: dict[str, str] | None = None,
               interp: Interpreter | None = None, system_venv: bool = False) -> FakeWorld:
    """`system_venv`: the interpreter is the venv a --system install.sh makes in the system
    folder (the only one --system accepts)."""
    home = tmp / "home"
    # Folders every real account has: the installer never removes them.
    for folder in (".config", "Library/Application Support", "data", "AppData/Local"):
        (home / folder).mkdir(parents=True, exist_ok=True)
    config_path = home / "config-dir" / "config.json"
    registry = DictRegistry()
    system_dir = machine_system_dir(os_name, tmp / "root", tmp / "root" / "Program Files")
    if interp is None:
        interp = fake_interpreter(system_dir / "venv" if system_venv else tmp / "python")
    machine = Machine(
        os=os_name,
        home=home,
        env={"HOME": str(home), "CATALOG_HOST_CONFIG": str(config_path), **(env or {})},
        root=tmp / "root",
        data_dir=home / ("AppData/Local" if os_name == "windows" else "data") / "catalog-host",
        system_dir=system_dir,
        config_path=config_path,
        registry=registry,
    )
    return FakeWorld(tmp, machine, interp, registry)


def write_script(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.chmod(path, 0o755)
    return path


def real_system_venv(tmp: Path, os_name: OsName = "linux") -> Interpreter:
    """A real venv in the fake system folder (as `sudo install.sh --system` makes one), whose
    site-packages finds this checkout's `host` and the test venv's dependencies through a .pth
    file: a launcher pointing at it really answers ping."""
    import sysconfig
    import venv

    folder = machine_system_dir(os_name, tmp / "root", tmp / "root" / "Program Files") / "venv"
    venv.create(folder, with_pip=False, symlinks=True)
    purelib = sysconfig.get_path("purelib", vars={"base": str(folder), "platbase": str(folder)})
    Path(purelib).mkdir(parents=True, exist_ok=True)
    lines = [str(Path(__file__).resolve().parents[2]), sysconfig.get_path("purelib")]
    (Path(purelib) / "catalog_host_checkout.pth").write_text("\n".join(lines) + "\n", "utf-8")
    return Interpreter(python=str(folder / "bin" / "python"), scripts_dir=folder / "bin",
                       package_parent=None)
