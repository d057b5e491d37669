"""Test-only wrapper around the real host that answers some requests late (never in the product).

The browser starts this instead of the installed launcher (the test points the host manifest's
`path` at a small shell script that runs this file). It starts the real launcher with the
browser's arguments, passes every frame through unchanged, and holds back the reply to any
request whose JSON text contains the marker for `delay` seconds. The host answers in order, so
every reply after a held one is held too: exactly what a busy host looks like to the extension.

    python late_host.py DELAY MARKER REAL_LAUNCHER [browser args...]
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import threading
import time
from typing import IO


def read_frame(stream: IO[bytes]) -> bytes | None:
    header = stream.read(4)
    if len(header) < 4:
        return None
    (length,) = struct.unpack("<I", header)
    body = stream.read(length)
    return header + body if len(body) == length else None


def id_of(frame: bytes) -> str:
    try:
        return json.dumps(json.loads(frame[4:]).get("id"))
    except (ValueError, AttributeError):
        return "null"


def main(argv: list[str]) -> int:
    delay, marker, real = float(argv[0]), argv[1].encode(), argv[2:]
    child = subprocess.Popen(real, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert child.stdin is not None and child.stdout is not None
    held: set[str] = set()
    lock = threading.Lock()

    def to_host() -> None:
        assert child.stdin is not None
        while (frame := read_frame(sys.stdin.buffer)) is not None:
            if marker in frame[4:]:
                with lock:
                    held.add(id_of(frame))
            child.stdin.write(frame)
            child.stdin.flush()
        child.stdin.close()

    threading.Thread(target=to_host, daemon=True).start()
    while (frame := read_frame(child.stdout)) is not None:
        with lock:
            late = id_of(frame) in held
        if late:
            time.sleep(delay)
        sys.stdout.buffer.write(frame)
        sys.stdout.buffer.flush()
    child.wait()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main(sys.argv[1:]))
