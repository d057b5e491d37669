"""Issue 11 E: CivitAI reflecting the API key in any field of an answer (the type, a file name,
the restriction reason, a key the payload validation points at) must not put it in a reply, in
host.log, on stderr, or in a catalog file. A real host subprocess against a fake CivitAI on
127.0.0.1."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.catalogs import studio_catalogs
from tests.support.fake_civitai import FakeCivitai, load_fixture
from tests.support.frames import frame, unframe_all

STUB_ORIGIN = "chrome-extension://jpiddlinckgdlidmojineffgcdpfoacg/"
KEY = "Kq7ZpW2mXv9LtR4nBy6HcJ8dFs3GaE5u"
VID = 148210


def _set_type(p: dict[str, Any]) -> None:
    p["model"]["type"] = f"Checkpoint {KEY}"


def _set_file_name(p: dict[str, Any]) -> None:
    p["files"][0]["name"] = f"{KEY}.safetensors"


def _set_unsafe_file_name(p: dict[str, Any]) -> None:
    p["files"][0]["name"] = f"../{KEY}.safetensors"


def _set_restriction(p: dict[str, Any]) -> None:
    p["usageControl"] = f"Generation {KEY}"


def _set_error_path(p: dict[str, Any]) -> None:
    p["files"][0]["hashes"] = {KEY: 12345}  # not a string: validation names the key


def _set_model_name(p: dict[str, Any]) -> None:
    p["model"]["name"] = f"Echo {KEY}"


def _set_key_part(p: dict[str, Any]) -> None:
    p["model"]["type"] = f"Checkpoint {KEY[5:19]}"  # a run of 14 characters of the key


REFLECTIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "type": _set_type,
    "file-name": _set_file_name,
    "unsafe-file-name": _set_unsafe_file_name,
    "restriction": _set_restriction,
    "error-path": _set_error_path,
    "model-name": _set_model_name,
    "part-of-the-key": _set_key_part,
}


def key_windows() -> list[bytes]:
    """Every run of 8 characters of the key: none may appear anywhere."""
    return [KEY[i : i + 8].encode() for i in range(len(KEY) - 7)]


@pytest.mark.parametrize("field", list(REFLECTIONS))
def test_a_key_reflected_by_civitai_leaks_nowhere(host_env: Any, civitai: FakeCivitai, field: str) -> None:
    host_env.write_catalogs(*studio_catalogs())
    payload = copy.deepcopy(load_fixture("sdxl_lora"))
    REFLECTIONS[field](payload)
    civitai.add_version(payload)
    host_env.env["CIVITAI_API_KEY"] = KEY
    proc = subprocess.run(
        [sys.executable, "-m", "host", STUB_ORIGIN],
        input=frame({"op": "add", "id": 1, "version_id": VID}) + frame({"op": "lookup", "id": 2, "version_ids": [VID]}),
        capture_output=True, env=host_env.env, timeout=60, cwd=host_env.root,
    )
    assert proc.returncode == 0, proc.stderr
    replies = unframe_all(proc.stdout)
    assert len(replies) == 2
    assert [r.header("authorization") for r in civitai.requests] == [f"Bearer {KEY}"]
    logs = b"".join(p.read_bytes() for p in (host_env.root / "home").rglob("*") if p.is_file())
    catalogs = b"".join(p.read_bytes() for p in host_env.catalog_dir.iterdir() if p.is_file())
    for where, data in (("replies", proc.stdout), ("stderr", proc.stderr), ("logs", logs),
                        ("catalog folder", catalogs)):
        leaked = [w.decode() for w in key_windows() if w in data]
        assert not leaked, f"the API key leaked into the {where}: {leaked[:3]}"
