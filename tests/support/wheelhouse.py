"""A folder of wheels made from the distributions installed in this test venv, so that a pip
run with `--no-index --find-links` (install/install.sh under test) installs offline.

Why not `pip download` / `pip wheel`: both ask the package index. The test venv already holds
every runtime dependency of the package and its build backend, so each is packed back into a
wheel from its installed files: the files its RECORD lists inside site-packages (scripts in
bin/ are left out: pip writes them again from entry_points.txt), its .dist-info, a new RECORD,
and the file name made from the tags in its WHEEL file (a compiled one keeps its platform tags,
right for a venv of the same interpreter).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as metadata
import re
import zipfile
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

# pip writes these at install time; they do not belong in a wheel.
_INSTALL_RECORDS = {"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _wheel_tag(wheel_file: str) -> str:
    """`py-abi-platform` of a wheel's file name, from the Tag lines of its WHEEL file."""
    tags = [line.split(":", 1)[1].strip() for line in wheel_file.splitlines()
            if line.startswith("Tag:")]
    parts = [sorted({tag.split("-")[i] for tag in tags}) for i in range(3)]
    return "-".join(".".join(p) for p in parts)


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def repack(dist: metadata.Distribution, folder: Path) -> Path:
    """`dist` as a wheel in `folder`."""
    files = [f for f in dist.files or [] if f.parts[0] != ".." and "__pycache__" not in f.parts]
    info = next(f.parts[0] for f in files if f.parts[0].endswith(".dist-info"))
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"])
    wheel_name = f"{name}-{dist.version}-{_wheel_tag(dist.read_text('WHEEL') or '')}.whl"
    record: list[str] = []
    path = folder / wheel_name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
        for file in files:
            if file.parts[0] == info and file.name in _INSTALL_RECORDS:
                continue
            data = Path(str(file.locate())).read_bytes()
            wheel.writestr(file.as_posix(), data)
            record.append(_record_line(file.as_posix(), data))
        record.append(f"{info}/RECORD,,")
        wheel.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return path


def requirement_closure(roots: list[str]) -> list[metadata.Distribution]:
    """The installed distributions `roots` need at run time (extras left out), roots included."""
    environment = {**default_environment(), "extra": ""}
    found: dict[str, metadata.Distribution] = {}
    pending = list(roots)
    while pending:
        name = _canonical(pending.pop())
        if name in found:
            continue
        dist = metadata.distribution(name)
        found[name] = dist
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate(environment):
                pending.append(requirement.name)
    return list(found.values())


def wheelhouse_for(project: str, build_requires: list[str], folder: Path) -> Path:
    """Wheels of every run-time dependency of the installed `project` (not of the project
    itself, which pip builds from its source) and of `build_requires`, in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for dist in requirement_closure([project, *build_requires]):
        if _canonical(dist.metadata["Name"]) != _canonical(project):
            repack(dist, folder)
    return folder
