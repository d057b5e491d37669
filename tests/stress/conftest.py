"""Fixtures of the stress battery and the end-of-run figures (helpers live in helpers.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.stress.helpers import FIGURES, SCALE
from tests.support.fake_civitai import FakeCivitai


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES:
        terminalreporter.write_sep("=", f"stress figures (scale {SCALE:g})")
        for line in FIGURES:
            terminalreporter.write_line(line)


@pytest.fixture
def civitai(host_env: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A fake CivitAI on 127.0.0.1 that both in-process calls and subprocesses use."""
    with FakeCivitai() as fake:
        host_env.env["CATALOG_HOST_CIVITAI_URL"] = fake.url
        monkeypatch.setenv("CATALOG_HOST_CIVITAI_URL", fake.url)
        yield fake
        assert not fake.errors, fake.errors
