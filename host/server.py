"""The native-messaging loop: read a frame, answer it, until the browser closes stdin.

Streams are parameters, so tests drive the loop in-process with BytesIO. A complete frame
always gets exactly one reply, in order. A broken stream (cut header or body, oversized
length) gets one error reply if possible and a non-zero exit; EOF between frames exits 0
at once (Chrome kills the host 2 s after closing stdin).
"""

from __future__ import annotations

from host.context import Context
from host.dispatch import error_reply, handle_message
from host.errors import HostError, ProtocolError
from host.framing import encode_message, read_frame, write_frame

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO

EXIT_OK = 0
EXIT_BROKEN_STREAM = 2


def send(stdout: BinaryIO, reply: dict[str, Any]) -> None:
    try:
        body = encode_message(reply)
    except ProtocolError as exc:  # too large, or not encodable as JSON
        try:
            body = encode_message(error_reply(reply.get("id"), exc))
        except ProtocolError:  # the echoed id itself is the problem
            body = encode_message(error_reply(None, exc))
    write_frame(stdout, body)


def wake_jobs(context: Context) -> None:
    """Restart the job worker if unfinished jobs have none (one stat when idle); after the
    first reply, so it never delays an answer."""
    try:
        from host.jobs.wake import wake_if_needed

        wake_if_needed(context.settings.catalog_dir)
    except (HostError, OSError):
        pass


def serve(stdin: BinaryIO, stdout: BinaryIO, context: Context) -> int:
    """Serve until EOF; the process exit status."""
    woken = False
    while True:
        try:
            body = read_frame(stdin)
        except ProtocolError as exc:  # the stream cannot be trusted past this point
            try:
                send(stdout, error_reply(None, exc))
            except (OSError, HostError):
                pass
            return EXIT_BROKEN_STREAM
        if body is None:
            return EXIT_OK
        try:
            send(stdout, handle_message(body, context))
        except BrokenPipeError:  # the browser went away; nothing left to answer
            return EXIT_OK
        context.run_after_reply()  # e.g. a write's read-index refresh, off the person's wait
        if not woken:
            woken = True
            wake_jobs(context)
