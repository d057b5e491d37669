"""Wrong caller and the API key: a host started for an extension that is not allowed answers
with an error and touches nothing; the CivitAI API key never appears in a reply, a log line
or an error message, and is never sent anywhere but the configured CivitAI URL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.stress.helpers import (
    STUB_ORIGIN,
    figure,
    run_host,
    strict_frames,
    synth_version,
)
from tests.support.catalogs import studio_catalogs
from tests.support.fake_civitai import FakeCivitai
from tests.support.frames import frame

ALLOWED_ID = STUB_ORIGIN.split("//")[1].rstrip("/")
KEY = "ck_live_Zq9X-sekrit-7d1c4b2a9e"

FORBIDDEN = [
    "chrome-extension://abcdefghijklmnopabcdefghijklmnop/",
    f"chrome-extension://{ALLOWED_ID.upper()}/",
    f"chrome-extension://{ALLOWED_ID}",  # no trailing slash
    f"chrome-extension://{ALLOWED_ID}/evil",
    f"chrome-extension://{ALLOWED_ID}x/",
    f"chrome-extension://x{ALLOWED_ID}/",
    f"chrome-extension://{ALLOWED_ID}/ ",
    "chrome-extension://",
    "chrome-extension:///",
    f"chrome-extension://{'a' * 5000}/",
    "chrome-extension://ééééééééééééééééééééééééééééééé/",
]
NOT_AN_ORIGIN = [f"moz-extension://{ALLOWED_ID}/", f"https://{ALLOWED_ID}/", "http://evil.example/"]

REQUESTS: list[dict[str, Any]] = [
    {"op": "ping"}, {"op": "map"}, {"op": "lookup", "version_ids": [9208]},
    {"op": "add", "version_id": 148210}, {"op": "promote", "version_id": 200001},
    {"op": "remove", "file": "old_sd15.safetensors"},
]


def tree(root: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file under `root`: size, mtime and bytes."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("origin", FORBIDDEN + NOT_AN_ORIGIN)
def test_a_caller_that_is_not_allowed_touches_nothing(host_env, civitai, origin):
    host_env.write_catalogs(*studio_catalogs())
    civitai.add_fixture("sdxl_lora")
    catalogs, models = tree(host_env.catalog_dir), tree(host_env.models_dir)
    data = b"".join(frame({**request, "id": n}) for n, request in enumerate(REQUESTS))
    proc = run_host(host_env.env, data, origin, "--parent-window=0")
    replies = strict_frames(proc.stdout)
    if origin in NOT_AN_ORIGIN:  # not how a browser starts a host: refused before serving
        assert proc.returncode != 0 and replies == []
    else:
        assert proc.returncode == 0, proc.stderr
        assert [r["error"]["code"] for r in replies] == ["forbidden_origin"] * len(REQUESTS)
        assert [r["id"] for r in replies] == list(range(len(REQUESTS)))
    assert tree(host_env.catalog_dir) == catalogs, "a refused caller changed the catalog folder"
    assert tree(host_env.models_dir) == models
    assert civitai.requests == [], "a refused caller reached CivitAI"


def test_the_allowed_caller_is_served(host_env, civitai):
    """The control: the same requests from the allowed origin work."""
    host_env.write_catalogs(*studio_catalogs())
    civitai.add_fixture("sdxl_lora")
    data = b"".join(frame({**request, "id": n}) for n, request in enumerate(REQUESTS))
    replies = strict_frames(run_host(host_env.env, data, STUB_ORIGIN, "--parent-window=0").stdout)
    assert all(r["ok"] for r in replies), replies


def everything_written(host_env: Any, *outputs: bytes) -> bytes:
    logs = b"".join(p.read_bytes() for p in (host_env.root / "home").rglob("*") if p.is_file())
    return b"".join(outputs) + logs


@pytest.mark.stress
def test_the_api_key_never_leaks(host_env, civitai):
    """Every op, every kind of CivitAI failure, including a CivitAI that echoes the key back
    in its error text, and a redirect that would carry it elsewhere."""
    host_env.write_catalogs(*studio_catalogs())
    host_env.env["CIVITAI_API_KEY"] = KEY
    civitai.add_version(synth_version("sdxl_lora", 7_900_001, 1))
    echo = {"error": f"Invalid API key {KEY} (Bearer {KEY})"}
    civitai.set_response(7_900_002, 401, echo)
    civitai.set_response(7_900_003, 404, echo)
    civitai.set_response(7_900_004, 500, f"<html>upstream said: Authorization: Bearer {KEY}</html>")
    civitai.set_response(7_900_005, 429, json.dumps(echo), {"Retry-After": "0"})
    civitai.set_response(7_900_006, 200, f'{{"id": "{KEY}"}}')
    civitai.set_response(7_900_007, 400, {"error": KEY[:12] + "…" + KEY[12:]})
    with FakeCivitai() as elsewhere:
        civitai.set_response(7_900_008, 302, "", {"Location": elsewhere.version_url(7_900_008)})
        civitai.set_response(7_900_009, 307, "", {"Location": elsewhere.version_url(7_900_009)})
        requests = [
            *REQUESTS,
            *({"op": "add", "version_id": 7_900_000 + n} for n in range(1, 10)),
            {"op": "add", "version_id": 7_900_099},  # 404 from the fake's default
            {"op": "lookup", "version_ids": [7_900_001]}, {"op": "map"}, {"op": "ping"},
        ]
        data = b"".join(frame({**request, "id": n}) for n, request in enumerate(requests))
        proc = run_host(host_env.env, data, STUB_ORIGIN, timeout=120)
        replies = strict_frames(proc.stdout)
        assert len(replies) == len(requests)
        assert elsewhere.requests == [], "the key followed a redirect to another server"
    authorization = {r.header("authorization") for r in civitai.requests}
    assert authorization == {f"Bearer {KEY}"}, "the key went to CivitAI in the header, every time"
    written = everything_written(host_env, proc.stdout, proc.stderr)
    for needle in (KEY, KEY[4:], KEY[-16:]):
        assert needle.encode() not in written, f"the API key ({needle[:6]}...) leaked"
    figure(f"API key: {len(requests)} requests incl. CivitAI echoing the key in 401/404/429/500/200 bodies "
           f"and 302/307 redirects: key in replies/stdout/stderr/logs 0 times, sent elsewhere 0 times; "
           f"wrong callers: {len(FORBIDDEN) + len(NOT_AN_ORIGIN)} origins x {len(REQUESTS)} ops refused, "
           f"catalog/models folders changed 0 times")


@pytest.mark.parametrize("key", ["line\nbreak-key-123456", "ключ-не-latin1-123456", " spaced key 123456 "])
def test_an_odd_api_key_is_an_error_not_a_leak(host_env, civitai, key):
    """A key that cannot go in an HTTP header (newline, non-Latin-1) is not echoed anywhere."""
    host_env.write_catalogs(*studio_catalogs())
    host_env.env["CIVITAI_API_KEY"] = key
    civitai.add_version(synth_version("sdxl_lora", 7_900_101, 1))
    proc = run_host(host_env.env, frame({"op": "add", "version_id": 7_900_101}), STUB_ORIGIN)
    (reply,) = strict_frames(proc.stdout)
    written = everything_written(host_env, proc.stdout, proc.stderr)
    longest = max(key.split(), key=len)
    assert key.encode() not in written and longest.encode() not in written
    if not reply["ok"]:
        assert reply["error"]["code"] != "internal_error", reply
