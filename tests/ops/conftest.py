"""Fixtures for the op tests: the one CivitAI fake of in-process tests (requests-mock at the
network edge, answering at FAKE_CIVITAI_URL) and the retry waits the client asked for.

`host_env` (tests/conftest.py) gives the isolated environment and `call` through the real
dispatcher, whose context provides a CivitAI client that records waits instead of sleeping.
Subprocess, browser and stress tests use tests/support/fake_civitai.py, a real HTTP server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support.environment import FAKE_CIVITAI_URL
from tests.support.fake_civitai import load_fixture


@pytest.fixture
def sleeps(host_env: Any) -> list[float]:
    """Retry waits the CivitAI client asked for; nobody actually sleeps."""
    waits: list[float] = host_env.sleeps
    return waits


@dataclass
class FakeCivitaiApi:
    mock: Any
    served: dict[str, dict[str, Any]] = field(default_factory=dict)

    @staticmethod
    def url(version_id: int | str) -> str:
        return f"{FAKE_CIVITAI_URL}/api/v1/model-versions/{version_id}"

    def serve(self, fixture: str | dict[str, Any], **changes: Any) -> dict[str, Any]:
        """Answer 200 with a fixture (by name) or a payload; returns the payload."""
        payload = load_fixture(fixture) if isinstance(fixture, str) else fixture
        payload.update(changes)
        self.mock.get(self.url(payload["id"]), json=payload)
        self.served[str(payload["id"])] = payload
        return payload

    def respond(self, version_id: int | str, **response: Any) -> None:
        """Any requests-mock response (status_code, content, headers, exc, or a list of them)."""
        if "responses" in response:
            self.mock.get(self.url(version_id), response["responses"])
        else:
            self.mock.get(self.url(version_id), **response)

    @property
    def calls(self) -> int:
        return int(self.mock.call_count)

    @property
    def urls(self) -> list[str]:
        return [request.url for request in self.mock.request_history]


@pytest.fixture
def civitai(requests_mock: Any) -> FakeCivitaiApi:
    return FakeCivitaiApi(requests_mock)
