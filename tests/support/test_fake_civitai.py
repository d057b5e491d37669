"""Self-test of the fake CivitAI server and sanity checks of the CivitAI fixtures."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_civitai import (
    FIXTURES_DIR,
    FakeCivitai,
    Response,
    fixture_names,
    load_error,
    load_fixture,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake() -> Iterator[FakeCivitai]:
    with FakeCivitai() as server:
        yield server
        assert server.errors == []


def get(url: str, headers: dict[str, str] | None = None, timeout: float = 5.0) -> tuple[int, Any, bytes]:
    """(status, headers, body) for any status; raises only on transport errors."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.headers, err.read()


# --------------------------------------------------------------------------- server


def test_serves_a_fixture_by_id(fake: FakeCivitai) -> None:
    payload = fake.add_fixture("sdxl_lora")
    assert fake.url.startswith("http://127.0.0.1:")
    status, headers, body = get(fake.version_url(payload["id"]))
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(body) == payload
    # a digit string with a leading zero is the same version, like CivitAI's Number(id)
    assert get(f"{fake.url}/api/v1/model-versions/0{payload['id']}?x=1")[0] == 200


def test_unknown_is_404_model_not_found(fake: FakeCivitai) -> None:
    for path in ("/api/v1/model-versions/987654321", "/api/v1/model-versions/abc", "/nope"):
        status, headers, body = get(fake.url + path)
        assert status == 404
        assert headers["Content-Type"].startswith("application/json")
        assert json.loads(body) == {"error": "Model not found"}


def test_scripted_status_body_and_headers(fake: FakeCivitai) -> None:
    fake.set_response(11, 429, load_error("429.html"), headers={"Retry-After": "2"})
    status, headers, body = get(fake.version_url(11))
    assert status == 429
    assert headers["Retry-After"] == "2"
    assert headers["Content-Type"].startswith("text/html")
    assert b"rate limited" in body

    fake.set_response(12, 500, {"error": "Failed to fetch model version details"})
    assert get(fake.version_url(12))[:1] == (500,)

    fake.set_response(13, 200, "not json", headers={"content-type": "text/plain"})
    status, headers, body = get(fake.version_url(13))
    assert (status, headers["Content-Type"], body) == (200, "text/plain", b"not json")

    fake.set_response("/api/v1/models/42", 200, {"id": 42, "modelVersions": []})
    assert json.loads(get(fake.url + "/api/v1/models/42")[2])["id"] == 42


def test_sequence_then_last_repeats(fake: FakeCivitai) -> None:
    payload = load_fixture("flux_lora")
    fake.set_sequence(
        payload["id"],
        [
            Response(429, load_error("429.html"), {"Retry-After": "1"}),
            (502, load_error("502.html")),
            (200, payload),
        ],
    )
    url = fake.version_url(payload["id"])
    statuses = [get(url)[0] for _ in range(5)]
    assert statuses == [429, 502, 200, 200, 200]
    assert len(fake.requests_for(payload["id"])) == 5


def test_records_requests_with_headers(fake: FakeCivitai) -> None:
    fake.add_fixture("vae")
    vid = load_fixture("vae")["id"]
    get(fake.version_url(vid), headers={"Authorization": "Bearer sk-test", "User-Agent": "t/1"})
    get(fake.version_url(vid))
    get(fake.version_url(1))
    recorded = fake.requests
    assert [r.method for r in recorded] == ["GET", "GET", "GET"]
    assert recorded[0].path == f"/api/v1/model-versions/{vid}"
    assert recorded[0].version_id == str(vid)
    assert recorded[0].header("authorization") == "Bearer sk-test"
    assert recorded[0].header("USER-AGENT") == "t/1"
    assert "Authorization" in recorded[0].headers  # a plain dict, keys as received
    assert recorded[1].header("Authorization") is None
    assert recorded[0].time <= recorded[1].time
    assert len(fake.requests_for(vid)) == 2
    fake.clear_requests()
    assert fake.requests == []


def test_truncated_body_is_an_incomplete_read(fake: FakeCivitai) -> None:
    payload = load_fixture("sd15_checkpoint_2022")
    fake.set_response(payload["id"], 200, payload, truncate=True)
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
    try:
        conn.request("GET", f"/api/v1/model-versions/{payload['id']}")
        resp = conn.getresponse()
        declared = int(resp.headers["Content-Length"])
        with pytest.raises(http.client.IncompleteRead) as info:
            resp.read()
        assert len(info.value.partial) == declared // 2
    finally:
        conn.close()


