"""Hostile frames: the message loop never breaks, never lies on stdout, never changes the catalog.

The browser renders untrusted pages, so every byte on stdin is hostile. A hypothesis fuzzer
throws thousands of generated streams at host.server.serve in-process (random bytes, wrong
and huge declared lengths, truncated bodies, invalid UTF-8, deep and huge JSON, wrong types
for every param, unknown ops, weird ids), then a few hundred frames go through real
`python -m host` processes. Invariants, every time:

- the loop answers each complete frame with exactly one reply, and a broken stream with one
  `broken_stream` / `frame_too_large` error then exit 2; otherwise it exits 0; it never raises;
- stdout holds only frames a browser accepts (<= 1 MiB, UTF-8 JSON, no NaN/Infinity), each
  a well-formed envelope echoing the request id; never an `internal_error`;
- nothing is printed to stdout outside frames; the body of an oversized frame is never read
  (nor allocated): reads are at most 64 KiB and stop at its header;
- the catalog files' bytes never change (the fuzz catalog is set up so that no generated
  request can legitimately change it: every file is on disk, every LoRA already promoted).
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import socket
import subprocess
import sys
import time
import tracemalloc
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.stress.helpers import (
    STUB_ORIGIN,
    figure,
    host_cmd,
    run_host,
    scaled,
    strict_frames,
)
from tests.support.catalogs import civitai_entry, studio_catalogs, write_json

MAX_FRAME = 1024 * 1024
CHUNK = 64 * 1024
COUNTS = {"frames": 0, "streams": 0}


# --------------------------------------------------------------------------- the fuzz catalog


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def fuzz_env(host_env: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Studio catalogs where no request can change anything: LoRAs promoted, files on disk."""
    models, loras = studio_catalogs()
    lora_cat = next(c for c in models["categories"] if c["id"] == "loras")
    models["categories"].remove(lora_cat)
    loras["categories"].append({"id": "other_loras", "name": "Other LoRAs", "models": lora_cat["models"]})
    host_env.write_catalogs(models, loras)
    for doc in (models, loras):
        for category in doc["categories"]:
            for entry in category["models"]:
                host_env.put_file(entry["dest"], entry["file"])
    # CivitAI is a closed port: an add of an unknown id fails fast, without writing
    url = f"http://127.0.0.1:{closed_port()}"
    host_env.env["CATALOG_HOST_CIVITAI_URL"] = url
    monkeypatch.setenv("CATALOG_HOST_CIVITAI_URL", url)
    return host_env


def snapshot(host_env: Any) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(host_env.catalog_dir.iterdir())
            if p.name.endswith((".json", ".bak"))}


# --------------------------------------------------------------------------- strategies

CATALOG_IDS = [128713, "9208", 200001, "200002", 100001, "1501125", 4384]
CATALOG_FILES = ["dreamshaper_8.safetensors", "pixel_style_xl.safetensors", "handmade.safetensors",
                 "ぼかし_v2.safetensors", "curated_style.safetensors"]
OPS = ["ping", "map", "lookup", "add", "promote", "remove"]
PARAMS = ["version_id", "version_ids", "model_ids", "file", "dest", "cursor", "etag", "id", "op"]

weird_ids = st.one_of(
    st.booleans(),
    st.none(),
    st.floats(),  # NaN, +-Infinity, -0.0, 1.0 ...
    st.integers(),
    st.integers(min_value=10**17, max_value=10**40),
    st.integers(max_value=0),
    st.sampled_from(CATALOG_IDS),
    st.sampled_from(["1.0", "1e3", " 12", "12 ", "1 2", "+5", "-5", "0", "00", "0x10", "１２", "²", "٣",
                     "9" * 19, "0" * 30 + "7", "", " ", "\u00a012", "12\n", "NaN", "Infinity"]),
    st.text(alphabet="0123456789 +-.eE_x\u0663\u00b2\uff11", max_size=24),
    st.text(max_size=12),
)
junk = st.recursive(
    st.one_of(weird_ids, st.text(max_size=40)),
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)
names = st.one_of(
    st.sampled_from(CATALOG_FILES),
    st.sampled_from(["..", ".", "../x", "/etc/passwd", "C:", "c:\\x", "CON", "nul.txt", "a\x00b", "x/..",
                     "loras/../../etc", "\\\\server\\share", "a" * 300, "\ud800", "x\udfff.safetensors"]),
    st.text(max_size=30),
)
param_values = st.one_of(
    junk,
    names,
    st.lists(weird_ids, max_size=8),
    st.lists(st.integers(min_value=1, max_value=10**6), min_size=490, max_size=510),
)


