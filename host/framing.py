"""Native-messaging frames: a 4-byte native-endian length, then that many bytes of UTF-8 JSON.

Stdlib only; knows nothing of ops or the catalog. The limits come from Chrome: it kills the
port on any host-to-browser message over 1 MiB, and sends at most 64 MiB the other way. Our
requests are small, so the host caps incoming frames far lower and refuses a bigger one
before reading (or allocating) its body.
"""

from __future__ import annotations

import sys

from host import jsonfast, redaction
from host.errors import BrokenStreamError, FrameTooLargeError, ReplyTooLargeError, UnencodableReplyError

# `typing` is imported for type checkers only: it costs milliseconds in every cold start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO

# The length: 4 bytes in this machine's byte order. int.to_bytes/from_bytes rather than
# struct, whose import (a shared library) costs a cold start a fifth of a millisecond.
HEADER_SIZE = 4


def frame_header(length: int) -> bytes:
    """The 4-byte header announcing a body of `length` bytes."""
    return length.to_bytes(HEADER_SIZE, sys.byteorder)


def frame_length(header: bytes) -> int:
    """The body length a 4-byte header announces."""
    return int.from_bytes(header, sys.byteorder)

# Chrome's own limit for a host -> browser message (bytes of JSON, header excluded).
MAX_REPLY_BYTES = 1024 * 1024
# Our limit for browser -> host frames. The largest real request (a lookup of a page's
# versions) is a few KiB; a 1 MiB cap leaves room and bounds memory.
MAX_REQUEST_BYTES = 1024 * 1024
_CHUNK = 64 * 1024


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    """Read `size` bytes in bounded chunks; fewer means the stream ended early."""
    parts: list[bytes] = []
    remaining = size
    while remaining:
        chunk = stream.read(min(remaining, _CHUNK))
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def read_frame(stream: BinaryIO, max_bytes: int = MAX_REQUEST_BYTES) -> bytes | None:
    """Return the next frame's body, or None at a clean end of stream (EOF between frames).

    Raises BrokenStreamError for a cut header or body, FrameTooLargeError for a declared
    length over `max_bytes` (checked before any of the body is read).
    """
    header = _read_exactly(stream, HEADER_SIZE)
    if not header:
        return None
    if len(header) < HEADER_SIZE:
        raise BrokenStreamError(f"stream ended inside a frame header ({len(header)} of 4 bytes)")
    length = frame_length(header)
    if length > max_bytes:
        raise FrameTooLargeError(
            f"frame of {length} bytes is over the host's limit of {max_bytes} bytes",
            limit=max_bytes,
        )
    body = _read_exactly(stream, length)
    if len(body) < length:
        raise BrokenStreamError(f"stream ended inside a frame body ({len(body)} of {length} bytes)")
    return body


def encode_message(message: Any) -> bytes:
    """UTF-8 JSON of `message` with secrets redacted, refusing anything Chrome would not accept."""
    try:
        text = jsonfast.dumps(message)
        if redaction.in_json(text):  # the API key, reflected by CivitAI or anything else
            text = jsonfast.dumps(redaction.redact_value(message))
    except (ValueError, TypeError, RecursionError) as exc:  # NaN/Infinity (e.g. an echoed id of 1e400)
        raise UnencodableReplyError(f"the reply cannot be written as JSON ({exc})") from exc
    # A lone surrogate (JSON allows "\ud800" in a request, and ids are echoed) is not UTF-8;
    # written as the escape \ud800 it stays valid JSON that the browser can parse (surrogates
    # only occur inside JSON strings, where that escape means the same character).
    body = text.encode("utf-8", "backslashreplace")
    if len(body) > MAX_REPLY_BYTES:
        raise ReplyTooLargeError(
            f"reply of {len(body)} bytes is over Chrome's limit of {MAX_REPLY_BYTES} bytes",
            limit=MAX_REPLY_BYTES,
        )
    return body


def write_frame(stream: BinaryIO, body: bytes) -> None:
    """Write one frame (header + body) and flush, so the browser sees it at once."""
    if len(body) > MAX_REPLY_BYTES:  # last line of defence; encode_message checks first
        raise ReplyTooLargeError(f"reply of {len(body)} bytes is over Chrome's limit")
    stream.write(frame_header(len(body)) + body)
    stream.flush()
