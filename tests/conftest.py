"""Shared fixtures: an isolated host environment (temp HOME, config, catalog and models
folders) and a way to call the host in-process through the real dispatcher."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.catalogs import write_json  # noqa: E402
from tests.support.environment import ENV_KEYS, FAKE_CIVITAI_URL  # noqa: E402


@dataclass
class HostEnv:
    root: Path
    catalog_dir: Path
    models_dir: Path
    config_path: Path
    env: dict[str, str]
    # retry waits the CivitAI client asked for: in-process calls never really sleep
    sleeps: list[float] = field(default_factory=list)

    @property
    def models_json(self) -> Path:
        return self.catalog_dir / "models.json"

    @property
    def loras_json(self) -> Path:
        return self.catalog_dir / "loras.json"

    def write_catalogs(self, models: Any = None, loras: Any = None) -> None:
        if models is not None:
            write_json(self.models_json, models)
        if loras is not None:
            write_json(self.loras_json, loras)

    def read(self, name: str) -> Any:
        return json.loads((self.catalog_dir / f"{name}.json").read_text("utf-8"))

    def snapshot(self) -> dict[str, bytes | None]:
        """Bytes of both catalog files (None when absent), to prove nothing changed."""
        return {
            name: (p.read_bytes() if p.exists() else None)
            for name, p in (("models", self.models_json), ("loras", self.loras_json))
        }

    def put_file(self, dest: str, file: str, data: bytes = b"weights") -> Path:
        path = self.models_dir.joinpath(*dest.split("/"), file) if dest else self.models_dir / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def call(self, op: str, **params: Any) -> dict[str, Any]:
        """One request through the real dispatcher, as a fresh host process would see it."""
        from host.context import Context
        from host.dispatch import handle_message

        message = {"op": op, "id": 1, **params}
        context = Context(make_civitai=self._civitai_client)
        reply = handle_message(json.dumps(message).encode(), context)
        context.run_after_reply()  # as the server loop does once the reply is sent
        json.dumps(reply)  # a reply must always be JSON-serialisable
        return reply

    def _civitai_client(self, settings: Any) -> Any:
        from host.civitai.client import CivitaiClient

        return CivitaiClient(settings.civitai_url, settings.civitai_api_key, sleep=self.sleeps.append)

    def ok(self, op: str, **params: Any) -> dict[str, Any]:
        reply = self.call(op, **params)
        assert reply["ok"], reply
        result: dict[str, Any] = reply["result"]
        return result

    def error(self, op: str, **params: Any) -> dict[str, Any]:
        reply = self.call(op, **params)
        assert not reply["ok"], reply
        error: dict[str, Any] = reply["error"]
        return error


@pytest.fixture(autouse=True)
def _no_secret_outlives_its_test() -> Iterator[None]:
    """host.redaction keeps the API key of the last Settings or CivitAI client made in this
    process: a test that made one with a key must not redact what later tests see."""
    yield
    from host import redaction

    redaction.use_secret(None)


@pytest.fixture
def host_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HostEnv:
    home = tmp_path / "home"
    home.mkdir()
    catalog_dir = tmp_path / "catalogs"
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "CATALOG_HOST_CONFIG": str(tmp_path / "config.json"),
        "CATALOG_HOST_CATALOG_DIR": str(catalog_dir),
        "CATALOG_HOST_MODELS_DIR": str(models_dir),
        "CATALOG_HOST_CIVITAI_URL": FAKE_CIVITAI_URL,
    }
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    full_env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    full_env.update(env)
    return HostEnv(tmp_path, catalog_dir, models_dir, tmp_path / "config.json", full_env)