@st.composite
def messages(draw: Any) -> Any:
    shape = draw(st.integers(0, 9))
    if shape == 0:
        return draw(junk)  # not even an object
    message: dict[str, Any] = {}
    if draw(st.integers(0, 9)):
        message["op"] = draw(st.one_of(st.sampled_from(OPS), st.sampled_from(OPS), junk,
                                       st.sampled_from(["PING", "ping ", "add\x00", "__import__", "", "\ud800"])))
    if draw(st.booleans()):
        message["id"] = draw(st.one_of(junk, st.text(min_size=0, max_size=100)))
    for key in draw(st.lists(st.one_of(st.sampled_from(PARAMS), st.text(max_size=10)), max_size=4, unique=True)):
        if key not in ("op", "id"):
            message[key] = draw(param_values)
    return message


def encode_message(message: Any, ascii_only: bool) -> bytes:
    """As a browser or a hostile page would send it; NaN/Infinity literals and lone surrogates included."""
    return json.dumps(message, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


raw_bodies = st.one_of(
    st.binary(max_size=64),
    st.builds(lambda n: b"[" * n + b"]" * n, st.integers(0, 200)),
    st.builds(lambda n: b'{"op":"ping","id":' + b"[" * n + b"]" * n + b"}", st.integers(50, 80)),
    st.builds(lambda n: b'{"a":' * n + b"1" + b"}" * n, st.integers(50, 80)),
    st.sampled_from([
        b"", b"null", b"{", b'{"op":"ping"', b'{"op":"ping"}}', b"\xef\xbb\xbf{}", b'{"op":"ping","id":NaN}',
        b'{"op":"ping","id":-Infinity}', b'{"op":"ping","id":1e400}', b'{"op":"ping","id":"\\ud800"}',
        b'{"op":"ping","id":"\xed\xa0\x80"}', b'{"op":"ping","id":"\xc0\xaf"}', b'{"op":"ping","id":"\xff"}',
        b'{"op":"remove","file":"\\u0000"}', b'{"op":"lookup","version_ids":[1' + b",1" * 5000 + b"]}",
        b'{"op":"ping","id":' + b"9" * 4400 + b"}", b'{"op":"ping","id":' + b"9" * 4000 + b"}",
        b'{"op":"ping","op":"remove","file":"dreamshaper_8.safetensors"}', b"\x00" * 16,
    ]),
)


@st.composite
def bodies(draw: Any) -> tuple[bytes, Any]:
    """(body bytes, the request id the reply must echo, or ... when it cannot be known)."""
    if draw(st.integers(0, 3)) == 0:
        body = draw(raw_bodies)
        if draw(st.booleans()) and body:  # flip one byte
            at = draw(st.integers(0, len(body) - 1))
            body = body[:at] + bytes([draw(st.integers(0, 255))]) + body[at + 1 :]
        return body, ...
    message = draw(messages())
    body = encode_message(message, draw(st.booleans()))
    return body, (message.get("id") if isinstance(message, dict) else None)


@st.composite
def streams(draw: Any) -> tuple[bytes, list[Any], str | None, int | None]:
    """(stream, ids expected back in order, how it breaks, where an oversized header starts)."""
    data = b""
    ids: list[Any] = []
    for _ in range(draw(st.integers(0, 5))):
        body, req_id = draw(bodies())
        data += len(body).to_bytes(4, sys.byteorder) + body
        ids.append(req_id)
    end = draw(st.sampled_from([None, None, "cut_header", "cut_body", "huge", "huge", "exact_limit"]))
    huge_at = None
    if end == "cut_header":
        data += draw(st.binary(min_size=1, max_size=3))
    elif end == "cut_body":
        declared = draw(st.integers(1, MAX_FRAME))
        data += declared.to_bytes(4, sys.byteorder) + draw(st.binary(max_size=min(declared - 1, 100)))
    elif end == "huge":
        huge_at = len(data)
        declared = draw(st.one_of(st.just(MAX_FRAME + 1), st.integers(MAX_FRAME + 1, 2**32 - 1), st.just(2**32 - 1)))
        data += declared.to_bytes(4, sys.byteorder) + draw(st.binary(max_size=32))
    elif end == "exact_limit":  # the largest frame the host accepts: a 1 MiB id it cannot echo back
        body = b'{"op":"ping","id":"' + b"x" * (MAX_FRAME - 21) + b'"}'
        assert len(body) == MAX_FRAME
        data += len(body).to_bytes(4, sys.byteorder) + body
        ids.append(...)
        end = None
    return data, ids, end, huge_at


# --------------------------------------------------------------------------- the check


class RecordingStream(io.BytesIO):
    """stdin that remembers the largest read asked of it."""

    largest = 0

    def read(self, size: int | None = -1, /) -> bytes:
        self.largest = max(self.largest, CHUNK * 1000 if size is None or size < 0 else size)
        return super().read(size)


def serve_checked(host_env: Any, data: bytes, ids: list[Any], end: str | None, huge_at: int | None,
                  before: dict[str, bytes], origin: str | None = None) -> list[dict[str, Any]]:
    from host.context import Context
    from host.server import serve

    stdin, stdout, stray = RecordingStream(data), io.BytesIO(), io.StringIO()
    with contextlib.redirect_stdout(stray):
        status = serve(stdin, stdout, Context(origin=origin))
    assert stray.getvalue() == "", "something was printed to stdout outside the frames"
    assert stdin.largest <= CHUNK, f"read({stdin.largest}) asked of stdin"
    replies = strict_frames(stdout.getvalue())
    assert status == (0 if end is None else 2), (status, end)
    assert len(replies) == len(ids) + (end is not None), (len(replies), len(ids), end)
    if end is not None:
        assert replies[-1]["error"]["code"] == ("frame_too_large" if end == "huge" else "broken_stream")
    if huge_at is not None:
        assert stdin.tell() == min(len(data), huge_at + 4), "the body of an oversized frame was read"
    for reply, req_id in zip(replies, ids):
        check_reply(reply, req_id)
    assert snapshot(host_env) == before, "the catalog changed"
    return replies


def check_reply(reply: dict[str, Any], req_id: Any) -> None:
    if not reply["ok"]:
        assert reply["error"]["code"] != "internal_error", reply
    else:
        result = reply["result"]
        assert result.get("status") in (None, "already_exists"), reply
    if req_id is ... or (not reply["ok"] and reply["error"]["code"] in ("reply_too_large", "unencodable_reply",
                                                                         "invalid_json")):
        return
    try:
        encodable = json.dumps(req_id, allow_nan=False)
    except ValueError:
        encodable = None
    if encodable is not None:
        assert reply["id"] == req_id, (reply["id"], req_id)


# --------------------------------------------------------------------------- in-process fuzz


def fuzz_settings(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


@pytest.mark.stress
def test_fuzz_streams_in_process(fuzz_env):
    host_env = fuzz_env
    before = snapshot(host_env)

    @fuzz_settings(scaled(1500, minimum=100))
    @given(streams())
    def fuzz(case: tuple[bytes, list[Any], str | None, int | None]) -> None:
        data, ids, end, huge_at = case
        serve_checked(host_env, data, ids, end, huge_at, before)
        COUNTS["streams"] += 1
        COUNTS["frames"] += len(ids) + (end is not None)

    started = time.monotonic()
    fuzz()
    figure(f"hostile frames in-process: {COUNTS['frames']} frames in {COUNTS['streams']} streams "
           f"in {time.monotonic() - started:.1f} s; catalog bytes changed 0 times, 0 internal errors, "
           f"0 stray bytes on stdout")


@pytest.mark.stress
def test_fuzz_frames_through_real_processes(fuzz_env):
    """A few hundred hostile frames through `python -m host`, as Chrome runs it."""
    host_env = fuzz_env
    before = snapshot(host_env)
    rng = random.Random(0xC0FFEE)
    started = time.monotonic()
    frames_sent = 0
    for number in range(scaled(60, minimum=10)):
        data, ids, end, _ = _stream(rng)
        origin = STUB_ORIGIN if number % 7 else "chrome-extension://abcdefghijklmnopabcdefghijklmnop/"
        proc = run_host(host_env.env, data, origin, timeout=60)
        assert b"Traceback" not in proc.stderr, proc.stderr.decode(errors="replace")
        replies = strict_frames(proc.stdout)
        assert proc.returncode == (0 if end is None else 2), (proc.returncode, proc.stderr)
        assert len(replies) == len(ids) + (end is not None)
        for reply, req_id in zip(replies, ids):
            check_reply(reply, req_id)
            if number % 7 == 0 and reply["ok"] is False and req_id is not ...:
                assert reply["error"]["code"] in ("forbidden_origin", "invalid_json", "invalid_request",
                                                  "unknown_op", "unencodable_reply", "reply_too_large")
        assert snapshot(host_env) == before
        frames_sent += len(ids) + (end is not None)
    figure(f"hostile frames through {scaled(60, minimum=10)} real host processes: {frames_sent} frames in "
           f"{time.monotonic() - started:.1f} s; catalog bytes changed 0 times, 0 tracebacks, stdout frames only")


def _stream(rng: random.Random) -> tuple[bytes, list[Any], str | None, int | None]:
    """A stream of 3-8 hostile frames without hypothesis (fixed seed: reproducible)."""
    pool = [
        b"\xff\xfe", b"[1, 2", b"{}", b"null", b'{"op":"ping","id":NaN}', b'{"op":"ping","id":1e400}',
        b'{"op":"ping","id":"\\udc00"}', b'{"op":"\\ud800"}', b"[" * 70 + b"]" * 70, b"[" * 100_000,
        b'{"op":"add","version_id":true}', b'{"op":"add","version_id":1.0}', b'{"op":"add","version_id":-3}',
        b'{"op":"add","version_id":"12 3"}', b'{"op":"add","version_id":' + b"9" * 40 + b"}",
        b'{"op":"promote","version_id":"200001"}', b'{"op":"promote","version_id":128713}',
        b'{"op":"remove","file":"../../etc/passwd"}', b'{"op":"remove","file":"x","dest":"/etc"}',
        b'{"op":"remove","file":"dreamshaper_8.safetensors"}', b'{"op":"remove","file":"CON","dest":"loras"}',
        b'{"op":"lookup","version_ids":[9208, "9208", "009208"],"model_ids":[8281]}',
        b'{"op":"map","cursor":"x:1"}', b'{"op":"map","etag":5}', b'{"op":"rm -rf /"}', b'{"op":"ping","x":1}',
        b'{"op":"ping","id":"' + "日本語✨".encode() * 1000 + b'"}',
    ]
    data = b""
    ids: list[Any] = []
    for _ in range(rng.randint(3, 8)):
        body = rng.choice(pool)
        if rng.random() < 0.3:
            body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 40)))
        data += len(body).to_bytes(4, sys.byteorder) + body
        try:
            message = json.loads(body)
            ids.append(message.get("id") if isinstance(message, dict) else None)
        except (ValueError, RecursionError):
            ids.append(...)
    end = rng.choice([None, None, None, "cut_header", "cut_body", "huge"])
    if end == "cut_header":
        data += b"\x05\x00"
    elif end == "cut_body":
        data += (500).to_bytes(4, sys.byteorder) + b'{"op":"ping"'
    elif end == "huge":
        data += rng.randint(MAX_FRAME + 1, 2**32 - 1).to_bytes(4, sys.byteorder) + b"{}"
    return data, ids, end, None


