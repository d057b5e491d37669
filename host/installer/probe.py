"""A real `ping` through a launcher, started exactly as a browser starts it.

The arguments are the browser's (`caller_args`): Chrome's origin, or Firefox's manifest path
and add-on id. The request is one length-prefixed JSON frame on stdin, the reply
one frame on stdout; stdin is then closed, as after `sendNativeMessage`. Used by install (its
final self-check) and doctor. Stdlib only; every wait has a timeout.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from host.framing import HEADER_SIZE, frame_header, frame_length
from host.installer.browsers import Family
from host.settings import origin_of

PING_ID = "catalog-host-probe"
TIMEOUT_S = 15.0


@dataclass(frozen=True)
class PingResult:
    ok: bool
    detail: str  # "catalog-host 0.1.0, protocol 1" or what went wrong
    elapsed_ms: float
    result: dict[str, Any] | None = None


def _tail(data: bytes, limit: int = 400) -> str:
    text = data.decode("utf-8", "replace").strip()
    return text[-limit:] if text else "(nothing)"


def caller_args(family: Family, extension_id: str, manifest_path: Path | None) -> list[str]:
    """What the browser of `family` passes to the host when `extension_id` calls it."""
    if family == "gecko":
        return [str(manifest_path), extension_id]
    return [origin_of(extension_id)]


def describe_caller(args: list[str]) -> str:
    return args[0] if len(args) == 1 else f"Firefox add-on {args[-1]}"


def ping(program: Path, args: list[str], timeout: float = TIMEOUT_S) -> PingResult:
    body = json.dumps({"op": "ping", "id": PING_ID}).encode("utf-8")
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [str(program), *args],
            input=frame_header(len(body)) + body,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return PingResult(False, f"no reply within {timeout:g} s", timeout * 1000)
    except OSError as exc:
        return PingResult(False, f"cannot be started: {exc.strerror or exc}", 0.0)
    elapsed = (time.perf_counter() - start) * 1000
    out = proc.stdout
    if len(out) < HEADER_SIZE:
        return PingResult(False, f"exited with status {proc.returncode} without replying; "
                                 f"stderr: {_tail(proc.stderr)}", elapsed)
    length = frame_length(out[:HEADER_SIZE])
    payload = out[HEADER_SIZE:HEADER_SIZE + length]
    if len(payload) < length:
        return PingResult(False, f"reply cut short ({len(payload)} of {length} bytes); "
                                 f"stderr: {_tail(proc.stderr)}", elapsed)
    try:
        reply = json.loads(payload)
    except ValueError:
        return PingResult(False, f"reply is not JSON: {_tail(payload)}", elapsed)
    if not isinstance(reply, dict) or reply.get("id") != PING_ID:
        return PingResult(False, f"unexpected reply: {_tail(payload)}", elapsed)
    if not reply.get("ok"):
        error = reply.get("error") or {}
        return PingResult(False, f"host answered with an error: {error.get('code')}: "
                                 f"{error.get('message')}", elapsed)
    result = reply.get("result")
    if not isinstance(result, dict) or result.get("host") != "catalog-host":
        return PingResult(False, f"the program that answered is not catalog-host: "
                                 f"{_tail(payload)}", elapsed)
    detail = f"catalog-host {result.get('version')}, protocol {result.get('protocol')}"
    if proc.returncode != 0:
        return PingResult(False, f"{detail} replied, then exited with status "
                                 f"{proc.returncode}: {_tail(proc.stderr)}", elapsed, result)
    return PingResult(True, detail, elapsed, result)
