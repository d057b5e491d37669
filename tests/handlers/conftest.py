"""Fixtures for handler tests: CivitAI faked with requests-mock (no network, no real sleeps).

`host_env` (tests/conftest.py) gives the isolated environment and `call` through the real
dispatcher; here: `civitai` to script the CivitAI answers, `sleeps` to record retry waits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from host.civitai.client import CivitaiClient
from tests.support.fake_civitai import load_fixture

FAKE_CIVITAI_URL = "https://civitai.test"  # what host_env sets CATALOG_HOST_CIVITAI_URL to


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retry waits the client asked for; nobody actually sleeps."""
    waits: list[float] = []
    monkeypatch.setitem(CivitaiClient.__init__.__kwdefaults__, "sleep", waits.append)
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
