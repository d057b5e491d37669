"""Fixtures for the subprocess tests: `civitai`, the fake CivitAI as a real HTTP server on
127.0.0.1 (tests/support/fake_civitai.py), which the host under test is configured to ask."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.fake_civitai import FakeCivitai


@pytest.fixture
def civitai(host_env: Any) -> Iterator[FakeCivitai]:
    with FakeCivitai() as fake:
        host_env.env["CATALOG_HOST_CIVITAI_URL"] = fake.url
        yield fake
