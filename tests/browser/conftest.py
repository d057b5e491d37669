"""Fixtures for the end-to-end tests in a real headless Chromium (marker `browser`).

One browser per test session (with its own user-data dir, the host installed into it by the
project's installer, the extension stub loaded); each test gets it back with empty catalog
and models folders. Without Chromium the tests skip, unless CATALOG_HOST_REQUIRE_BROWSER=1
(CI sets it): then they fail, so a CI machine without a browser cannot pass silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.harness import STUB_ID, World, find_chromium
from tests.support.browsers import browser_missing, browser_running
from tests.support.fake_civitai import FakeCivitai
from tests.support.fake_storage import FakeStorage


@pytest.fixture(scope="session")
def chromium() -> str:
    binary = find_chromium()
    if binary is None:
        reason = (
            "Chromium not found (looked for $CATALOG_HOST_CHROMIUM, /usr/lib/chromium/chromium and "
            "an ELF `chromium` on PATH); install it with `apt-get install chromium`"
        )
        browser_missing(reason)
    return binary


@pytest.fixture(scope="session")
def fake_civitai() -> Iterator[FakeCivitai]:
    with FakeCivitai() as fake:
        yield fake


@pytest.fixture(scope="session")
def browser_world(
    chromium: str, fake_civitai: FakeCivitai, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    with browser_running(World(tmp_path_factory.mktemp("browser"), chromium, fake_civitai.url)) as world:
        yield world
    errors = world.browser_errors
    assert not errors, f"errors in the fake-page handler: {errors}"


@pytest.fixture
def world(browser_world: World, fake_civitai: FakeCivitai) -> Iterator[World]:
    """The session's browser, with empty catalogs, the host installed for the stub only."""
    browser_world.reset()
    fake_civitai.reset()
    if not browser_world.install_is_default:  # a previous test changed it (or the config)
        browser_world.config_path.unlink(missing_ok=True)  # no key or id of its left behind
        browser_world.install_host(STUB_ID)
    try:
        yield browser_world
    finally:
        browser_world.stop_downloads()  # no download worker outlives its test
    assert not fake_civitai.errors, fake_civitai.errors


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where a test saves its screenshots (kept in pytest's temp folder)."""
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return folder


@pytest.fixture
def fake_storage() -> Iterator[FakeStorage]:
    """CivitAI's file storage (the target of the download endpoint's 302), on 127.0.0.1."""
    with FakeStorage() as storage:
        yield storage
