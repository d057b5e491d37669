"""Planned changes to the machine: each says what it will do, and does it when applied.

A plan is a list of these; `--dry-run` prints `describe()` and applies nothing. Applying is
idempotent: a file whose bytes and mode already match is left alone (reported "unchanged"),
removing something absent reports "absent". Files are replaced atomically (host.atomicfile): a
launcher being rewritten while a browser runs it stays whole, because the running shell keeps
reading the old inode.
"""

from __future__ import annotations

import os
import shutil
import stat
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from host.atomicfile import write_atomically
from host.installer.registry import Hive, Registry


class Action(ABC):
    verb: str  # "write", "remove", ... : the plan says `would <verb> <subject>`

    @property
    @abstractmethod
    def subject(self) -> str: ...

    def describe(self) -> str:
        return f"{self.verb} {self.subject}"

    @abstractmethod
    def apply(self) -> str:
        """Do it; return the outcome in one word (written / unchanged / removed / absent)."""


def _mode_for(path: Path, executable: bool, private: bool) -> int:
    if executable:
        return 0o755
    if private:
        try:  # keep a mode the person chose for an existing config file
            return stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            return 0o600  # it may hold the CivitAI API key
    return 0o644


@dataclass
class WriteFile(Action):
    what: str
    path: Path
    content: bytes
    executable: bool = False
    private: bool = False

    verb = "write"

    @property
    def subject(self) -> str:
        return f"{self.what}: {self.path}"

    def apply(self) -> str:
        mode = _mode_for(self.path, self.executable, self.private)
        try:
            same = self.path.read_bytes() == self.content
            # Windows has no POSIX modes: there the bytes decide.
            same = same and (os.name == "nt" or stat.S_IMODE(self.path.stat().st_mode) == mode)
        except OSError:
            same = False
        if same:
            return "unchanged"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.path, self.content, mode)
        return "written"


@dataclass
class SetRegistryDefault(Action):
    registry: Registry
    hive: Hive
    key: str
    value: str

    verb = "set"

    @property
    def subject(self) -> str:
        return f"registry key: {self.hive}\\{self.key} = {self.value}"

    def apply(self) -> str:
        if self.registry.get_default(self.hive, self.key) == self.value:
            return "unchanged"
        self.registry.set_default(self.hive, self.key, self.value)
        return "written"


def prune_empty(folder: Path, stop: Path) -> None:
    """Remove `folder` and its parents while they are empty, never `stop` or anything above it."""
    while folder != stop and stop in folder.parents:
        try:
            folder.rmdir()  # fails (and stops the climb) on a folder that is not empty
        except OSError:
            return
        folder = folder.parent


@dataclass
class RemoveFile(Action):
    what: str
    path: Path
    prune_stop: Path

    verb = "remove"

    @property
    def subject(self) -> str:
        return f"{self.what}: {self.path}"

    def apply(self) -> str:
        if not (self.path.exists() or self.path.is_symlink()):
            prune_empty(self.path.parent, self.prune_stop)
            return "absent"
        self.path.unlink()
        prune_empty(self.path.parent, self.prune_stop)
        return "removed"


@dataclass
class DeleteRegistryKey(Action):
    registry: Registry
    hive: Hive
    key: str

    verb = "delete"

    @property
    def subject(self) -> str:
        return f"registry key: {self.hive}\\{self.key}"

    def apply(self) -> str:
        return "removed" if self.registry.delete_key(self.hive, self.key) else "absent"


@dataclass
class RemoveTree(Action):
    what: str
    path: Path

    verb = "remove"

    @property
    def subject(self) -> str:
        return f"{self.what}: {self.path}"

    def apply(self) -> str:
        if not self.path.exists():
            return "absent"
        shutil.rmtree(self.path)
        return "removed"
