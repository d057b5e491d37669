"""The tests' own native-messaging framing: an oracle independent of host.framing.

Written from Chrome's documented wire format (4-byte native-endian length, UTF-8 JSON), so a
symmetric bug in the host's framing cannot hide behind its own decoder.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def frame(message: Any) -> bytes:
    """One frame: a JSON-able message, or raw bytes used as the body as is."""
    body = message if isinstance(message, bytes) else json.dumps(message, ensure_ascii=False).encode()
    return len(body).to_bytes(4, sys.byteorder) + body


def unframe_all(data: bytes) -> list[Any]:
    """Every frame in `data`, decoded; fails loudly on any byte that is not a frame."""
    messages = []
    pos = 0
    while pos < len(data):
        assert len(data) - pos >= 4, f"{len(data) - pos} stray bytes after the last frame"
        size = int.from_bytes(data[pos : pos + 4], sys.byteorder)
        assert size <= 1024 * 1024, f"frame of {size} bytes is over Chrome's 1 MiB limit"
        body = data[pos + 4 : pos + 4 + size]
        assert len(body) == size, "truncated frame in the host's output"
        messages.append(json.loads(body.decode("utf-8")))
        pos += 4 + size
    return messages


def read_one(stream: Any) -> Any:
    """Read exactly one frame from a binary stream (blocking)."""
    header = stream.read(4)
    assert len(header) == 4, f"host closed its stdout (got {header!r})"
    size = int.from_bytes(header, sys.byteorder)
    body = stream.read(size)
    assert len(body) == size
    return json.loads(body.decode("utf-8"))
