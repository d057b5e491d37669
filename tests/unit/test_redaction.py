"""host.redaction and the exits that use it (issue 11 E): the API key, whole or any run of 8 of
its characters, is replaced in reply frames, in the command line's output and in log lines,
wherever in the value it sits; text without it is left exactly as it was."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from host import redaction
from host.framing import encode_message
from host.redaction import MARK, redact_text, scrub_reply, use_secret

KEY = "Kq7ZpW2mXv9LtR4nBy6HcJ8dFs3GaE5u"


@pytest.fixture(autouse=True)
def secret() -> Iterator[str]:
    use_secret(KEY)
    yield KEY
    use_secret(None)


def test_whole_and_partial_runs_are_replaced() -> None:
    assert redact_text(f"bad token {KEY}!") == f"bad token {MARK}!"
    assert redact_text(f"a{KEY[3:11]}b") == f"a{MARK}b"  # exactly 8 characters
    assert redact_text(f"{KEY[:12]}…{KEY[12:]}") == f"{MARK}…{MARK}"
    assert redact_text(f"{KEY}{KEY}") == MARK  # overlapping finds make one span


def test_text_without_a_run_of_the_key_is_untouched() -> None:
    text = f"{KEY[:7]} {KEY[10:17]} plain text ✓"
    assert redact_text(text) is text


def test_no_secret_in_force_redacts_nothing() -> None:
    use_secret(None)
    assert redact_text(KEY) == KEY
    assert json.loads(encode_message({"x": KEY})) == {"x": KEY}


def test_a_reply_frame_is_redacted_anywhere_in_the_value() -> None:
    reply = {"id": KEY, "ok": False, "error": {"code": "x", "message": f"see {KEY}",
                                                "list": [1, {KEY: [f"«{KEY[1:20]}»"]}]}}
    decoded = json.loads(encode_message(reply))
    assert KEY[:8] not in json.dumps(decoded)
    assert decoded == {"id": MARK, "ok": False, "error": {"code": "x", "message": f"see {MARK}",
                                                          "list": [1, {MARK: [f"«{MARK}»"]}]}}


def test_a_key_with_characters_json_escapes_is_found_in_the_frame() -> None:
    odd = 'abc"def\\ghijkl"mnop'
    use_secret(odd)
    assert odd[2:12] not in json.loads(encode_message({"m": f"x{odd}y"}))["m"]


def test_a_reply_without_the_key_is_encoded_as_before() -> None:
    reply: dict[str, Any] = {"id": 1, "ok": True, "result": {"name": "日本語", "n": 2.5}}
    assert encode_message(reply) == json.dumps(reply, ensure_ascii=False, separators=(",", ":")).encode()
    assert scrub_reply(reply) is reply


def test_the_command_line_reply_is_scrubbed() -> None:
    assert scrub_reply({"result": {"file": f"{KEY}.safetensors"}}) == {"result": {"file": f"{MARK}.safetensors"}}


def test_log_lines_and_tracebacks_are_redacted(host_env: Any) -> None:
    from host.log import get_logger

    handler = get_logger().handlers[0]
    try:
        raise ValueError(f"CivitAI said {KEY}")
    except ValueError:
        import sys

        record = logging.LogRecord("catalog-host", logging.ERROR, __file__, 1, "type %r from %s",
                                   (KEY, KEY[4:20]), sys.exc_info())
    line = handler.format(record)
    assert "Traceback" in line and "ValueError" in line
    assert not any(KEY[i : i + 8] in line for i in range(len(KEY) - 7)), line


def test_settings_put_their_key_in_force(host_env: Any) -> None:
    from host.settings import load_settings

    load_settings({**host_env.env, "CIVITAI_API_KEY": "another-key-4242424242"})
    assert redaction.redact_text("x another-key-4242424242") == f"x {MARK}"
    load_settings(host_env.env)  # no key configured: nothing to redact
    assert redaction.redact_text(KEY) == KEY