def test_drip_sends_whole_body_slowly(fake: FakeCivitai) -> None:
    fake.set_response(21, 200, {"id": 21, "name": "x" * 40}, drip=(10, 0.05))
    start = time.monotonic()
    status, _, body = get(fake.version_url(21))
    assert status == 200 and json.loads(body)["id"] == 21
    assert time.monotonic() - start >= 0.05 * (len(body) // 10 - 1)


def test_delay_times_out_client_and_stop_is_prompt() -> None:
    with FakeCivitai() as server:
        server.set_response(31, 200, {"id": 31}, delay=30)
        with pytest.raises((TimeoutError, urllib.error.URLError)):
            get(server.version_url(31), timeout=0.3)
        start = time.monotonic()
    assert time.monotonic() - start < 3


def test_drop_closes_without_answer(fake: FakeCivitai) -> None:
    fake.set_response(41, 200, {"id": 41}, drop=True)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, urllib.error.URLError)):
        get(fake.version_url(41))


def test_random_delay_under_concurrency(fake: FakeCivitai) -> None:
    ids = fake.add_fixtures()
    fake.random_delay = (0.01, 0.05)
    results: list[int] = []
    lock = threading.Lock()

    def worker(vid: int) -> None:
        status = get(fake.version_url(vid))[0]
        with lock:
            results.append(status)

    threads = [threading.Thread(target=worker, args=(vid,)) for vid in ids[:30]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == [200] * len(threads)
    assert len(fake.requests) == len(threads)


def test_binds_loopback_only_and_restarts_cleanly() -> None:
    server = FakeCivitai().start()
    try:
        assert server._server is not None
        assert server._server.server_address[0] == "127.0.0.1"
        port = server.port
    finally:
        server.stop()
    server.stop()  # idempotent
    with pytest.raises(OSError):
        http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/")


def test_standalone_process_prints_url_then_serves() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_civitai", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        payload = load_fixture("wan22_checkpoint")
        status, _, body = get(f"{url}/api/v1/model-versions/{payload['id']}")
        assert status == 200 and json.loads(body) == payload
        assert get(f"{url}/api/v1/model-versions/1")[0] == 404
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert out == "" and err == ""


# --------------------------------------------------------------------------- fixtures


def test_fixtures_are_consistent() -> None:
    names = fixture_names()
    assert len(names) >= 60
    readme = (FIXTURES_DIR / "README.md").read_text(encoding="utf-8")
    version_ids: set[int] = set()
    model_ids: set[int] = set()
    file_ids: set[int] = set()
    for name in names:
        payload = load_fixture(name)
        assert f"`{name}.json`" in readme, name
        assert payload["id"] not in version_ids, name
        assert payload["modelId"] not in model_ids, name
        version_ids.add(payload["id"])
        model_ids.add(payload["modelId"])
        assert 1 <= len(payload["images"]) <= 2 or payload["model"].get("mode") == "TakenDown"
        for file in payload["files"]:
            assert file["id"] not in file_ids, name
            file_ids.add(file["id"])
        assert sum(1 for f in payload["files"] if f.get("primary") is True) <= 1, name
    for err in ("404_model_not_found", "404_missing_file", "400_bad_id", "500", "429", "502"):
        assert load_error(err)


def test_hostile_fixture_names() -> None:
    expected = {
        "hostile_dotdot_slash": "../x.safetensors",
        "hostile_absolute": "/etc/x",
        "hostile_windows_drive": "C:\\x",
        "hostile_slash": "a/b",
        "hostile_dotdot": "..",
        "hostile_nul": "x\x00.safetensors",
        "hostile_reserved_con": "CON.safetensors",
        "hostile_control_char": "x\x07.safetensors",
        "hostile_empty": "",
    }
    for name, file_name in expected.items():
        assert load_fixture(name)["files"][0]["name"] == file_name
    assert len(load_fixture("hostile_300_bytes")["files"][0]["name"].encode()) == 300
    long_utf8 = load_fixture("hostile_long_utf8")["files"][0]["name"]
    assert len(long_utf8) <= 255 < len(long_utf8.encode())
