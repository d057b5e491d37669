"""Issue 11 O: what a caller learns before it is known to be allowed (nothing: no config path,
no parse error), and the JSON depth guard, which counts only real nesting (brackets inside
strings are text)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from host.context import Context
from host.protocol import MAX_JSON_DEPTH
from host.server import serve
from tests.support.frames import frame, unframe_all

STUB_ORIGIN = "chrome-extension://jpiddlinckgdlidmojineffgcdpfoacg/"
STRANGER = "chrome-extension://aaaabbbbccccddddeeeeffffgggghhhh/"


def run(data: bytes, origin: str | None) -> list[Any]:
    out = io.BytesIO()
    serve(io.BytesIO(data), out, Context(origin=origin))
    return unframe_all(out.getvalue())


UNDECODABLE = [b"\xff\xfe", b"[1, 2", b"{" * 100 + b"}" * 100, b'{"op": "ping", "id": 1e400}x']


@pytest.mark.parametrize("body", UNDECODABLE, ids=["not-utf8", "cut-json", "deep", "trailing"])
def test_a_stranger_gets_forbidden_origin_even_for_an_undecodable_frame(host_env: Any, body: bytes) -> None:
    (reply,) = run(frame(body), STRANGER)
    assert reply["error"]["code"] == "forbidden_origin", reply


def test_the_allowed_caller_still_hears_about_an_undecodable_frame(host_env: Any) -> None:
    replies = run(b"".join(frame(body) for body in UNDECODABLE), STUB_ORIGIN)
    assert [r["error"]["code"] for r in replies] == ["invalid_json"] * len(UNDECODABLE)


def test_an_unreadable_config_tells_a_browser_caller_nothing_of_its_path(host_env: Any) -> None:
    host_env.config_path.write_text("{broken")
    for origin in (STRANGER, STUB_ORIGIN):  # nobody can be checked: the ids are in that file
        (reply,) = run(frame({"op": "ping", "id": 1}), origin)
        assert reply["error"]["code"] == "config_invalid", reply
        text = json.dumps(reply)
        assert str(host_env.root) not in text and "config.json" not in text, reply
        assert "doctor" in reply["error"]["message"]


def test_a_config_error_is_answered_only_after_the_origin_check(host_env: Any) -> None:
    host_env.config_path.write_text(json.dumps({"civitai_api_key": 5}))
    (reply,) = run(frame({"op": "ping", "id": 1}), STRANGER)
    assert reply["error"]["code"] == "forbidden_origin", reply
    (reply,) = run(frame({"op": "ping", "id": 1}), STUB_ORIGIN)  # the allowed caller learns why
    assert reply["error"]["code"] == "config_invalid" and "civitai_api_key" in reply["error"]["message"]


def test_the_command_line_still_gets_the_full_config_error(host_env: Any) -> None:
    host_env.config_path.write_text("{broken")
    (reply,) = run(frame({"op": "ping", "id": 1}), None)
    assert reply["error"]["code"] == "config_invalid" and str(host_env.config_path) in reply["error"]["message"]


@pytest.mark.parametrize("text", [
    "[" * (MAX_JSON_DEPTH + 10),
    "{" * 200 + '\\"' + "[" * 200,  # an escaped quote does not end the string
    "}" * 100 + "[" * 100,
])
def test_brackets_inside_strings_are_not_nesting(host_env: Any, text: str) -> None:
    raw = '{"op": "remove", "id": 7, "file": "' + text + '.safetensors"}'
    (reply,) = run(frame(raw.encode()), STUB_ORIGIN)
    assert reply["id"] == 7
    assert reply["error"]["code"] in ("not_found", "unsafe_filename"), reply


def test_real_nesting_is_still_limited_around_strings(host_env: Any) -> None:
    deep = '{"op": "ping", "id": ' + '["]", ' * (MAX_JSON_DEPTH + 1) + "0" + "]" * (MAX_JSON_DEPTH + 1) + "}"
    (reply,) = run(frame(deep.encode()), STUB_ORIGIN)
    assert reply["error"]["code"] == "invalid_json" and "nests" in reply["error"]["message"]
    shallow = '{"op": "ping", "id": ' + '["\\\\", ' * (MAX_JSON_DEPTH - 2) + "0" + "]" * (MAX_JSON_DEPTH - 2) + "}"
    (reply,) = run(frame(shallow.encode()), STUB_ORIGIN)
    assert reply["ok"], reply
