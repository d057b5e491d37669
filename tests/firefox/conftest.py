"""Fixtures for the end-to-end tests in a real headless Firefox ESR (marker `browser`).

One Firefox per test session (fresh profile, the stub as a temporary add-on, the host
registered for Firefox by the project's installer into a temp HOME); each test gets it back with
empty catalog and models folders. Without Firefox (or `openssl`, which makes the fake
civitai.com certificate) the tests skip, unless CATALOG_HOST_REQUIRE_BROWSER=1 (CI sets it):
then they fail.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.firefox.harness import GECKO_ID, FirefoxWorld, find_firefox
from tests.support.browsers import browser_missing, browser_running
from tests.support.fake_civitai import FakeCivitai


@pytest.fixture(scope="session")
def firefox_binary() -> str:
    binary = find_firefox()
    missing = None
    if binary is None:
        missing = ("Firefox not found (looked for $CATALOG_HOST_FIREFOX, /usr/bin/firefox-esr and "
                   "firefox-esr / firefox on PATH); install it with `apt-get install firefox-esr`")
    elif shutil.which("openssl") is None:
        missing = "openssl not found (it makes the fake civitai.com certificate)"
    if missing:
        browser_missing(missing)
    assert binary is not None
    return binary


@pytest.fixture(scope="session")
def firefox_civitai() -> Iterator[FakeCivitai]:
    with FakeCivitai() as fake:
        yield fake


@pytest.fixture(scope="session")
def firefox_session(
    firefox_binary: str, firefox_civitai: FakeCivitai, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FirefoxWorld]:
    with browser_running(FirefoxWorld(tmp_path_factory.mktemp("firefox"), firefox_binary,
                                      firefox_civitai.url)) as world:
        yield world
    assert world.proxy is not None and not world.proxy.errors, world.proxy.errors


@pytest.fixture
def ff(firefox_session: FirefoxWorld, firefox_civitai: FakeCivitai) -> Iterator[FirefoxWorld]:
    """The session's Firefox, empty catalogs, the host installed for the stub only."""
    if not firefox_session.install_is_default:  # a previous test changed it
        firefox_session.install_host(GECKO_ID)
    firefox_session.reset()
    firefox_civitai.reset()
    yield firefox_session
    assert not firefox_civitai.errors, firefox_civitai.errors
