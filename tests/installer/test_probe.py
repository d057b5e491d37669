"""The ping probe tells a working host from every way a launcher can fail, with the reason."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from host.installer.probe import caller_args, ping
from tests.installer.world import write_script

ORIGIN = "chrome-extension://jpiddlinckgdlidmojineffgcdpfoacg/"
HEAD = f"#!{sys.executable}\nimport json, struct, sys\n"
READ = 'size, = struct.unpack("=I", sys.stdin.buffer.read(4)); req = json.loads(sys.stdin.buffer.read(size))\n'


def reply_with(payload: str) -> str:
    return (HEAD + READ + f"body = json.dumps({payload}).encode()\n"
            'sys.stdout.buffer.write(struct.pack("=I", len(body)) + body)\n')


@pytest.mark.parametrize(("script", "expected"), [
    (HEAD + "sys.exit(4)\n", "exited with status 4 without replying"),
    (HEAD + READ + "sys.stdout.buffer.write(struct.pack('=I', 50) + b'{}')\n",
     "reply cut short (2 of 50 bytes)"),
    (HEAD + READ + "sys.stdout.buffer.write(struct.pack('=I', 3) + b'abc')\n",
     "reply is not JSON"),
    (reply_with('{"id": "other", "ok": True, "result": {}}'), "unexpected reply"),
    (reply_with('{"id": req["id"], "ok": False, "error": {"code": "forbidden_origin", '
                '"message": "no"}}'), "host answered with an error: forbidden_origin: no"),
    (reply_with('{"id": req["id"], "ok": True, "result": {"host": "someone-else"}}'),
     "is not catalog-host"),
    (reply_with('{"id": req["id"], "ok": True, "result": {"host": "catalog-host"}}')
     + "sys.exit(2)\n", "then exited with status 2"),
])
def test_each_failure_is_named(tmp_path: Path, script: str, expected: str) -> None:
    result = ping(write_script(tmp_path / "host", script), [ORIGIN])
    assert not result.ok
    assert expected in result.detail


def test_the_origin_is_argv1_and_a_good_reply_passes(tmp_path: Path) -> None:
    script = reply_with(f'{{"id": req["id"], "ok": sys.argv[1:] == ["{ORIGIN}"], '
                        '"result": {"host": "catalog-host", "version": "1", "protocol": 1}}')
    result = ping(write_script(tmp_path / "host", script), [ORIGIN])
    assert result.ok, result.detail
    assert result.detail == "catalog-host 1, protocol 1"


def test_firefox_arguments_are_the_manifest_path_then_the_add_on_id(tmp_path: Path) -> None:
    manifest = tmp_path / "hosts" / "com.civitai_catalog.host.json"
    args = caller_args("gecko", "catalog-host-stub@catalog-host.local", manifest)
    assert args == [str(manifest), "catalog-host-stub@catalog-host.local"]
    assert caller_args("chromium", "jpiddlinckgdlidmojineffgcdpfoacg", None) == [ORIGIN]
    script = reply_with(f'{{"id": req["id"], "ok": sys.argv[1:] == {args!r}, '
                        '"result": {"host": "catalog-host", "version": "1", "protocol": 1}}')
    assert ping(write_script(tmp_path / "host", script), args).ok


def test_a_program_that_cannot_start_or_hangs(tmp_path: Path) -> None:
    plain = tmp_path / "not-executable"
    plain.write_text("#!/bin/sh\n")
    assert "cannot be started" in ping(plain, [ORIGIN]).detail
    hang = write_script(tmp_path / "hang", "#!/bin/sh\nexec sleep 30\n")
    assert ping(hang, [ORIGIN], timeout=0.5).detail == "no reply within 0.5 s"
