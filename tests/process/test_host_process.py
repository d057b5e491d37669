"""The host as Chrome runs it: a real `python -m host` subprocess, framed stdin/stdout,
a temp HOME and config, and a local fake CivitAI on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.catalogs import studio_catalogs
from tests.support.frames import frame, read_one, unframe_all

STUB_ORIGIN = "chrome-extension://jpiddlinckgdlidmojineffgcdpfoacg/"
TIMEOUT = 30


def run_host(host_env, data: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "host", *args], input=data, capture_output=True,
        env=host_env.env, timeout=TIMEOUT, cwd=host_env.root,
    )


def test_send_native_message_style_one_request_then_eof(host_env, civitai):
    host_env.write_catalogs(*studio_catalogs())
    proc = run_host(host_env, frame({"op": "lookup", "id": 9, "version_ids": [9208]}), STUB_ORIGIN)
    assert proc.returncode == 0, proc.stderr
    (reply,) = unframe_all(proc.stdout)
    assert reply["id"] == 9 and reply["result"]["by_version"]["9208"]["name"].startswith("日本語モデル")


def test_connect_native_style_many_requests_on_one_process(host_env, civitai):
    civitai.add_fixture("sdxl_lora")
    proc = subprocess.Popen(
        [sys.executable, "-m", "host", STUB_ORIGIN, "--parent-window=0"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=host_env.env,
    )
    try:
        assert proc.stdin and proc.stdout
        for number, request in enumerate([
            {"op": "ping"},
            {"op": "add", "version_id": 148210},
            {"op": "lookup", "version_ids": ["148210"]},
            {"op": "promote", "version_id": 148210},
            {"op": "map"},
        ]):
            proc.stdin.write(frame({**request, "id": number}))
            proc.stdin.flush()
            reply = read_one(proc.stdout)
            assert reply["id"] == number and reply["ok"], reply
        assert reply["result"]["by_version"]["148210"]["catalog"] == "loras"
        proc.stdin.close()
        assert proc.wait(timeout=TIMEOUT) == 0
        assert proc.stdout.read() == b""
    finally:
        proc.kill()
        proc.wait()
    auth = [r.header("authorization") for r in civitai.requests_for(148210)]
    assert auth == [None]


def test_api_key_is_sent_to_civitai_only_and_never_echoed(host_env, civitai):
    civitai.add_fixture("sdxl_lora")
    host_env.env["CIVITAI_API_KEY"] = "sekrit-key-123456"
    data = frame({"op": "add", "version_id": 148210}) + frame({"op": "add", "version_id": 1}) \
        + frame({"op": "ping"})
    proc = run_host(host_env, data, STUB_ORIGIN)
    assert [r.header("authorization") for r in civitai.requests_for(148210)] == ["Bearer sekrit-key-123456"]
    assert b"sekrit" not in proc.stdout and b"sekrit" not in proc.stderr
    logs = list((host_env.root / "home").rglob("*.log"))
    assert logs and all(b"sekrit" not in p.read_bytes() for p in logs)


def test_broken_stream_exits_non_zero_with_one_error_frame(host_env):
    proc = run_host(host_env, frame({"op": "ping"}) + b"\x07\x00", STUB_ORIGIN)
    assert proc.returncode != 0
    replies = unframe_all(proc.stdout)
    assert replies[0]["ok"] and replies[1]["error"]["code"] == "broken_stream"


def test_garbage_gets_error_frames_never_a_traceback_on_stdout(host_env):
    data = frame(b"\xff\xff") + frame(b"[1, 2") + frame({"op": "lookup", "version_ids": [[]]}) \
        + frame({"op": "ping", "id": "last"})
    proc = run_host(host_env, data, STUB_ORIGIN)
    assert proc.returncode == 0
    replies = unframe_all(proc.stdout)  # fails on any non-frame byte
    assert [r["ok"] for r in replies] == [False, False, False, True]
    assert b"Traceback" not in proc.stdout and b"Traceback" not in proc.stderr


def test_forbidden_origin(host_env):
    host_env.write_catalogs(*studio_catalogs())
    before = host_env.snapshot()
    proc = run_host(host_env, frame({"op": "remove", "file": "old_sd15.safetensors"}),
                    "chrome-extension://aaaabbbbccccddddeeeeffffgggghhhh/")
    (reply,) = unframe_all(proc.stdout)
    assert reply["error"]["code"] == "forbidden_origin"
    assert host_env.snapshot() == before


def test_cli_subcommands_for_people(host_env, civitai):
    civitai.add_fixture("flux_lora")

    def cli(*args: str) -> tuple[int, dict]:
        proc = subprocess.run([sys.executable, "-m", "host", *args], capture_output=True,
                              env=host_env.env, timeout=TIMEOUT)
        return proc.returncode, json.loads(proc.stdout)

    assert cli("add", "812340") == (0, {"status": "added", "file": "film_grain_flux_v1.safetensors",
                                        "name": "Film Grain Flux v1 [Flux.1 D BF16]",
                                        "category": "loras", "dest": "loras"})
    code, result = cli("lookup", "812340", "--model", "726611")
    assert code == 0 and result["by_model"] == {"726611": ["812340"]}
    assert cli("promote", "812340")[1]["category"] == "flux_loras"
    assert host_env.read("loras")["categories"][0]["id"] == "flux_loras"
    code, result = cli("remove", "film_grain_flux_v1.safetensors")
    assert code == 0 and result["catalog"] == "loras"
    code, result = cli("add", "abc")
    assert code == 1 and result["error"]["code"] == "invalid_request"
    code, result = cli("map", "--all")
    assert code == 0 and result["by_version"] == {}
