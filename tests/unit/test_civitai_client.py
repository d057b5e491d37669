"""host.civitai.client.CivitaiClient against requests-mock (never the network): status codes
to error codes, retries with backoff and Retry-After inside the time budget, body checks, and
the API key kept out of every error (SPEC §5 add, civitai-api.md "Errors")."""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any

import pytest
import requests

from host.civitai import client as client_module
from host.civitai.client import (
    BACKOFF_S,
    MAX_ATTEMPTS,
    MAX_BODY_BYTES,
    MAX_RETRY_AFTER_S,
    TOTAL_BUDGET_S,
    CivitaiClient,
)
from host.civitai.models import ModelVersion
from host.errors import (
    CivitaiBadResponseError,
    CivitaiError,
    CivitaiHttpError,
    CivitaiNotFoundError,
    CivitaiUnreachableError,
)
from tests.support.fake_civitai import load_error, load_fixture

BASE = "https://civitai.test"
VID = "148210"
URL = f"{BASE}/api/v1/model-versions/{VID}"
KEY = "sk-SECRET-civitai-key-0123456789abcdef"


class FakeTime:
    """A monotonic clock that only moves when the client sleeps (or a test moves it)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_client(fake_time: FakeTime) -> Any:
    def make(api_key: str | None = KEY, base_url: str = BASE) -> CivitaiClient:
        return CivitaiClient(base_url, api_key, sleep=fake_time.sleep, clock=fake_time.clock)

    return make


def payload() -> dict[str, Any]:
    return load_fixture("sdxl_lora")


def assert_key_hidden(exc: BaseException) -> None:
    assert KEY not in str(exc)
    assert isinstance(exc, CivitaiError)
    assert KEY not in exc.message
    assert KEY not in json.dumps(exc.to_wire())
    assert KEY[-12:] not in json.dumps(exc.to_wire())


# --- success ----------------------------------------------------------------------------------


def test_200_gives_a_model_version(requests_mock: Any, make_client: Any) -> None:
    requests_mock.get(URL, json=payload())
    version = make_client().model_version(VID)
    assert isinstance(version, ModelVersion)
    assert version.id == 148210
    assert version.model_id == 131507
    assert version.files and version.files[0].name == "watercolor_dreams_xl_v1.safetensors"
    assert requests_mock.call_count == 1
    request = requests_mock.last_request
    assert request.method == "GET"
    assert request.url == URL


def test_every_request_has_a_timeout(requests_mock: Any, make_client: Any) -> None:
    requests_mock.get(URL, json=payload())
    make_client().model_version(VID)
    timeout = requests_mock.last_request.timeout
    assert timeout is not None
    parts = timeout if isinstance(timeout, tuple) else (timeout,)
    assert all(part is not None and 0 < part <= TOTAL_BUDGET_S for part in parts)


def test_authorization_header_with_a_key(requests_mock: Any, make_client: Any) -> None:
    requests_mock.get(URL, json=payload())
    make_client(KEY).model_version(VID)
    assert requests_mock.last_request.headers["Authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("key", [None, ""])
def test_no_authorization_header_without_a_key(requests_mock: Any, make_client: Any, key: str | None) -> None:
    requests_mock.get(URL, json=payload())
    make_client(key).model_version(VID)
    assert "Authorization" not in requests_mock.last_request.headers


def test_base_url_with_trailing_slash(requests_mock: Any, make_client: Any) -> None:
    requests_mock.get(URL, json=payload())
    make_client(base_url=BASE + "/").model_version(VID)
    assert requests_mock.last_request.url == URL


def test_string_id_in_the_payload_is_the_same_version(requests_mock: Any, make_client: Any) -> None:
    data = payload()
    data["id"] = "148210"
    requests_mock.get(URL, json=data)
    assert make_client().model_version(VID).id == 148210


# --- 404 and other HTTP errors ----------------------------------------------------------------


@pytest.mark.parametrize("body", ["404_model_not_found.json", "404_missing_file.json"])
def test_404_is_not_found_and_says_it_may_be_transient(
    requests_mock: Any, make_client: Any, fake_time: FakeTime, body: str
) -> None:
    requests_mock.get(URL, status_code=404, content=load_error(body))
    with pytest.raises(CivitaiNotFoundError) as info:
        make_client().model_version(VID)
    exc = info.value
    assert exc.code == "civitai_not_found"
    assert json.loads(load_error(body))["error"] in exc.message
    assert "try again" in exc.message.lower() or "transient" in exc.message.lower()
    assert requests_mock.call_count == 1  # a 404 is an answer, not an outage
    assert fake_time.sleeps == []
    assert_key_hidden(exc)


def test_404_html_body(requests_mock: Any, make_client: Any) -> None:
    requests_mock.get(URL, status_code=404, text="<html><body>Not here</body></html>")
    with pytest.raises(CivitaiNotFoundError) as info:
        make_client().model_version(VID)
    assert "<html" not in info.value.message


@pytest.mark.parametrize("status", [400, 401, 403, 405, 410, 418])
def test_other_4xx_is_http_error_with_status_and_not_retried(
    requests_mock: Any, make_client: Any, fake_time: FakeTime, status: int
) -> None:
    requests_mock.get(URL, status_code=status, content=load_error("400_bad_id.json"))
    with pytest.raises(CivitaiHttpError) as info:
        make_client().model_version(VID)
    exc = info.value
    assert exc.code == "civitai_http_error"
    assert exc.to_wire()["status"] == status
    assert str(status) in exc.message
    assert requests_mock.call_count == 1
    assert fake_time.sleeps == []
    assert_key_hidden(exc)


def test_400_message_carries_civitais_error_text(requests_mock: Any, make_client: Any) -> None:
    requests_mock.get(URL, status_code=400, json={"error": "Invalid id"})
    with pytest.raises(CivitaiHttpError) as info:
        make_client().model_version(VID)
    assert "Invalid id" in info.value.message


def test_redirect_is_not_followed(requests_mock: Any, make_client: Any) -> None:
    requests_mock.get(URL, status_code=302, headers={"Location": "http://elsewhere.test/steal"})
    requests_mock.get("http://elsewhere.test/steal", json=payload())
    with pytest.raises(CivitaiHttpError) as info:
        make_client().model_version(VID)
    assert info.value.to_wire()["status"] == 302
    assert [r.url for r in requests_mock.request_history] == [URL]  # the key went nowhere else


# --- retries ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, "500.json"), (502, "502.html"), (503, "502.html"), (504, "502.html")],
)
def test_5xx_is_retried_with_backoff_then_http_error(
    requests_mock: Any, make_client: Any, fake_time: FakeTime, status: int, body: str
) -> None:
    requests_mock.get(URL, status_code=status, content=load_error(body))
    with pytest.raises(CivitaiHttpError) as info:
        make_client().model_version(VID)
    exc = info.value
    assert exc.to_wire()["status"] == status
    assert requests_mock.call_count == MAX_ATTEMPTS
    assert MAX_ATTEMPTS >= 2
    assert fake_time.sleeps == list(BACKOFF_S[: MAX_ATTEMPTS - 1])
    assert fake_time.sleeps == sorted(fake_time.sleeps)  # backoff grows
    assert sum(fake_time.sleeps) < TOTAL_BUDGET_S
    assert "<html" not in exc.message.lower()
    assert_key_hidden(exc)


def test_500_message_has_civitais_text(requests_mock: Any, make_client: Any) -> None:
    requests_mock.get(URL, status_code=500, content=load_error("500.json"))
    with pytest.raises(CivitaiHttpError) as info:
        make_client().model_version(VID)
    assert "Failed to fetch model version details" in info.value.message


def test_502_then_200_succeeds(requests_mock: Any, make_client: Any, fake_time: FakeTime) -> None:
    requests_mock.get(URL, [
        {"status_code": 502, "content": load_error("502.html")},
        {"status_code": 200, "json": payload()},
    ])
    assert make_client().model_version(VID).id == 148210
    assert requests_mock.call_count == 2
    assert fake_time.sleeps == [BACKOFF_S[0]]


def test_429_honours_retry_after_then_succeeds(requests_mock: Any, make_client: Any, fake_time: FakeTime) -> None:
    requests_mock.get(URL, [
        {"status_code": 429, "content": load_error("429.html"), "headers": {"Retry-After": "1"}},
        {"status_code": 200, "json": payload()},
    ])
    assert make_client().model_version(VID).id == 148210
    assert requests_mock.call_count == 2
    assert fake_time.sleeps == [1.0]


def test_429_with_retry_after_every_time_gives_up_with_429(
    requests_mock: Any, make_client: Any, fake_time: FakeTime
) -> None:
    requests_mock.get(URL, status_code=429, content=load_error("429.html"), headers={"Retry-After": "1"})
    with pytest.raises(CivitaiHttpError) as info:
        make_client().model_version(VID)
    exc = info.value
    assert exc.to_wire()["status"] == 429
    assert requests_mock.call_count == MAX_ATTEMPTS
    assert fake_time.sleeps == [1.0] * (MAX_ATTEMPTS - 1)
    assert "<" not in exc.message  # no HTML in the message
    assert_key_hidden(exc)


def test_429_without_retry_after_uses_backoff(requests_mock: Any, make_client: Any, fake_time: FakeTime) -> None:
    requests_mock.get(URL, [
        {"status_code": 429, "content": load_error("429.html")},
        {"status_code": 200, "json": payload()},
    ])
    make_client().model_version(VID)
    assert fake_time.sleeps == [BACKOFF_S[0]]


def test_retry_after_as_http_date(requests_mock: Any, make_client: Any, fake_time: FakeTime) -> None:
    when = email.utils.formatdate(time.time() + 5, usegmt=True)
    requests_mock.get(URL, [
        {"status_code": 429, "text": "slow down", "headers": {"Retry-After": when}},
        {"status_code": 200, "json": payload()},
    ])
    make_client().model_version(VID)
    assert len(fake_time.sleeps) == 1
    assert 3.0 <= fake_time.sleeps[0] <= 6.0


def test_retry_after_http_date_in_the_past_waits_nothing(
    requests_mock: Any, make_client: Any, fake_time: FakeTime
) -> None:
    when = email.utils.formatdate(time.time() - 60, usegmt=True)
    requests_mock.get(URL, [
        {"status_code": 503, "text": "down", "headers": {"Retry-After": when}},
        {"status_code": 200, "json": payload()},
    ])
    make_client().model_version(VID)
    assert fake_time.sleeps == [0.0]


@pytest.mark.parametrize("value", ["soon", "-1", "1.5.2", ""])
def test_unparsable_retry_after_falls_back_to_backoff(
    requests_mock: Any, make_client: Any, fake_time: FakeTime, value: str
) -> None:
    requests_mock.get(URL, [
        {"status_code": 429, "text": "x", "headers": {"Retry-After": value}},
        {"status_code": 200, "json": payload()},
    ])
    make_client().model_version(VID)
    assert fake_time.sleeps == [BACKOFF_S[0]]


@pytest.mark.parametrize(
    "value",
    [str(int(MAX_RETRY_AFTER_S) + 1), "3600", "86400"],
)
def test_too_long_retry_after_fails_fast(
    requests_mock: Any, make_client: Any, fake_time: FakeTime, value: str
) -> None:
    requests_mock.get(URL, [
        {"status_code": 429, "content": load_error("429.html"), "headers": {"Retry-After": value}},
        {"status_code": 200, "json": payload()},
    ])
    with pytest.raises(CivitaiHttpError) as info:
        make_client().model_version(VID)
    assert info.value.to_wire()["status"] == 429
    assert requests_mock.call_count == 1
    assert fake_time.sleeps == []


def test_too_long_retry_after_as_http_date_fails_fast(
    requests_mock: Any, make_client: Any, fake_time: FakeTime
) -> None:
    when = email.utils.formatdate(time.time() + 3600, usegmt=True)
    requests_mock.get(URL, status_code=503, text="maintenance", headers={"Retry-After": when})
    with pytest.raises(CivitaiHttpError):
        make_client().model_version(VID)
    assert requests_mock.call_count == 1
    assert fake_time.sleeps == []


def test_waits_stay_inside_the_total_budget(requests_mock: Any, make_client: Any, fake_time: FakeTime) -> None:
    wait = MAX_RETRY_AFTER_S - 1  # each wait allowed, but not all of them together
    requests_mock.get(URL, status_code=429, text="x", headers={"Retry-After": str(int(wait))})
    with pytest.raises(CivitaiHttpError):
        make_client().model_version(VID)
    assert fake_time.sleeps
    assert sum(fake_time.sleeps) < TOTAL_BUDGET_S
    assert requests_mock.call_count == len(fake_time.sleeps) + 1


def test_slow_answers_count_against_the_budget(requests_mock: Any, make_client: Any, fake_time: FakeTime) -> None:
    def slow_502(request: Any, context: Any) -> str:
        fake_time.now += 10.0  # each attempt takes 10 s of the budget
        context.status_code = 502
        return "<html>bad gateway</html>"

    requests_mock.get(URL, text=slow_502)
    with pytest.raises(CivitaiError):
        make_client().model_version(VID)
    assert fake_time.now - 1000.0 <= TOTAL_BUDGET_S + 10.0
    assert requests_mock.call_count < MAX_ATTEMPTS


# --- network failures -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "exc",
    [
        requests.exceptions.ConnectTimeout,
        requests.exceptions.ReadTimeout,
        requests.exceptions.Timeout,
        requests.exceptions.ConnectionError,
        requests.exceptions.SSLError,
        requests.exceptions.ChunkedEncodingError,
    ],
)
def test_timeouts_and_connection_errors_are_unreachable(
    requests_mock: Any, make_client: Any, exc: type[Exception]
) -> None:
    requests_mock.get(URL, exc=exc(f"boom for {URL} with Bearer {KEY}"))
    with pytest.raises(CivitaiUnreachableError) as info:
        make_client().model_version(VID)
    assert info.value.code == "civitai_unreachable"
    assert_key_hidden(info.value)


# --- bodies that are not a model version ------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>Cloudflare says hi</body></html>",
        b"",
        b"{",
        b"\xff\xfe\x00garbage",
        b"[" * 100_000,  # nesting deep enough to blow the JSON decoder's recursion limit
        b'{"id": 148210, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
)
def test_200_that_is_not_json_is_bad_response(requests_mock: Any, make_client: Any, body: bytes) -> None:
    requests_mock.get(URL, content=body)
    with pytest.raises(CivitaiBadResponseError) as info:
        make_client().model_version(VID)
    assert info.value.code == "civitai_bad_response"


@pytest.mark.parametrize(
    "data",
    [
        [],
        [{"id": 148210}],
        "a string",
        42,
        None,
        {},
        {"modelId": 131507, "files": []},
        {"id": None},
        {"id": "not-a-number"},
        {"id": 148210, "files": "not a list"},
        {"id": 148210, "files": {"0": {}}},
        {"id": 148210, "files": [1, 2]},
        {"id": 148210, "model": "LORA"},
        {"id": 148210, "trainedWords": "a, b"},
        {"id": 999, "modelId": 131507},  # an answer for another version
    ],
)
def test_json_of_the_wrong_shape_is_bad_response(requests_mock: Any, make_client: Any, data: Any) -> None:
    requests_mock.get(URL, json=data)
    with pytest.raises(CivitaiBadResponseError):
        make_client().model_version(VID)


@pytest.mark.parametrize("size_kb", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
def test_non_finite_numbers_are_bad_response(requests_mock: Any, make_client: Any, size_kb: bytes) -> None:
    # NaN/Infinity are not JSON (RFC 8259); json.dumps would write them into models.json
    # as-is and every other reader of the catalog (ComfyUI Studio, JSON.parse) would choke.
    raw = json.dumps(payload()).encode().replace(b'"sizeKB": 223110.4609375', b'"sizeKB": ' + size_kb)
    assert size_kb in raw
    requests_mock.get(URL, content=raw)
    with pytest.raises(CivitaiBadResponseError):
        make_client().model_version(VID)


def test_body_over_the_size_cap_is_bad_response(requests_mock: Any, make_client: Any) -> None:
    data = payload()
    data["description"] = "x" * MAX_BODY_BYTES
    requests_mock.get(URL, json=data)
    with pytest.raises(CivitaiBadResponseError) as info:
        make_client().model_version(VID)
    assert "MiB" in info.value.message


def test_body_under_the_size_cap_is_fine(requests_mock: Any, make_client: Any) -> None:
    data = payload()
    data["description"] = "x" * (MAX_BODY_BYTES // 2)
    requests_mock.get(URL, json=data)
    assert make_client().model_version(VID).id == 148210


def test_size_cap_is_checked_while_streaming(
    requests_mock: Any, make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "MAX_BODY_BYTES", 1000)
    requests_mock.get(URL, status_code=500, content=b"<" * 5000)
    with pytest.raises(CivitaiBadResponseError):
        make_client().model_version(VID)
    assert requests_mock.call_count == 1


def test_deeply_nested_error_body_still_gives_the_status(requests_mock: Any, make_client: Any) -> None:
    requests_mock.get(URL, status_code=404, content=b"[" * 100_000)
    with pytest.raises(CivitaiNotFoundError):
        make_client().model_version(VID)
    requests_mock.get(URL, status_code=400, content=b"{\"error\": " + b"[" * 100_000)
    with pytest.raises(CivitaiHttpError):
        make_client().model_version(VID)


# --- the key ----------------------------------------------------------------------------------


def test_key_is_not_in_the_clients_repr_or_any_message(requests_mock: Any, make_client: Any) -> None:
    client = make_client()
    assert KEY not in repr(client)
    requests_mock.get(URL, status_code=400, json={"error": f"echo Bearer {KEY}"[:20]})
    with pytest.raises(CivitaiHttpError) as info:
        client.model_version(VID)
    assert_key_hidden(info.value)


def test_headers_dripping_past_the_budget_are_cut_off(monkeypatch):
    """A server sending its headers one byte at a time (no read ever times out) is given up on
    at the budget's end, while it is still dripping. It drips for a minute at most, far past
    the 1.5 s budget: a client that waits for it fails here instead of hanging the suite, and
    no wall-clock figure is asserted (a busy machine only delays when the cut is seen)."""
    import socket
    import threading

    from host.errors import CivitaiUnreachableError

    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(30)  # bounds accept(): the client may never connect
    stop = threading.Event()
    dripped_out = threading.Event()

    def drip() -> None:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn:
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            for _ in range(300):  # one header byte every 0.2 s, for 60 s at most
                if stop.wait(0.2):
                    return
                try:
                    conn.sendall(b"X")
                except OSError:
                    return
            dripped_out.set()

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    monkeypatch.setattr(client_module, "TOTAL_BUDGET_S", 1.5)
    civitai = client_module.CivitaiClient(f"http://127.0.0.1:{server.getsockname()[1]}")
    try:
        with pytest.raises(CivitaiUnreachableError) as info:
            civitai.get_json("/api/v1/model-versions/1")
        assert not dripped_out.is_set(), "the client waited for the server instead of its budget"
        assert "too slowly" in info.value.message
    finally:
        stop.set()
        dripper.join(timeout=30)
        server.close()
    assert not dripper.is_alive()


def test_the_api_key_never_travels_over_plain_http_to_another_machine():
    from host.civitai.client import CivitaiClient

    assert "Authorization" in CivitaiClient("https://civitai.com", "k" * 20)._headers()
    assert "Authorization" in CivitaiClient("http://127.0.0.1:8080", "k" * 20)._headers()
    assert "Authorization" not in CivitaiClient("http://civitai.example", "k" * 20)._headers()
