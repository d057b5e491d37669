"""What the Chromium and Firefox fixtures do alike: skip (or, with
CATALOG_HOST_REQUIRE_BROWSER=1 as CI sets it, fail) when a browser is missing, and run one
browser for the session with the host installed by the project's installer. Each browser's
own driving stays in tests/browser and tests/firefox."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn, Protocol, TypeVar

import pytest


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


@contextmanager
def browser_running(world: World) -> Iterator[World]:
    """`world` with the host installed and its browser started; the browser stopped after."""
    world.install_host()
    try:
        world.start_browser()
        yield world
    finally:
        world.stop_browser()