# --------------------------------------------------------------------------- targeted cases


def test_oversized_frame_is_refused_without_reading_or_allocating_it(fuzz_env):
    host_env = fuzz_env
    before = snapshot(host_env)
    header = (2**32 - 1).to_bytes(4, sys.byteorder)
    tracemalloc.start()
    try:
        replies = serve_checked(host_env, header + b"x" * 1000, [], "huge", 0, before)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert replies[0]["error"]["limit"] == MAX_FRAME
    assert peak < 4 * 1024 * 1024, f"{peak} bytes allocated for a frame that was refused"


def test_oversized_frame_on_an_open_pipe_is_answered_at_once(host_env):
    """Chrome keeps stdin open: the host must answer and exit without waiting for the body."""
    proc = subprocess.Popen(host_cmd(STUB_ORIGIN), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=host_env.env)
    try:
        assert proc.stdin and proc.stdout
        proc.stdin.write((64 * 1024 * 1024).to_bytes(4, sys.byteorder) + b'{"op":')
        proc.stdin.flush()
        assert proc.wait(timeout=30) == 2
        (reply,) = strict_frames(proc.stdout.read())
        assert reply["error"]["code"] == "frame_too_large"
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e999"])
def test_non_finite_numbers_never_reach_stdout(fuzz_env, literal):
    """json.loads accepts NaN and overflows 1e400 to inf; echoing them would write a frame
    no browser can parse (Chrome closes the port)."""
    host_env = fuzz_env
    before = snapshot(host_env)
    for body in (b'{"op":"ping","id":' + literal + b"}", b'{"op":"lookup","version_ids":[' + literal + b"]}",
                 b'{"op":"add","version_id":' + literal + b"}", b"[" + literal + b"]"):
        (reply,) = serve_checked(host_env, len(body).to_bytes(4, sys.byteorder) + body, [...], None, None, before)
        assert reply["id"] is None


