"""Helpers of the stress battery: scale, figures, a strict frame oracle, host runners.

Counts scale with CATALOG_HOST_STRESS_SCALE (default 1: CI-sized, a few minutes on 2 cores;
e.g. 10 for a long run). Every test records what it threw at the host and what was lost
(always nothing, or the test fails); the figures are printed at the end of the run.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.fake_civitai import load_fixture

SCALE = float(os.environ.get("CATALOG_HOST_STRESS_SCALE", "") or 1.0)
STUB_ORIGIN = "chrome-extension://jpiddlinckgdlidmojineffgcdpfoacg/"
HOSTWRAP = Path(__file__).resolve().with_name("hostwrap.py")
MAX_REPLY = 1024 * 1024

FIGURES: list[str] = []


def scaled(count: int, minimum: int = 1) -> int:
    return max(minimum, round(count * SCALE))


def figure(text: str) -> None:
    """Record one line of figures for the end-of-run summary (also printed: see it with -s)."""
    FIGURES.append(text)
    print(f"[stress] {text}")


# --------------------------------------------------------------------------- strict oracle


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strict_json(body: bytes) -> Any:
    """What a browser's JSON parser accepts: strict UTF-8 (no raw lone surrogate), no NaN /
    Infinity literals, no number that overflows to infinity (1e400). A "\\ud800" escape is
    valid JSON (JSON.parse gives a lone surrogate) and is allowed."""
    text = body.decode("utf-8")
    value = json.loads(text, parse_constant=_no_constant)
    json.dumps(value, allow_nan=False)  # raises for inf from 1e400
    return value


def strict_frames(data: bytes) -> list[dict[str, Any]]:
    """Every frame in the host's stdout; fails on any byte that is not a valid reply frame."""
    replies: list[dict[str, Any]] = []
    pos = 0
    while pos < len(data):
        assert len(data) - pos >= 4, f"{len(data) - pos} stray bytes after the last frame"
        size = int.from_bytes(data[pos : pos + 4], sys.byteorder)
        assert size <= MAX_REPLY, f"frame of {size} bytes is over Chrome's 1 MiB limit"
        body = data[pos + 4 : pos + 4 + size]
        assert len(body) == size, "truncated frame in the host's output"
        reply = strict_json(body)
        check_envelope(reply)
        replies.append(reply)
        pos += 4 + size
    return replies


def check_envelope(reply: Any) -> None:
    assert isinstance(reply, dict) and set(reply) in ({"id", "ok", "result"}, {"id", "ok", "error"}), reply
    if reply["ok"] is True:
        assert isinstance(reply["result"], dict)
    else:
        assert reply["ok"] is False
        error = reply["error"]
        assert isinstance(error.get("code"), str) and isinstance(error.get("message"), str), reply


# --------------------------------------------------------------------------- environments


def sub_env(host_env: Any, name: str) -> Any:
    """Another HostEnv beside `host_env`: its own catalog and models folders, same HOME."""
    root = host_env.root / name
    catalog_dir, models_dir = root / "catalogs", root / "models"
    models_dir.mkdir(parents=True)
    env = dict(host_env.env, CATALOG_HOST_CATALOG_DIR=str(catalog_dir),
               CATALOG_HOST_MODELS_DIR=str(models_dir))
    return dataclasses.replace(host_env, root=root, catalog_dir=catalog_dir, models_dir=models_dir, env=env)


def in_process(env: dict[str, str], body: bytes) -> dict[str, Any]:
    """One request through the real dispatcher with the settings `env` gives (thread-safe)."""
    from host.context import Context
    from host.dispatch import handle_message
    from host.settings import load_settings

    return handle_message(body, Context(settings=load_settings(env)))


def host_cmd(*args: str, wrapped: bool = False) -> list[str]:
    if wrapped:
        return [sys.executable, str(HOSTWRAP), *args]
    return [sys.executable, "-m", "host", *args]


def run_host(env: dict[str, str], data: bytes, *args: str, wrapped: bool = False,
             timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(host_cmd(*args, wrapped=wrapped), input=data, capture_output=True,
                          env=env, timeout=timeout)


def leftovers(catalog_dir: Path) -> list[str]:
    """Temp files a catalog write leaves behind if it is killed (not the index's)."""
    return sorted(p.name for p in catalog_dir.glob(".*.json*.tmp"))


def civitai_ids(doc: dict[str, Any]) -> list[str]:
    return [str(int(e["civitai_version_id"])) for c in doc["categories"] for e in c.get("models", [])
            if e.get("civitai_version_id") is not None]


def without_date(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: v for k, v in doc.items() if k != "date"}
    return doc


# --------------------------------------------------------------------------- CivitAI


def synth_version(fixture: str, version_id: int, model_id: int, file_name: str | None = None) -> dict[str, Any]:
    """A distinct version payload: a fixture with new ids and file name, images dropped."""
    payload = copy.deepcopy(load_fixture(fixture))
    payload["id"] = version_id
    payload["modelId"] = model_id
    payload["images"] = []
    for number, file in enumerate(payload["files"]):
        file["id"] = version_id * 10 + number
        if file.get("primary") or len(payload["files"]) == 1:
            file["name"] = file_name or f"stress_{version_id}.safetensors"
    return payload
