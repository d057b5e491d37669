"""The loop through in-memory streams: framing, envelope, bad input, broken streams."""

from __future__ import annotations

import io
import json
import sys

import pytest

from host.context import Context
from host.server import EXIT_BROKEN_STREAM, EXIT_OK, serve
from tests.support.frames import frame, unframe_all


def run(data: bytes, origin: str | None = None) -> tuple[int, list]:
    out = io.BytesIO()
    status = serve(io.BytesIO(data), out, Context(origin=origin))
    return status, unframe_all(out.getvalue())


def test_replies_in_order_and_echo_ids(host_env):
    data = frame({"op": "ping", "id": "a"}) + frame({"op": "lookup", "version_ids": [1], "id": {"k": [1]}}) \
        + frame({"op": "ping"})
    status, replies = run(data)
    assert status == EXIT_OK
    assert [r["id"] for r in replies] == ["a", {"k": [1]}, None]
    assert all(r["ok"] for r in replies)


def test_empty_stream_exits_zero_without_output(host_env):
    assert run(b"") == (EXIT_OK, [])


def test_length_counts_bytes_not_characters(host_env):
    # 4-byte emoji and 3-byte CJK: a character-count length would cut the body
    message = {"op": "remove", "file": "日本語✨😀.safetensors", "id": "ü😀"}
    status, replies = run(frame(message))
    assert replies[0]["id"] == "ü😀"
    assert replies[0]["error"]["code"] == "not_found"
    assert "日本語✨😀.safetensors" in replies[0]["error"]["message"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"not json", "invalid_json"),
        (b"\xff\xfe\x00", "invalid_json"),
        (b"[" * 100_000 + b"]" * 100_000, "invalid_json"),
        (b"[]", "invalid_request"),
        (b"42", "invalid_request"),
        (b'"ping"', "invalid_request"),
        (b"null", "invalid_request"),
        (b"{}", "invalid_request"),
        (b'{"op": 5}', "invalid_request"),
        (b'{"op": "format_disk"}', "unknown_op"),
        (b'{"op": "lookup"}', "invalid_request"),
        (b'{"op": "lookup", "version_ids": "1"}', "invalid_request"),
        (b'{"op": "lookup", "version_ids": [true]}', "invalid_request"),
        (b'{"op": "lookup", "version_ids": [1], "extra": 1}', "invalid_request"),
        (b'{"op": "add"}', "invalid_request"),
        (b'{"op": "add", "version_id": true}', "invalid_request"),
        (b'{"op": "add", "version_id": -1}', "invalid_request"),
        (b'{"op": "add", "version_id": 0}', "invalid_request"),
        (b'{"op": "add", "version_id": 1.5}', "invalid_request"),
        (b'{"op": "add", "version_id": 1.0}', "invalid_request"),
        (b'{"op": "add", "version_id": "12a"}', "invalid_request"),
        (b'{"op": "add", "version_id": " 12"}', "invalid_request"),
        (b'{"op": "add", "version_id": "1e3"}', "invalid_request"),
        (b'{"op": "add", "version_id": 99999999999999999999999}', "invalid_request"),
        (b'{"op": "add", "version_id": null}', "invalid_request"),
        (b'{"op": "add", "version_id": [1]}', "invalid_request"),
        (b'{"op": "promote", "version_id": {}}', "invalid_request"),
        (b'{"op": "map", "cursor": 5}', "invalid_request"),
        (b'{"op": "remove", "file": ["a"]}', "invalid_request"),
    ],
)
def test_bad_messages_get_a_clear_error_and_the_loop_goes_on(host_env, body, code):
    host_env.write_catalogs({"version": 3, "date": "2026-01-01 00:00", "categories": []})
    before = host_env.snapshot()
    status, replies = run(frame(body) + frame({"op": "ping", "id": 2}))
    assert status == EXIT_OK
    assert replies[0]["ok"] is False and replies[0]["error"]["code"] == code
    assert replies[0]["error"]["message"]
    assert replies[1] == {"id": 2, "ok": True, "result": replies[1]["result"]}
    assert host_env.snapshot() == before


