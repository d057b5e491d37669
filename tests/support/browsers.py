"""What the Chromium and Firefox fixtures do alike: skip (or, with
CATALOG_HOST_REQUIRE_BROWSER=1 as CI sets it, fail) when a browser is missing, and run one
browser for the session with the host installed by the project's installer. Each browser's
own driving stays in tests/browser and tests/firefox."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, Protocol, TypeVar

import pytest

from host.atomicfile import write_atomically  # replaces the file: new inode, new mtime
from tests.support.catalogs import catalog_document


class BrowserWorld(Protocol):
    def install_host(self) -> object: ...
    def start_browser(self) -> None: ...
    def stop_browser(self) -> None: ...


World = TypeVar("World", bound=BrowserWorld)


def browser_missing(reason: str) -> NoReturn:
    """Skip the test for `reason`; fail instead when CATALOG_HOST_REQUIRE_BROWSER=1, so a CI
    machine without a browser cannot pass silently."""
    if os.environ.get("CATALOG_HOST_REQUIRE_BROWSER", "") == "1":
        pytest.fail(f"CATALOG_HOST_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


class HostFiles:
    """What a browser test does to the host's files as a person would: the installer's
    uninstall, config edits, catalogs written and read, model files put on disk. Mixed into
    each browser's world, which sets these attributes and runs the installer its own way."""

    catalog_dir: Path
    models_dir: Path
    config_path: Path
    install_is_default: bool

    def installer(self, command: str, *args: str) -> subprocess.CompletedProcess[str]:
        raise NotImplementedError

    def uninstall_host(self) -> subprocess.CompletedProcess[str]:
        self.install_is_default = False
        return self.installer("uninstall")

    def edit_config(self, **changes: Any) -> None:
        """Change keys of the host's config file (as a person editing it would)."""
        config = json.loads(self.config_path.read_text("utf-8"))
        config.update(changes)
        write_atomically(self.config_path, json.dumps(config, indent=2).encode())
        self.install_is_default = False

    def write_catalog(self, name: str, categories: dict[str, list[dict[str, Any]]]) -> None:
        data = json.dumps(catalog_document(categories), indent=2, ensure_ascii=False) + "\n"
        write_atomically(self.catalog_dir / f"{name}.json", data.encode("utf-8"))

    def read_catalog(self, name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.catalog_dir / f"{name}.json").read_text("utf-8"))
        return data

    def catalog_version_ids(self, name: str) -> set[int]:
        """The CivitAI version ids in catalog `name` (none when the file is absent)."""
        if not (self.catalog_dir / f"{name}.json").exists():
            return set()
        return {
            int(entry["civitai_version_id"])
            for category in self.read_catalog(name)["categories"]
            for entry in category["models"]
            if "civitai_version_id" in entry
        }

    def put_model_file(self, dest: str, file: str) -> Path:
        path = self.models_dir.joinpath(*dest.split("/"), file)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not really weights")
        return path


@contextmanager
def browser_running(world: World) -> Iterator[World]:
    """`world` with the host installed and its browser started; the browser stopped after."""
    world.install_host()
    try:
        world.start_browser()
        yield world
    finally:
        world.stop_browser()