@pytest.mark.parametrize("text", ["\\ud800", "\\udfff", "a\\udc80b", "\\ud83d"])
def test_lone_surrogates_never_crash_the_loop(fuzz_env, text):
    """A JSON escape may name half a surrogate pair: valid JSON, not encodable as UTF-8."""
    host_env = fuzz_env
    before = snapshot(host_env)
    raw = text.encode()
    cases = [b'{"op":"ping","id":"' + raw + b'"}', b'{"op":"' + raw + b'"}',
             b'{"op":"remove","file":"' + raw + b'.safetensors"}',
             b'{"op":"remove","file":"a.safetensors","dest":"' + raw + b'"}',
             b'{"op":"lookup","version_ids":["' + raw + b'"]}', b'{"op":"ping","' + raw + b'":1}']
    data = b"".join(len(b).to_bytes(4, sys.byteorder) + b for b in cases)
    replies = serve_checked(host_env, data, [json.loads(cases[0])["id"], *[None] * 5], None, None, before)
    assert replies[0]["ok"] and replies[0]["id"] == json.loads(cases[0])["id"]


def test_map_cursor_with_unicode_digits_is_refused_not_a_crash(host_env):
    """str.isdigit() is true for '²' and '①', which int() refuses: such a cursor (the page can
    send any string) must be invalid_request, not an internal_error."""
    models, loras = studio_catalogs()
    big = [civitai_entry(3_000_000 + n, 4_000_000 + n, f"bulk_{n:05d}_{'x' * 150}.safetensors", "loras")
           for n in range(4000)]
    models["categories"].append({"id": "bulk", "name": "Bulk", "models": big})
    write_json(host_env.models_json, models)
    write_json(host_env.loras_json, loras)
    cursor = host_env.ok("map")["next"]
    assert cursor, "the catalog is big enough for two pages"
    tag = cursor.rpartition(":")[0]
    assert host_env.ok("map", cursor=cursor)["by_version"]
    for position in ("²", "①", "¹²", "٣", "𝟙"):
        reply = host_env.call("map", cursor=f"{tag}:{position}")
        assert reply["ok"] or reply["error"]["code"] in ("invalid_request", "cursor_expired"), (position, reply)