def test_id_is_echoed_even_when_params_are_bad(host_env):
    _, replies = run(frame({"op": "add", "version_id": "x", "id": 17}))
    assert replies[0]["id"] == 17 and replies[0]["error"]["param"] == "version_id"


@pytest.mark.parametrize(
    "data",
    [
        b"\x05\x00",                                            # cut header
        (100).to_bytes(4, sys.byteorder) + b'{"op":',           # cut body
        (64 * 1024 * 1024).to_bytes(4, sys.byteorder) + b"{}",  # declared size over the cap
        (0xFFFFFFFF).to_bytes(4, sys.byteorder),
    ],
)
def test_broken_stream_gets_one_error_and_a_non_zero_exit(host_env, data):
    status, replies = run(frame({"op": "ping", "id": 1}) + data)
    assert status == EXIT_BROKEN_STREAM
    assert replies[0]["ok"] is True
    assert len(replies) == 2 and replies[1]["ok"] is False
    assert replies[1]["error"]["code"] in ("broken_stream", "frame_too_large")


def test_oversized_frame_is_refused_before_reading_the_body(host_env):
    class Guard(io.BytesIO):
        def read(self, size=-1):
            assert size is not None and 0 <= size <= 64 * 1024, f"read({size})"
            return super().read(size)

    out = io.BytesIO()
    data = (50 * 1024 * 1024).to_bytes(4, sys.byteorder) + b"x" * 10
    assert serve(Guard(data), out, Context()) == EXIT_BROKEN_STREAM
    assert unframe_all(out.getvalue())[0]["error"]["code"] == "frame_too_large"


def test_forbidden_origin_answers_every_op_with_an_error(host_env):
    host_env.write_catalogs({"version": 3, "date": "2026-01-01 00:00", "categories": []})
    before = host_env.snapshot()
    data = frame({"op": "ping", "id": 1}) + frame({"op": "remove", "file": "x.safetensors", "id": 2})
    status, replies = run(data, origin="chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/")
    assert status == EXIT_OK
    assert [r["error"]["code"] for r in replies] == ["forbidden_origin", "forbidden_origin"]
    assert host_env.snapshot() == before


def test_allowed_origin_from_config(host_env):
    host_env.config_path.write_text(json.dumps({"extension_ids": ["abcdefghijklmnopabcdefghijklmnop"]}))
    _, replies = run(frame({"op": "ping"}), origin="chrome-extension://abcdefghijklmnopabcdefghijklmnop/")
    assert replies[0]["ok"]
    _, replies = run(frame({"op": "ping"}), origin="chrome-extension://jpiddlinckgdlidmojineffgcdpfoacg/")
    assert replies[0]["error"]["code"] == "forbidden_origin"


def test_a_reply_over_one_mib_is_replaced_by_an_error(host_env):
    _, replies = run(frame({"op": "ping", "id": "x" * (1024 * 1024 - 100)}))
    assert replies[0]["ok"] is False and replies[0]["error"]["code"] == "reply_too_large"


def test_bad_config_is_reported(host_env):
    host_env.config_path.write_text("{broken")
    _, replies = run(frame({"op": "ping", "id": 1}))
    assert replies[0]["error"]["code"] == "config_invalid"


def test_a_forbidden_origin_learns_nothing_else(host_env):
    out = io.BytesIO()
    data = frame({"op": "nope"}) + frame({"op": "lookup", "version_ids": [1], "x": 1})
    serve(io.BytesIO(data), out, Context(origin="chrome-extension://aaaabbbbccccddddeeeeffffgggghhhh/"))
    assert [r["error"]["code"] for r in unframe_all(out.getvalue())] == ["forbidden_origin"] * 2


def test_extension_ids_are_normalised(host_env):
    host_env.config_path.write_text(json.dumps(
        {"extension_ids": [" CHROME-EXTENSION://ABCDEFGHIJKLMNOPABCDEFGHIJKLMNOP/ "]}))
    out = io.BytesIO()
    serve(io.BytesIO(frame({"op": "ping"})), out,
          Context(origin="chrome-extension://abcdefghijklmnopabcdefghijklmnop/"))
    assert unframe_all(out.getvalue())[0]["ok"]
